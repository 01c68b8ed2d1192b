"""SMART App Launch 2.2: discovery, the authorize redirect, the callback and the token store."""

from __future__ import annotations

import base64
import hashlib
import logging
from urllib.parse import urlsplit

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient

from cds_service.smart import InMemorySmartStore, SmartConfig

from .conftest import AUTHORIZE, ISS, SMART_CONFIGURATION, TOKEN, Clock, query, token_reply

SCOPE_EHR = (
    "launch openid fhirUser patient/Patient.rs patient/Observation.rs "
    "patient/MedicationAdministration.rs patient/Condition.rs patient/Procedure.rs "
    "patient/Medication.rs"
)


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2, written out independently of the code under test."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def launch(client: FlaskClient, **params: str) -> tuple[int, dict[str, str], str]:
    response = client.get("/smart/launch", query_string=params)
    location = response.headers.get("Location", "")
    return response.status_code, (query(location) if location else {}), location


def pending_verifier(store: InMemorySmartStore, state: str, clock: Clock) -> str:
    pending = store.take_launch(state, clock())
    assert pending is not None
    return pending.code_verifier


# --- discovery and the authorize redirect ------------------------------------------------------


def test_ehr_launch_reads_the_smart_configuration_with_accept_json_and_timeouts(client, ehr):
    status, _, _ = launch(client, iss=ISS, launch="xyz123")
    assert status == 302
    call = ehr.calls[0]
    assert call.request.url == f"{ISS}/.well-known/smart-configuration"
    assert "application/json" in call.request.headers["Accept"]
    timeout = call.request.req_kwargs["timeout"]
    assert isinstance(timeout, tuple) and all(t and t > 0 for t in timeout)


def test_ehr_launch_redirects_to_authorize_with_every_parameter(client, ehr, store, clock):
    status, params, location = launch(client, iss=ISS, launch="xyz123")
    assert status == 302
    assert location.startswith(AUTHORIZE + "?")
    assert set(params) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "launch",
        "scope",
        "state",
        "aud",
        "code_challenge",
        "code_challenge_method",
    }
    assert params["response_type"] == "code"
    assert params["client_id"] == "crs-cds"
    assert params["redirect_uri"] == "http://localhost/smart/callback"
    assert params["launch"] == "xyz123"
    assert params["scope"] == SCOPE_EHR
    assert params["aud"] == ISS
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 22  # >= 122 bits of entropy in URL-safe base64
    # The challenge is the S256 of the verifier kept server-side for this state.
    verifier = pending_verifier(store, params["state"], clock)
    assert 43 <= len(verifier) <= 128
    assert params["code_challenge"] == s256(verifier)


def test_two_launches_get_different_state_and_verifier(client, ehr):
    _, first, _ = launch(client, iss=ISS, launch="a")
    _, second, _ = launch(client, iss=ISS, launch="b")
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_configured_redirect_url_is_sent_instead_of_the_derived_one(make_app, ehr):
    app = make_app(
        SmartConfig(allowed_issuers=(ISS,), redirect_url="https://crs.example.org/smart/callback")
    )
    _, params, _ = launch(app.test_client(), iss=ISS, launch="x")
    assert params["redirect_uri"] == "https://crs.example.org/smart/callback"


def test_issuer_allowlist_ignores_a_trailing_slash_and_aud_echoes_the_ehrs_iss(client, ehr):
    status, params, _ = launch(client, iss=ISS + "/", launch="x")
    assert status == 302 and params["aud"] == ISS + "/"  # SMART 2.2: aud is the launch's iss
    assert ehr.calls[0].request.url == f"{ISS}/.well-known/smart-configuration"


def test_launch_from_an_issuer_not_allowed_is_refused_with_a_page_and_no_outbound_call(client):
    with responses.RequestsMock() as mock:  # any outbound call would fail the test
        response = client.get(
            "/smart/launch", query_string={"iss": "https://evil.example.com/fhir", "launch": "x"}
        )
        assert len(mock.calls) == 0
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Launch refused" in page and "CRS_CDS_SMART_ISSUERS" in page
    assert "Traceback" not in page


def test_without_an_allowlist_plain_http_issuers_are_refused_except_loopback(make_app):
    client = make_app(SmartConfig()).test_client()
    response = client.get(
        "/smart/launch", query_string={"iss": "http://ehr.example.org/fhir", "launch": "x"}
    )
    assert response.status_code == 400
    assert "https" in response.get_data(as_text=True)
    with responses.RequestsMock() as mock:
        mock.get(
            "http://127.0.0.1:9/fhir/.well-known/smart-configuration",
            json={
                **SMART_CONFIGURATION,
                "authorization_endpoint": "http://127.0.0.1:9/auth",
                "token_endpoint": "http://127.0.0.1:9/token",
            },
        )
        response = client.get(
            "/smart/launch", query_string={"iss": "http://127.0.0.1:9/fhir", "launch": "x"}
        )
    assert response.status_code == 302


def test_launch_without_iss_is_refused(client):
    response = client.get("/smart/launch", query_string={"launch": "x"})
    assert response.status_code == 400
    assert "no iss parameter" in response.get_data(as_text=True)


#: One page for every way discovery or the token request fails at the other end: the page must
#: not tell what answered there (issue 11: the HTTP status made it a port-scan oracle).
UNREADABLE = "could not be read from its FHIR server"
NO_TOKEN = "The EHR did not issue an access token. Launch the app again"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(
            {"status": 404, "json": {}}, UNREADABLE, id="discovery answering 404 shows a page"
        ),
        pytest.param({"body": "not json"}, UNREADABLE, id="discovery answering non-JSON"),
        pytest.param(
            {"json": {**SMART_CONFIGURATION, "token_endpoint": None}},
            "no token endpoint",
            id="configuration without a token endpoint",
        ),
        pytest.param(
            {"json": {**SMART_CONFIGURATION, "authorization_endpoint": "http://ehr.example.org/a"}},
            "not an https URL",
            id="https EHR naming a plain-http authorize endpoint",
        ),
        pytest.param(
            {"json": {**SMART_CONFIGURATION, "code_challenge_methods_supported": ["plain"]}},
            "S256",
            id="EHR without PKCE S256 is refused (SMART 2.2 requires S256)",
        ),
        pytest.param(
            {"body": requests.ConnectionError("down")},
            UNREADABLE,
            id="EHR unreachable",
        ),
    ],
)
def test_discovery_failures_show_a_clear_page(client, reply, expected):
    with responses.RequestsMock() as mock:
        mock.get(f"{ISS}/.well-known/smart-configuration", **reply)
        response = client.get("/smart/launch", query_string={"iss": ISS, "launch": "x"})
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert expected in page
    assert "Traceback" not in page


def test_standalone_launch_asks_for_launch_patient_and_sends_no_launch(client, ehr):
    status, params, _ = launch(client, iss=ISS)
    assert status == 302
    assert "launch" not in params
    assert params["scope"] == SCOPE_EHR.replace("launch ", "launch/patient ", 1)
    assert params["aud"] == ISS


def test_standalone_launch_without_iss_uses_the_only_allowed_issuer(client, ehr):
    status, params, _ = launch(client)
    assert status == 302 and params["aud"] == ISS


def test_standalone_launch_is_refused_when_the_server_does_not_offer_it(client):
    capabilities = [c for c in SMART_CONFIGURATION["capabilities"] if c != "launch-standalone"]
    with responses.RequestsMock() as mock:
        mock.get(
            f"{ISS}/.well-known/smart-configuration",
            json={**SMART_CONFIGURATION, "capabilities": capabilities},
        )
        response = client.get("/smart/launch", query_string={"iss": ISS})
    assert response.status_code == 400
    assert "standalone" in response.get_data(as_text=True)


# --- the callback ------------------------------------------------------------------------------


def test_callback_exchanges_the_code_with_the_verifier_and_opens_the_page(client, ehr):
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="xyz123")
    response = client.get(
        "/smart/callback", query_string={"code": "c0de", "state": params["state"]}
    )
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/smart/app"
    token_call = ehr.calls[-1]
    assert token_call.request.url == TOKEN
    form = query("?" + token_call.request.body)
    assert form == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": "http://localhost/smart/callback",
        "code_verifier": form["code_verifier"],
        "client_id": "crs-cds",
    }
    assert s256(form["code_verifier"]) == params["code_challenge"]
    assert "Authorization" not in token_call.request.headers  # public client
    assert token_call.request.req_kwargs["timeout"]


def test_confidential_client_authenticates_with_http_basic_and_omits_client_id(make_app, ehr):
    client = make_app(SmartConfig(allowed_issuers=(ISS,), client_secret="s3cr3t")).test_client()
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert response.status_code == 303
    request = ehr.calls[-1].request
    expected = base64.b64encode(b"crs-cds:s3cr3t").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert "client_id" not in query("?" + request.body)  # SMART 2.2 step 5: omit when confidential


def test_a_confidential_client_without_an_issuer_allowlist_is_refused_at_start():
    """Without CRS_CDS_SMART_ISSUERS any https server may launch the app; its discovery names the
    token endpoint, where a confidential client would send its secret (HTTP Basic)."""
    with pytest.raises(ValueError, match="CRS_CDS_SMART_ISSUERS"):
        SmartConfig(client_secret="s3cr3t")


def test_callback_with_a_state_not_issued_is_refused_without_calling_the_token_endpoint(
    client, ehr
):
    ehr.post(TOKEN, json=token_reply())
    launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert "cannot be accepted" in response.get_data(as_text=True)
    assert all(call.request.url != TOKEN for call in ehr.calls)


def test_callback_without_state_is_refused(client, ehr):
    response = client.get("/smart/callback", query_string={"code": "c"})
    assert response.status_code == 400
    assert "no state parameter" in response.get_data(as_text=True)


def test_state_is_used_once(client, ehr):
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="x")
    first = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    second = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert (first.status_code, second.status_code) == (303, 400)


def test_state_older_than_the_launch_lifetime_is_refused(client, ehr, clock):
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="x")
    clock.advance(seconds=601)
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert response.status_code == 400
    assert "too late" in response.get_data(as_text=True)


def test_state_started_in_another_browser_is_refused(app, ehr):
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(app.test_client(), iss=ISS, launch="x")
    other = app.test_client()  # its own cookie jar: another browser
    response = other.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert response.status_code == 400
    assert "another browser" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param("access_denied", "Access was denied", id="EHR denying access shows why"),
        pytest.param("invalid_scope", "does not grant the data access", id="EHR refusing a scope"),
        pytest.param("made_up", "ended the sign-in with an error", id="unknown EHR error code"),
    ],
)
def test_ehr_error_on_the_callback_shows_a_clear_page(client, ehr, error, expected):
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get(
        "/smart/callback",
        query_string={
            "error": error,
            "error_description": "<script>alert(1)</script> call 555",
            "state": params["state"],
        },
    )
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert expected in page
    assert "555" not in page and "<script>alert" not in page  # free text from the URL never shown


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(
            {"status": 400, "json": {"error": "invalid_grant", "error_description": "bad"}},
            NO_TOKEN,
            id="token endpoint refusing the code",
        ),
        pytest.param({"json": {"token_type": "Bearer"}}, "no access token", id="no access token"),
        pytest.param(
            {"json": token_reply(token_type="mac")}, "type the app cannot use", id="not a bearer"
        ),
        pytest.param({"json": token_reply(patient=None)}, "which patient", id="no patient context"),
        pytest.param({"body": requests.ReadTimeout()}, NO_TOKEN, id="token endpoint slow"),
    ],
)
def test_token_errors_show_a_clear_page(client, ehr, reply, expected):
    ehr.post(TOKEN, **reply)
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert expected in page
    assert "Traceback" not in page


# --- where the token lives ---------------------------------------------------------------------


def session_cookie(app: Flask, client: FlaskClient) -> tuple[str, dict]:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return cookie.value, serializer.loads(cookie.value)


def test_token_is_kept_server_side_and_the_cookie_holds_only_an_opaque_id(app, ehr, store, clock):
    client = app.test_client()
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    raw, content = session_cookie(app, client)
    assert list(content) == ["crs_smart_views"]
    ((_, binding),) = content["crs_smart_views"]
    assert len(binding) >= 40
    for secret in ("at-secret-0123456789", "header.payload.signature", params["state"], "case3"):
        assert secret not in raw
    ctx = query(response.headers["Location"])["ctx"]
    launch_session = store.get_session(ctx, clock())
    assert launch_session is not None
    assert launch_session.access_token == "at-secret-0123456789"
    assert launch_session.patient == "case3" and launch_session.iss == ISS
    assert launch_session.need_patient_banner is True
    assert "at-secret" not in repr(launch_session)


def test_session_lifetime_follows_expires_in(app, ehr, store, clock):
    client = app.test_client()
    ehr.post(TOKEN, json=token_reply(expires_in=120))
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    ctx = query(response.headers["Location"])["ctx"]
    clock.advance(seconds=119)
    assert store.get_session(ctx, clock()) is not None
    clock.advance(seconds=2)
    assert store.get_session(ctx, clock()) is None
    page = client.get("/smart/app", query_string={"ctx": ctx})
    assert page.status_code == 401
    assert "expired" in page.get_data(as_text=True)


def test_page_refuses_a_session_id_from_another_browser(app, ehr):
    client = app.test_client()
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="x")
    response = client.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    ctx = query(response.headers["Location"])["ctx"]
    other = app.test_client()
    other.get("/smart/launch", query_string={"iss": ISS, "launch": "y"})  # has its own browser id
    assert other.get("/smart/app", query_string={"ctx": ctx}).status_code == 401


def test_page_without_a_launch_says_to_open_it_from_the_ehr(client):
    response = client.get("/smart/app")
    assert response.status_code == 401
    assert "Open the app from the patient" in response.get_data(as_text=True)


def test_no_token_code_state_or_verifier_reaches_the_logs(app, ehr, store, clock, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    ehr.post(TOKEN, json=token_reply())
    _, params, _ = launch(client, iss=ISS, launch="launch-ctx-77")
    client.get("/smart/callback", query_string={"code": "c0de-99", "state": params["state"]})
    assert "SMART EHR launch started" in caplog.text  # the flow did log
    for secret in (
        "at-secret-0123456789",
        "c0de-99",
        params["state"],
        params["code_challenge"],
        "header.payload.signature",
        "launch-ctx-77",
    ):
        assert secret not in caplog.text


def test_pages_are_not_cached_and_send_no_referrer(client):
    response = client.get("/smart/app")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_init_smart_requires_a_secret_key():
    from cds_service.smart import init_smart

    app = Flask("no_secret")
    with pytest.raises(RuntimeError, match="CRS_CDS_SECRET_KEY"):
        init_smart(app, SmartConfig())


def test_replicas_sharing_the_sql_store_finish_each_others_launches(clock, ehr):
    """Stateless replicas (SPEC 5): launch on one, callback and page on another."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    from cds_service.smart import SqlSmartStore, init_smart

    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    replicas = []
    for name in ("replica_a", "replica_b"):
        app = Flask(name)
        app.secret_key = "shared-secret-key-of-the-deployment"
        init_smart(
            app,
            SmartConfig(allowed_issuers=(ISS,)),
            store=SqlSmartStore(engine, secret=app.secret_key),
            http=requests.Session(),
            clock=clock,
        )
        replicas.append(app)
    ehr.post(TOKEN, json=token_reply())
    browser = replicas[0].test_client()
    _, params, _ = launch(browser, iss=ISS, launch="x")
    cookie = browser.get_cookie("session")
    other = replicas[1].test_client()
    other.set_cookie("session", cookie.value)  # the load balancer sends the browser elsewhere
    response = other.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert response.status_code == 303
    # And the state cannot be replayed on the first replica.
    again = browser.get("/smart/callback", query_string={"code": "c", "state": params["state"]})
    assert again.status_code == 400
