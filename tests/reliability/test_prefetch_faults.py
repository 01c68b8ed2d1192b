"""Strange prefetch contents (issue 7): OperationOutcomes, wrong resource types, another
patient's resources, duplicates, future dates, missing units and absurd values.

Each call gets a defined answer within the budget, never a 500 (CDS Hooks 2.0.1 section
Prefetch Template: services "SHOULD check any prefetched data for the existence of
OperationOutcomes"; SPEC section 3: "A resource that fails to parse is skipped and reported ...
it never fails the request"). Where the answer carries the assessment, what was left out must
be reported in it and never used as evidence.
"""

from __future__ import annotations

import pytest
import requests

from cds_service.fhir_io import FhirReader
from cds_service.services import OBSERVATION_KEYS, PREFETCH_TEMPLATES

from .harness import (
    assert_defined_answer,
    demo_prefetch,
    hook_body,
    searchset,
    timed,
)

SERVICE = "/cds-services/crs-patient-view"
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "prefetch failed"}],
}


def call(client, patient_id, prefetch, service=SERVICE, hook="patient-view"):
    return timed(
        lambda: client.post(service, json=hook_body(patient_id, prefetch=prefetch, hook=hook))
    )


def own_ids(prefetch):
    ids = set()
    for value in prefetch.values():
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle":
            ids.update(
                f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in value.get("entry", [])
            )
        elif "id" in value:
            ids.add(f"{value['resourceType']}/{value['id']}")
    return ids


def assessment(body):
    found = [
        c["extension"]["org.crscds.assessment"]
        for c in body["cards"]
        if "org.crscds.assessment" in c.get("extension", {})
    ]
    assert len(found) <= 1
    return found[0] if found else None


def read(prefetch, patient_id):
    reader = FhirReader(requests.Session(), budget_s=1.0, max_pages=5)
    return reader.read(
        templates=PREFETCH_TEMPLATES,
        tokens={"context.patientId": patient_id, "context.userId": "Practitioner/dr-1"},
        patient_id=patient_id,
        prefetch=prefetch,
        endpoint=None,
    )


def observations(prefetch):
    """Every Observation of the prefetch, each key's copy (a lab may be in labs and baselines)."""
    return [
        e["resource"]
        for key in OBSERVATION_KEYS
        for e in prefetch[key].get("entry", [])
        if e["resource"]["resourceType"] == "Observation"
    ]


def first_observation(prefetch, code):
    return next(
        r for r in observations(prefetch) if any(c.get("code") == code for c in r["code"]["coding"])
    )


def test_the_demo_case_gets_its_assessment_card(fault_client):
    """The baseline every other test here departs from: real cards, schema-valid, in time."""
    patient_id, prefetch = demo_prefetch()
    response, elapsed = call(fault_client, patient_id, prefetch)
    body = assert_defined_answer(response, elapsed, allowed={200}, own_ids=own_ids(prefetch))
    found = assessment(body)
    assert found is not None and found["grade"] >= 1


# --- OperationOutcome and null in the prefetch ----------------------------------------------


@pytest.mark.parametrize(
    ("key", "status"),
    [("vitals", 412), ("patient", 412), ("conditions", 200), ("medications", 200)],
    ids=lambda v: str(v),
)
def test_an_operation_outcome_under_a_key_without_fhir_server(fault_client, key, status):
    """Essential keys (Patient, Observations) -> 412; lesser keys degrade (SPEC section 4)."""
    patient_id, prefetch = demo_prefetch()
    prefetch[key] = OUTCOME
    response, elapsed = call(fault_client, patient_id, prefetch)
    body = assert_defined_answer(response, elapsed, allowed={status}, own_ids=own_ids(prefetch))
    if status == 412:
        assert key in body["issue"][0]["diagnostics"]


# --- wrong types, other patients, duplicates ------------------------------------------------


def test_wrong_resource_types_under_a_key_are_not_fatal(fault_client):
    patient_id, prefetch = demo_prefetch()
    conditions = [e["resource"] for e in prefetch["conditions"]["entry"]]
    prefetch["vitals"]["entry"] += [{"resource": r} for r in conditions[:2]]
    prefetch["medications"] = {"resourceType": "Practitioner", "id": "dr-1"}
    prefetch["procedures"] = searchset([{"resourceType": "Patient", "id": patient_id}])

    response, elapsed = call(fault_client, patient_id, prefetch)

    assert_defined_answer(response, elapsed, allowed={200}, own_ids=own_ids(prefetch))


def _other_patients(prefetch, patient_id):
    """A febrile temperature and a vasopressor of another patient, and a temperature that
    names no patient at all."""
    fever = dict(first_observation(prefetch, "8310-5"))
    fever.update(
        id="other-fever",
        subject={"reference": "Patient/someone-else"},
        valueQuantity={
            "value": 41.2,
            "unit": "Cel",
            "system": "http://unitsofmeasure.org",
            "code": "Cel",
        },
    )
    orphan = dict(fever, id="orphan-fever")
    orphan.pop("subject")
    drip = dict(
        next(
            e["resource"]
            for e in prefetch["medications"]["entry"]
            if e["resource"]["resourceType"] == "MedicationAdministration"
        )
    )
    drip.update(id="other-drip", subject={"reference": "https://ehr.example.org/fhir/Patient/x"})
    return fever, orphan, drip


def test_another_patients_resources_are_ignored_and_reported(fault_client):
    patient_id, prefetch = demo_prefetch()
    fever, orphan, drip = _other_patients(prefetch, patient_id)
    prefetch["vitals"]["entry"] += [{"resource": fever}, {"resource": orphan}]
    prefetch["medications"]["entry"].append({"resource": drip})

    data = read(prefetch, patient_id)
    kept = {f"{r['resourceType']}/{r['id']}" for r in data.resources}
    assert not kept & {
        "Observation/other-fever",
        "Observation/orphan-fever",
        "MedicationAdministration/other-drip",
    }
    messages = {p.message for p in data.problems}
    assert "vital signs: 1 resources of another patient ignored" in messages
    assert "vital signs: 1 resources that name no patient ignored" in messages
    # An absolute URL with no fhirServer to compare it with names nobody (SPEC 3, References).
    assert "medication administrations: 1 resources that name no patient ignored" in messages

    response, elapsed = call(fault_client, patient_id, prefetch)
    mine = own_ids(prefetch) - {
        "Observation/other-fever",
        "Observation/orphan-fever",
        "MedicationAdministration/other-drip",
    }
    assert_defined_answer(response, elapsed, allowed={200}, own_ids=mine)


def test_a_prefetched_patient_of_another_id_is_not_used(fault_client):
    patient_id, prefetch = demo_prefetch()
    prefetch["patient"] = dict(prefetch["patient"], id="someone-else")
    response, elapsed = call(fault_client, patient_id, prefetch)
    issue = assert_defined_answer(response, elapsed, allowed={412})["issue"][0]
    assert "not the patient of context.patientId" in issue["diagnostics"]


def test_duplicated_resources_count_once(fault_client):
    patient_id, prefetch = demo_prefetch()
    once = read(prefetch, patient_id)
    prefetch["vitals"]["entry"] = prefetch["vitals"]["entry"] * 3
    prefetch["medications"]["entry"] += prefetch["medications"]["entry"]

    assert len(read(prefetch, patient_id).resources) == len(once.resources)
    response, elapsed = call(fault_client, patient_id, prefetch)
    body = assert_defined_answer(response, elapsed, allowed={200}, own_ids=own_ids(prefetch))
    baseline, _ = call(fault_client, patient_id, demo_prefetch()[1])
    assert (assessment(body) or {}).get("grade") == (assessment(baseline.get_json()) or {}).get(
        "grade"
    )


# --- dates, units, absurd values ------------------------------------------------------------


def _with(prefetch, code, **changes):
    """Change the first Observation of ``code`` in every key that holds it."""
    resource_id = first_observation(prefetch, code)["id"]
    for resource in observations(prefetch):
        if resource["id"] == resource_id:
            resource.update(changes)
    return f"Observation/{resource_id}"


STRANGE = [
    (
        "a temperature dated two days in the future",
        lambda p: _with(
            p,
            "8310-5",
            effectiveDateTime="2026-01-12T20:00:00Z",
            valueQuantity={
                "value": 41.0,
                "unit": "Cel",
                "code": "Cel",
                "system": "http://unitsofmeasure.org",
            },
        ),
    ),
    ("a temperature without a unit", lambda p: _with(p, "8310-5", valueQuantity={"value": 40.9})),
    (
        "a temperature of 400 C",
        lambda p: _with(
            p,
            "8310-5",
            valueQuantity={
                "value": 400,
                "unit": "Cel",
                "code": "Cel",
                "system": "http://unitsofmeasure.org",
            },
        ),
    ),
    (
        "a temperature of -5 C",
        lambda p: _with(
            p,
            "8310-5",
            valueQuantity={
                "value": -5,
                "unit": "Cel",
                "code": "Cel",
                "system": "http://unitsofmeasure.org",
            },
        ),
    ),
    (
        "a temperature value that is a string",
        lambda p: _with(p, "8310-5", valueQuantity={"value": "hot", "unit": "Cel"}),
    ),
    ("an observation without a date", lambda p: _with(p, "8310-5", effectiveDateTime=None)),
    (
        "an observation with a date that is not a date",
        lambda p: _with(p, "8310-5", effectiveDateTime="yesterday at noon"),
    ),
    (
        "a creatinine of 1e308",
        lambda p: _with(
            p,
            "2160-0",
            valueQuantity={
                "value": 1e308,
                "unit": "mg/dL",
                "code": "mg/dL",
                "system": "http://unitsofmeasure.org",
            },
        ),
    ),
]


@pytest.mark.parametrize(
    ("case", "change"), STRANGE, ids=[getattr(s, "values", s)[0] for s in STRANGE]
)
def test_strange_values_get_a_defined_answer_and_are_never_evidence(fault_client, case, change):
    """SPEC 2.2 (future data ignored and reported) and 3 (skipped and reported)."""
    patient_id, prefetch = demo_prefetch()
    reference = change(prefetch)

    response, elapsed = call(fault_client, patient_id, prefetch)

    body = assert_defined_answer(
        response, elapsed, allowed={200}, own_ids=own_ids(prefetch) - {reference}
    )
    found = assessment(body)
    assert found is not None, "the patient is in scope: the assessment card must be there"
    assert reference in {item["reference"] for item in found["skipped"]}


def _drip(prefetch, rate):
    drip = next(
        e["resource"]
        for e in prefetch["medications"]["entry"]
        if "rateQuantity" in e["resource"].get("dosage", {})
    )
    drip["dosage"]["rateQuantity"]["value"] = rate
    return drip


@pytest.mark.parametrize("rate", [-5, 0.0, 1e9], ids=["negative", "zero", "1e9"])
def test_absurd_vasopressor_rates_get_a_defined_answer(fault_client, rate):
    patient_id, prefetch = demo_prefetch()
    _drip(prefetch, rate)
    for hook, service in [
        ("patient-view", SERVICE),
        ("order-select", "/cds-services/crs-order-select"),
        ("order-sign", "/cds-services/crs-order-sign"),
    ]:
        response, elapsed = call(fault_client, patient_id, prefetch, service, hook)
        assert_defined_answer(response, elapsed, allowed={200}, own_ids=own_ids(prefetch))


# --- rules that belong to fhir_maps (SPEC 2.3 and 3), checked at its public API -------------


def _mapped(resources, patient_id):
    from fhir_maps import map_patient_record

    return map_patient_record(resources, patient_id)


def _demo_drip():
    patient_id, prefetch = demo_prefetch()
    patient = prefetch["patient"]
    return patient_id, patient, _drip(prefetch, 5)


def test_a_negative_vasopressor_rate_still_counts_as_a_vasopressor_of_unknown_dose():
    patient_id, patient, drip = _demo_drip()
    drip["dosage"]["rateQuantity"]["value"] = -5
    inputs = _mapped([patient, drip], patient_id)
    (vasopressor,) = inputs.vasopressors
    assert vasopressor.rate is None and vasopressor.rate_gap


def test_an_implausible_vasopressor_rate_is_a_rate_gap_not_a_high_dose():
    patient_id, patient, drip = _demo_drip()
    drip["dosage"]["rateQuantity"]["value"] = 5000
    inputs = _mapped([patient, drip], patient_id)
    (vasopressor,) = inputs.vasopressors
    assert vasopressor.rate is None and vasopressor.rate_gap


@pytest.mark.parametrize(
    ("value", "unit"), [(400, "Cel"), (-5, "Cel"), (1000, "[degF]")], ids=lambda v: str(v)
)
def test_implausible_temperatures_are_skipped_and_reported(value, unit):
    patient_id, prefetch = demo_prefetch()
    temperature = first_observation(prefetch, "8310-5")
    temperature["valueQuantity"] = {
        "value": value,
        "unit": unit,
        "code": unit,
        "system": "http://unitsofmeasure.org",
    }
    inputs = _mapped([prefetch["patient"], temperature], patient_id)
    assert inputs.temperatures_c == ()
    assert [s.reference for s in inputs.skipped] == [f"Observation/{temperature['id']}"]
