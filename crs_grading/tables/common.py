"""The comparisons a threshold row uses, applied in one place.

Values a table compares come from unit conversions (degF to degC, ug/kg/min x kg), so an exact
boundary can arrive as 37.99999999999999. Two numbers within a relative 1e-9 of each other are the
same number here: "exactly 3.0 x ULN" is never "above 3 x ULN", and 100.4 degF is 38.0 C.
"""

from __future__ import annotations

import enum
import math

from crs_grading.inputs import Comparator

_REL_TOL = 1e-9


class Comparison(enum.StrEnum):
    """How a value meets a threshold."""

    ABOVE = ">"
    AT_LEAST = ">="
    BELOW = "<"
    AT_MOST = "<="


#: For a value charted as a bound: which comparison of the bound guarantees each comparison of
#: the true value (SPEC 3 "Comparators"). "<50" (true value below 50) satisfies "< 50" and
#: "<= 50"; a value below a limit never satisfies an "above" criterion, and the reverse.
_GUARANTEED_BY: dict[Comparator, dict[Comparison, Comparison]] = {
    Comparator.BELOW: {
        Comparison.BELOW: Comparison.AT_MOST,
        Comparison.AT_MOST: Comparison.AT_MOST,
    },
    Comparator.AT_MOST: {
        Comparison.BELOW: Comparison.BELOW,
        Comparison.AT_MOST: Comparison.AT_MOST,
    },
    Comparator.ABOVE: {
        Comparison.ABOVE: Comparison.AT_LEAST,
        Comparison.AT_LEAST: Comparison.AT_LEAST,
    },
    Comparator.AT_LEAST: {
        Comparison.ABOVE: Comparison.ABOVE,
        Comparison.AT_LEAST: Comparison.AT_LEAST,
    },
}

#: A decreasing measure of a value (the fall from baseline) turns its bound around.
REVERSED: dict[Comparator, Comparator] = {
    Comparator.BELOW: Comparator.ABOVE,
    Comparator.AT_MOST: Comparator.AT_LEAST,
    Comparator.ABOVE: Comparator.BELOW,
    Comparator.AT_LEAST: Comparator.AT_MOST,
}


def meets(
    value: float,
    comparison: Comparison,
    threshold: float,
    charted: Comparator | None = None,
) -> bool:
    """True when ``value comparison threshold`` holds, equal within a relative 1e-9.

    ``charted``: the value is a bound as charted (``valueQuantity.comparator``); then it holds
    only when every true value beyond the bound satisfies it.
    """
    if charted is not None:
        guaranteed = _GUARANTEED_BY[charted].get(comparison)
        return guaranteed is not None and meets(value, guaranteed, threshold)
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
