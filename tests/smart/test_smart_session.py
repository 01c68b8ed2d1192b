"""The SMART app's session cookie (issue 11): iframe-ready attributes over https, plain ones over
http, each configurable; its content rotated at launch and at callback (session fixation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
from flask import Flask
from sqlalchemy.exc import OperationalError

from cds_service.errors import SettingsError
from cds_service.smart import (
    CookieSameSite,
    InMemorySmartStore,
    SessionCookiePolicy,
    SmartConfig,
)
from cds_service.smart.session import MAX_VIEWS

from .conftest import ISS, SMART_CONFIGURATION, TOKEN, build_app, query, token_reply

DISCOVERY = f"{ISS}/.well-known/smart-configuration"


@pytest.fixture(autouse=True)
def _now(clock):
    """The store purges by the wall clock what expired a day before: launch at today's date."""
    clock.now = datetime.now(UTC)


def _set_cookie(response) -> dict[str, str | bool]:
    """The attributes of the session cookie set by ``response``."""
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    attributes: dict[str, str | bool] = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value or True
    return attributes


def _launch(client, base_url="http://localhost"):
    with responses.RequestsMock() as mock:
        mock.get(DISCOVERY, json=SMART_CONFIGURATION)
        response = client.get(
            "/smart/launch", query_string={"iss": ISS, "launch": "x"}, base_url=base_url
        )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _complete(client, base_url="http://localhost", patient="case3"):
    state = query(_launch(client, base_url).headers["Location"])["state"]
    with responses.RequestsMock() as mock:
        mock.post(TOKEN, json=token_reply(patient=patient))
        response = client.get(
            "/smart/callback", query_string={"code": "c", "state": state}, base_url=base_url
        )
    assert response.status_code == 303, response.get_data(as_text=True)
    return query(response.headers["Location"])["ctx"], response


def _cookie_content(app: Flask, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _page_status(client, ctx) -> int:
    # The page itself needs the FHIR server; a refused session never reaches it.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{ISS}/Patient/case3", status=503)
        return client.get("/smart/app", query_string={"ctx": ctx}).status_code


# --- the cookie's attributes ----------------------------------------------------------------


def test_over_https_the_cookie_works_in_a_cross_site_ehr_iframe(app):
    attributes = _set_cookie(_launch(app.test_client(), base_url="https://cds.example.org"))
    assert attributes["samesite"] == "None"
    assert attributes["secure"] is True
    assert attributes["partitioned"] is True
    assert attributes["httponly"] is True


def test_over_plain_http_the_cookie_is_lax_and_not_secure(app):
    """Development and ``crs-cds demo`` on http://127.0.0.1: a top-level launch keeps working
    in every browser (Safari drops Secure cookies over http, even on localhost)."""
    attributes = _set_cookie(_launch(app.test_client(), base_url="http://127.0.0.1:8080"))
    assert attributes["samesite"] == "Lax"
    assert "secure" not in attributes and "partitioned" not in attributes


def test_behind_a_tls_proxy_an_https_redirect_url_makes_the_cookie_iframe_ready(make_app):
    config = SmartConfig(
        allowed_issuers=(ISS,), redirect_url="https://cds.example.org/smart/callback"
    )
    attributes = _set_cookie(_launch(make_app(config).test_client()))  # the request is http
    assert (attributes["samesite"], attributes["secure"]) == ("None", True)


@pytest.mark.parametrize(
    ("policy", "https", "expected"),
    [
        (SessionCookiePolicy(), True, (True, CookieSameSite.NONE, True)),
        (SessionCookiePolicy(), False, (False, CookieSameSite.LAX, False)),
        (SessionCookiePolicy(same_site=CookieSameSite.NONE), False, (True, "None", True)),
        (SessionCookiePolicy(partitioned=False), True, (True, CookieSameSite.NONE, False)),
        (SessionCookiePolicy(same_site=CookieSameSite.LAX), True, (True, "Lax", False)),
        (SessionCookiePolicy(secure=False), True, (False, CookieSameSite.LAX, False)),
        (SessionCookiePolicy(secure=True), False, (True, CookieSameSite.NONE, True)),
    ],
    ids=[
        "auto over https",
        "auto over http",
        "samesite none over http forces Secure",
        "partitioned off",
        "lax over https",
        "secure off",
        "secure on over http",
    ],
)
def test_the_cookie_policy_resolves_each_attribute(policy, https, expected):
    assert policy.resolve(https) == expected


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"CRS_CDS_SESSION_COOKIE_SAMESITE": "none"}, ("None", True, True)),
        ({"CRS_CDS_SESSION_COOKIE_SAMESITE": "strict"}, ("Strict", None, None)),
        ({"CRS_CDS_SESSION_COOKIE_SECURE": "true"}, ("None", True, True)),
        (
            {
                "CRS_CDS_SESSION_COOKIE_SECURE": "true",
                "CRS_CDS_SESSION_COOKIE_PARTITIONED": "false",
            },
            ("None", True, None),
        ),
    ],
)
def test_the_variables_set_the_attributes(make_app_from_env, variables, expected):
    app = make_app_from_env(CRS_CDS_SMART_ISSUERS=f'["{ISS}"]', **variables)
    attributes = _set_cookie(_launch(app.test_client()))  # over http
    got = (attributes["samesite"], attributes.get("secure"), attributes.get("partitioned"))
    assert got == expected


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        (
            {"CRS_CDS_SESSION_COOKIE_SECURE": "false", "CRS_CDS_SESSION_COOKIE_SAMESITE": "none"},
            "CRS_CDS_SESSION_COOKIE_SAMESITE=none needs a Secure cookie",
        ),
        (
            {
                "CRS_CDS_SESSION_COOKIE_SECURE": "false",
                "CRS_CDS_SESSION_COOKIE_PARTITIONED": "true",
            },
            "CRS_CDS_SESSION_COOKIE_PARTITIONED=true needs a Secure cookie",
        ),
        ({"CRS_CDS_SESSION_COOKIE_SAMESITE": "sometimes"}, "CRS_CDS_SESSION_COOKIE_SAMESITE must"),
        ({"CRS_CDS_SESSION_COOKIE_SECURE": "yes"}, "CRS_CDS_SESSION_COOKIE_SECURE must"),
    ],
)
def test_contradicting_or_unknown_cookie_settings_stop_the_start(
    make_app_from_env, variables, named
):
    with pytest.raises(SettingsError, match=f"^{named}"):
        make_app_from_env(**variables)


@pytest.fixture
def make_app_from_env(tmp_path):
    from cds_service import create_app

    def build(**variables):
        environ = {
            "CRS_CDS_AUTH": "none",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'crs_cds.sqlite3'}",
            **variables,
        }
        return create_app(environ)

    return build


# --- rotation (session fixation) ------------------------------------------------------------


def test_the_launch_replaces_whatever_the_cookie_held(app, store, clock):
    client = app.test_client()
    with client.session_transaction() as session:
        session["crs_smart_browser"] = "planted-by-an-attacker"
        session["crs_smart_launch"] = "planted-launch"
    state = query(_launch(client).headers["Location"])["state"]
    content = _cookie_content(app, client)
    assert "crs_smart_browser" not in content
    assert content["crs_smart_launch"] not in ("planted-launch", "planted-by-an-attacker")
    assert store.take_launch(state, clock()).browser == content["crs_smart_launch"]


def test_the_callback_rotates_again_and_the_launch_binding_is_gone(app, store, clock):
    client = app.test_client()
    state = query(_launch(client).headers["Location"])["state"]
    launch_binding = _cookie_content(app, client)["crs_smart_launch"]
    with responses.RequestsMock() as mock:
        mock.post(TOKEN, json=token_reply())
        response = client.get("/smart/callback", query_string={"code": "c", "state": state})
    ctx = query(response.headers["Location"])["ctx"]
    content = _cookie_content(app, client)
    assert "crs_smart_launch" not in content
    ((_, view),) = content["crs_smart_views"]
    assert view != launch_binding
    assert store.get_session(ctx, clock()).browser == view


def test_a_cookie_planted_before_the_launch_gives_no_access_to_the_session_after_it(app):
    """Session fixation: the attacker plants a cookie whose content they know in the victim's
    browser; the victim launches and signs in. With the planted cookie and the victim's ``ctx``
    (browser history on a shared workstation), the attacker must get nothing."""
    attacker = app.test_client()
    _launch(attacker)  # a valid, signed cookie of our app, made by the attacker
    planted = attacker.get_cookie("session").value

    victim = app.test_client()
    victim.set_cookie("session", planted)
    ctx, _ = _complete(victim)
    assert _page_status(victim, ctx) != 401  # the victim's own view works

    thief = app.test_client()
    thief.set_cookie("session", planted)
    assert _page_status(thief, ctx) == 401


def test_several_patients_stay_open_in_several_tabs(app):
    client = app.test_client()
    first, _ = _complete(client, patient="case3")
    second, _ = _complete(client, patient="case1")
    assert _page_status(client, first) != 401
    assert _page_status(client, second) != 401


def test_only_the_newest_views_are_kept(app):
    client = app.test_client()
    contexts = [_complete(client)[0] for _ in range(MAX_VIEWS + 1)]
    assert _page_status(client, contexts[0]) == 401
    assert _page_status(client, contexts[-1]) != 401


def test_a_launch_store_that_fails_is_a_503_page_not_a_500():
    class FailingStore(InMemorySmartStore):
        def _put(self, *args, **kwargs):
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    app = build_app(SmartConfig(allowed_issuers=(ISS,)), FailingStore(), lambda: datetime.now(UTC))
    with responses.RequestsMock() as mock:
        mock.get(DISCOVERY, json=SMART_CONFIGURATION)
        response = app.test_client().get("/smart/launch", query_string={"iss": ISS, "launch": "x"})
    assert response.status_code == 503
    assert "unavailable for a moment" in response.get_data(as_text=True)
