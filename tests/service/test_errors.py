"""Every error status answers a FHIR OperationOutcome (SPEC section 4), never a stack trace."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from cds_service.web import cds as cds_views

from .support import FHIR, hook_body

SERVICE = "/cds-services/crs-patient-view"


def outcome_of(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert issue["severity"] == "error"
    return issue


def test_malformed_json_is_400_structure(client):
    response = client.post(
        SERVICE, data=b'{"hook": "patient-view",', content_type="application/json"
    )
    issue = outcome_of(response, 400)
    assert issue["code"] == "structure"
    assert issue["diagnostics"] == "the request body is not valid JSON"


def test_a_json_array_body_is_400(client):
    response = client.post(SERVICE, json=[hook_body()])
    assert outcome_of(response, 400)["diagnostics"] == "the request body must be a JSON object"


def test_a_missing_field_is_400_naming_the_field(client):
    body = hook_body()
    del body["context"]["patientId"]
    issue = outcome_of(client.post(SERVICE, json=body), 400)
    assert issue["code"] == "required"
    assert issue["diagnostics"] == "context.patientId is required"


def test_a_hook_that_does_not_match_the_service_is_400(client):
    issue = outcome_of(client.post(SERVICE, json=hook_body("order-sign")), 400)
    assert issue["diagnostics"] == (
        "hook is 'order-sign' but service crs-patient-view answers 'patient-view'"
    )


def test_fhir_authorization_without_fhir_server_is_400(client):
    body = hook_body(token="t")
    issue = outcome_of(client.post(SERVICE, json=body), 400)
    assert issue["diagnostics"] == "fhirServer is required when fhirAuthorization is given"


def test_unknown_service_is_404(client):
    issue = outcome_of(client.post("/cds-services/crs-unknown", json=hook_body()), 404)
    assert issue["code"] == "not-found"
    assert "crs-unknown" in issue["diagnostics"]


def test_unknown_route_is_404_operation_outcome(client):
    issue = outcome_of(client.get("/no-such-page"), 404)
    assert issue["code"] == "not-found"


def test_wrong_method_is_405_with_allow_header(client):
    response = client.get(SERVICE)
    issue = outcome_of(response, 405)
    assert issue["code"] == "not-supported"
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None],
    ids=["text", "form", "no content type"],
)
def test_a_body_that_is_not_declared_json_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(SERVICE, data=b"{}", headers=headers)
    assert outcome_of(response, 415)["code"] == "not-supported"


def test_fhir_json_content_type_is_accepted(client):
    response = client.post(
        SERVICE,
        data=b'{"hook": "patient-view"}',
        content_type="application/fhir+json",
    )
    assert outcome_of(response, 400)["diagnostics"] == "hookInstance is required"


def test_too_large_body_is_413_operation_outcome(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post(SERVICE, data=b"{" + b" " * 200 + b"}", content_type="application/json")
    assert outcome_of(response, 413)["code"] == "too-long"


def test_412_when_prefetch_is_missing_and_the_fhir_server_is_down(client, mocked_http):
    refused = requests.ConnectionError("connection refused")
    for path in (
        "Patient/pt-1",
        "Observation",
        "MedicationAdministration",
        "Condition",
        "Procedure",
    ):
        mocked_http.add(responses.GET, f"{FHIR}/{path}", body=refused)

    response = client.post(SERVICE, json=hook_body(fhir_server=FHIR, token="tok"))

    issue = outcome_of(response, 412)
    assert issue["code"] == "incomplete"
    assert (
        "patient could not be read: could not connect to the FHIR server" in issue["diagnostics"]
    )
    assert "vitals could not be read" in issue["diagnostics"]


def test_unexpected_error_is_500_without_exception_text_or_trace(client, monkeypatch, caplog):
    def failing_hook(*args, **kwargs):
        raise RuntimeError("Jane Doe, MRN 12345")  # patient data in an exception message

    monkeypatch.setattr(cds_views, "answer_hook", failing_hook)
    body = hook_body(
        prefetch={"patient": {"resourceType": "Patient", "id": "pt-1"}, "vitals": None}
    )

    with caplog.at_level(logging.INFO):
        response = client.post(SERVICE, json=body)

    issue = outcome_of(response, 500)
    assert issue == {
        "severity": "error",
        "code": "exception",
        "diagnostics": "internal server error",
    }
    assert b"Jane" not in response.data and b"Traceback" not in response.data
    assert "Jane" not in caplog.text
    (record,) = [r for r in caplog.records if r.getMessage() == "unhandled RuntimeError"]
    assert any("failing_hook" in frame for frame in record.fields["where"])
