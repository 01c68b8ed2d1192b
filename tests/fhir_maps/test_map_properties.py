"""Properties of the mapping (hypothesis): order, entered-in-error copies, fast path = full path."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st
from map_fixtures import LOINC, PATIENT_ID, load
from test_map_record import all_fixture_resources

from fhir_maps import MappingOptions, ValidationMode, map_patient_record

PATIENT = load("patient.json")
RESOURCES = [PATIENT, *all_fixture_resources()]
BASELINE = map_patient_record(RESOURCES, PATIENT_ID)
COPYABLE = [r for r in RESOURCES if r["resourceType"] not in ("Patient", "Medication")]


def entered_in_error_copy(resource: dict, number: int, same_id: bool) -> dict:
    duplicate = copy.deepcopy(resource)
    if not same_id:
        duplicate["id"] = f"{resource['id']}-eie{number}"
    if duplicate["resourceType"] == "Condition":
        duplicate["verificationStatus"] = {"coding": [{"code": "entered-in-error"}]}
    else:
        duplicate["status"] = "entered-in-error"
    return duplicate


@settings(max_examples=40, deadline=None)
@given(
    order=st.permutations(RESOURCES),
    copies=st.lists(st.tuples(st.sampled_from(COPYABLE), st.booleans()), max_size=6),
)
def test_shuffling_and_entered_in_error_copies_never_change_the_result(order, copies):
    """SPEC 3: entered-in-error data is ignored; input order is irrelevant."""
    extra = [entered_in_error_copy(r, n, same_id) for n, (r, same_id) in enumerate(copies)]
    assert BASELINE.therapies and BASELINE.vasopressors  # the baseline is not empty
    assert map_patient_record([*order, *extra], PATIENT_ID) == BASELINE


VITALS = {
    "8310-5": (st.floats(35.0, 41.5), ["Cel", "[degF]"]),
    "8867-4": (st.integers(30, 200), ["/min"]),
    "8480-6": (st.integers(50, 200), ["mm[Hg]"]),
    "3150-0": (st.integers(21, 100), ["%"]),
    "29463-7": (st.floats(3.0, 150.0), ["kg", "[lb_av]"]),
    "2160-0": (st.floats(0.2, 8.0), ["mg/dL", "umol/L"]),
    "751-8": (st.floats(0.0, 10.0), ["10*3/uL"]),
}


@st.composite
def vital_observation(draw, number: int) -> dict:
    code = draw(st.sampled_from(sorted(VITALS)))
    values, units = VITALS[code]
    unit = draw(st.sampled_from(units))
    value = draw(values)
    if unit == "[degF]":
        value = value * 9 / 5 + 32
    elif unit == "[lb_av]":
        value = value / 0.45359237
    elif unit == "umol/L":
        value = value * 88.4
    minute = draw(st.integers(0, 60 * 24 * 7))
    zone = draw(st.sampled_from(["Z", "+02:00", ""]))
    time = f"2026-11-{15 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00{zone}"
    return {
        "resourceType": "Observation",
        "id": f"gen{number}",
        "status": draw(st.sampled_from(["final", "amended", "preliminary", "entered-in-error"])),
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": time,
        "valueQuantity": {
            "value": round(value, 3),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(*[vital_observation(i) for i in range(n)])))
def test_the_fast_path_maps_random_valid_payloads_exactly_as_full_validation(observations):
    """Issue 6: validating only the elements read gives the same inputs as full R4B validation."""
    resources = [PATIENT, *observations]
    fast = map_patient_record(resources, PATIENT_ID)
    full = map_patient_record(
        resources, PATIENT_ID, MappingOptions(validation=ValidationMode.MODELS)
    )
    assert fast == full
    assert fast.skipped == ()
