"""CORS on every route, preflight and errors included (CDS Hooks 2.0.1 section CORS; SPEC 4)."""

from __future__ import annotations

import json

import pytest

ORIGIN = "https://sandbox.cds-hooks.org"


def assert_cors(response):
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize(
    "path",
    ["/cds-services", "/cds-services/crs-patient-view", "/cds-services/crs-order-sign/feedback"],
)
def test_preflight_is_answered_with_cors_headers_and_without_a_token(make_app, path):
    issuers = {"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks"}}
    client = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(issuers)).test_client()
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert_cors(response)


def test_cors_headers_on_success_and_on_errors(client):
    assert_cors(client.get("/cds-services", headers={"Origin": ORIGIN}))
    not_found = client.get("/nowhere", headers={"Origin": ORIGIN})
    assert not_found.status_code == 404
    assert_cors(not_found)
    bad = client.post("/cds-services/crs-patient-view", data=b"{", content_type="application/json")
    assert bad.status_code == 400
    assert_cors(bad)


def test_cors_headers_on_401(make_app):
    client = make_app(CRS_CDS_AUTH="jwt").test_client()
    response = client.get("/cds-services", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert_cors(response)


def test_private_network_preflight_from_a_public_page_is_allowed(client):
    response = client.options(
        "/cds-services",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.headers["Access-Control-Allow-Private-Network"] == "true"
