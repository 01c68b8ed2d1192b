"""The comparisons a threshold row uses, applied in one place.

Values a table compares come from unit conversions (degF to degC, ug/kg/min x kg), so an exact
boundary can arrive as 37.99999999999999. Two numbers within a relative 1e-9 of each other are the
same number here: "exactly 3.0 x ULN" is never "above 3 x ULN", and 100.4 degF is 38.0 C.
"""

from __future__ import annotations

import enum
import math

_REL_TOL = 1e-9


class Comparison(enum.StrEnum):
    """How a value meets a threshold."""

    ABOVE = ">"
    AT_LEAST = ">="
    BELOW = "<"
    AT_MOST = "<="


def meets(value: float, comparison: Comparison, threshold: float) -> bool:
    """True when ``value comparison threshold`` holds, equal within a relative 1e-9."""
    if comparison is Comparison.ABOVE:
        return value > threshold and not _equal(value, threshold)
    if comparison is Comparison.AT_LEAST:
        return value >= threshold or _equal(value, threshold)
    if comparison is Comparison.BELOW:
        return value < threshold and not _equal(value, threshold)
    return value <= threshold or _equal(value, threshold)


def _equal(value: float, threshold: float) -> bool:
    return math.isclose(value, threshold, rel_tol=_REL_TOL, abs_tol=1e-12)


def meets_all(value: float, conditions: tuple[tuple[Comparison, float], ...]) -> bool:
    """True when ``value`` meets every ``(comparison, threshold)``."""
    return all(meets(value, comparison, threshold) for comparison, threshold in conditions)
