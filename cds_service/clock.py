"""The service's clock: the time of a hook call is the ``asOf`` of its assessment (SPEC 2.2).

The clock is a plain callable returning a timezone-aware UTC ``datetime``. An app uses
``utc_now`` unless another clock was set with ``set_clock`` (tests and golden files freeze it
there). There is deliberately no environment variable for it: a production service must never
grade at any time but now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app

__all__ = ["Clock", "fixed_clock", "get_clock", "set_clock", "utc_now"]

#: A source of the current time (timezone-aware).
Clock = Callable[[], datetime]

_EXTENSION_KEY = "crs_cds.clock"


def utc_now() -> datetime:
    """The current time in UTC: the default clock."""
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """A clock frozen at ``moment`` (which must carry a time zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a fixed clock needs a timezone-aware time")
    frozen = moment.astimezone(UTC)
    return lambda: frozen


def set_clock(app: Flask, clock: Clock) -> None:
    """Make ``clock`` the clock of ``app``."""
    app.extensions[_EXTENSION_KEY] = clock


def get_clock(app: Flask | None = None) -> Clock:
    """The clock of ``app`` (or of the current app inside a request); ``utc_now`` by default."""
    target = app if app is not None else current_app
    clock = target.extensions.get(_EXTENSION_KEY, utc_now)
    if not callable(clock):  # pragma: no cover - set only by set_clock
        raise TypeError("the app's clock is not callable")
    result: Clock = clock
    return result
