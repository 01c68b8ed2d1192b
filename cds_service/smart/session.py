"""The SMART app's browser session: a signed cookie that works inside an EHR's iframe, and
whose content is renewed at every step that grants something (session fixation).

**The cookie.** EHRs (Epic, Oracle Health, the SMART launcher) show SMART apps in an iframe of
their own site, where the browser treats our cookie as third-party: without ``SameSite=None;
Secure`` it is not stored there, and every callback fails. ``SessionCookiePolicy`` decides per
request; its defaults (``auto``) give, over https (the request's scheme, or an https public or
redirect URL behind a TLS proxy), ``Secure; SameSite=None; Partitioned`` (CHIPS: a cookie kept
per embedding site, which browsers that block third-party cookies still accept), and over plain
http (development, ``crs-cds demo`` on 127.0.0.1) ``SameSite=Lax`` without ``Secure``, which
every browser stores for a top-level page. Each part can be forced by ``CRS_CDS_SESSION_COOKIE_*``.

**What it holds.** Never a token. A launch binding (a fresh random value made at each launch,
replacing whatever the cookie held for a launch before), then at the callback a fresh view
binding per launch session, keyed by a hash of the session's ``ctx`` (at most
``MAX_VIEWS`` kept, so several patients can be open in several tabs). The server-side store ties
the launch and the session to these bindings, so a cookie planted before the launch (session
fixation) is worth nothing after it, and the value that carried the launch is gone once the
token has been issued.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from cds_service.smart.config import CookieSameSite, SessionCookiePolicy
from cds_service.smart.oauth import new_random_token

__all__ = [
    "MAX_VIEWS",
    "SmartSessionInterface",
    "new_launch_binding",
    "new_view_binding",
    "remember_view",
    "take_launch_binding",
    "view_binding",
]

#: Launch sessions one browser keeps open at once (tabs, patients); the oldest is forgotten.
MAX_VIEWS = 8
_LAUNCH_KEY = "crs_smart_launch"
_VIEWS_KEY = "crs_smart_views"


class SmartSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the cookie attributes of a ``SessionCookiePolicy``.

    ``https_url`` says that the app's public URL is https (a TLS proxy in front, where the
    request itself arrives over http).
    """

    def __init__(self, policy: SessionCookiePolicy, *, https_url: bool = False) -> None:
        self.policy = policy
        self.https_url = https_url

    def _attributes(self) -> tuple[bool, CookieSameSite, bool]:
        https = self.https_url or (has_request_context() and request.is_secure)
        return self.policy.resolve(https)

    def get_cookie_secure(self, app: Flask) -> bool:
        return self._attributes()[0]

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return self._attributes()[1].value

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return self._attributes()[2]


# --- what the cookie holds ------------------------------------------------------------------


def new_launch_binding(session: MutableMapping[str, Any]) -> str:
    """A fresh binding for a launch now starting; whatever the cookie held for an earlier
    launch (or an attacker planted) is dropped."""
    binding = new_random_token()
    session.pop("crs_smart_browser", None)  # the cookie of earlier versions
    session[_LAUNCH_KEY] = binding
    return binding


def take_launch_binding(session: MutableMapping[str, Any]) -> str | None:
    """The binding of the launch in progress, removed from the cookie (used once)."""
    value = session.pop(_LAUNCH_KEY, None)
    return value if isinstance(value, str) and value else None


def new_view_binding() -> str:
    """A fresh binding for a launch session the callback is creating."""
    return new_random_token()


def _view_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def _views(session: MutableMapping[str, Any]) -> list[list[str]]:
    """The cookie's ``[view key, binding]`` pairs, oldest first (a list: the cookie's JSON
    sorts the keys of an object, so an object would lose the order)."""
    views = session.get(_VIEWS_KEY)
    if not isinstance(views, list):
        return []
    return [
        list(pair)
        for pair in views
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)
    ]


def remember_view(session: MutableMapping[str, Any], session_id: str, binding: str) -> None:
    """Keep ``binding`` for the launch session ``session_id`` (the newest ``MAX_VIEWS``)."""
    key = _view_key(session_id)
    kept = [pair for pair in _views(session) if pair[0] != key]
    kept.append([key, binding])
    session[_VIEWS_KEY] = kept[-MAX_VIEWS:]


def view_binding(session: MutableMapping[str, Any], session_id: str | None) -> str | None:
    """The binding this browser holds for the launch session ``session_id``, if any."""
    if not session_id:
        return None
    key = _view_key(session_id)
    return next((binding for found, binding in _views(session) if found == key and binding), None)
