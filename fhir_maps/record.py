"""``map_patient_record``: all FHIR resources of one request -> ``GradingInputs``.

The fast path of issue 6: one pass sorts the raw JSON by resourceType (Medications into a dict
by id), then each resource is checked on its raw JSON in the cheapest order: subject (another
patient's data is never graded), codes (most resources are of no use to grading and are dropped
here, without validation), status, then, only for what grading uses, validation (optional
``fhir.resources`` model) and the elements read. A resource that fails is skipped and reported;
it never fails the others. Everything is linear in the number of resources.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from typing import Any, TypeVar

from msgspec import Raw, UnsetType

from crs_grading.inputs import GradingInputs, PatientFacts

from ._context import MappingContext
from ._fhir import JSON, ElementError, TimeReader, resource_reference, subject_id
from .administrations import map_administration
from .conditions import condition_matcher, map_condition
from .decoded import DecodedObservation, parsed_element
from .medications import MedicationResolver
from .neurology import finish as finish_neurology
from .neurology import note_sedation
from .observations import decoded_lab, decoded_lane, map_observation
from .options import DEFAULT_OPTIONS, MappingOptions
from .patient import map_patient
from .procedures import map_procedure

logger = logging.getLogger(__name__)

T = TypeVar("T")

OTHER_PATIENT = "belongs to another patient"
NOTE_NO_PATIENT = "the Patient resource was not in the data: age and death are unknown"

#: Equal to nothing but itself (no subject a row can have).
_NOTHING = object()

_SUBJECT_TYPES = frozenset({"Observation", "MedicationAdministration", "Procedure", "Condition"})


def _resources(items: Iterable[Any]) -> Iterator[JSON | DecodedObservation | None]:
    """Every resource, Bundles unpacked (a Bundle is a container, not a finding)."""
    for item in items:
        if type(item) is DecodedObservation:  # first: nearly every item of a long chart
            yield item
            continue
        if not isinstance(item, dict):
            if not isinstance(item, Mapping):
                yield None
                continue
            item = dict(item)
        if item.get("resourceType") == "Bundle":
            entries = item.get("entry")
            if isinstance(entries, list):
                yield from _resources(
                    entry.get("resource") if isinstance(entry, dict) else None for entry in entries
                )
            continue
        yield item


class SubjectReader:
    """``subject_id`` of decoded subjects, worked out once per distinct subject of a call."""

    __slots__ = ("_answers", "_fhir_server", "_patient_id")

    def __init__(self, patient_id: str, fhir_server: str | None) -> None:
        self._patient_id = patient_id
        self._fhir_server = fhir_server
        self._answers: dict[object, str | ElementError] = {}

    def owner(self, subject: Raw | UnsetType) -> str | ElementError:
        """The patient id ``subject`` names, or the ``ElementError`` ``subject_id`` raises."""
        key = None if isinstance(subject, UnsetType) else bytes(subject)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._read(subject)
        return answer

    def _read(self, subject: Raw | UnsetType) -> str | ElementError:
        try:
            holder: JSON = {}
            if not isinstance(subject, UnsetType):
                holder["subject"] = parsed_element(subject, "subject")
            return subject_id(holder, "subject", self._fhir_server)
        except ElementError as error:
            return error


def _sorted(items: list[T], *keys: str) -> tuple[T, ...]:
    return tuple(sorted(items, key=attrgetter(*keys)))


def _notes(context: MappingContext) -> tuple[str, ...]:
    zone = str(context.options.default_timezone)
    notes = list(dict.fromkeys(context.notes))
    zoneless, date_only = context.times.zoneless, context.times.date_only
    if zoneless == 1:
        notes.append(f"1 time without a time zone was read as {zone} time")
    elif zoneless:
        notes.append(f"{zoneless} times without a time zone were read as {zone} time")
    if date_only == 1:
        notes.append(f"1 time with only a date was read as midnight {zone}")
    elif date_only:
        notes.append(f"{date_only} times with only a date were read as midnight {zone}")
    return tuple(notes)


def map_patient_record(
    resources: Iterable[Mapping[str, Any] | DecodedObservation],
    patient_id: str,
    options: MappingOptions = DEFAULT_OPTIONS,
    *,
    fhir_server: str | None = None,
) -> GradingInputs:
    """Map one patient's FHIR R4 resources (raw JSON dicts, or Observations decoded by
    ``read_resource``) to typed, unit-normalised inputs.

    ``resources``: the Patient, Observations, MedicationAdministrations, Medications,
    Procedures and Conditions of the request; Bundles are unpacked and other resource types
    ignored. A resource that comes more than once (the same type and id: one Observation under
    the ``labs`` and ``baselines`` keys, or in two files of one chart) is read once, its first
    copy, as ``cds_service.fhir_io`` merges prefetch keys; read twice, every count would double
    and a systolic and diastolic pair would no longer pair. Order does not matter otherwise:
    every output tuple is sorted. Resources of
    another patient and resources that cannot be read are reported in ``skipped``, never fatal.
    A resource is the patient's only when its ``subject`` is exactly ``Patient/{patient_id}``
    (or that versioned, or its absolute URL on ``fhir_server``, the call's FHIR server).
    """
    context = MappingContext(options)
    patient_reference = f"Patient/{patient_id}"
    medications: dict[str, JSON] = {}
    patients: list[tuple[str, JSON]] = []
    # In input order. A decoded Observation goes through the fast lane right here (it changes
    # nothing the order of the others depends on: no notes, no checkpoint); the lane
    # declines it only to the mappers, in the loop below, in input order with the others.
    work: list[tuple[str, str, Any]] = []
    seen: set[str] = set()
    subjects = SubjectReader(patient_id, fhir_server)
    last_subject: object = _NOTHING  # the previous decoded row's subject, and its owner
    last_owner: str | ElementError = ""
    for ordinal, resource in enumerate(_resources(resources)):
        if isinstance(resource, DecodedObservation):  # inline: nearly every row of a chart
            observation_id = resource.id
            reference = (
                f"Observation/{observation_id}"
                if type(observation_id) is str and observation_id
                else f"Observation/<no id> #{ordinal}"
            )
            if reference in seen:
                continue
            seen.add(reference)
            subject = resource.subject
            if subject == last_subject:  # compared as JSON text: rows repeat one subject
                owner = last_owner
            else:
                owner = last_owner = subjects.owner(subject)
                last_subject = subject
            if owner != patient_id:
                context.skip(
                    reference, str(owner) if type(owner) is ElementError else OTHER_PATIENT
                )
                continue
            try:
                if not decoded_lane(context, resource, reference):
                    work.append(("Observation", reference, resource))
            except ElementError as error:
                context.skip(reference, str(error))
            continue
        if resource is None:
            context.skip(f"entry #{ordinal}", "is not a FHIR resource (JSON object)")
            continue
        resource_type = resource.get("resourceType")
        if resource_type in _SUBJECT_TYPES:
            reference = resource_reference(resource, ordinal)
            if reference in seen:
                continue  # the same resource again (another key or file): read once
            seen.add(reference)
            work.append((str(resource_type), reference, resource))
        elif resource_type == "Medication":
            medication_id = resource.get("id")
            if isinstance(medication_id, str):
                medications[medication_id] = resource
        elif resource_type == "Patient":
            patients.append((resource_reference(resource, ordinal), resource))

    patient = PatientFacts(patient_reference)
    found_patient = False
    for reference, resource in patients:
        if resource.get("id") != patient_id:
            context.skip(reference, OTHER_PATIENT)
            continue
        if found_patient:
            continue
        found_patient = True
        checkpoint = context.checkpoint()
        try:
            patient = map_patient(context, resource, patient_reference)
        except ElementError as error:
            context.rollback(checkpoint)
            context.skip(reference, str(error))
    if not found_patient:
        context.notes.append(NOTE_NO_PATIENT)

    resolver = MedicationResolver(medications, fhir_server)
    sedation_times = TimeReader(options.default_timezone)
    matcher = condition_matcher(options)
    for resource_type, reference, resource in work:
        checkpoint = context.checkpoint()
        try:
            if isinstance(resource, DecodedObservation):
                # Declined by the first pass. Its subject, the same JSON, was read there
                # (SubjectReader reads it as subject_id reads the dict's). A plain lab result
                # is read now that the Patient is mapped; anything else from its dict.
                if decoded_lab(context, resource, reference):
                    continue
                resource = resource.as_dict()
            elif subject_id(resource, "subject", fhir_server) != patient_id:
                context.skip(reference, OTHER_PATIENT)
                continue
            if resource_type == "Observation":
                map_observation(context, resource, reference)
            elif resource_type == "MedicationAdministration":
                note_sedation(context, sedation_times, resource)
                map_administration(context, resolver, resource, reference)
            elif resource_type == "Procedure":
                map_procedure(context, resource, reference)
            else:
                map_condition(context, matcher, resource, reference)
        except ElementError as error:
            context.rollback(checkpoint)  # times and element skips of a skipped resource
            context.skip(reference, str(error))
    finish_neurology(context)
    if context.skipped:
        logger.info(
            "mapping skipped %d resources: %s",
            len(context.skipped),
            ", ".join(item.reference for item in context.skipped[:20]),
        )

    return GradingInputs(
        patient=patient,
        therapies=_sorted(context.therapies, "time", "reference", "name"),
        temperatures_c=_sorted(context.temperatures_c, "time", "reference"),
        blood_pressures=_sorted(context.blood_pressures, "time", "reference"),
        heart_rates=_sorted(context.heart_rates, "time", "reference"),
        respiratory_rates=_sorted(context.respiratory_rates, "time", "reference"),
        spo2_percent=_sorted(context.spo2_percent, "time", "reference"),
        oxygen=_sorted(context.oxygen, "time", "reference"),
        ventilation=_sorted(context.ventilation, "start", "reference"),
        vasopressors=_sorted(context.vasopressors, "start", "reference"),
        labs=_sorted(context.labs, "time", "reference"),
        blood_cultures=_sorted(context.blood_cultures, "time", "reference"),
        neuro_scores=_sorted(context.neuro_scores, "time", "reference"),
        conditions=_sorted(context.conditions, "reference", "category"),
        immunosuppressants=_sorted(context.immunosuppressants, "time", "reference"),
        weights_kg=_sorted(context.weights_kg, "time", "reference"),
        stated_weights_kg=_sorted(context.stated_weights_kg, "time", "reference"),
        unidentified_administrations=_sorted(
            context.unidentified_administrations, "time", "reference"
        ),
        encephalopathy_screens=_sorted(context.encephalopathy_screens, "time", "reference"),
        consciousness=_sorted(context.consciousness, "time", "reference"),
        neurologic_signs=tuple(
            sorted(context.neurologic_signs, key=attrgetter("reference", "sign"))
        ),
        skipped=tuple(sorted(context.skipped, key=attrgetter("reference", "reason"))),
        notes=_notes(context),
        clock_offsets=context.times.clock_offsets(),
    )
