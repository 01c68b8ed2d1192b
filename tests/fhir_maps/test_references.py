"""SPEC 3, References: a reference names this patient only as exactly ``Patient/{id}``
(optionally ``/_history/{v}``) or as the absolute URL of that on ``fhirServer``; anything else is
another patient's or nobody's. One parser (``fhir_maps.parse_reference``) for fhir_maps and
fhir_io; issue 11: only the parsed form of short strings is cached."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from map_fixtures import PATIENT_ID, load, observation

from fhir_maps import (
    LiteralReference,
    ReferenceOwner,
    map_patient_record,
    parse_reference,
    reference_owner,
)
from fhir_maps.references import MAX_REFERENCE_CHARS

SERVER = "https://ehr.example/fhir"

ACCEPTED = [
    ("Patient/pat1", None, "relative Type/id"),
    ("Patient/pat1/_history/3", None, "relative and versioned"),
    ("Patient/a.b-C9", None, "an id with dots, dashes and capitals"),
    (f"Patient/{'x' * 64}", None, "an id of 64 characters, the FHIR maximum"),
    (f"{SERVER}/Patient/pat1", SERVER, "the absolute URL on fhirServer"),
    (f"{SERVER}/Patient/pat1/_history/3", SERVER, "absolute on fhirServer and versioned"),
    (f"{SERVER}/Patient/pat1", SERVER + "/", "fhirServer given with a trailing slash"),
    ("HTTPS://EHR.EXAMPLE/fhir/Patient/pat1", SERVER, "scheme and host in capitals"),
    ("https://ehr.example:443/fhir/Patient/pat1", SERVER, "the default port written out"),
]


@pytest.mark.parametrize(
    ("reference", "server"),
    [(r, s) for r, s, _ in ACCEPTED],
    ids=[i for _, _, i in ACCEPTED],
)
def test_exact_patient_references_name_the_patient_spec3(reference, server):
    target = parse_reference(reference, server)
    assert target is not None and target.resource_type == "Patient"
    subject = {"reference": reference}
    resource = {"resourceType": "Observation", "subject": subject}
    owner, _ = reference_owner(resource, target.id, server)
    assert owner is ReferenceOwner.OURS


REFUSED = [
    ("Patient/other?_x=/Patient/pat1", SERVER, "a query string ending in this patient"),
    ("Patient/pat1?_format=json", SERVER, "a query string after this patient"),
    ("Patient/pat1#frag", SERVER, "a fragment"),
    ("Patient/other/x/Patient/pat1", SERVER, "extra path segments before this patient"),
    ("Patient/pat1/x", SERVER, "an extra path segment after the id"),
    ("Patient/pat1/", SERVER, "a trailing slash"),
    ("Patient/pat1/_history/", SERVER, "a _history with no version"),
    ("Patient/pat1/_history/3/x", SERVER, "a segment after the version"),
    ("Patient/pat1/$everything", SERVER, "an operation"),
    ("/Patient/pat1", SERVER, "a path from the server root"),
    ("./Patient/pat1", SERVER, "a dot segment"),
    ("../Patient/pat1", SERVER, "a relative URL with another base"),
    ("fhir/Patient/pat1", SERVER, "a relative URL with a base path"),
    ("https://evil.example/fhir/Patient/pat1", SERVER, "another host"),
    ("https://ehr.example.evil/fhir/Patient/pat1", SERVER, "a host that only starts the same"),
    ("https://ehr.example@evil.example/fhir/Patient/pat1", SERVER, "user info naming our host"),
    ("https://user@ehr.example/fhir/Patient/pat1", SERVER, "user info on our host"),
    ("http://ehr.example/fhir/Patient/pat1", SERVER, "http instead of https"),
    ("https://ehr.example:8443/fhir/Patient/pat1", SERVER, "another port"),
    ("https://ehr.example/other/Patient/pat1", SERVER, "another base path on our host"),
    ("https://ehr.example/fhirX/Patient/pat1", SERVER, "a base path that only starts the same"),
    ("https://ehr.example/fhir/x/Patient/pat1", SERVER, "an extra segment after the base"),
    ("https://ehr.example/fhir//Patient/pat1", SERVER, "an empty segment after the base"),
    ("https://ehr.example/fhir/../fhir/Patient/pat1", SERVER, "a dot-dot segment"),
    ("https://ehr.example/fhir/Patient/pat1?x=1", SERVER, "an absolute URL with a query"),
    ("https://ehr.example/fhir/Patient/pat1#x", SERVER, "an absolute URL with a fragment"),
    (f"{SERVER}/Patient/pat1", None, "an absolute URL when no fhirServer was given"),
    ("Patient/pat%31", SERVER, "a percent-encoded id"),
    ("Patient%2Fpat1", SERVER, "a percent-encoded slash"),
    (" Patient/pat1", SERVER, "a leading space"),
    ("Patient/pat1 ", SERVER, "a trailing space"),
    ("Patient/pat1\n", SERVER, "a trailing newline"),
    ("patient/pat1", SERVER, "the type in lower case"),
    ("Pаtient/pat1", SERVER, "a Cyrillic letter in the type"),
    ("Patient/pаt1", SERVER, "a Cyrillic letter in the id"),
    ("urn:uuid:pat1", SERVER, "a urn:uuid, meaningful only inside a transaction Bundle"),
    ("#pat1", SERVER, "a contained reference"),
    (f"Patient/{'x' * 65}", SERVER, "an id longer than 64 characters"),
    ("Patient/", SERVER, "no id"),
    ("Patient", SERVER, "no slash"),
    ("", SERVER, "an empty string"),
]


@pytest.mark.parametrize(
    ("reference", "server"),
    [(r, s) for r, s, _ in REFUSED],
    ids=[i for _, _, i in REFUSED],
)
def test_every_other_form_names_nobody_spec3(reference, server):
    assert parse_reference(reference, server) is None
    resource = {"resourceType": "Observation", "subject": {"reference": reference}}
    assert reference_owner(resource, PATIENT_ID, server)[0] is ReferenceOwner.NOBODY


@pytest.mark.parametrize(
    "subject",
    [None, "Patient/pat1", {"display": "A. Patient"}, {"reference": 42}, {"identifier": {}}],
    ids=["absent", "a string, not a Reference", "display only", "not a string", "identifier"],
)
def test_a_subject_without_a_readable_reference_names_nobody_spec3(subject):
    resource = {"resourceType": "Observation"}
    if subject is not None:
        resource["subject"] = subject
    assert reference_owner(resource, PATIENT_ID)[0] is ReferenceOwner.NOBODY


def test_another_patient_exactly_is_other_and_another_type_is_nobody_spec3():
    other = {"resourceType": "Observation", "subject": {"reference": "Patient/pat2"}}
    group = {"resourceType": "Observation", "subject": {"reference": "Group/pat1"}}
    assert reference_owner(other, PATIENT_ID) == (
        ReferenceOwner.OTHER,
        LiteralReference("Patient", "pat2"),
    )
    assert reference_owner(group, PATIENT_ID)[0] is ReferenceOwner.NOBODY


def test_allergy_intolerance_names_its_patient_in_patient_fhir_r4():
    allergy = {"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/pat1"}}
    assert reference_owner(allergy, PATIENT_ID)[0] is ReferenceOwner.OURS


def test_references_longer_than_the_limit_are_refused_before_matching():
    assert parse_reference("Patient/pat1" + " " * MAX_REFERENCE_CHARS) is None
    assert parse_reference(f"{SERVER}/{'a/' * MAX_REFERENCE_CHARS}Patient/pat1", SERVER) is None


@pytest.mark.parametrize(
    "reference",
    [r for r, _, _ in REFUSED if r != f"{SERVER}/Patient/pat1"],
    ids=[i for r, _, i in REFUSED if r != f"{SERVER}/Patient/pat1"],
)
def test_fhir_maps_skips_a_fever_whose_subject_names_nobody_spec3(reference):
    fever = observation("8310-5", 39.4, "Cel", subject={"reference": reference})
    inputs = map_patient_record([load("patient.json"), fever], PATIENT_ID, fhir_server=SERVER)
    assert inputs.temperatures_c == ()
    (skipped,) = inputs.skipped
    assert skipped.reference == "Observation/obs1"
    assert "names no patient" in skipped.reason


def test_fhir_maps_reads_the_absolute_url_on_fhir_server_spec3():
    fever = observation("8310-5", 39.4, "Cel", subject={"reference": f"{SERVER}/Patient/pat1"})
    inputs = map_patient_record([load("patient.json"), fever], PATIENT_ID, fhir_server=SERVER)
    assert [m.value for m in inputs.temperatures_c] == [39.4]


def test_long_references_are_not_kept_alive_by_a_cache_issue_11():
    """Three 8 MB references per call once grew a worker from 71 to 404 MiB (issue 11): an
    lru_cache keyed by the whole reference string kept them alive. Nothing of them may stay."""
    patient = load("patient.json")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for call in range(3):
            for piece in range(3):
                huge = f"Patient/{'x' * (8 * 2**20)}{call}-{piece}"
                parse_reference(huge, SERVER)
                fever = observation("8310-5", 39.4, "Cel", subject={"reference": huge})
                map_patient_record([patient, fever], PATIENT_ID, fhir_server=SERVER)
                owned = {"resourceType": "Observation", "subject": {"reference": huge}}
                reference_owner(owned, PATIENT_ID, SERVER)
                del huge, fever, owned
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 2**20, f"{retained} bytes retained after 9 references of 8 MB"


def test_long_unit_strings_are_not_kept_alive_by_a_cache_issue_11():
    """The same class of leak as the references: unit strings were cached whole (512 entries),
    so large ``unit``/``code`` values of Quantities stayed in memory after the call."""
    patient = load("patient.json")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for piece in range(4):
            unit = f"{'C' * (4 * 2**20)}{piece}"
            fever = observation("8310-5", 39.4, None)
            fever["valueQuantity"].update(unit=unit, code=unit + "x")
            inputs = map_patient_record([patient, fever], PATIENT_ID)
            assert inputs.temperatures_c == ()  # an unknown unit: skipped and reported
            del unit, fever, inputs
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 2**20, f"{retained} bytes retained after 8 unit strings of 4 MB"
