"""Fixtures of the SMART app tests: a minimal Flask app with ``init_smart``, a fixed clock and a
fake EHR (discovery, token endpoint) registered with ``responses``.

The app is built here rather than by ``create_app()`` so that these tests do not depend on the
service frame; the frame's own tests check that it wires ``init_smart``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient

from cds_service.smart import InMemorySmartStore, SmartConfig, init_smart

ISS = "https://ehr.example.org/fhir"
AUTHORIZE = "https://ehr.example.org/oauth/authorize"
TOKEN = "https://ehr.example.org/oauth/token"

SMART_CONFIGURATION: dict[str, Any] = {
    "issuer": "https://ehr.example.org",
    "authorization_endpoint": AUTHORIZE,
    "token_endpoint": TOKEN,
    "grant_types_supported": ["authorization_code"],
    "code_challenge_methods_supported": ["S256"],
    "capabilities": [
        "launch-ehr",
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "context-ehr-patient",
        "context-standalone-patient",
        "permission-v2",
    ],
}


@dataclass
class Clock:
    """A settable clock for ``init_smart``."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now = self.now + timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> InMemorySmartStore:
    return InMemorySmartStore()


@pytest.fixture
def smart_config() -> SmartConfig:
    return SmartConfig(allowed_issuers=(ISS,))


def build_app(
    config: SmartConfig, store: InMemorySmartStore, clock: Callable[[], datetime]
) -> Flask:
    """A minimal Flask app with the SMART app attached, as the factory would."""
    app = Flask("smart_test")
    app.secret_key = "test-secret-key-for-the-smart-app"
    app.config["TESTING"] = True
    init_smart(app, config, store=store, http=requests.Session(), clock=clock)
    return app


@pytest.fixture
def make_app(clock: Clock, store: InMemorySmartStore) -> Callable[..., Flask]:
    def make(config: SmartConfig) -> Flask:
        return build_app(config, store, clock)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask], smart_config: SmartConfig) -> Flask:
    return make_app(smart_config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ehr() -> Iterator[responses.RequestsMock]:
    """``responses`` with the EHR's discovery document registered; add the token reply per test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{ISS}/.well-known/smart-configuration", json=SMART_CONFIGURATION)
        yield mock


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url``, each given once."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def token_reply(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": "at-secret-0123456789",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "launch openid fhirUser patient/Patient.rs patient/Observation.rs",
        "patient": "case3",
        "id_token": "header.payload.signature",
    }
    body.update(extra)
    return body
