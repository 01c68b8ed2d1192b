"""Fever, hypotension and constitutional symptoms as findings (seed Table 2, ASTCT 2019,
Mahadeo 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from crs_grading._model import Context, Finding, condition_interval, format_number
from crs_grading.criteria import Criterion
from crs_grading.inputs import (
    BloodPressure,
    Comparator,
    ConditionCategory,
    ConditionFinding,
    Measurement,
)
from crs_grading.tables import astct2019, hypotension, lee2014
from crs_grading.tables.common import Comparison, meets


def is_fever(temperature: Measurement) -> bool:
    """Temperature >= 38.0 C (seed Table 2 grade 1; SPEC 2.3); a bound (">39") counts only
    when every value beyond it is a fever (SPEC 3 "Comparators")."""
    return meets(
        temperature.value,
        lee2014.FEVER_COMPARISON,
        lee2014.FEVER_THRESHOLD_C,
        temperature.comparator,
    )


def fever_findings(
    temperatures: Sequence[Measurement], ctx: Context
) -> tuple[list[Finding], list[Finding]]:
    """Lee ``fever`` and ASTCT ``astct-fever`` findings since day 0."""
    lee: list[Finding] = []
    astct: list[Finding] = []
    lee_grade = lee2014.GRADES[Criterion.FEVER][0]
    astct_grade = astct2019.GRADES[Criterion.ASTCT_FEVER][0]
    span = ctx.span
    for reading in temperatures:
        if not span.contains(reading.time):
            continue
        text = f"temperature {reading.comparator or ''}{reading.value:.1f} C"
        common = (reading.time, reading.time, (reading.reference,), text, reading.value)
        if is_fever(reading):
            lee.append(Finding(Criterion.FEVER, lee_grade, *common))
        if meets(
            reading.value,
            astct2019.FEVER_COMPARISON,
            astct2019.FEVER_THRESHOLD_C,
            reading.comparator,
        ):
            astct.append(Finding(Criterion.ASTCT_FEVER, astct_grade, *common, fever=True))
    return lee, astct


class ArterialMean(NamedTuple):
    """A mean arterial pressure: ``derived`` from systolic and diastolic when not measured;
    ``comparator`` when it is a bound (a part charted as "<60", SPEC 3 "Comparators")."""

    value: float | None
    derived: bool = False
    comparator: Comparator | None = None


#: The bounds a derived mean can keep. MAP = DBP + (SBP - DBP) / 3 = (2 DBP + SBP) / 3 rises with
#: both parts, so parts bounded in one direction bound it in that direction (strictly when either
#: part is strict); parts bounded in opposite directions bound nothing.
_DERIVED_BOUNDS: tuple[tuple[frozenset[Comparator], Comparator, Comparator], ...] = (
    (frozenset({Comparator.BELOW, Comparator.AT_MOST}), Comparator.BELOW, Comparator.AT_MOST),
    (frozenset({Comparator.ABOVE, Comparator.AT_LEAST}), Comparator.ABOVE, Comparator.AT_LEAST),
)


def mean_arterial_pressure(reading: BloodPressure) -> ArterialMean:
    """The measured MAP, else DBP + (SBP - DBP) / 3, with its bound when a part is one; no value
    when the parts are bounds in opposite directions ("<90" over ">60")."""
    if reading.mean is not None:
        return ArterialMean(reading.mean, False, reading.mean_comparator)
    return _derived_mean(reading)


def _derived_mean(reading: BloodPressure) -> ArterialMean:
    systolic, diastolic = reading.systolic, reading.diastolic
    if systolic is None or diastolic is None:
        return ArterialMean(None)
    value = diastolic + (systolic - diastolic) / 3.0
    bounds = {
        c for c in (reading.systolic_comparator, reading.diastolic_comparator) if c is not None
    }
    if not bounds:
        return ArterialMean(value, True)
    for direction, strict, loose in _DERIVED_BOUNDS:
        if bounds <= direction:
            return ArterialMean(value, True, strict if strict in bounds else loose)
    return ArterialMean(None)


def _undecided(value: float | None, threshold: float, comparator: Comparator | None) -> bool:
    """A bound that neither meets the row (every pressure beyond it is below the threshold) nor
    rules it out (every pressure beyond it is at or above it)."""
    if value is None or comparator is None:
        return False
    below = meets(value, hypotension.COMPARISON, threshold, comparator)
    return not below and not meets(value, Comparison.AT_LEAST, threshold, comparator)


def _bound(comparator: Comparator | None, value: float) -> str:
    """A pressure as charted: "<60" for a bound, "60" for a measurement."""
    return f"{comparator or ''}{format_number(value)}"


def hypotension_row(reading: BloodPressure, age_years: int) -> tuple[str, float] | None:
    """The first Mahadeo 2019 row the reading meets, as (explanation, pressure), else None.

    A part charted as a bound meets a row only when every pressure beyond the bound does: "<60"
    meets "< 90 mmHg", "<=90" and ">60" never do (SPEC 3 "Comparators").
    """
    for row in hypotension.ROWS:
        if not row.applies(age_years):
            continue
        threshold = row.threshold(age_years)
        if row.pressure is hypotension.Pressure.SYSTOLIC:
            value, derived, comparator = reading.systolic, False, reading.systolic_comparator
        else:
            value, derived, comparator = mean_arterial_pressure(reading)
            if not derived and _undecided(value, threshold, comparator):
                # A measured MAP charted as "<=65" neither meets "< 65" nor rules it out: the
                # pressures beside it decide (95/45 derives 61.7, hypotensive).
                value, derived, comparator = _derived_mean(reading)
        if value is None or not meets(value, hypotension.COMPARISON, threshold, comparator):
            continue
        rule = f"< {format_number(threshold)} mmHg"
        if row.pressure is hypotension.Pressure.SYSTOLIC and reading.diastolic is not None:
            return f"systolic {rule}", value  # the reading text gives the pressures
        name = "systolic"
        if row.pressure is hypotension.Pressure.MEAN:
            name = "derived MAP" if derived else "MAP"
        if comparator is None:
            return f"{name} {format_number(value)} {rule}", value
        return f"{name} {_bound(comparator, value)} mmHg, limit {rule}", value  # as charted
    return None


def _reading_text(reading: BloodPressure) -> str:
    if reading.systolic is not None and reading.diastolic is not None:
        systolic = _bound(reading.systolic_comparator, reading.systolic)
        diastolic = _bound(reading.diastolic_comparator, reading.diastolic)
        return f"BP {systolic}/{diastolic} mmHg"
    return "BP"  # the explanation gives the one pressure charted


def _paired(pressures: Sequence[BloodPressure]) -> list[tuple[BloodPressure, tuple[str, ...]]]:
    """Each reading with the resources it rests on.

    A systolic and a diastolic pressure charted as two Observations of the same time (rather
    than one panel) are read together, so that the mean arterial pressure can be derived from
    them (SPEC 3 reads the standalone codes 8480-6 and 8462-4). ``pressures`` is time-sorted.
    """
    result: list[tuple[BloodPressure, tuple[str, ...]]] = []
    for when, same_time in groupby(pressures, key=attrgetter("time")):
        group = list(same_time)
        only_systolic = [r for r in group if r.diastolic is None and r.mean is None]
        only_diastolic = [r for r in group if r.systolic is None and r.mean is None]
        if len(only_systolic) == 1 and len(only_diastolic) == 1 and len(group) == 2:
            systolic, diastolic = only_systolic[0], only_diastolic[0]
            if systolic.systolic is not None and diastolic.diastolic is not None:
                joined = BloodPressure(
                    when,
                    systolic.reference,
                    systolic.systolic,
                    diastolic.diastolic,
                    systolic_comparator=systolic.systolic_comparator,
                    diastolic_comparator=diastolic.diastolic_comparator,
                )
                result.append((joined, (systolic.reference, diastolic.reference)))
                continue
        result.extend((reading, (reading.reference,)) for reading in group)
    return result


def hypotension_findings(
    pressures: Sequence[BloodPressure], ctx: Context
) -> tuple[list[Finding], list[Finding]]:
    """Lee ``hypotension`` and ASTCT ``astct-hypotension-no-vasopressor`` findings.

    A hypotensive reading grades 2 in both systems whatever the drips: the vasopressor criteria
    grade the drips themselves, higher.
    """
    age = ctx.age_years if ctx.age_years is not None else hypotension.UNKNOWN_AGE_ASSUMED
    lee: list[Finding] = []
    astct: list[Finding] = []
    lee_grade = lee2014.GRADES[Criterion.HYPOTENSION][0]
    astct_grade = astct2019.GRADES[Criterion.ASTCT_HYPOTENSION_NO_VASOPRESSOR][0]
    span = ctx.span
    for reading, evidence in _paired(pressures):
        if not span.contains(reading.time):
            continue
        fired = hypotension_row(reading, age)
        if fired is None:
            continue
        explanation, value = fired
        text = f"{_reading_text(reading)} ({explanation})"
        common = (reading.time, reading.time, evidence, text, -value)
        lee.append(Finding(Criterion.HYPOTENSION, lee_grade, *common))
        astct.append(Finding(Criterion.ASTCT_HYPOTENSION_NO_VASOPRESSOR, astct_grade, *common))
    return lee, astct


def constitutional_findings(conditions: Sequence[ConditionFinding], ctx: Context) -> list[Finding]:
    """Lee ``constitutional-symptoms`` (grade 1): a symptom Condition counts at its onset (else
    its recordedDate), so only in the windows that hold it (SPEC 2.3: problem lists are rarely
    cleaned up, and an old headache must not hold a patient at grade 1 for weeks). A symptom
    with no date cannot be placed and never counts; a refuted one never counts."""
    grade = lee2014.GRADES[Criterion.CONSTITUTIONAL_SYMPTOMS][0]
    findings = []
    for condition in conditions:
        if condition.category is not ConditionCategory.CONSTITUTIONAL:
            continue
        onset = condition.onset
        if onset is None or not ctx.span.contains(onset):
            continue
        if condition_interval(condition, ctx.as_of) is None:
            continue  # refuted, or resolved with no abatement date: not a symptom we can place
        findings.append(
            Finding(
                Criterion.CONSTITUTIONAL_SYMPTOMS,
                grade,
                onset,
                onset,
                (condition.reference,),
                condition.name,  # a symptom counts from its onset (SPEC 2.3): new by rule
            )
        )
    return findings
