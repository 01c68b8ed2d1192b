"""Fixtures of the reliability tests: an app with a short FHIR budget, responses for mocked
HTTP (opt-in, since the loopback tests need the real network stack), the loopback server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from .harness import BUDGET_S, LoopbackFhirServer, in_demo_time


@pytest.fixture
def fault_app(make_app):
    """An app with a 1 s FHIR budget whose clock stands at day 5 of the demo case 3."""
    return in_demo_time(make_app(CRS_CDS_FHIR_TIMEOUT_S=str(BUDGET_S)))


@pytest.fixture
def fault_client(fault_app):
    return fault_app.test_client()


@pytest.fixture
def mocked_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fhir_server() -> Iterator[LoopbackFhirServer]:
    with LoopbackFhirServer() as server:
        yield server
