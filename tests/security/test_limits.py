"""Request limits (issue 7): body size (413, CRS_CDS_MAX_REQUEST_BYTES), FHIR resources per call
(413, CRS_CDS_MAX_RESOURCES) and JSON nesting depth (400 beyond 64 levels), each answered with
an OperationOutcome, never a 500."""

from __future__ import annotations

import json

import pytest

from cds_service.errors import SettingsError
from cds_service.validation import MAX_JSON_DEPTH, nesting_exceeds

SERVICE = "/cds-services/crs-patient-view"
FEEDBACK = "/cds-services/crs-patient-view/feedback"


def body(prefetch=None, **context):
    return {
        "hook": "patient-view",
        "hookInstance": "limits-1",
        "context": {"userId": "Practitioner/1", "patientId": "pt-1", **context},
        "prefetch": prefetch
        or {"patient": {"resourceType": "Patient", "id": "pt-1"}, "vitals": None},
    }


def issue(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    (only,) = response.get_json()["issue"]
    return only


def test_a_body_over_the_configured_size_is_413_naming_the_limit(make_app):
    client = make_app(CRS_CDS_MAX_REQUEST_BYTES="65536").test_client()
    big = body()
    big["prefetch"]["patient"]["text"] = {"div": "x" * 70_000}
    found = issue(client.post(SERVICE, json=big), 413)
    assert found == {
        "severity": "error",
        "code": "too-long",
        "diagnostics": "the request body is larger than the limit of 65536 bytes",
    }
    assert issue(client.post(FEEDBACK, json={"feedback": [], "pad": "x" * 70_000}), 413)


def test_the_default_body_limit_is_32_mib(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 32 * 1024 * 1024


@pytest.mark.parametrize("value", ["1000", "999999999999", "lots"])
def test_a_bad_body_limit_fails_at_start(make_app, value):
    with pytest.raises(SettingsError, match="^CRS_CDS_MAX_REQUEST_BYTES"):
        make_app(CRS_CDS_MAX_REQUEST_BYTES=value)


def test_more_resources_than_allowed_is_413_too_costly(make_app):
    client = make_app(CRS_CDS_MAX_RESOURCES="10").test_client()
    observations = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Observation", "id": f"o{n}"}} for n in range(10)],
    }
    prefetch = {"patient": {"resourceType": "Patient", "id": "pt-1"}, "vitals": observations}
    found = issue(client.post(SERVICE, json=body(prefetch)), 413)
    assert found["code"] == "too-costly"
    assert found["diagnostics"] == "the call holds 11 FHIR resources; at most 10 are accepted"


def test_draft_orders_count_towards_the_resource_limit(make_app):
    client = make_app(CRS_CDS_MAX_RESOURCES="10").test_client()
    orders = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": f"m{n}"}} for n in range(10)
        ],
    }
    call = body(draftOrders=orders)
    call["hook"] = "order-sign"
    found = issue(client.post("/cds-services/crs-order-sign", json=call), 413)
    assert found["diagnostics"] == "the call holds 11 FHIR resources; at most 10 are accepted"


def nested(depth):
    """A JSON text whose deepest container is at ``depth`` (the body object is level 1)."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps(body()).replace('"limits-1"', '"limits-1", "deep": ' + inner, 1)


def test_the_deepest_accepted_nesting_is_64(client):
    assert json.loads(nested(MAX_JSON_DEPTH))
    assert (
        client.post(
            SERVICE, data=nested(MAX_JSON_DEPTH), content_type="application/json"
        ).status_code
        == 200
    )


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 1023])
def test_deeper_nesting_is_400(client, depth):
    response = client.post(SERVICE, data=nested(depth), content_type="application/json")
    found = issue(response, 400)
    assert found == {
        "severity": "error",
        "code": "structure",
        "diagnostics": "the request body nests deeper than 64 levels",
    }


def test_nesting_beyond_orjson_is_400_not_json(client):
    response = client.post(SERVICE, data=nested(5000), content_type="application/json")
    assert issue(response, 400)["diagnostics"] == "the request body is not valid JSON"


def test_deep_feedback_is_400(client):
    deep = '{"feedback": [], "x": ' + "[" * 100 + "]" * 100 + "}"
    response = client.post(FEEDBACK, data=deep, content_type="application/json")
    assert issue(response, 400)["diagnostics"] == "the request body nests deeper than 64 levels"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, False),
        ([], False),
        ("text", False),
        ({"a": [{"b": 1}]}, False),
        ({"a": [{"b": [1]}]}, True),
        ([[[]]], False),
    ],
)
def test_nesting_counts_containers(document, expected):
    assert nesting_exceeds(document, 3) is expected
    assert nesting_exceeds([[[[]]]], 3) is True
