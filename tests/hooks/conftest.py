"""Fixtures of the hook tests: no network (``responses`` active), and an app whose clock is
frozen wherever a test puts it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
import responses
from flask import Flask

from cds_service.clock import fixed_clock, set_clock


@pytest.fixture(autouse=True)
def mocked_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app_at(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """``app_at(moment, **variables)``: an app whose clock stands still at ``moment``."""

    def build(moment: datetime, **variables: str) -> Flask:
        app = make_app(**variables)
        set_clock(app, fixed_clock(moment))
        return app

    return build
