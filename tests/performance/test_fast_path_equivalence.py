"""Issue 6: the raw-JSON fast path grades exactly as full ``fhir.resources`` validation does.

``ValidationMode.ELEMENTS`` (the default) checks only the elements grading reads, on the raw
JSON; ``ValidationMode.MODELS`` validates every resource grading uses with its R4B model first.
For valid FHIR R4 data both must give the same ``GradingInputs`` and the same ``Assessment``.
tests/integration/test_seed_cases_end_to_end.py compares the four shipped seed Bundles; here
the demo cases are regenerated at random cadences and lengths, shuffled, split into searchset
pages and mixed with valid resources of other types, other codes and another patient.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.payloads import SIZES, build_payload
from cds_service.demo import CASES, generate_bundle
from crs_grading import assess
from crs_grading.assessment import Assessment
from crs_grading.inputs import GradingInputs
from fhir_maps import MappingOptions, ValidationMode, map_patient_record

JSON = dict[str, Any]

DAY0 = date(2026, 3, 2)
FULL = MappingOptions(validation=ValidationMode.MODELS)
FAST = MappingOptions()  # ValidationMode.ELEMENTS
OTHER_PATIENT = "someone-else"


def _noise(patient_id: str) -> list[JSON]:
    """Valid FHIR R4 resources that grading must ignore (or skip) in both modes alike."""
    subject = {"reference": f"Patient/{patient_id}"}
    when = f"{DAY0.isoformat()}T08:00:00Z"
    loinc = "http://loinc.org"
    return [
        {
            "resourceType": "Encounter",
            "id": "noise-enc",
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": subject,
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "noise-dr",
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": "58410-2", "display": "CBC panel"}]},
            "subject": subject,
            "effectiveDateTime": when,
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "noise-allergy",
            "patient": subject,
            "code": {"text": "penicillin"},
        },
        {
            "resourceType": "Practitioner",
            "id": "noise-practitioner",
            "name": [{"family": "Ortega", "given": ["Ana"]}],
        },
        {
            "resourceType": "OperationOutcome",
            "id": "noise-outcome",
            "issue": [{"severity": "information", "code": "informational"}],
        },
        {
            "resourceType": "Observation",
            "id": "noise-glucose",
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": "2345-7", "display": "Glucose"}]},
            "subject": subject,
            "effectiveDateTime": when,
            "valueQuantity": {
                "value": 104,
                "unit": "mg/dL",
                "system": "http://unitsofmeasure.org",
                "code": "mg/dL",
            },
        },
        {
            "resourceType": "Observation",
            "id": "noise-other-patient-temp",
            "status": "final",
            "code": {
                "coding": [{"system": loinc, "code": "8310-5", "display": "Body temperature"}]
            },
            "subject": {"reference": f"Patient/{OTHER_PATIENT}"},
            "effectiveDateTime": when,
            "valueQuantity": {
                "value": 40.2,
                "unit": "Cel",
                "system": "http://unitsofmeasure.org",
                "code": "Cel",
            },
        },
        {
            "resourceType": "MedicationAdministration",
            "id": "noise-acetaminophen",
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "161",
                        "display": "acetaminophen",
                    }
                ]
            },
            "subject": subject,
            "effectiveDateTime": when,
        },
        {
            "resourceType": "Medication",
            "id": "noise-unreferenced-medication",
            "code": {"text": "ondansetron 4 mg tablet"},
        },
        {
            "resourceType": "Procedure",
            "id": "noise-xray",
            "status": "completed",
            "code": {"text": "chest radiograph"},
            "subject": subject,
            "performedDateTime": when,
        },
        {
            "resourceType": "Condition",
            "id": "noise-condition",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"text": "seasonal allergic rhinitis"},
            "subject": subject,
        },
    ]


#: Issue 10 shapes: how EHRs chart the same data (flowsheet rows, local codes with text-only
#: codings, separate systolic/diastolic rows, panel components, comparators, ranges by sex).
_LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"
_TEMPERATURE_CODES = (
    {"coding": [{"system": "http://loinc.org", "code": "8333-7"}]},
    {"coding": [{"system": "http://loinc.org", "code": "75539-7"}]},
    {"coding": [{"system": "http://snomed.info/sct", "code": "386725007"}]},
    {"coding": [{"system": _LOCAL, "code": "6"}], "text": "Temperature"},
    {"text": "Temp"},
)
_LOCAL_LAB_NAMES = {
    "1920-8": "AST (SGOT)",
    "1742-6": "ALT (SGPT)",
    "2160-0": "Creatinine",
    "1975-2": "Bilirubin, Total",
    "3255-7": "Fibrinogen",
    "751-8": "Absolute Neutrophil Count",
    "2524-7": "Lactic Acid, Arterial",
    "600-7": "Blood Culture",
}
_SEXES = (
    {"coding": [{"system": "http://snomed.info/sct", "code": "248153007", "display": "Male"}]},
    {"coding": [{"system": "http://snomed.info/sct", "code": "248152002", "display": "Female"}]},
)


def _code_of(resource: JSON) -> str | None:
    codings = resource.get("code", {}).get("coding") or [{}]
    return codings[0].get("code")


def ehr_shaped(resources: list[JSON], seed: int) -> list[JSON]:
    """The same chart as EHRs send it; valid FHIR R4 throughout (both modes must agree)."""
    rng = random.Random(seed)
    shaped: list[JSON] = []
    for original in resources:
        resource = copy.deepcopy(original)
        code = _code_of(resource) if resource.get("resourceType") == "Observation" else None
        choice = rng.random()
        if code == "8310-5" and choice < 0.5:
            resource["code"] = copy.deepcopy(rng.choice(_TEMPERATURE_CODES))
        elif code == "8310-5" and choice < 0.7:  # a vital-signs panel with the temperature
            value = resource.pop("valueQuantity")
            resource["code"] = {"coding": [{"system": "http://loinc.org", "code": "85353-1"}]}
            resource["component"] = [
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                    "valueQuantity": value,
                }
            ]
        elif code == "85354-9" and choice < 0.5:  # separate systolic and diastolic rows
            for index, component in enumerate(resource.pop("component")):
                row = copy.deepcopy(resource)
                row["id"] = f"{resource['id']}-part{index}"
                row["code"] = component["code"]
                row["valueQuantity"] = component["valueQuantity"]
                shaped.append(row)
            continue
        elif code in _LOCAL_LAB_NAMES and choice < 0.4:  # a local code and its name only
            resource["code"] = {
                "coding": [{"system": _LOCAL, "code": code.replace("-", "")}],
                "text": _LOCAL_LAB_NAMES[code],
            }
        elif (
            "valueQuantity" in resource
            and resource.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "laboratory"
        ):
            if choice < 0.3:  # ranges of both sexes, the other sex first
                limit = resource["valueQuantity"]["value"]
                resource["referenceRange"] = [
                    {"high": {"value": limit * 0.5}, "appliesTo": [copy.deepcopy(sex)]}
                    for sex in rng.sample(_SEXES, 2)
                ]
            elif choice < 0.4:
                resource["valueQuantity"]["comparator"] = rng.choice(["<", ">", "<=", ">="])
        shaped.append(resource)
    return shaped


@cache
def _demo(case: str, days: int, vitals_h: float | None, labs_h: float | None) -> tuple[JSON, ...]:
    bundle = generate_bundle(
        case,
        DAY0,
        vitals_every=None if vitals_h is None else timedelta(hours=vitals_h),
        days=days,
        labs_every=None if labs_h is None else timedelta(hours=labs_h),
    )
    return tuple(entry["resource"] for entry in bundle["entry"])


def _pages(resources: list[JSON], page_size: int) -> list[JSON]:
    """The resources as searchset Bundles of ``page_size`` entries (the last may be shorter)."""
    return [
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": resource, "search": {"mode": "match"}}
                for resource in resources[start : start + page_size]
            ],
        }
        for start in range(0, len(resources), page_size)
    ]


def _both(items: list[JSON], patient_id: str) -> tuple[GradingInputs, GradingInputs]:
    return (
        map_patient_record(items, patient_id, FAST),
        map_patient_record(items, patient_id, FULL),
    )


def _graded(inputs: GradingInputs, as_of: datetime) -> Assessment:
    return assess(inputs, as_of)


def test_noise_resources_are_valid_fhir_r4() -> None:
    """The noise must be valid FHIR R4, or a difference between the modes would be expected."""
    from fhir.resources.R4B import get_fhir_model_class

    for resource in _noise("p1"):
        model = get_fhir_model_class(resource["resourceType"])
        model.model_validate(copy.deepcopy(resource))


@st.composite
def variants(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "case": draw(st.sampled_from(CASES)),
        "days": draw(st.integers(1, 4)),
        "vitals_h": draw(st.sampled_from([None, 1.0, 2.0, 4.0])),
        "labs_h": draw(st.sampled_from([None, 6.0, 12.0])),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "page_size": draw(st.integers(7, 300)),
        "bare": draw(st.integers(0, 20)),  # resources sent outside any Bundle
        "noise": draw(st.lists(st.integers(0, 10), unique=True, max_size=11)),
        "as_of_h": draw(st.integers(-36, 24)),  # from the end of the course: future data too
        "ehr_shapes": draw(st.booleans()),  # issue 10: the same chart as EHRs send it
    }


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(variant=variants())
def test_random_demo_payloads_grade_identically_with_and_without_model_validation(
    variant: dict[str, Any],
) -> None:
    """Issue 6 target "correctness unchanged": ELEMENTS and MODELS give equal inputs and equal
    assessments (Lee 2014 and ASTCT 2019, drivers, evidence, gaps, skips) for random
    shuffled, paged and noisy variants of the demo cases; input order changes nothing."""
    resources = [
        *copy.deepcopy(
            _demo(variant["case"], variant["days"], variant["vitals_h"], variant["labs_h"])
        )
    ]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    if variant["ehr_shapes"]:
        resources = ehr_shaped(resources, variant["seed"])
    noise = _noise(patient_id)
    in_order = [*resources, *(noise[index] for index in variant["noise"])]
    shuffled = list(in_order)
    random.Random(variant["seed"]).shuffle(shuffled)
    bare, paged = shuffled[: variant["bare"]], shuffled[variant["bare"] :]
    items = [*bare, *_pages(paged, variant["page_size"])]

    fast, full = _both(items, patient_id)
    assert fast == full
    assert fast == map_patient_record(in_order, patient_id)  # order and paging are irrelevant
    assert fast.temperatures_c and fast.therapies  # the comparison is not vacuous
    if 6 in variant["noise"]:
        assert any(
            item.reference == "Observation/noise-other-patient-temp" for item in fast.skipped
        )

    course_end = datetime.combine(DAY0, time(), UTC) + timedelta(days=variant["days"] + 1)
    as_of = course_end + timedelta(hours=variant["as_of_h"])
    assert _graded(fast, as_of) == _graded(full, as_of)


@pytest.mark.parametrize("case", CASES)
def test_seed_case_prefetch_pages_grade_identically_at_every_day_of_the_course(case: str) -> None:
    """Issue 6: each demo case as searchset pages, graded at noon of every day of its first
    week, gives the same assessment with and without model validation."""
    resources = list(copy.deepcopy(_demo(case, 7, None, None)))
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    fast, full = _both(_pages(resources, 100), patient_id)
    assert fast == full
    for day in range(8):
        as_of = datetime.combine(DAY0 + timedelta(days=day), time(12), UTC)
        assert _graded(fast, as_of) == _graded(full, as_of), f"{case} day {day}"


def test_the_benchmark_s_payload_grades_identically_with_and_without_model_validation() -> None:
    """The request body the benchmark times (size S, prefetch of the service's templates)."""
    import orjson

    payload = build_payload(SIZES[0], now=datetime(2026, 6, 1, 12, tzinfo=UTC))
    prefetch = orjson.loads(payload.body)["prefetch"]
    items = list(prefetch.values())  # the Patient and one searchset Bundle per other key
    fast, full = _both(items, payload.patient_id)
    assert fast == full
    assert fast.temperatures_c and fast.blood_pressures
    as_of = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert _graded(fast, as_of) == _graded(full, as_of)


@pytest.mark.parametrize("case", CASES)
def test_ehr_shaped_seed_cases_grade_identically_with_and_without_model_validation(
    case: str,
) -> None:
    """Issue 10: the seed cases charted as EHRs send them (local codes, text-only codings, panel
    components, separate BP rows, ranges by sex, comparators) are valid FHIR R4, and the fast
    path reads them exactly as full validation does."""
    from fhir.resources.R4B import get_fhir_model_class

    resources = ehr_shaped(list(copy.deepcopy(_demo(case, 5, None, None))), seed=10)
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(copy.deepcopy(resource))
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    fast, full = _both(_pages(resources, 50), patient_id)
    assert fast == full
    assert fast.temperatures_c and not fast.skipped
    for day in range(6):
        as_of = datetime.combine(DAY0 + timedelta(days=day), time(12), UTC)
        assert _graded(fast, as_of) == _graded(full, as_of), f"{case} day {day}"
