"""The app's one ``requests.Session`` for outbound HTTP (FHIR servers, JWKS, SMART).

Passed into the code that needs it, never global, so tests intercept it with ``responses``.
It keeps no cookies: one session serves calls for many EHRs and patients, and a cookie set
by one FHIR server must never ride along on another call.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy

import requests
from flask import Flask, current_app
from requests.adapters import HTTPAdapter

__all__ = ["get_http_session", "init_app", "make_session"]

_EXTENSION_KEY = "crs_cds.http"
USER_AGENT = "crs-cds/0.1 (+CDS Hooks)"


def make_session(pool_size: int = 16) -> requests.Session:
    """A session with connection pooling, no cookies, no automatic retries, few redirects."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.max_redirects = 3
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def init_app(app: Flask, session: requests.Session | None = None) -> requests.Session:
    """Attach ``session`` (or a new one) to ``app``."""
    session = session if session is not None else make_session()
    app.extensions[_EXTENSION_KEY] = session
    return session


def get_http_session(app: Flask | None = None) -> requests.Session:
    """The outbound session of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    session = target.extensions[_EXTENSION_KEY]
    assert isinstance(session, requests.Session)  # noqa: S101 - set only by init_app
    return session
