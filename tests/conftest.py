"""Shared fixtures: a fresh app per test from ``create_app()``, and a clean environment.

``make_app(**variables)`` builds an app from the given environment variables (authentication off
and a temporary SQLite database unless they say otherwise); ``app`` and ``client`` are the
default app and its test client.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

# Import the checkout's packages first. pytest puts tests/ on sys.path, where the folders
# tests/crs_grading and tests/fhir_maps (not packages) would otherwise be picked up as namespace
# packages ahead of the real ones installed in editable mode.
_REPOSITORY = str(Path(__file__).resolve().parent.parent)
if sys.path[0] != _REPOSITORY:
    sys.path.insert(0, _REPOSITORY)

from cds_service import create_app  # noqa: E402

# Property tests explore new random examples on a developer's machine, but CI runs the same
# examples every time (derandomized), so that a landing never depends on the draw. A failure
# found locally is then kept as an explicit example or a fix. The profile must be loaded before
# the test modules build their ``settings`` objects, which inherit from it.
# Neither profile has a per-example deadline or the "too slow" health check: both time the
# machine, and a loaded CI machine must not fail a property that holds.
_LOAD_SAFE = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("local", **_LOAD_SAFE)
settings.register_profile("ci", derandomize=True, database=None, **_LOAD_SAFE)
settings.load_profile("ci" if os.environ.get("CI") else "local")

OUR_VARIABLES_PREFIX = "CRS_CDS_"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's or the CI's CRS_CDS_* or DATABASE_URL settings."""
    for name in list(os.environ):
        if name.startswith(OUR_VARIABLES_PREFIX) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """Build an app from environment variables given as keyword arguments."""

    def build(**variables: str) -> Flask:
        environ = {
            "CRS_CDS_AUTH": "none",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'crs_cds.sqlite3'}",
            **variables,
        }
        app = create_app(environ)
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
