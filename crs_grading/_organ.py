"""Organ toxicity by CTCAE v4.03 as Lee 2014 findings (seed Table 2; SPEC 2.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crs_grading._model import Context, Finding, Gaps, Window, format_number, latest_in
from crs_grading.inputs import LAB_NAMES, LAB_UNITS, Comparator, LabResult, LabTest
from crs_grading.tables import ctcae_v403, lee2014
from crs_grading.tables.common import REVERSED, meets
from crs_grading.tables.ctcae_v403 import Measure, OrganTerm, OrganToxicityRow

#: The lab tests organ toxicity is graded from, each with its terms (AST and ALT are one each).
TERMS_BY_TEST: dict[LabTest, tuple[OrganTerm, ...]] = {}
for _term, _test in ctcae_v403.TERM_TEST.items():
    TERMS_BY_TEST[_test] = (*TERMS_BY_TEST.get(_test, ()), _term)

#: Each term's rows in table order, and the measures they compare (indexed once, not per result).
_ROWS_BY_TERM: dict[OrganTerm, tuple[OrganToxicityRow, ...]] = {
    term: tuple(row for row in ctcae_v403.ROWS if row.term is term) for term in OrganTerm
}
_MEASURES_BY_TERM: dict[OrganTerm, frozenset[Measure]] = {
    term: frozenset(row.measure for row in rows) for term, rows in _ROWS_BY_TERM.items()
}


@dataclass(frozen=True, slots=True)
class Graded:
    """A result's CTCAE grade for one term and the row that set it."""

    term: OrganTerm
    grade: int
    row: OrganToxicityRow
    measure: float
    comparator: Comparator | None = None  # the charted bound, carried to the measure


def _measure(row: OrganToxicityRow, result: LabResult, baseline: LabResult | None) -> float | None:
    value = result.value
    if row.measure is Measure.VALUE:
        return value
    if row.measure is Measure.ULN_MULTIPLE:
        return value / result.high if result.high and result.high > 0 else None
    if row.measure is Measure.LLN_MULTIPLE:
        return value / result.low if result.low and result.low > 0 else None
    if baseline is None or baseline.value <= 0:
        return None
    if row.measure is Measure.BASELINE_MULTIPLE:
        return value / baseline.value
    if row.measure is Measure.FALL_FROM_BASELINE_PERCENT:
        return (baseline.value - value) / baseline.value * 100.0
    return baseline.value - value  # FALL_FROM_BASELINE_POINTS


def _measure_comparator(row: OrganToxicityRow, result: LabResult) -> Comparator | None:
    """The charted comparator carried to the measure: multiples keep its direction, a fall
    from baseline turns it around ("<50" is a fall of more than ...)."""
    if result.comparator is None or not row.measure.needs_baseline:
        return result.comparator
    if row.measure is Measure.BASELINE_MULTIPLE:
        return result.comparator
    return REVERSED[result.comparator]


def grade_result(term: OrganTerm, result: LabResult, baseline: LabResult | None) -> Graded | None:
    """The highest CTCAE v4.03 grade (2 to 4) whose row the result meets, else ``None``.

    A result charted as a bound ("<50 mg/dL") meets a row only when every value beyond the bound
    does (SPEC 3 "Comparators").
    """
    best: Graded | None = None
    for row in _ROWS_BY_TERM[term]:
        if best is not None and row.grade <= best.grade:
            continue
        measure = _measure(row, result, baseline)
        charted = _measure_comparator(row, result)
        if measure is not None and meets(measure, row.comparison, row.threshold, charted):
            best = Graded(term, row.grade, row, measure, charted)
    return best


def _describe(graded: Graded, result: LabResult, baseline: LabResult | None) -> str:
    unit = LAB_UNITS[result.test]
    charted = result.comparator or ""  # shown as charted: "fibrinogen <50 mg/dL"
    value = f"{LAB_NAMES[result.test]} {charted}{format_number(result.value)} {unit}"
    row, measure = graded.row, graded.measure
    bound = graded.comparator or ""
    if row.measure is Measure.ULN_MULTIPLE:
        detail = f"{bound}{format_number(measure)} x ULN {format_number(result.high or 0.0)}"
    elif row.measure is Measure.LLN_MULTIPLE:
        detail = f"{bound}{format_number(measure)} x LLN {format_number(result.low or 0.0)}"
    elif row.measure is Measure.BASELINE_MULTIPLE:
        base = format_number(baseline.value if baseline else 0.0)
        detail = f"{bound}{format_number(measure)} x baseline {base}"
    elif row.measure is Measure.FALL_FROM_BASELINE_PERCENT:
        detail = f"{bound}{format_number(measure)}% below baseline"
    elif row.measure is Measure.FALL_FROM_BASELINE_POINTS:
        detail = f"{bound}{format_number(measure)} points below baseline"
    else:
        detail = f"{row.comparison} {format_number(row.threshold)} {unit}"
    return f"{value} ({detail}): {graded.term.ctcae_name}, CTCAE v4.03 grade {graded.grade}"


def finding_of(result: LabResult, baseline: LabResult | None) -> Finding | None:
    """The worst Lee organ-toxicity finding of one result (CTCAE grade -> CRS grade)."""
    worst: Finding | None = None
    for term in TERMS_BY_TEST.get(result.test, ()):
        graded = grade_result(term, result, baseline)
        if graded is None:
            continue
        mapped = lee2014.ORGAN_TOXICITY[(term, graded.grade)]
        evidence: tuple[str, ...] = (result.reference,)
        if graded.row.measure.needs_baseline and baseline is not None:
            evidence = (result.reference, baseline.reference)
        finding = Finding(
            mapped.criterion,
            mapped.crs_grade,
            result.time,
            result.time,
            evidence,
            _describe(graded, result, baseline),
            float(graded.grade),
        )
        if worst is None or finding.grade > worst.grade:
            worst = finding
    return worst


def baselines(labs: Sequence[LabResult], ctx: Context) -> dict[LabTest, LabResult]:
    """The last result of each test before day 0 (labs sorted by time); none out of scope.

    A result charted as a bound ("<0.3") is no baseline: a ratio or fall from it means nothing.
    """
    found: dict[LabTest, LabResult] = {}
    if ctx.day0 is None:
        return found
    for result in labs:
        if result.time < ctx.since and result.comparator is None:
            found[result.test] = result
    return found


def organ_findings(
    labs: Sequence[LabResult],
    ctx: Context,
    baseline: Mapping[LabTest, LabResult],
    gaps: Gaps,
) -> tuple[list[Finding], list[Finding]]:
    """All organ-toxicity findings since day 0, and those of the current grade.

    The current grade uses the latest result of each test within the lab window (SPEC 2.2).
    """
    graded_labs = [result for result in labs if result.test in TERMS_BY_TEST]
    span = ctx.span
    since = [result for result in graded_labs if span.contains(result.time)]
    for result in since:
        _note_gaps(result, baseline.get(result.test), ctx, gaps)
    every = [f for r in since if (f := finding_of(r, baseline.get(r.test))) is not None]
    lab_window = Window(max(ctx.as_of - ctx.options.lab_window, ctx.since), ctx.horizon)
    current = [
        f
        for r in latest_in(since, lab_window).values()
        if (f := finding_of(r, baseline.get(r.test))) is not None
    ]
    return every, current


def _note_gaps(result: LabResult, baseline: LabResult | None, ctx: Context, gaps: Gaps) -> None:
    name = LAB_NAMES[result.test]
    for term in TERMS_BY_TEST[result.test]:
        measures = _MEASURES_BY_TERM[term]
        if Measure.ULN_MULTIPLE in measures and not result.high:
            gaps.add(f"{name} result without an upper limit of normal: x ULN criteria skipped")
        if Measure.LLN_MULTIPLE in measures and not result.low:
            gaps.add(f"{name} result without a lower limit of normal: x LLN criteria skipped")
        needs_baseline = any(m.needs_baseline for m in measures)
        if needs_baseline and baseline is None and ctx.day0 is not None:
            gaps.add(f"no {name} result before day 0: baseline criteria skipped")
