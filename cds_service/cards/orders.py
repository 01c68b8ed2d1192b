"""FHIR R4 MedicationRequests for suggestions: new proposals and corrected draft orders.

SPEC section 4, suggested orders: status ``draft``, intent ``proposal``, ``subject`` the
patient, ``medicationCodeableConcept`` with the RxNorm coding and a text name,
``dosageInstruction[0].text`` the dosing rule, ``route`` intravenous (SNOMED 47625008) and
``doseAndRate[0].doseQuantity`` in UCUM mg. Every resource is validated with
``fhir.resources.R4B`` before it leaves: an invalid one is a bug, logged and dropped (the card
still states the dose in its text), never sent.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from pydantic import ValidationError

from crs_grading import wording
from crs_grading.tables.treatment import INTRAVENOUS
from crs_grading.treatment import DoseCalculation, Recommendation

__all__ = [
    "INTRAVENOUS_ROUTE",
    "RXNORM_SYSTEM",
    "corrected_order",
    "is_valid_medication_request",
    "mg_quantity",
    "prepare_order_models",
    "proposed_order",
]

logger = logging.getLogger(__name__)

RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED_SYSTEM = "http://snomed.info/sct"
UCUM_SYSTEM = "http://unitsofmeasure.org"

#: The intravenous route (``crs_grading.tables.treatment.INTRAVENOUS``) as a FHIR R4
#: CodeableConcept of the route-codes value set (SNOMED CT).
INTRAVENOUS_ROUTE: dict[str, Any] = {
    "coding": [
        {
            "system": SNOMED_SYSTEM,
            "code": INTRAVENOUS.snomed_code,
            "display": INTRAVENOUS.display,
        }
    ],
    "text": INTRAVENOUS.text,
}

#: A daily dose (methylprednisolone 2 mg/kg/day) is written as one dose a day; the dosing text
#: says "per day", so a clinician who divides it sees the daily total.
_ONCE_DAILY: dict[str, Any] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}


def mg_quantity(dose_mg: int) -> dict[str, Any]:
    """A dose in milligrams as a FHIR Quantity in UCUM."""
    return {"value": dose_mg, "unit": "mg", "system": UCUM_SYSTEM, "code": "mg"}


def is_valid_medication_request(resource: Mapping[str, Any]) -> bool:
    """True when ``resource`` is a valid FHIR R4 MedicationRequest; a failure is logged."""
    try:
        MedicationRequest.model_validate(dict(resource))
    except ValidationError as error:
        logger.error(
            "suggested MedicationRequest is not valid FHIR R4; suggestion dropped",
            extra={"fields": {"errors": error.error_count(), "id": resource.get("id")}},
        )
        return False
    return True


def prepare_order_models() -> None:
    """Build, once, the FHIR models of every element a proposed order carries.

    ``fhir.resources`` imports and builds a nested model (Dosage, Timing, Quantity...) the
    first time a resource uses it: a worker's first order card took about 20 ms more, and what
    was built stayed among that call's data, keeping about 1 MB of it (docs/performance.md,
    phase 5). gunicorn runs this in each worker before it takes calls
    (``gunicorn_conf.post_worker_init``). Raises ``ValidationError`` if the example is not
    valid (a bug: tests run it)."""
    example = _proposal(
        "example", "0", "example", "example", _dosage("example", per_day=True, dose_mg=1)
    )
    MedicationRequest.model_validate(example)


def proposed_order(recommendation: Recommendation, patient_id: str) -> dict[str, Any] | None:
    """The MedicationRequest a suggestion creates, or None when no order may be built.

    No order without an absolute dose (no weight, or no age to choose the mg/kg rate: the card
    then gives the rate and says what is missing) or when the resource fails validation.
    """
    dose = recommendation.dose
    if dose.dose_mg is None:
        return None
    if recommendation.route != INTRAVENOUS.text:  # every row of the dose table is intravenous
        logger.error("no route coding for %s; suggestion dropped", recommendation.route)
        return None
    resource = _proposal(
        patient_id,
        recommendation.rxnorm_code,
        recommendation.rxnorm_display,
        str(recommendation.drug),
        _dosage(dose.text, per_day=dose.per_day, dose_mg=dose.dose_mg),
    )
    return resource if is_valid_medication_request(resource) else None


def corrected_order(
    draft: Mapping[str, Any], dose_mg: int, dose: DoseCalculation | None = None
) -> dict[str, Any] | None:
    """The draft order in its entirety with the protocol dose: the resource of an ``update``.

    The draft keeps its id and every other element [CDS Action: "the updated resource in its
    entirety"]; ``dosageInstruction[0].doseAndRate[0]`` gets ``doseQuantity`` in mg (a dose
    range is removed), and ``dosageInstruction[0].text``, which would contradict the new dose,
    becomes the dosing rule. What the dose means is set with it, so that the update cannot say
    one thing and order another (found in review): the route becomes intravenous (every row of
    the dose table is; a subcutaneous tocilizumab draft corrected to the CRS dose was still
    subcutaneous), and a daily dose (methylprednisolone 2 mg/kg/day) is written once a day (a
    draft every 12 h corrected to the daily total ordered it twice a day). None when the draft
    has no id or the result is not valid.
    """
    if not isinstance(draft.get("id"), str):
        return None
    resource = copy.deepcopy(dict(draft))
    instructions = resource.get("dosageInstruction")
    if not isinstance(instructions, list) or not instructions:
        instructions = [{}]
    first = instructions[0] if isinstance(instructions[0], dict) else {}
    rates = first.get("doseAndRate")
    if not isinstance(rates, list) or not rates or not isinstance(rates[0], dict):
        rates = [{}]
    rate = {k: v for k, v in rates[0].items() if k not in ("doseQuantity", "doseRange")}
    rate["doseQuantity"] = mg_quantity(dose_mg)
    first = {**first, "doseAndRate": [rate, *rates[1:]], "route": copy.deepcopy(INTRAVENOUS_ROUTE)}
    if dose is not None:
        first["text"] = dose.text
        if dose.per_day:
            first["timing"] = copy.deepcopy(_ONCE_DAILY)
    resource["dosageInstruction"] = [first, *instructions[1:]]
    return resource if is_valid_medication_request(resource) else None


def _proposal(
    patient_id: str, rxnorm_code: str, rxnorm_display: str, drug: str, dosage: dict[str, Any]
) -> dict[str, Any]:
    """A proposed MedicationRequest (SPEC section 4), not yet validated."""
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM_SYSTEM, "code": rxnorm_code, "display": rxnorm_display}],
            "text": drug,
        },
        "reasonCode": [{"text": wording.CRS}],
        "dosageInstruction": [dosage],
    }


def _dosage(text: str, *, per_day: bool, dose_mg: int) -> dict[str, Any]:
    dosage: dict[str, Any] = {"text": text}
    if per_day:
        dosage["timing"] = copy.deepcopy(_ONCE_DAILY)
    dosage["route"] = copy.deepcopy(INTRAVENOUS_ROUTE)
    dosage["doseAndRate"] = [{"doseQuantity": mg_quantity(dose_mg)}]
    return dosage
