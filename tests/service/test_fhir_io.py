"""FHIR data access: CDS Hooks 2.0.1 sections Prefetch Template and FHIR Resource Access, and
SPEC section 4 (412 only when the Patient or the Observations cannot be had)."""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from cds_service.errors import FhirDataUnavailable
from cds_service.fhir_io import FhirEndpoint, FhirReader, render_template
from cds_service.hooks import HookAnswer, answer_hook
from cds_service.services import PREFETCH_TEMPLATES
from cds_service.web import cds as cds_views

from .support import (
    ABSENT,
    FHIR,
    PATIENT_ID,
    TOKEN,
    administration,
    fixture,
    full_prefetch,
    hook_body,
    observation,
    outcome,
    patient,
    searchset,
)

TOKENS = {"context.patientId": PATIENT_ID, "context.userId": "Practitioner/dr-1"}
OBSERVATIONS = f"{FHIR}/Observation"
MEDICATIONS = f"{FHIR}/MedicationAdministration"


def read(prefetch, *, endpoint=None, budget_s=2.0, max_pages=5):
    reader = FhirReader(requests.Session(), budget_s=budget_s, max_pages=max_pages)
    return reader.read(
        templates=PREFETCH_TEMPLATES,
        tokens=TOKENS,
        patient_id=PATIENT_ID,
        prefetch=prefetch,
        endpoint=endpoint,
    )


def ids(data, resource_type=None):
    return sorted(
        f"{r['resourceType']}/{r['id']}"
        for r in data.resources
        if resource_type is None or r["resourceType"] == resource_type
    )


def messages(data):
    """The technical reason of each key's problem (the sentences are tested on their own)."""
    return {problem.key: problem.reason for problem in data.problems}


# --- prefetch values ------------------------------------------------------------------------


def test_prefetch_as_single_resources_and_bundles():
    data = read(full_prefetch(vitals=observation("obs-9")))

    assert data.patient["id"] == PATIENT_ID
    assert ids(data) == ["MedicationAdministration/ma-1", "Observation/obs-9"]
    assert data.problems == ()


def test_bundle_entries_of_mode_match_include_or_none_count_and_outcome_entries_do_not():
    bundle = fixture("medications-with-included-medication.json")
    bundle["entry"].append({"resource": administration("ma-no-mode")})
    data = read(full_prefetch(medications=bundle))

    assert ids(data) == [
        "Medication/med-kymriah",
        "MedicationAdministration/ma-car-t",
        "MedicationAdministration/ma-no-mode",
        "Observation/obs-1",
    ]


def test_null_means_no_data_when_there_is_no_fhir_server():
    """CDS Hooks: a key with no data MUST have the value null."""
    data = read(full_prefetch(vitals=None, conditions=None))
    assert ids(data, "Observation") == []
    assert data.problems == ()


def test_null_keys_are_fetched_when_a_fhir_server_is_given(mocked_http):
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("obs-srv")]))
    data = read(full_prefetch(vitals=None), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert ids(data, "Observation") == ["Observation/obs-srv"]


def test_operation_outcome_prefetch_is_treated_as_missing_and_fetched(mocked_http):
    mocked_http.add(responses.GET, MEDICATIONS, json=searchset([administration("ma-srv")]))
    data = read(full_prefetch(medications=outcome()), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert ids(data, "MedicationAdministration") == ["MedicationAdministration/ma-srv"]
    assert data.problems == ()


def test_operation_outcome_for_a_lesser_key_without_server_is_a_problem_not_an_error():
    data = read(full_prefetch(medications=outcome()))
    assert messages(data) == {
        "medications": "the EHR could not prefetch them and no fhirServer was given"
    }


@pytest.mark.parametrize(
    "observations",
    [outcome(), ABSENT, "not a resource"],
    ids=["operation outcome", "missing", "not a resource"],
)
def test_observations_unobtainable_without_fhir_server_is_412(observations):
    with pytest.raises(FhirDataUnavailable) as raised:
        read(full_prefetch(vitals=observations))
    assert raised.value.status_code == 412
    assert raised.value.diagnostics.startswith("vitals could not be read")


def test_a_prefetched_patient_other_than_the_context_patient_is_not_used():
    with pytest.raises(FhirDataUnavailable, match="not the patient of context.patientId"):
        read(full_prefetch(patient=patient("someone-else")))


def test_resources_of_another_patient_are_dropped_and_reported():
    prefetch = full_prefetch(
        vitals=searchset([observation("obs-1"), observation("obs-x", patient_id="pt-2")])
    )
    data = read(prefetch)
    assert ids(data, "Observation") == ["Observation/obs-1"]
    assert messages(data) == {"vitals": "1 resources of another patient ignored"}


SMUGGLED_SUBJECTS = [
    "Patient/other?_x=/Patient/pt-1",
    "Patient/other/x/Patient/pt-1",
    "https://elsewhere.example/fhir/Patient/pt-1",
    "../Patient/pt-1",
    "Patient/pt-1?",
]


@pytest.mark.parametrize("subject", SMUGGLED_SUBJECTS)
def test_a_subject_that_only_ends_in_this_patient_is_nobodys_in_prefetch_spec3(subject):
    """SPEC 3, References (issue 10): such references were taken as this patient's."""
    smuggled = observation("obs-x")
    smuggled["subject"] = {"reference": subject}
    data = read(full_prefetch(vitals=searchset([observation("obs-1"), smuggled])))
    assert ids(data, "Observation") == ["Observation/obs-1"]
    assert "1 resources that name no patient ignored" in messages(data)["vitals"]


@pytest.mark.parametrize("subject", SMUGGLED_SUBJECTS)
def test_a_subject_that_only_ends_in_this_patient_is_nobodys_when_fetched_spec3(
    mocked_http, subject
):
    smuggled = observation("obs-x")
    smuggled["subject"] = {"reference": subject}
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("obs-srv"), smuggled]))
    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert ids(data, "Observation") == ["Observation/obs-srv"]


def test_the_absolute_url_of_this_patient_on_fhir_server_is_this_patients_spec3(mocked_http):
    absolute = observation("obs-abs")
    absolute["subject"] = {"reference": f"{FHIR}/Patient/{PATIENT_ID}"}
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([absolute]))
    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert ids(data, "Observation") == ["Observation/obs-abs"]


def test_resources_are_not_filtered_by_code_or_type():
    """Never trust the server to have filtered, and never filter here: later code checks."""
    odd = {"resourceType": "Condition", "id": "c-odd", "subject": {"reference": "Patient/pt-1"}}
    data = read(full_prefetch(vitals=searchset([observation("obs-1", code="0000-0"), odd])))
    assert ids(data) == ["Condition/c-odd", "MedicationAdministration/ma-1", "Observation/obs-1"]


# --- fetching from the FHIR server ----------------------------------------------------------


def test_missing_keys_are_fetched_with_the_bearer_token_and_rendered_queries(mocked_http):
    mocked_http.add(responses.GET, f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("obs-srv")]))
    mocked_http.add(
        responses.GET, MEDICATIONS, json=fixture("medications-with-included-medication.json")
    )
    mocked_http.add(responses.GET, f"{FHIR}/Condition", json=searchset([]))
    mocked_http.add(responses.GET, f"{FHIR}/Procedure", json=searchset([]))

    data = read({}, endpoint=FhirEndpoint(FHIR + "/", TOKEN))

    assert data.patient["id"] == PATIENT_ID
    assert ids(data) == [
        "Medication/med-kymriah",
        "MedicationAdministration/ma-car-t",
        "Observation/obs-srv",
    ]
    calls = [call.request for call in mocked_http.calls]
    assert sorted(urlsplit(request.url).path for request in calls) == sorted(
        ["/fhir/Patient/pt-1", "/fhir/MedicationAdministration", "/fhir/Condition"]
        + ["/fhir/Procedure"]
        + ["/fhir/Observation"] * 5  # vitals, labs, cultures, baselines, assessments
    )
    for request in calls:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "fhir+json" in request.headers["Accept"]
    observation_queries = [
        parse_qs(urlsplit(request.url).query)
        for request in calls
        if urlsplit(request.url).path == "/fhir/Observation"
    ]
    for query in observation_queries:  # SPEC 4: Epic refuses patient alone
        assert query["patient"] == ["pt-1"]
        assert "category" in query or "code" in query
        assert query["_sort"] == ["-date"]
    assert sorted(str(q.get("category", ["(by code)"])[0]) for q in observation_queries) == [
        "(by code)",
        "(by code)",
        "laboratory",
        "survey",
        "vital-signs",
    ]
    medications = next(r for r in calls if r.url.startswith(MEDICATIONS))
    assert parse_qs(urlsplit(medications.url).query) == {
        "patient": ["pt-1"],
        "_sort": ["-effective-time"],
        "_count": ["500"],
        "_include": ["MedicationAdministration:medication"],
    }


def test_without_fhir_authorization_the_server_is_read_without_a_token(mocked_http):
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("obs-srv")]))
    read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR))
    assert "Authorization" not in mocked_http.calls[0].request.headers


def test_through_the_endpoint_missing_keys_are_fetched_with_the_callers_token(client, mocked_http):
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("obs-srv")]))
    body = hook_body(prefetch=full_prefetch(vitals=ABSENT), fhir_server=FHIR, token=TOKEN)

    response = client.post("/cds-services/crs-patient-view", json=body)

    assert response.status_code == 200
    (call,) = mocked_http.calls
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.request.url.startswith(f"{OBSERVATIONS}?patient=pt-1&")


def page_url(n):
    return f"{FHIR}?_getpages=abc&page={n}"


def test_next_links_are_followed_across_three_pages(mocked_http):
    mocked_http.add(
        responses.GET, OBSERVATIONS, json=searchset([observation("o1")], next_url=page_url(2))
    )
    mocked_http.add(
        responses.GET, page_url(2), json=searchset([observation("o2")], next_url=page_url(3))
    )
    mocked_http.add(responses.GET, page_url(3), json=searchset([observation("o3")]))

    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert ids(data, "Observation") == ["Observation/o1", "Observation/o2", "Observation/o3"]
    assert len(mocked_http.calls) == 3
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in mocked_http.calls)
    assert data.problems == ()


def test_a_prefetched_bundle_with_a_next_link_is_read_on_from_the_server(mocked_http):
    mocked_http.add(responses.GET, page_url(2), json=searchset([observation("o2")]))
    prefetch = full_prefetch(vitals=searchset([observation("o1")], next_url=page_url(2)))

    data = read(prefetch, endpoint=FhirEndpoint(FHIR, TOKEN))

    assert ids(data, "Observation") == ["Observation/o1", "Observation/o2"]
    assert mocked_http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_prefetched_next_link_without_fhir_server_is_reported():
    prefetch = full_prefetch(vitals=searchset([observation("o1")], next_url=page_url(2)))
    data = read(prefetch)
    assert ids(data, "Observation") == ["Observation/o1"]
    assert messages(data) == {"vitals": "the prefetch has more pages but no fhirServer was given"}


def test_a_looping_next_link_is_stopped(mocked_http):
    mocked_http.add(
        responses.GET, OBSERVATIONS, json=searchset([observation("o1")], next_url=page_url(2))
    )
    mocked_http.add(
        responses.GET, page_url(2), json=searchset([observation("o2")], next_url=page_url(2))
    )

    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(mocked_http.calls) == 2
    assert ids(data, "Observation") == ["Observation/o1", "Observation/o2"]
    assert messages(data)["vitals"] == ("the FHIR server repeated a next link; stopped paging")


def test_paging_stops_at_the_page_limit(mocked_http):
    for n in range(1, 6):
        url = OBSERVATIONS if n == 1 else page_url(n)
        mocked_http.add(
            responses.GET, url, json=searchset([observation(f"o{n}")], next_url=page_url(n + 1))
        )

    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN), max_pages=3)

    assert len(mocked_http.calls) == 3
    assert ids(data, "Observation") == ["Observation/o1", "Observation/o2", "Observation/o3"]
    assert messages(data)["vitals"] == "read the first 3 pages only (page limit)"


def test_a_next_link_to_another_host_is_not_followed_so_the_token_stays_home(mocked_http):
    mocked_http.add(
        responses.GET,
        OBSERVATIONS,
        json=searchset([observation("o1")], next_url="https://evil.example.com/steal?page=2"),
    )
    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert len(mocked_http.calls) == 1
    assert "not followed" in messages(data)["vitals"]


@pytest.mark.parametrize(
    ("link", "followed"),
    [
        ("https://ehr.example.org/other-tenant/Observation?page=2", False),
        ("https://ehr.example.org/fhirx/Observation?page=2", False),
        ("https://user@ehr.example.org/fhir/Observation?page=2", False),
        ("http://ehr.example.org/fhir/Observation?page=2", False),
        ("https://ehr.example.org:8443/fhir/Observation?page=2", False),
        ("https://ehr.example.org:443/fhir/Observation?page=2", True),
        ("https://EHR.example.org/fhir/Observation?page=2", True),
        ("https://ehr.example.org/fhir?_getpages=abc&page=2", True),
        ("Observation?page=2", True),
        ("https://ehr.example.org/fhir/%2e%2e/other-tenant/Observation?page=2", False),
        ("https://ehr.example.org/fhir/%2E%2E/%2e%2e/x/fhir/Observation?page=2", False),
        ("https://ehr.example.org/fhir/./Observation?page=2", False),
        ("https://[broken/x?page=2", False),
    ],
    ids=[
        "another tenant's path on the same host",
        "a path that only starts like the base",
        "user info",
        "plain http",
        "another port",
        "the default port written out",
        "the host in capitals",
        "the base path itself (paging by the base URL, as HAPI does)",
        "relative to the base",
        "a percent-encoded dot segment climbing out (final review)",
        "two of them, upper case",
        "a plain dot segment",
        "a malformed URL (it was a 500)",
    ],
)
def test_a_next_link_is_followed_only_under_the_fhir_servers_base(mocked_http, link, followed):
    """The bearer token goes to fhirServer and nowhere else (found in review: a link to
    /other-tenant/ on the same host was followed with the token)."""
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("o1")], next_url=link))
    mocked_http.add(
        responses.GET,
        re.compile(r"https://(?i:ehr\.example\.org)(:443)?/fhir.*page=2"),
        json=searchset([observation("o2")]),
    )
    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert len(mocked_http.calls) == (2 if followed else 1)
    if not followed:
        assert "not followed" in messages(data)["vitals"]


def _outcome(severity):
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": "processing", "diagnostics": "results cut"}],
    }


@pytest.mark.parametrize(
    ("severity", "partial"),
    [("error", True), ("fatal", True), ("warning", False), ("information", False)],
)
def test_an_operation_outcome_entry_of_severity_error_marks_the_key_partial(severity, partial):
    """CDS Hooks: services SHOULD check prefetched data for OperationOutcomes (found in review:
    an error outcome inside a search Bundle was dropped silently). Epic's informational
    outcomes ("no results") say nothing is missing."""
    bundle = searchset([observation("o1"), _outcome(severity)], modes=["match", "outcome"])
    data = read(full_prefetch(vitals=bundle))
    assert ids(data, "Observation") == ["Observation/o1"]
    reason = messages(data).get("vitals")
    if partial:
        assert reason == "the FHIR server reported an error with the results (OperationOutcome)"
    else:
        assert reason is None


def test_an_operation_outcome_entry_on_a_later_page_is_read_too(mocked_http):
    mocked_http.add(
        responses.GET,
        page_url(2),
        json=searchset([observation("o2"), _outcome("error")], modes=["match", "outcome"]),
    )
    prefetch = full_prefetch(vitals=searchset([observation("o1")], next_url=page_url(2)))
    data = read(prefetch, endpoint=FhirEndpoint(FHIR, TOKEN))
    assert ids(data, "Observation") == ["Observation/o1", "Observation/o2"]
    assert "OperationOutcome" in messages(data)["vitals"]


def test_duplicates_across_prefetch_and_pages_are_kept_once(mocked_http):
    mocked_http.add(
        responses.GET,
        page_url(2),
        json=searchset([observation("o1"), observation("o2")], next_url=page_url(3)),
    )
    mocked_http.add(responses.GET, page_url(3), json=searchset([observation("o2")]))
    prefetch = full_prefetch(
        vitals=searchset([observation("o1")], next_url=page_url(2)),
        medications=searchset([administration("ma-1"), administration("ma-1")]),
    )

    data = read(prefetch, endpoint=FhirEndpoint(FHIR, TOKEN))

    assert ids(data) == [
        "MedicationAdministration/ma-1",
        "Observation/o1",
        "Observation/o2",
    ]


def test_a_connection_error_is_retried_once(mocked_http):
    mocked_http.add(responses.GET, OBSERVATIONS, body=requests.ConnectionError("reset"))
    mocked_http.add(responses.GET, OBSERVATIONS, json=searchset([observation("o1")]))

    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(mocked_http.calls) == 2
    assert ids(data, "Observation") == ["Observation/o1"]


def test_a_second_connection_error_is_not_retried_again(mocked_http):
    mocked_http.add(responses.GET, MEDICATIONS, body=requests.ConnectionError("reset"))

    data = read(full_prefetch(medications=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(mocked_http.calls) == 2
    assert messages(data) == {"medications": "could not connect to the FHIR server"}


def test_an_http_error_is_not_retried(mocked_http):
    mocked_http.add(responses.GET, MEDICATIONS, status=503)
    data = read(full_prefetch(medications=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert len(mocked_http.calls) == 1
    assert messages(data) == {"medications": "the FHIR server answered HTTP 503"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>login</html>", "the FHIR server's answer was not JSON"),
        (
            b'{"resourceType": "OperationOutcome", "issue": []}',
            "the FHIR server answered with an OperationOutcome",
        ),
        (b"[1, 2]", "the FHIR server's answer was not a FHIR resource"),
    ],
    ids=["html", "operation outcome", "json array"],
)
def test_unusable_answers_are_reported(mocked_http, body, message):
    mocked_http.add(responses.GET, f"{FHIR}/Procedure", body=body, status=200)
    data = read(full_prefetch(procedures=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))
    assert messages(data) == {"procedures": f"{message}"}


def test_a_failing_later_page_keeps_the_pages_read(mocked_http):
    mocked_http.add(
        responses.GET, OBSERVATIONS, json=searchset([observation("o1")], next_url=page_url(2))
    )
    mocked_http.add(responses.GET, page_url(2), status=500)

    data = read(full_prefetch(vitals=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert ids(data, "Observation") == ["Observation/o1"]
    assert messages(data) == {"vitals": "the FHIR server answered HTTP 500"}


def test_partial_failure_still_answers_200_and_records_the_problem(
    client, app, mocked_http, monkeypatch
):
    """SPEC section 4: if a lesser part fails, grade with the rest and say so."""
    mocked_http.add(responses.GET, MEDICATIONS, status=500)
    seen = []

    def spy(service, request, data, settings, **kwargs):
        seen.append(data)
        answered = answer_hook(service, request, data, settings, **kwargs)
        return HookAnswer({"cards": []}, answered.audit)

    monkeypatch.setattr(cds_views, "answer_hook", spy)
    body = hook_body(prefetch=full_prefetch(medications=ABSENT), fhir_server=FHIR, token=TOKEN)

    response = client.post("/cds-services/crs-patient-view", json=body)

    assert response.status_code == 200
    assert response.get_json() == {"cards": []}
    (data,) = seen
    assert messages(data) == {"medications": "the FHIR server answered HTTP 500"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'crs_cds_fhir_data_problems_total{key="medications"} 1.0' in metrics


def test_412_when_the_server_hangs_is_answered_within_the_budget(make_app, mocked_http):
    """CDS Hooks 2.0.1: 412 when the data cannot be had; SPEC: within the time budget. The
    server hangs until the test releases it: the 412 must come while every read still hangs
    (asserted, not timed: a loaded machine cannot fail it)."""
    release = threading.Event()
    answered = []

    def hang(request):
        release.wait(60)
        answered.append(request.url)
        return (200, {}, "{}")

    for path in (
        "Patient/pt-1",
        "Observation",
        "MedicationAdministration",
        "Condition",
        "Procedure",
    ):
        mocked_http.add_callback(responses.GET, f"{FHIR}/{path}", callback=hang)
    client = make_app(CRS_CDS_FHIR_TIMEOUT_S="0.3").test_client()

    try:
        response = client.post(
            "/cds-services/crs-patient-view", json=hook_body(fhir_server=FHIR, token=TOKEN)
        )
        answered_before_the_412 = list(answered)
    finally:
        release.set()

    assert response.status_code == 412
    assert answered_before_the_412 == [], "the call waited for the hanging server"
    assert (
        "patient could not be read: timed out after 0.3 s"
        in (response.get_json()["issue"][0]["diagnostics"])
    )


def test_a_lesser_key_that_times_out_keeps_the_rest(mocked_http):
    release = threading.Event()

    def hang(request):
        release.wait(5)
        return (200, {}, "{}")

    mocked_http.add_callback(responses.GET, f"{FHIR}/Condition", callback=hang)
    try:
        data = read(
            full_prefetch(conditions=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN), budget_s=0.2
        )
    finally:
        release.set()
    assert ids(data, "Observation") == ["Observation/obs-1"]
    assert messages(data) == {"conditions": "timed out after 0.2 s"}


# --- a search the server refuses: the key's alternate search (Oracle Health: no survey) ------


class RefusingServer:
    """A FHIR server like Oracle Health's: Observation searches by ``category=survey`` are
    refused with ``status``; code-filtered searches answer ``by_code`` (or ``code_status``)."""

    def __init__(self, mock, status, by_code=(), code_status=200, labs_status=200):
        self.searches = []
        self.status, self.by_code, self.code_status = status, list(by_code), code_status
        self.labs_status = labs_status
        mock.add_callback(responses.GET, OBSERVATIONS, callback=self.answer)

    def answer(self, request):
        query = parse_qs(urlsplit(request.url).query)
        self.searches.append(query)
        refused = '{"resourceType": "OperationOutcome", "issue": []}'
        if query.get("category") == ["survey"]:
            return self.status, {}, refused
        if query.get("category") == ["laboratory"]:
            if self.labs_status != 200:
                return self.labs_status, {}, refused
            return 200, {}, json.dumps(searchset([]))
        if "code" in query and self.code_status != 200:
            return self.code_status, {}, refused
        return 200, {}, json.dumps(searchset(self.by_code))


GCS = "9269-2"


@pytest.mark.parametrize("status", [400, 403, 422])
def test_a_refused_category_search_is_read_by_code_instead(mocked_http, status):
    server = RefusingServer(mocked_http, status, by_code=[observation("gcs-1", code=GCS)])

    data = read(full_prefetch(assessments=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert ids(data, "Observation") == ["Observation/gcs-1", "Observation/obs-1"]
    first, second = server.searches
    assert first["category"] == ["survey"]
    codes = second["code"][0].split(",")
    assert f"http://loinc.org|{GCS}" in codes  # GCS, and RASS and the neurologic signs
    assert "http://snomed.info/sct|457441000124102" in codes
    (problem,) = data.problems
    assert problem.key == "assessments"
    assert problem.reason == (
        f"the FHIR server refused the search (HTTP {status}); searched by code instead, so "
        "rows with other codes were not found"
    )
    assert problem.card_line.startswith("neurologic assessments were read only in part:")


def test_when_the_code_search_is_refused_too_the_key_is_not_read(mocked_http):
    RefusingServer(mocked_http, 400, code_status=400)

    data = read(full_prefetch(assessments=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    (problem,) = data.problems
    assert problem.reason == (
        "the FHIR server answered HTTP 400; searched by code: the FHIR server answered HTTP 400"
    )
    assert problem.card_line.startswith("neurologic assessments could not be read:")


def test_a_key_without_an_alternate_search_is_reported_not_retried(mocked_http):
    server = RefusingServer(mocked_http, 400, labs_status=422)

    data = read(full_prefetch(labs=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(server.searches) == 1
    assert messages(data) == {"labs": "the FHIR server answered HTTP 422"}
    (problem,) = data.problems
    assert problem.card_line.startswith("laboratory results could not be read:")


@pytest.mark.parametrize("status", [401, 404, 500])
def test_other_failures_are_not_a_refused_search(mocked_http, status):
    """401 is the token (nothing else would be read with it); 404 and 5xx are the server."""
    server = RefusingServer(mocked_http, status)

    data = read(full_prefetch(assessments=ABSENT), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(server.searches) == 1
    assert f"HTTP {status}" in messages(data)["assessments"]


def test_a_refused_next_page_of_the_prefetch_is_not_searched_again(mocked_http):
    """The EHR accepted the category search (it prefetched its first page): a refused next
    page is a page that could not be read, not a search to replace."""
    next_url = f"{OBSERVATIONS}?category=survey&page=2"
    server = RefusingServer(mocked_http, 400)
    first_page = searchset([observation("gcs-1", code=GCS)], next_url=next_url)

    data = read(full_prefetch(assessments=first_page), endpoint=FhirEndpoint(FHIR, TOKEN))

    assert len(server.searches) == 1
    assert ids(data, "Observation") == ["Observation/gcs-1", "Observation/obs-1"]
    assert data.problems[0].card_line.startswith("neurologic assessments were read only in part")


def test_template_tokens_are_url_encoded():
    rendered = render_template(
        "Observation?patient={{context.patientId}}", {"context.patientId": "a&b"}
    )
    assert rendered == "Observation?patient=a%26b"
    with pytest.raises(KeyError):
        render_template("Encounter/{{context.encounterId}}", {"context.patientId": "p"})


# --- Medications by reference (SPEC 3) --------------------------------------------------------


def _by_reference(admin_id, medication_id, reference=None):
    resource = administration(admin_id)
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": reference or f"Medication/{medication_id}"}
    return resource


KYMRIAH = {
    "resourceType": "Medication",
    "id": "med-k",
    "code": {"text": "tisagenlecleucel suspension for IV infusion"},
}


@pytest.mark.parametrize(
    "reference",
    ["Medication/med-k", f"{FHIR}/Medication/med-k", "Medication/med-k/_history/2"],
    ids=["relative", "absolute on fhirServer", "versioned"],
)
def test_a_medication_neither_contained_nor_included_is_read_once_spec3(mocked_http, reference):
    mocked_http.add(responses.GET, f"{FHIR}/Medication/med-k", json=KYMRIAH)
    administrations = [_by_reference(f"ma-{n}", "med-k", reference) for n in range(3)]
    data = read(
        full_prefetch(medications=searchset(administrations)), endpoint=FhirEndpoint(FHIR, TOKEN)
    )
    assert ids(data, "Medication") == ["Medication/med-k"]
    assert len(mocked_http.calls) == 1
    assert mocked_http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert data.problems == ()


def test_a_contained_medication_is_never_fetched_spec3(mocked_http):
    contained = administration("ma-c")
    del contained["medicationCodeableConcept"]
    contained["contained"] = [dict(KYMRIAH, id="m1")]
    contained["medicationReference"] = {"reference": "#m1"}
    data = read(
        full_prefetch(medications=searchset([contained])), endpoint=FhirEndpoint(FHIR, TOKEN)
    )
    assert len(mocked_http.calls) == 0 and data.problems == ()


def test_a_medication_read_that_answers_another_resource_is_refused_spec3(mocked_http):
    mocked_http.add(responses.GET, f"{FHIR}/Medication/med-k", json=dict(KYMRIAH, id="med-x"))
    data = read(
        full_prefetch(medications=searchset([_by_reference("ma-1", "med-k")])),
        endpoint=FhirEndpoint(FHIR, TOKEN),
    )
    assert ids(data, "Medication") == []
    assert messages(data)["medications"] == (
        "of 1 Medications named by reference, 1 could not be read (the FHIR server answered "
        "with another resource)"
    )


def test_a_medication_read_past_the_budget_is_reported_not_waited_for_spec3(mocked_http):
    """The server answers only when the test releases it, after the read has returned: the
    read ended at its budget (asserted, not timed)."""
    release = threading.Event()
    answered = threading.Event()

    def slow(request):
        release.wait(60)
        answered.set()
        return 200, {}, '{"resourceType": "Medication", "id": "med-k"}'

    mocked_http.add_callback(responses.GET, f"{FHIR}/Medication/med-k", callback=slow)
    try:
        data = read(
            full_prefetch(medications=searchset([_by_reference("ma-1", "med-k")])),
            endpoint=FhirEndpoint(FHIR, TOKEN),
            budget_s=0.3,
        )
        assert not answered.is_set(), "the read waited for the server"
    finally:
        release.set()
    assert ids(data, "Medication") == []
    assert messages(data)["medications"] == "timed out after 0.3 s"
    (problem,) = [p for p in data.problems if p.key == "medications"]
    assert problem.message.startswith("medication administrations were read only in part")
    # Let the straggler end inside this test, not in the next one's logs.
    ends = time.monotonic() + 60
    while time.monotonic() < ends and any(
        t.name.startswith("fhir-medication") for t in threading.enumerate()
    ):
        time.sleep(0.02)
