"""The SMART app's requests to the EHR (issue 11): discovery and the token POST follow no
redirect off their origin, end at a total deadline whatever the server trickles, and the error
page never tells what answered (no HTTP status: it made the page a port-scan oracle)."""

from __future__ import annotations

import logging
import time

import pytest
import responses
from flask import Flask
from security.loopback import TRICKLE_LIMIT_S, LoopbackServer, trickle_body, trickle_headers

from cds_service.outbound import make_session
from cds_service.smart import InMemorySmartStore, SmartConfig, init_smart

from .conftest import ISS, SMART_CONFIGURATION, TOKEN, query, token_reply

DISCOVERY = f"{ISS}/.well-known/smart-configuration"
INTERNAL = "http://169.254.169.254/latest/meta-data/iam"
OTHER_HOST_TOKEN = "https://collector.attacker.example.net/token"
UNREADABLE = "could not be read from its FHIR server"
NO_TOKEN = "The EHR did not issue an access token. Launch the app again"


def _launch(client, iss=ISS):
    return client.get("/smart/launch", query_string={"iss": iss, "launch": "x"})


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- discovery ------------------------------------------------------------------------------


def test_a_discovery_redirect_to_an_internal_address_is_not_followed(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(DISCOVERY, status=302, headers={"Location": INTERNAL})
        mock.get(INTERNAL, json=SMART_CONFIGURATION)
        response = _launch(client)
        requested = [call.request.url for call in mock.calls]
    assert requested == [DISCOVERY]
    assert response.status_code == 502
    page = _page(response)
    assert UNREADABLE in page
    assert "302" not in page and "169.254" not in page


def test_a_discovery_redirect_within_the_fhir_server_is_followed(client):
    moved = "https://ehr.example.org/fhir/smart-config.json"
    with responses.RequestsMock() as mock:
        mock.get(DISCOVERY, status=301, headers={"Location": "/fhir/smart-config.json"})
        mock.get(moved, json=SMART_CONFIGURATION)
        response = _launch(client)
    assert response.status_code == 302


@pytest.mark.parametrize("status", [301, 400, 401, 404, 418, 500, 502, 503])
def test_the_discovery_error_page_is_the_same_whatever_answered(client, status):
    with responses.RequestsMock() as mock:
        mock.get(DISCOVERY, status=status, headers={"Location": INTERNAL}, body="<html>x</html>")
        answered = _page(_launch(client))
    with responses.RequestsMock() as mock:
        mock.get(DISCOVERY, body=ConnectionRefusedError("nothing listens"))
        unreachable = _page(_launch(client))
    assert answered == unreachable
    assert str(status) not in answered


# --- the token request ----------------------------------------------------------------------


def _callback(client, mock, **token_reply_kwargs):
    mock.get(DISCOVERY, json=SMART_CONFIGURATION)
    location = _launch(client).headers["Location"]
    state = query(location)["state"]
    return client.get("/smart/callback", query_string={"code": "c0de", "state": state})


def test_a_token_redirect_to_another_host_never_receives_the_code_or_verifier(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN, status=307, headers={"Location": OTHER_HOST_TOKEN})
        mock.post(OTHER_HOST_TOKEN, json=token_reply())
        response = _callback(client, mock)
        posted = [c.request.url for c in mock.calls if c.request.method == "POST"]
    assert posted == [TOKEN]
    assert response.status_code == 502
    page = _page(response)
    assert NO_TOKEN in page and "307" not in page and "attacker" not in page


def test_a_token_307_within_the_token_endpoints_origin_is_followed_with_the_form(client):
    moved = "https://ehr.example.org/oauth/v2/token"
    with responses.RequestsMock() as mock:
        mock.post(TOKEN, status=307, headers={"Location": moved})
        mock.post(moved, json=token_reply())
        response = _callback(client, mock)
        form = query("?" + mock.calls[-1].request.body)
    assert response.status_code == 303
    assert form["code"] == "c0de" and form["code_verifier"]


@pytest.mark.parametrize("status", [302, 400, 401, 404, 500, 503])
def test_the_token_error_page_never_tells_the_status(client, status):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN, status=status, json={"error": "invalid_grant"})
        response = _callback(client, mock)
    page = _page(response)
    assert response.status_code == 502
    assert NO_TOKEN in page
    assert str(status) not in page and "invalid_grant" not in page


# --- deadlines against a trickling server ---------------------------------------------------

DEADLINE_S = 0.8
#: A margin no loaded machine reaches, far below the minute the trickle would go on.
MARGIN_S = 10.0


@pytest.mark.parametrize(
    "behaviour", [trickle_headers, trickle_body], ids=["trickled headers", "trickled body"]
)
def test_discovery_from_a_trickling_server_ends_at_its_deadline(clock, behaviour):
    with LoopbackServer() as server:
        iss = server.base_url + "/fhir"
        server.route("/fhir/.well-known/smart-configuration", behaviour)
        app = Flask("smart_trickle")
        app.secret_key = "test-secret-key-for-the-smart-app"
        init_smart(
            app,
            SmartConfig(allowed_issuers=(iss,), request_deadline_s=DEADLINE_S),
            store=InMemorySmartStore(),
            http=make_session(),
            clock=clock,
        )
        started = time.monotonic()
        response = _launch(app.test_client(), iss=iss)
        elapsed = time.monotonic() - started
    assert response.status_code == 502 and UNREADABLE in _page(response)
    assert DEADLINE_S * 0.9 <= elapsed < DEADLINE_S + MARGIN_S < TRICKLE_LIMIT_S


# --- the startup warning --------------------------------------------------------------------


def test_the_startup_warning_explains_the_issuer_allowlist(caplog):
    app = Flask("smart_warning")
    app.secret_key = "test-secret-key-for-the-smart-app"
    with caplog.at_level(logging.WARNING, logger="cds_service.smart"):
        init_smart(app, SmartConfig(), store=InMemorySmartStore())
    (message,) = [
        r.getMessage() for r in caplog.records if "CRS_CDS_SMART_ISSUERS" in r.getMessage()
    ]
    assert "any https FHIR server" in message
    assert "smart-configuration" in message and "token endpoint" in message
    assert "JSON list of the FHIR base URLs" in message
    assert "refused before any request is made" in message
