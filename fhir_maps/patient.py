"""Patient -> PatientFacts: birth date and death (SPEC 2.3 grade 5, 2.6 age); gender and birth
date are also kept for choosing reference ranges (SPEC 3).

Per element (SPEC 3): an unreadable birth date or gender loses only that element (the age is
then unknown); an unreadable death loses the whole Patient, since grade 5 rests on it.
"""

from __future__ import annotations

from datetime import date

from crs_grading.inputs import PatientFacts

from ._context import MappingContext
from ._fhir import JSON, ElementError, read_date

NOTE_PARTIAL_BIRTH_DATE = (
    "the birth date has only a year or a month: age is counted from its first day"
)

#: FHIR administrative-gender codes (R4).
_GENDERS = frozenset({"male", "female", "other", "unknown"})


def _birth_date(context: MappingContext, patient: JSON, reference: str) -> date | None:
    try:
        birth_date, partial = read_date(patient.get("birthDate"), "birthDate")
    except ElementError as error:
        context.skip_element(reference, error)
        return None
    if partial:
        context.notes.append(NOTE_PARTIAL_BIRTH_DATE)
    return birth_date


def _gender(context: MappingContext, patient: JSON, reference: str) -> str | None:
    gender = patient.get("gender")
    if gender is None:
        return None
    if not isinstance(gender, str) or gender not in _GENDERS:
        context.skip_element(reference, ElementError("gender", "is not a FHIR gender code"))
        return None
    return gender


def map_patient(context: MappingContext, patient: JSON, reference: str) -> PatientFacts:
    """Map the Patient; ``ElementError`` when a read element that cannot be left out is bad."""
    context.validate(patient)
    flag = patient.get("deceasedBoolean")
    moment = patient.get("deceasedDateTime")
    if flag is not None and moment is not None:
        raise ElementError("deceased[x]", "has more than one type")
    if flag is not None and not isinstance(flag, bool):
        raise ElementError("deceasedBoolean", "is not a boolean")
    # A death date without a time is read as midnight in the default zone; a year or month
    # only gives a death of unknown time.
    time = (
        context.times.optional(moment, "deceasedDateTime", time_matters=False)
        if moment is not None
        else None
    )
    birth_date = _birth_date(context, patient, reference)
    context.birth_date = birth_date
    context.sex = _gender(context, patient, reference)
    if flag is not None:
        return PatientFacts(reference, birth_date, deceased=flag)
    if moment is not None:
        return PatientFacts(reference, birth_date, deceased=True, deceased_time=time)
    return PatientFacts(reference, birth_date)
