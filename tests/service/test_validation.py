"""Request validation: CDS Hooks 2.0.1 "Calling a CDS Service" and the hook definitions
patient-view 1.0, order-select 1.0, order-sign 1.1. Each 400 names the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from cds_service.clock import fixed_clock, set_clock
from cds_service.errors import BadRequest
from cds_service.services import SERVICES_BY_ID
from cds_service.validation import parse_hook_request

from .support import FHIR, full_prefetch, hook_body

SERVICE_OF_HOOK = {
    "patient-view": "crs-patient-view",
    "order-select": "crs-order-select",
    "order-sign": "crs-order-sign",
}


def _without(path: str):
    def edit(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        del target[leaf]

    return edit


def _setting(path: str, value: Any):
    def edit(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        target[leaf] = value

    return edit


CASES = [
    ("patient-view", _without("hook"), "hook is required"),
    ("patient-view", _setting("hook", 7), "hook must be a string"),
    ("patient-view", _without("hookInstance"), "hookInstance is required"),
    ("patient-view", _setting("hookInstance", ""), "hookInstance must not be empty"),
    (
        "patient-view",
        _setting("hookInstance", "x" * 300),
        "hookInstance is longer than 256 characters",
    ),
    ("patient-view", _without("context"), "context is required"),
    ("patient-view", _setting("context", "pt-1"), "context must be an object"),
    ("patient-view", _without("context.userId"), "context.userId is required"),
    ("patient-view", _setting("context.userId", 1), "context.userId must be a string"),
    (
        "patient-view",
        _setting("context.patientId", "a/b?c"),
        "context.patientId is not a valid FHIR id",
    ),
    ("patient-view", _setting("context.encounterId", 5), "context.encounterId must be a string"),
    ("order-select", _without("context.selections"), "context.selections is required"),
    (
        "order-select",
        _setting("context.selections", "MedicationRequest/1"),
        "context.selections must be an array of strings",
    ),
    ("order-select", _setting("context.selections", [3]), "context.selections[0] must be a string"),
    ("order-select", _without("context.draftOrders"), "context.draftOrders is required"),
    (
        "order-select",
        _setting("context.draftOrders", {"resourceType": "MedicationRequest"}),
        "context.draftOrders must be a FHIR Bundle",
    ),
    ("order-sign", _without("context.draftOrders"), "context.draftOrders is required"),
    ("order-sign", _without("context.patientId"), "context.patientId is required"),
    (
        "order-sign",
        _setting("context.draftOrders", {"resourceType": "Bundle", "entry": {}}),
        "context.draftOrders.entry must be an array",
    ),
    (
        "patient-view",
        _setting("fhirServer", "ftp://ehr.example.org"),
        "fhirServer must be an http(s) URL without query",
    ),
    ("patient-view", _setting("fhirServer", 42), "fhirServer must be a URL string"),
    ("patient-view", _setting("prefetch", []), "prefetch must be an object"),
]


@pytest.mark.parametrize(
    ("hook", "edit", "message"), CASES, ids=[message for _, _, message in CASES]
)
def test_an_invalid_request_is_400_naming_the_field(client, hook, edit, message):
    body = hook_body(hook, prefetch=full_prefetch())
    edit(body)
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == message


AUTH_CASES = [
    ("access_token", None, "fhirAuthorization.access_token is required"),
    ("token_type", "MAC", "fhirAuthorization.token_type must be 'Bearer'"),
    ("expires_in", "300", "fhirAuthorization.expires_in must be an integer"),
    ("expires_in", True, "fhirAuthorization.expires_in must be an integer"),
    ("expires_in", None, "fhirAuthorization.expires_in is required"),
    ("scope", None, "fhirAuthorization.scope is required"),
    ("subject", None, "fhirAuthorization.subject is required"),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), AUTH_CASES, ids=[m for _, _, m in AUTH_CASES]
)
def test_fhir_authorization_fields_are_checked(client, field, value, message):
    body = hook_body(prefetch=full_prefetch(), fhir_server=FHIR, token="tok")
    if value is None:
        del body["fhirAuthorization"][field]
    else:
        body["fhirAuthorization"][field] = value
    response = client.post("/cds-services/crs-patient-view", json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == message


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_a_valid_call_of_each_hook_answers_200_with_a_card_list(app, client, hook):
    """A valid call is answered; the fixture's tisagenlecleucel (2026-11-18) is in scope on
    2026-11-20, so patient-view carries exactly one assessment card (SPEC 2.1, section 4)."""
    set_clock(app, fixed_clock(datetime(2026, 11, 20, 12, tzinfo=UTC)))
    body = hook_body(hook, prefetch=full_prefetch())
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert isinstance(cards, list)
    if hook == "patient-view":
        assert [c for c in cards if "org.crscds.assessment" in c.get("extension", {})]


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_a_patient_out_of_scope_gets_no_cards_on_any_hook(app, client, hook):
    """SPEC 2.1: more than 30 days after the therapy the patient is out of scope: no cards."""
    set_clock(app, fixed_clock(datetime(2027, 3, 1, 12, tzinfo=UTC)))
    body = hook_body(hook, prefetch=full_prefetch())
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_the_parsed_request_is_typed_and_hides_the_token():
    body = hook_body(
        "order-select", prefetch=full_prefetch(), fhir_server=FHIR + "/", token="s3cret"
    )
    body["context"]["encounterId"] = "enc-9"

    request = parse_hook_request(
        SERVICES_BY_ID["crs-order-select"], "application/json", orjson.dumps(body)
    )

    assert request.hook == "order-select" and request.service_id == "crs-order-select"
    assert request.context.patient_id == "pt-1" and request.context.encounter_id == "enc-9"
    assert request.context.selections == ("MedicationRequest/mr-1",)
    assert request.context.draft_orders["resourceType"] == "Bundle"
    assert request.fhir_server == FHIR  # trailing slash dropped
    assert request.fhir_authorization.access_token == "s3cret"
    assert "s3cret" not in repr(request)
    assert request.context.prefetch_tokens() == {
        "context.userId": "Practitioner/dr-1",
        "context.patientId": "pt-1",
        "context.encounterId": "enc-9",
    }


def test_null_optional_fields_count_as_absent():
    body = hook_body(prefetch=None)
    body["prefetch"] = None
    body["fhirAuthorization"] = None
    body["context"]["encounterId"] = None

    request = parse_hook_request(
        SERVICES_BY_ID["crs-patient-view"], "application/json", orjson.dumps(body)
    )
    assert request.prefetch == {} and request.fhir_authorization is None
    assert request.context.encounter_id is None


def test_bad_request_carries_a_fhir_issue_code():
    with pytest.raises(BadRequest) as raised:
        parse_hook_request(SERVICES_BY_ID["crs-patient-view"], "application/json", b"{}")
    assert raised.value.issue_code == "required"
    assert raised.value.status_code == 400
