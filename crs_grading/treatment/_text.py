"""Small formatters for the clinician-facing texts of the treatment package."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal


def exact_decimal(value: float | int | Decimal) -> Decimal:
    """The decimal a clinician reads for ``value``: 62.625 stays 62.625, never 62.62499...

    ``repr`` of a float is the shortest text that reads back as the same float, which is the
    number the EHR sent; ``Decimal(float)`` would carry the binary expansion instead.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def number(value: float | int | Decimal) -> str:
    """Plain text of a number without trailing zeros or exponent: 250.500 -> "250.5"."""
    return f"{exact_decimal(value).normalize():f}"


def clock(moment: datetime) -> str:
    """A time as clinicians read it on a card, in UTC: "2026-11-23 10:00 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(span: timedelta) -> str:
    """A duration in hours and minutes, rounded down to the minute: "23 h 59 min"."""
    minutes = math.floor(abs(span).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    if minutes == 0:
        return f"{hours} h"
    return f"{hours} h {minutes} min"


def ago(moment: datetime, now: datetime) -> str:
    """How long before ``now`` ``moment`` was: "26 h ago" (or "in 10 min" when later)."""
    if moment > now:
        return f"in {duration(moment - now)}"
    return f"{duration(now - moment)} ago"


def age(years: float) -> str:
    """An age in whole years ("70 y"), or whole months under one year ("8 months")."""
    if years >= 1:
        return f"{math.floor(years)} y"
    return f"{math.floor(years * 12)} months"


def join_words(items: list[str] | tuple[str, ...]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
