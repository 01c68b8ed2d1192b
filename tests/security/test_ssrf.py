"""Where the service may be sent (docs/security.md, SSRF): a trusted issuer configured with
``fhir_servers`` may only name those as fhirServer; Bundle next links never leave fhirServer;
FHIR redirects are not followed; the token goes nowhere else."""

from __future__ import annotations

import json

import pytest
import responses

from cds_service.services import PREFETCH_TEMPLATES

from .jwt_support import ISSUER, bearer, jwks, token

FHIR = "https://ehr.example.org/fhir"
VIEW = "/cds-services/crs-patient-view"


def call(fhir_server, prefetch=None):
    return {
        "hook": "patient-view",
        "hookInstance": "ssrf-1",
        "context": {"userId": "Practitioner/1", "patientId": "pt-1"},
        "fhirServer": fhir_server,
        "fhirAuthorization": {
            "access_token": "tok-ssrf",
            "token_type": "Bearer",
            "expires_in": 60,
            "scope": "patient/*.read",
            "subject": "cds",
        },
        "prefetch": prefetch or {},
    }


def app_with_allowlist(make_app):
    config = {ISSUER: {"jwks": jwks("k1"), "fhir_servers": [FHIR + "/"]}}
    return make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(config))


def test_a_fhir_server_outside_the_issuers_list_is_refused_before_any_request(
    make_app, mocked_http
):
    client = app_with_allowlist(make_app).test_client()
    response = client.post(
        VIEW, headers=bearer(token(VIEW)), json=call("https://169.254.169.254/latest/meta-data")
    )
    assert response.status_code == 400
    assert response.get_json()["issue"][0] == {
        "severity": "error",
        "code": "security",
        "diagnostics": "fhirServer is not a FHIR server configured for this client",
    }
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    "fhir_server",
    ["http://169.254.169.254/latest/meta-data", "http://ehr.example.org/fhir"],
    ids=["cloud metadata over http", "an EHR over http"],
)
def test_a_token_is_never_sent_over_plain_http(make_app, mocked_http, fhir_server):
    """CDS Hooks 2.0.1: "the scheme MUST be https when production data is exchanged" (found in
    review: the bearer token was sent in clear to an http fhirServer)."""
    response = make_app().test_client().post(VIEW, json=call(fhir_server))
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"].startswith(
        "fhirServer must be an https URL when fhirAuthorization is given"
    )
    assert len(mocked_http.calls) == 0


def test_http_on_loopback_still_gets_the_token(make_app, mocked_http):
    """A test FHIR server on loopback (the demo, the sandbox run locally) may be plain http."""
    mocked_http.add(
        responses.GET,
        "http://127.0.0.1:8090/fhir/Patient/pt-1",
        json={"resourceType": "Patient", "id": "pt-1"},
    )
    response = make_app().test_client().post(VIEW, json=call("http://127.0.0.1:8090/fhir"))
    assert response.status_code != 400  # (the unmocked searches fail: that is not this test)
    sent = [c.request.headers.get("Authorization") for c in mocked_http.calls]
    assert "Bearer tok-ssrf" in sent


def test_a_listed_fhir_server_is_read(make_app, mocked_http):
    mocked_http.add(
        responses.GET, f"{FHIR}/Patient/pt-1", json={"resourceType": "Patient", "id": "pt-1"}
    )
    mocked_http.add(
        responses.GET, f"{FHIR}/Observation", json={"resourceType": "Bundle", "type": "searchset"}
    )
    client = app_with_allowlist(make_app).test_client()
    response = client.post(VIEW, headers=bearer(token(VIEW)), json=call(FHIR))
    assert response.status_code == 200
    assert {c.request.headers["Authorization"] for c in mocked_http.calls} == {"Bearer tok-ssrf"}


def test_a_next_link_to_another_host_is_not_followed(client, mocked_http):
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "pt-1"},
        "vitals": {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": "http://10.0.0.7/steal?page=2"}],
        },
        **{
            key: {"resourceType": "Bundle", "type": "searchset"}
            for key in PREFETCH_TEMPLATES
            if key not in ("patient", "vitals")
        },
    }
    response = client.post(VIEW, json=call(FHIR, prefetch))
    assert response.status_code == 200
    assert len(mocked_http.calls) == 0
