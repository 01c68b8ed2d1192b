"""The one place clinician-facing words and numbers are written.

- ``formats``: numbers, fold changes, times, durations, ages, lists and sentences;
- ``names``: display names of labs, grading systems, warnings, links.

Everything a clinician reads (card text, the SMART page, ``crs-cds grade``, alerts) is worded
with these, so a number or a duration reads the same wherever it appears.
"""

from __future__ import annotations

from crs_grading.wording.formats import (
    MAX_SUMMARY,
    age,
    ago,
    capitalised,
    clock,
    duration,
    exact_decimal,
    fit_summary,
    fold,
    join_words,
    number,
    sentence,
    span,
)
from crs_grading.wording.names import (
    CRS,
    LAB_NAMES,
    OVERRIDE_REASONS,
    PROTOCOL_NAMES,
    SEED_PAPER_LINK,
    SMART_APP_LINK,
    SYSTEM_NAMES,
    WARNING_NAMES,
)

__all__ = [
    "CRS",
    "MAX_SUMMARY",
    "OVERRIDE_REASONS",
    "PROTOCOL_NAMES",
    "LAB_NAMES",
    "SEED_PAPER_LINK",
    "SMART_APP_LINK",
    "SYSTEM_NAMES",
    "WARNING_NAMES",
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
