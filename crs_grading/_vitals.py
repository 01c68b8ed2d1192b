"""Fever, hypotension and constitutional symptoms as findings (seed Table 2, ASTCT 2019,
Mahadeo 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter

from crs_grading._model import Context, Finding, condition_interval, format_number
from crs_grading.criteria import Criterion
from crs_grading.inputs import BloodPressure, ConditionCategory, ConditionFinding, Measurement
from crs_grading.tables import astct2019, hypotension, lee2014
from crs_grading.tables.common import meets


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


def mean_arterial_pressure(reading: BloodPressure) -> tuple[float | None, bool]:
    """The measured MAP, else DBP + (SBP - DBP) / 3; the flag says it was derived."""
    if reading.mean is not None:
        return reading.mean, False
    if reading.systolic is not None and reading.diastolic is not None:
        return reading.diastolic + (reading.systolic - reading.diastolic) / 3.0, True
    return None, False


def hypotension_row(reading: BloodPressure, age_years: int) -> tuple[str, float] | None:
    """The first Mahadeo 2019 row the reading meets, as (explanation, pressure), else None."""
    for row in hypotension.ROWS:
        if not row.applies(age_years):
            continue
        threshold = row.threshold(age_years)
        if row.pressure is hypotension.Pressure.SYSTOLIC:
            value, derived = reading.systolic, False
        else:
            value, derived = mean_arterial_pressure(reading)
        if value is None or not meets(value, hypotension.COMPARISON, threshold):
            continue
        limit = f"< {format_number(threshold)} mmHg"
        if row.pressure is hypotension.Pressure.MEAN:
            how = "derived MAP" if derived else "MAP"
            return f"{how} {format_number(value)} {limit}", value
        if reading.diastolic is None:
            return f"systolic {format_number(value)} {limit}", value
        return f"systolic {limit}", value
    return None


def _reading_text(reading: BloodPressure) -> str:
    if reading.systolic is not None and reading.diastolic is not None:
        return f"BP {format_number(reading.systolic)}/{format_number(reading.diastolic)} mmHg"
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
                    when, systolic.reference, systolic.systolic, diastolic.diastolic
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
