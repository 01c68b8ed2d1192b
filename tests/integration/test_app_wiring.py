"""The app factory wires every surface: the SMART app, and its settings from the environment."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses

ISS = "https://ehr.example.org/fhir"
SMART_CONFIGURATION = {
    "authorization_endpoint": "https://ehr.example.org/auth/authorize",
    "token_endpoint": "https://ehr.example.org/auth/token",
    "code_challenge_methods_supported": ["S256"],
    "capabilities": ["launch-ehr", "client-public"],
}


@pytest.fixture
def smart_app(make_app):
    return make_app(
        CRS_CDS_SMART_CLIENT_ID="client-42",
        CRS_CDS_SMART_ISSUERS=f'["{ISS}"]',
        CRS_CDS_PUBLIC_URL="https://cds.example.org",
        CRS_CDS_SECRET_KEY="k" * 40,
    )


@responses.activate
def test_create_app_serves_the_smart_launch_with_the_configured_client(smart_app) -> None:
    """SPEC section 4: GET /smart/launch (EHR launch) with the client id and redirect URL from
    CRS_CDS_SMART_CLIENT_ID and CRS_CDS_PUBLIC_URL."""
    responses.get(f"{ISS}/.well-known/smart-configuration", json=SMART_CONFIGURATION)
    response = smart_app.test_client().get(f"/smart/launch?iss={ISS}&launch=xyz")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["client_id"] == ["client-42"]
    assert query["redirect_uri"] == ["https://cds.example.org/smart/callback"]
    assert query["code_challenge_method"] == ["S256"]


def test_create_app_refuses_a_launch_from_an_issuer_not_allowed(smart_app) -> None:
    """CRS_CDS_SMART_ISSUERS: a launch from any other FHIR server is refused with a page."""
    response = smart_app.test_client().get("/smart/launch?iss=https://evil.example/fhir&launch=1")
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_smart_redirect_url_setting_wins_over_the_public_url(make_app) -> None:
    from cds_service.smart.blueprint import _EXTENSION

    app = make_app(
        CRS_CDS_PUBLIC_URL="https://cds.example.org",
        CRS_CDS_SMART_REDIRECT_URL="https://apps.example.org/crs/callback",
    )
    assert app.extensions[_EXTENSION].config.redirect_url == "https://apps.example.org/crs/callback"


def test_a_bad_smart_redirect_url_stops_the_service_naming_the_variable(make_app) -> None:
    from cds_service.errors import SettingsError

    with pytest.raises(SettingsError, match="CRS_CDS_SMART_REDIRECT_URL"):
        make_app(CRS_CDS_SMART_REDIRECT_URL="not a url")
