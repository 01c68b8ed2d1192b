"""How numbers, times, durations, ages and lists read in every clinician-facing text.

One formatter per concept, used by the grader's sentences, the treatment plan, the cards, the
SMART page and the CLI: a clinician sees the same number written the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

__all__ = [
    "MAX_SUMMARY",
    "ago",
    "age",
    "capitalised",
    "clock",
    "duration",
    "exact_decimal",
    "fit_summary",
    "fold",
    "join_words",
    "number",
    "sentence",
    "span",
]


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


def number(value: float | int | Decimal, digits: int = 3) -> str:
    """A number without trailing zeros or exponent.

    A ``Decimal`` or ``int`` is written exactly (250.500 -> "250.5": doses and weights as
    recorded); a ``float`` is rounded to at most ``digits`` decimals (13.60 -> "13.6").
    """
    if isinstance(value, (Decimal, int)):
        return f"{exact_decimal(value).normalize():f}"
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fold(ratio: float) -> str:
    """A fold change: one decimal below 10, whole above ("9.7x", "12x")."""
    return f"{number(ratio, 1 if ratio < 10 else 0)}x"


def clock(moment: datetime, zone: tzinfo = UTC) -> str:
    """A time as clinicians read it, on the local clock ``zone`` of the patient's data:
    "23 Nov 02:00". A time on a UTC clock says so: "23 Nov 10:00 UTC"."""
    local = moment.astimezone(zone)
    text = f"{local.day} {local.strftime('%b %H:%M')}"
    return f"{text} UTC" if local.utcoffset() == timedelta(0) else text


def duration(length: timedelta) -> str:
    """A duration in hours and minutes, rounded down to the minute: "23 h 59 min", "8 h",
    "45 min". The one duration format."""
    minutes = math.floor(abs(length).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    if minutes == 0:
        return f"{hours} h"
    return f"{hours} h {minutes} min"


def span(length: timedelta) -> str:
    """A window's length as a rule states it: "30 days", "7 days", "72 h", "24 h", "5 min"."""
    if length >= timedelta(days=7) and length % timedelta(days=1) == timedelta(0):
        return f"{length.days} days"
    return duration(length)


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


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def capitalised(text: str) -> str:
    """``text`` with its first letter upper case."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """``text`` on one line with a capital first letter and a closing full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = capitalised(text)
    return text if text.endswith((".", "!", "?")) else f"{text}."


#: CDS Hooks 2.0.1 Card.summary: "<140-character"; SPEC section 4 keeps every summary under it.
MAX_SUMMARY = 139


def fit_summary(*candidates: str) -> str:
    """The first candidate shorter than 140 characters, else the last one cut with an ellipsis.

    Candidates go from the most to the least complete wording, so a long therapy name or next
    step costs words, never the grade.
    """
    if not candidates:
        raise ValueError("fit_summary needs at least one candidate")
    for candidate in candidates:
        text = " ".join(candidate.split())
        if len(text) <= MAX_SUMMARY:
            return text
    last = " ".join(candidates[-1].split())
    return last[: MAX_SUMMARY - 1].rstrip() + "…"
