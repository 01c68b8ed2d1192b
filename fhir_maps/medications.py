"""Which drug a MedicationAdministration or MedicationRequest is about (SPEC 3).

The medication comes as ``medicationCodeableConcept`` or ``medicationReference`` (US Core: both
must be handled): a contained Medication (``#id``), a Medication in the data (``_include`` or
fetched; looked up by id through a dict), or only the reference's ``display``. The drug is
identified in tiers: RxNorm ingredient codes of every coding; else named drugs and products in
coding displays and text; else generic therapy descriptions ("CAR T"). Two different drugs in
one tier make the medication ambiguous: it is skipped and reported rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from crs_grading.inputs import Immunosuppressant, Vasopressor

from ._fhir import (
    JSON,
    ElementError,
    codings,
    concept_texts,
    list_of_objects,
    optional_object,
)
from .references import parse_reference, target_on_any_server
from .valuesets.medications import (
    AUTO_INJECTOR_NAMES,
    MEDICATION_NAMES,
    NOT_SYSTEMIC_PRODUCT_NAMES,
    RXNORM_MEDICATIONS,
)
from .valuesets.systems import RXNORM
from .valuesets.therapies import THERAPY_GENERIC_NAMES, THERAPY_PRODUCT_NAMES, Therapy

Drug = Vasopressor | Immunosuppressant | Therapy

#: (RxNorm codes, name texts) of a medication: what identifies it, and the cache key.
_Key = tuple[tuple[str, ...], tuple[str, ...]]


class UnresolvedMedication(ElementError):
    """The medication is named only by a reference to a Medication that is not in the data
    (and no display names it): the drug cannot be identified. The administration may have
    been the CRS-associated therapy (SPEC 2.1), which ``map_administration`` records."""


@dataclass(frozen=True, slots=True)
class ResolvedMedication:
    """The drug of interest, the Medication resource that described it (for its strength), and
    whether its name says it is a local or topical product (not a drip, not systemic)."""

    drug: Drug
    medication: JSON | None
    not_systemic: bool


def classify_drug(codes: tuple[str, ...], texts: tuple[str, ...]) -> Drug | None:
    """The drug named by RxNorm codes, else by specific names, else by generic descriptions."""
    by_code = {RXNORM_MEDICATIONS[code] for code in codes if code in RXNORM_MEDICATIONS}
    if len(by_code) > 1:
        raise ElementError("medication", "names more than one drug of interest")
    if by_code:
        return by_code.pop()
    by_name: list[Drug] = [*MEDICATION_NAMES.find_in(texts), *THERAPY_PRODUCT_NAMES.find_in(texts)]
    if len(by_name) > 1:
        raise ElementError("medication", "names more than one drug of interest")
    if by_name:
        return by_name[0]
    return THERAPY_GENERIC_NAMES.first(texts)


class MedicationResolver:
    """Resolves medications, with Medication resources indexed by id and results cached.

    Drip rate changes repeat the same medication hundreds of times: classification (regular
    expressions over names) runs once per distinct medication, not once per administration.
    """

    def __init__(self, medications: dict[str, JSON], fhir_server: str | None = None) -> None:
        self._medications = medications
        self._fhir_server = fhir_server
        self._by_key: dict[_Key, tuple[Drug, bool] | None] = {}
        self._medication_keys: dict[int, _Key] = {}

    def _concept(self, concept: object, element: str) -> _Key:
        codes = tuple(
            code
            for coding in codings(concept, element)
            if coding.get("system") == RXNORM and isinstance(code := coding.get("code"), str)
        )
        return codes, tuple(concept_texts(concept, element))

    def _medication_key(self, medication: JSON, prefix: str) -> _Key:
        known = self._medication_keys.get(id(medication))
        if known is not None:
            return known
        codes, texts = self._concept(medication.get("code"), f"{prefix}code")
        ingredients = list_of_objects(medication.get("ingredient"), f"{prefix}ingredient")
        for index, ingredient in enumerate(ingredients):
            item = ingredient.get("itemCodeableConcept")
            if item is not None:
                item_codes, item_texts = self._concept(
                    item, f"{prefix}ingredient[{index}].itemCodeableConcept"
                )
                codes += item_codes
                texts += item_texts
        self._medication_keys[id(medication)] = (codes, texts)
        return codes, texts

    def resolve(self, resource: JSON) -> ResolvedMedication | None:
        """The drug of interest of a MedicationAdministration/Request, or None for other drugs."""
        concept = resource.get("medicationCodeableConcept")
        reference = resource.get("medicationReference")
        if concept is not None and reference is not None:
            raise ElementError("medication[x]", "has more than one type")
        if concept is not None:
            key = self._concept(concept, "medicationCodeableConcept")
            return self._resolved(key, None)
        if reference is None:
            raise ElementError("medication[x]", "is missing")
        reference_object = optional_object(reference, "medicationReference")
        assert reference_object is not None  # noqa: S101 (checked above)
        literal = reference_object.get("reference")
        display = reference_object.get("display")
        display_texts: tuple[str, ...] = (display,) if isinstance(display, str) and display else ()
        medication: JSON | None = None
        prefix = "medicationReference: Medication."
        if isinstance(literal, str):
            if literal.startswith("#"):
                medication = _contained(resource, literal[1:])
                prefix = "contained Medication."
            elif literal.startswith("urn:uuid:"):  # a transaction Bundle's own entry
                medication = self._medications.get(literal[len("urn:uuid:") :])
            else:
                # A Medication is no patient's data: one the call holds may be named by its
                # absolute URL on the EHR's server even when no fhirServer was given.
                target = parse_reference(literal, self._fhir_server) or target_on_any_server(
                    literal
                )
                if target is not None and target.resource_type == "Medication":
                    medication = self._medications.get(target.id)
        elif literal is not None:
            raise ElementError("medicationReference.reference", "is not a string")
        if medication is not None:
            codes, texts = self._medication_key(medication, prefix)
            return self._resolved((codes, texts + display_texts), medication)
        if display_texts:
            return self._resolved(((), display_texts), None)
        if literal is not None:
            raise UnresolvedMedication(
                "medicationReference", "cannot be resolved: the Medication is not in the data"
            )
        raise ElementError("medicationReference", "has neither a reference nor a display")

    def _resolved(self, key: _Key, medication: JSON | None) -> ResolvedMedication | None:
        if key in self._by_key:
            known = self._by_key[key]
        else:
            drug = classify_drug(*key)
            known = None if drug is None else (drug, _not_systemic(drug, key[1]))
            self._by_key[key] = known
        if known is None:
            return None
        return ResolvedMedication(known[0], medication, known[1])


def _not_systemic(drug: Drug, texts: tuple[str, ...]) -> bool:
    """A local or topical product of a drug of ours, or an epinephrine auto-injector."""
    if NOT_SYSTEMIC_PRODUCT_NAMES.find_in(texts):
        return True
    return isinstance(drug, Vasopressor) and bool(AUTO_INJECTOR_NAMES.find_in(texts))


def _contained(resource: JSON, local_id: str) -> JSON | None:
    for item in list_of_objects(resource.get("contained"), "contained"):
        if item.get("id") == local_id:
            if item.get("resourceType") != "Medication":
                raise ElementError("medicationReference", "points to a contained non-Medication")
            return item
    raise ElementError("medicationReference", "points to a contained resource that is missing")
