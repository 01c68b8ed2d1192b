"""map_patient_record as a whole: patient, subjects, skips, time zones, Bundles, validation."""

from __future__ import annotations

import glob
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from map_fixtures import FIXTURES, PATIENT_ID, entries, load, observation, record

from fhir_maps import MappingOptions, ValidationMode, map_patient_record


def all_fixture_resources() -> list[dict]:
    """Every resource of every fixture file except the draft orders."""
    resources: list[dict] = []
    for path in sorted(glob.glob(str(FIXTURES / "*.json"))):
        name = Path(path).name
        if name in ("draft-orders.json", "patient.json"):
            continue
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        resources.extend(entries(name) if data["resourceType"] == "Bundle" else [data])
    return resources


# --- the patient --------------------------------------------------------------------------------


def test_patient_facts():
    inputs = record()
    assert inputs.patient.reference == "Patient/pat1"
    assert inputs.patient.birth_date == date(1961, 3, 14)
    assert (inputs.patient.deceased, inputs.patient.deceased_time) == (False, None)
    assert inputs.notes == ()


def test_deceased_date_time():
    patient = load("patient.json")
    patient["deceasedDateTime"] = "2026-11-23T04:10:00-05:00"
    inputs = map_patient_record([patient], PATIENT_ID)
    assert inputs.patient.deceased is True
    assert inputs.patient.deceased_time == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)


def test_deceased_boolean():
    patient = load("patient.json")
    patient["deceasedBoolean"] = True
    facts = map_patient_record([patient], PATIENT_ID).patient
    assert (facts.deceased, facts.deceased_time) == (True, None)


def test_a_birth_year_only_is_read_as_its_first_day_and_noted():
    patient = load("patient.json")
    patient["birthDate"] = "1961"
    inputs = map_patient_record([patient], PATIENT_ID)
    assert inputs.patient.birth_date == date(1961, 1, 1)
    assert inputs.notes == (
        "the birth date has only a year or a month: age is counted from its first day",
    )


def test_without_the_patient_resource_the_facts_are_empty_and_noted():
    inputs = map_patient_record([observation("8310-5", 38.5, "Cel")], PATIENT_ID)
    assert inputs.patient.reference == "Patient/pat1" and inputs.patient.birth_date is None
    assert "the Patient resource was not in the data: age and death are unknown" in inputs.notes
    assert len(inputs.temperatures_c) == 1


# --- another patient's data is never graded -----------------------------------------------------


def test_another_patients_resources_are_skipped_and_reported():
    other_patient = load("patient.json")
    other_patient["id"] = "someone-else"
    theirs = observation(
        "8310-5", 39.9, "Cel", id="theirs", subject={"reference": "Patient/someone-else"}
    )
    ours = observation("8310-5", 37.0, "Cel", id="ours")
    inputs = record(other_patient, theirs, ours)
    assert [m.reference for m in inputs.temperatures_c] == ["Observation/ours"]
    assert [(s.reference, s.reason) for s in inputs.skipped] == [
        ("Observation/theirs", "belongs to another patient"),
        ("Patient/someone-else", "belongs to another patient"),
    ]


@pytest.mark.parametrize(
    "reference",
    ["Patient/pat1", "https://ehr.example/fhir/Patient/pat1", "Patient/pat1/_history/3"],
    ids=["relative", "absolute URL on fhirServer", "versioned"],
)
def test_subject_reference_forms(reference):
    fever = observation("8310-5", 38.5, "Cel", subject={"reference": reference})
    inputs = map_patient_record(
        [load("patient.json"), fever], PATIENT_ID, fhir_server="https://ehr.example/fhir"
    )
    assert len(inputs.temperatures_c) == 1 and inputs.skipped == ()


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (None, "subject is missing"),
        ({"display": "A. Testpatient"}, "subject.reference is missing"),
        ({"reference": "Group/ward-3"}, "subject.reference does not point to a Patient"),
    ],
    ids=["no subject", "a subject with only a display", "a Group as subject"],
)
def test_resources_that_cannot_be_shown_to_be_the_patients_are_skipped(subject, reason):
    resource = observation("8310-5", 38.5, "Cel")
    if subject is None:
        del resource["subject"]
    else:
        resource["subject"] = subject
    inputs = record(resource)
    assert inputs.temperatures_c == ()
    assert inputs.skipped[0].reason == reason


# --- malformed input ---------------------------------------------------------------------------


def test_a_malformed_resource_is_skipped_with_a_value_free_reason_and_the_others_are_mapped():
    bad = observation("8310-5", None, id="x9")
    bad["valueQuantity"] = {"value": "39.7 C", "unit": "Cel"}
    good = observation("8310-5", 38.1, "Cel", id="ok")
    inputs = record(bad, good, load("observation-bp-panel.json"))
    assert [m.reference for m in inputs.temperatures_c] == ["Observation/ok"]
    assert len(inputs.blood_pressures) == 1
    assert [(s.reference, s.reason) for s in inputs.skipped] == [
        ("Observation/x9", "valueQuantity.value is not a number")
    ]


def test_an_entry_that_is_not_a_json_object_is_reported():
    inputs = map_patient_record([load("patient.json"), ["not", "a", "resource"]], PATIENT_ID)  # type: ignore[list-item]
    assert inputs.skipped[0].reason == "is not a FHIR resource (JSON object)"


def test_a_resource_without_an_id_is_named_by_its_position():
    resource = observation("8310-5", "hot", "Cel")
    del resource["id"]
    inputs = record(resource)
    assert inputs.skipped[0].reference == "Observation/<no id> #1"


def test_unknown_resource_types_are_ignored_silently():
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "in-progress",
        "class": {"code": "IMP"},
    }
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "patient": {"reference": "Patient/x"},
    }
    inputs = record(encounter, allergy)
    assert inputs.skipped == () and inputs.notes == ()


def test_bundles_are_unpacked():
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": observation("8310-5", 38.5, "Cel")}],
    }
    assert len(record(bundle).temperatures_c) == 1


# --- time zones (MappingOptions.default_timezone) ---------------------------------------------


def test_a_time_without_a_zone_is_read_in_utc_by_default_and_noted():
    inputs = record(observation("8310-5", 38.5, "Cel", effectiveDateTime="2026-11-20T10:00:00"))
    assert inputs.temperatures_c[0].time == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert inputs.notes == ("1 time without a time zone was read as UTC time",)


def test_a_time_without_a_zone_is_read_in_the_configured_zone():
    options = MappingOptions(default_timezone=ZoneInfo("Europe/Berlin"))
    resources = [
        observation("8310-5", 38.5, "Cel", id="winter", effectiveDateTime="2026-11-20T10:00:00"),
        observation("8310-5", 38.5, "Cel", id="summer", effectiveDateTime="2026-07-20T10:00:00"),
    ]
    inputs = record(*resources, options=options)
    assert [m.time for m in inputs.temperatures_c] == [
        datetime(2026, 7, 20, 8, tzinfo=UTC),
        datetime(2026, 11, 20, 9, tzinfo=UTC),
    ]
    assert inputs.notes == ("2 times without a time zone were read as Europe/Berlin time",)


def test_a_date_without_a_time_is_read_as_midnight_and_noted():
    inputs = record(observation("2160-0", 1.0, "mg/dL", effectiveDateTime="2026-11-20"))
    assert inputs.labs[0].time == datetime(2026, 11, 20, tzinfo=UTC)
    assert inputs.notes == ("1 time with only a date was read as midnight UTC",)


def test_times_of_a_skipped_resource_are_not_noted():
    resource = observation("8310-5", "hot", "Cel", effectiveDateTime="2026-11-20T10:00:00")
    inputs = record(resource)
    assert inputs.notes == () and len(inputs.skipped) == 1


# --- order and validation ---------------------------------------------------------------------


def test_input_order_does_not_matter():
    resources = [load("patient.json"), *all_fixture_resources()]
    forward = map_patient_record(resources, PATIENT_ID)
    backward = map_patient_record(list(reversed(resources)), PATIENT_ID)
    assert forward == backward
    assert forward.therapies and forward.vasopressors and forward.conditions and forward.ventilation


def test_full_model_validation_maps_the_fixtures_exactly_as_the_fast_path():
    """Issue 6: the fast path (raw-JSON checks) and full fhir.resources validation agree."""
    resources = [load("patient.json"), *all_fixture_resources()]
    fast = map_patient_record(resources, PATIENT_ID)
    full = map_patient_record(
        resources, PATIENT_ID, MappingOptions(validation=ValidationMode.MODELS)
    )
    assert fast == full
    assert fast.skipped == ()


def test_full_validation_rejects_an_element_fhir_does_not_know_with_a_value_free_reason():
    resource = observation("8310-5", 38.5, "Cel", temperatureSite="mouth")
    inputs = record(resource, options=MappingOptions(validation=ValidationMode.MODELS))
    assert inputs.temperatures_c == ()
    assert [(s.reference, s.reason) for s in inputs.skipped] == [
        ("Observation/obs1", "temperatureSite is not a known element")
    ]


def test_full_validation_reads_times_without_a_zone_too():
    resource = observation("8310-5", 38.5, "Cel", effectiveDateTime="2026-11-20T10:00:00")
    inputs = record(resource, options=MappingOptions(validation=ValidationMode.MODELS))
    assert len(inputs.temperatures_c) == 1 and inputs.skipped == ()


def test_full_validation_reports_a_bad_number_by_its_element():
    resource = observation("8310-5", None)
    resource["valueQuantity"] = {"value": "abc", "unit": "Cel"}
    inputs = record(resource, options=MappingOptions(validation=ValidationMode.MODELS))
    assert inputs.skipped[0].reason == "valueQuantity.value is not a number"


# --- the EHR's clock (SPEC section 4: times in the local offset of the patient's data) -------


def test_the_offsets_of_the_datas_timestamps_are_counted():
    inputs = record(
        observation("8310-5", 38.5, "Cel", id="a", effectiveDateTime="2026-11-20T10:00:00-08:00"),
        observation("8310-5", 38.6, "Cel", id="b", effectiveDateTime="2026-11-20T11:00:00-08:00"),
        observation("8310-5", 38.7, "Cel", id="c", effectiveDateTime="2026-11-20T20:00:00Z"),
        observation("8310-5", 38.8, "Cel", id="d", effectiveDateTime="2026-11-20T12:30:00+05:30"),
    )
    seen = {(item.offset.total_seconds() / 3600, item.count) for item in inputs.clock_offsets}
    # "Z" says nothing of the local clock (servers normalise to it): not counted.
    assert seen == {(-8.0, 2), (5.5, 1)}
    latest = {item.offset.total_seconds() / 3600: item.last for item in inputs.clock_offsets}
    assert latest[-8.0] == datetime(2026, 11, 20, 19, tzinfo=UTC)


def test_times_in_utc_only_leave_the_clock_to_the_configured_zone():
    inputs = record(observation("8310-5", 38.5, "Cel", effectiveDateTime="2026-11-20T10:00:00Z"))
    assert inputs.clock_offsets == ()
