"""Patient -> PatientFacts: birth date and death (SPEC 2.3 grade 5, 2.6 age)."""

from __future__ import annotations

from crs_grading.inputs import PatientFacts

from ._context import MappingContext
from ._fhir import JSON, ElementError, read_date

NOTE_PARTIAL_BIRTH_DATE = (
    "the birth date has only a year or a month: age is counted from its first day"
)


def map_patient(context: MappingContext, patient: JSON, reference: str) -> PatientFacts:
    """Map the Patient; ``ElementError`` when a read element is malformed."""
    context.validate(patient)
    birth_date, partial = read_date(patient.get("birthDate"), "birthDate")
    if partial:
        context.notes.append(NOTE_PARTIAL_BIRTH_DATE)
    flag = patient.get("deceasedBoolean")
    moment = patient.get("deceasedDateTime")
    if flag is not None and moment is not None:
        raise ElementError("deceased[x]", "has more than one type")
    if flag is not None:
        if not isinstance(flag, bool):
            raise ElementError("deceasedBoolean", "is not a boolean")
        return PatientFacts(reference, birth_date, deceased=flag)
    if moment is not None:
        # A death date without a time is read as midnight in the default zone; a year or month
        # only gives a death of unknown time.
        time = context.times.optional(moment, "deceasedDateTime", time_matters=False)
        return PatientFacts(reference, birth_date, deceased=True, deceased_time=time)
    return PatientFacts(reference, birth_date)
