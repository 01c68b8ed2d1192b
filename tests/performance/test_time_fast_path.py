"""Issue 6: FHIR dateTimes read by the C parser (the common form) give the same instants, and
the same refusals, as the general reader; out-of-range years are skipped, never a crash.

Source: FHIR R4 datatypes, dateTime ("If hours and minutes are specified, a timezone offset
SHALL be populated"; seconds may be 60 for a leap second).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_maps import map_patient_record

PATIENT_ID = "p1"


def _temperature_at(effective: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": "t1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": 38.4, "unit": "Cel", "code": "Cel"},
    }


READ = [
    pytest.param(
        "2026-01-05T10:00:00-08:00",
        datetime(2026, 1, 5, 18, tzinfo=UTC),
        id="a negative offset is converted to UTC",
    ),
    pytest.param("2026-01-05T10:00:00Z", datetime(2026, 1, 5, 10, tzinfo=UTC), id="Z is UTC"),
    pytest.param(
        "2026-01-05T23:59:59+14:00",
        datetime(2026, 1, 5, 9, 59, 59, tzinfo=UTC),
        id="the largest offset moves the time to the previous hours",
    ),
    pytest.param(
        "2026-01-05T10:00:00-00:00", datetime(2026, 1, 5, 10, tzinfo=UTC), id="minus zero is UTC"
    ),
    pytest.param(
        "2026-01-05T10:00:60Z",
        datetime(2026, 1, 5, 10, 0, 59, tzinfo=UTC),
        id="a leap second is read as second 59 (general reader)",
    ),
    pytest.param(
        "2026-01-05T10:00:00.5Z",
        datetime(2026, 1, 5, 10, 0, 0, 500000, tzinfo=UTC),
        id="fractions of a second are kept (general reader)",
    ),
    pytest.param(
        "2026-02-28T23:30:00-01:00",
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        id="an offset can move the time into the next month",
    ),
]


@pytest.mark.parametrize(("effective", "expected"), READ)
def test_a_valid_fhir_datetime_is_read_as_its_instant(effective: str, expected: datetime) -> None:
    inputs = map_patient_record([_temperature_at(effective)], PATIENT_ID)
    assert [m.time for m in inputs.temperatures_c] == [expected]
    assert inputs.skipped == ()


REFUSED = [
    pytest.param("2026-02-30T10:00:00Z", id="30 February does not exist"),
    pytest.param("2026-01-05T24:00:00Z", id="hour 24 is not a FHIR time"),
    pytest.param("2026-01-05T10:60:00Z", id="minute 60 is not a FHIR time"),
    pytest.param("2026-01-05T10:00:00+25:00", id="an offset of 25 hours is out of range"),
    pytest.param("0001-01-01T00:00:00+01:00", id="year 1 east of UTC leaves the datetime range"),
    pytest.param("9999-12-31T23:59:59-01:00", id="year 9999 west of UTC leaves the range"),
]


@pytest.mark.parametrize("effective", REFUSED)
def test_an_impossible_fhir_datetime_skips_the_resource_and_says_why(effective: str) -> None:
    inputs = map_patient_record([_temperature_at(effective)], PATIENT_ID)
    assert inputs.temperatures_c == ()
    assert [(s.reference, s.reason) for s in inputs.skipped] == [
        ("Observation/t1", "effectiveDateTime is not a valid FHIR dateTime")
    ]
