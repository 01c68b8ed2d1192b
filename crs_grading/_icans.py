"""ICANS by ASTCT 2019 as findings, and the ICANS assessment (SPEC 2.9).

Every screen, RASS reading and neurologic sign since day 0 is graded once as a *finding* (the
same ``Finding`` as CRS, so drivers read the same way): a point in time, except a sign that is a
state charted as a Condition, which lasts while the Condition is active. The current grade is
the worst finding of the last 24 h, the peak the worst of any 24 h since day 0, the daily grades
the worst of each post-infusion day. ICANS never changes the CRS grade.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crs_grading import wording
from crs_grading._model import (
    Context,
    Finding,
    Gaps,
    Window,
    condition_interval,
    drivers,
    format_number,
)
from crs_grading.assessment import IcansAssessment, IcansGrade, NeurologicFinding
from crs_grading.criteria import Criterion, NeurologicKind
from crs_grading.inputs import (
    ConsciousnessReading,
    EncephalopathyScreen,
    EncephalopathyTool,
    NeurologicSign,
    NeurologicSignFinding,
    NeuroScore,
    NeuroScoreKind,
)
from crs_grading.tables import icans
from crs_grading.tables.common import meets_all

_TOOL_NAMES = {EncephalopathyTool.ICE: "ICE score", EncephalopathyTool.CAPD: "CAPD"}
_RASS_ROW = {rass: row for row in icans.CONSCIOUSNESS_ROWS for rass in row.rass}


def no_assessment_gap(ctx: Context) -> str:
    """SPEC 2.9: the data gap that keeps a grade 0 from reading as "checked"."""
    window = wording.span(ctx.options.vitals_window)
    return f"no ICE or consciousness assessment in the last {window}"


def legacy_ice_screens(scores: Iterable[NeuroScore]) -> list[EncephalopathyScreen]:
    """ICE totals that arrive as ``NeuroScore`` (kind ICE) read as ICE screens."""
    return [
        EncephalopathyScreen(EncephalopathyTool.ICE, s.time, s.reference, total=s.value)
        for s in scores
        if s.kind is NeuroScoreKind.ICE
    ]


def ice_scores(screens: Iterable[EncephalopathyScreen]) -> list[NeuroScore]:
    """ICE screens as ICE totals for SPEC 2.5 ("ICE < 10"): the charted or summed total (with
    items missing, the most the charted items allow), 0 when the patient was unarousable."""
    scores = []
    for screen in screens:
        if screen.tool is not EncephalopathyTool.ICE:
            continue
        total = 0.0 if screen.unable_to_perform else getattr(_total(screen), "points", None)
        if total is not None:
            scores.append(NeuroScore(NeuroScoreKind.ICE, screen.time, total, screen.reference))
    return scores


# -- Screens: ICE and CAPD ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Total:
    """A screen's total as graded: charted, summed from every item, or bounded by some items."""

    points: float
    how: str  # "" when charted; else how it was obtained, for the driver text
    complete: bool


def _total(screen: EncephalopathyScreen) -> _Total | None:
    """The charted total, else the items summed (SPEC 2.9). With some items missing, the total
    that grades least (ICE: every missing point earned; CAPD: no missing point of delirium), so
    the grade is one the charted items prove, never more."""
    if screen.total is not None:
        return _Total(screen.total, "", True)
    if not screen.items:
        return None
    abilities = icans.POINTS_ARE_ABILITIES[screen.tool]
    worst: dict[object, float] = {}
    for item in screen.items:
        if item.item.tool is not screen.tool:
            continue
        known = worst.get(item.item)
        if known is None or (item.points < known if abilities else item.points > known):
            worst[item.item] = item.points
    if not worst:
        return None
    every = [item for item in icans.ITEM_MAXIMA if item.tool is screen.tool]
    missing = [item for item in every if item not in worst]
    points = sum(worst.values())
    if not missing:
        return _Total(points, f"sum of its {len(every)} items", True)
    if abilities:
        points += sum(icans.ITEM_MAXIMA[item] for item in missing)
        bound = "at most"
    else:
        bound = "at least"
    how = f"{len(worst)} of {len(every)} items charted: {bound} {format_number(points)}"
    return _Total(points, how, False)


@dataclass(frozen=True, slots=True)
class ScreenTotal:
    """An ICE or CAPD screen as the ICANS grade reads it: its total (charted, or its items
    summed; ``how`` says which), or ``unable`` when the patient could not be roused to do it."""

    tool: EncephalopathyTool
    time: datetime
    reference: str
    points: float | None  # None when unable
    how: str
    unable: bool


def screen_totals(screens: Iterable[EncephalopathyScreen]) -> tuple[ScreenTotal, ...]:
    """Every screen with a total the grade can use, in the given order: out-of-range totals and
    screens without a total or items are left out, as the grader leaves them out."""
    found = []
    for screen in screens:
        if screen.unable_to_perform:
            found.append(
                ScreenTotal(screen.tool, screen.time, screen.reference, None, "", unable=True)
            )
            continue
        total = _total(screen)
        if total is None:
            continue
        low, high = icans.TOTAL_RANGE[screen.tool]
        if low <= total.points <= high:
            found.append(
                ScreenTotal(
                    screen.tool, screen.time, screen.reference, total.points, total.how, False
                )
            )
    return tuple(found)


def _screen_finding(screen: EncephalopathyScreen, ctx: Context, gaps: Gaps) -> Finding | None:
    tool = screen.tool
    criterion = icans.SCREEN_CRITERION[tool]
    name = _TOOL_NAMES[tool]
    current = ctx.current.contains(screen.time)
    if (
        tool is EncephalopathyTool.ICE
        and ctx.age_years is not None
        and ctx.age_years < icans.ICE_MIN_AGE_YEARS
    ):
        if current:
            gaps.add(
                "ICE score charted for a child under 12: not used for the ICANS grade "
                "(CAPD is the screen under 12)"
            )
        return None
    if screen.unable_to_perform:
        unable = icans.UNABLE_ROWS[tool]
        charted = "not possible"
        if screen.total is not None:  # an ICE of 0 with words beside it: what was charted
            charted = f"{format_number(screen.total)}/{format_number(icans.TOTAL_RANGE[tool][1])}"
        because = screen.unable_because or unable.because  # what was charted (review finding)
        text = f"{name} {charted}: {because}"
        return Finding(criterion, unable.grade, screen.time, screen.time, (screen.reference,), text)
    total = _total(screen)
    if total is None:
        return None
    low, high = icans.TOTAL_RANGE[tool]
    if not low <= total.points <= high:
        if current:
            gaps.add(f"{name} outside {format_number(low)}-{format_number(high)}: not graded")
        return None
    if not total.complete and current:
        gaps.add(f"{name} charted as items with some missing: graded on the charted items")
    for row in icans.SCREEN_ROWS:
        if row.tool is tool and meets_all(total.points, row.conditions):
            shown = format_number(total.points)
            out_of = f"/{format_number(high)}" if tool is EncephalopathyTool.ICE else ""
            how = f" ({total.how})" if total.how else ""
            text = f"{name} {shown}{out_of}{how}"
            severity = -total.points if icans.POINTS_ARE_ABILITIES[tool] else total.points
            return Finding(
                criterion,
                row.grade,
                screen.time,
                screen.time,
                (screen.reference,),
                text,
                severity,
            )
    return None  # a normal screen: ICE 10, CAPD 0


# -- Level of consciousness (RASS) ----------------------------------------------------------------


def _consciousness_finding(reading: ConsciousnessReading) -> Finding | None:
    row = _RASS_ROW.get(reading.rass)
    if row is None:
        return None  # RASS 0 or above: not depressed (agitation is not graded by ICANS)
    text = f"RASS {reading.rass}: {row.level}"
    if reading.sedated:
        text += " (under continuous sedation, which confounds it)"
    return Finding(
        Criterion.ICANS_DEPRESSED_CONSCIOUSNESS,
        row.grade,
        reading.time,
        reading.time,
        (reading.reference,),
        text,
        float(-reading.rass),
    )


# -- Seizures, motor findings, raised intracranial pressure ---------------------------------------


def _sign_finding(sign: NeurologicSignFinding, as_of: datetime) -> Finding | None:
    """The sign from its onset (else its recorded time). An event counts at that time; a state
    lasts as its Condition does (SPEC 2.5's ``condition_interval``: to its abatement, or to
    ``as_of`` while active), and at that time only when the Condition is resolved without an
    abatement, or is an Observation."""
    when = sign.onset if sign.onset is not None else sign.recorded
    if when is None:
        return None
    row = icans.SIGN_ROWS[sign.sign]
    end = when
    if row.state:
        course = condition_interval(replace(sign, onset=when), as_of)
        if course is not None:
            end = course.end
    text = row.words
    if sign.sign is NeurologicSign.CEREBRAL_EDEMA:
        text = "cerebral edema, extent not charted: counted as focal"
    charted = " ".join(sign.name.split())
    if charted and charted.lower() not in text.lower():
        text += f" ({charted})"  # the words as charted, unless they say nothing more
    return Finding(row.criterion, row.grade, when, end, (sign.reference,), text)


# -- The assessment -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IcansResult:
    """The ICANS assessment, its daily grades and its neurologic-dysfunction finding."""

    assessment: IcansAssessment
    daily: tuple[int, ...]  # day 0 to the as-of day
    neurologic: NeurologicFinding | None


def _grade(findings: Sequence[Finding], window: Window) -> IcansGrade:
    hits = [f for f in findings if f.overlaps(window)]
    grade = max((f.grade for f in hits), default=0)
    return IcansGrade(grade, drivers(hits), window.start, window.end)


def _days_of(finding: Finding, ctx: Context, days: int) -> range:
    """The post-infusion days a finding covers, within the ``days`` graded; an interval ending
    at midnight does not reach the next day (as the CRS daily grades read it)."""
    last = finding.end
    if finding.end > finding.start:
        last -= timedelta(microseconds=1)
    return range(max(ctx.day(finding.start), 0), min(ctx.day(last), days - 1) + 1)


def assess_icans(
    screens: Sequence[EncephalopathyScreen],
    consciousness: Sequence[ConsciousnessReading],
    signs: Sequence[NeurologicSignFinding],
    ctx: Context,
    gaps: Gaps,
    days: int,
) -> IcansResult:
    """Grade ICANS at ``ctx.as_of`` from every input since day 0 (inputs sorted by time).

    ``days`` is the number of post-infusion days to grade daily (0 out of scope).
    """
    span = ctx.span
    findings: list[Finding] = []
    for screen in screens:
        if span.contains(screen.time):
            found = _screen_finding(screen, ctx, gaps)
            if found is not None:
                findings.append(found)
    for reading in consciousness:
        if span.contains(reading.time):
            found = _consciousness_finding(reading)
            if found is not None:
                findings.append(found)
    undated = 0
    for sign in signs:
        found = _sign_finding(sign, ctx.as_of)
        if found is None:
            undated += 1
        elif span.contains(found.start):
            findings.append(found)
    if undated:
        gaps.add("a neurologic sign without onset or recorded date: not used for the ICANS grade")

    current_window = ctx.current
    current = _grade(findings, current_window)
    current = IcansGrade(current.grade, current.drivers, current.window_start, ctx.as_of)
    peak = current
    if findings:
        worst = max(findings, key=lambda f: (f.grade, -f.start.timestamp()))
        if worst.grade > current.grade:
            end = worst.start
            window = Window(max(end - ctx.options.vitals_window, ctx.since), end)
            peak = _grade(findings, window)
    assessed = any(current_window.contains(s.time) for s in screens) or any(
        current_window.contains(r.time) for r in consciousness
    )
    if ctx.day0 is not None and not assessed:
        gaps.add(no_assessment_gap(ctx))
    sedated = tuple(
        r.reference
        for r in consciousness
        if r.sedated and r.rass in _RASS_ROW and current_window.contains(r.time)
    )
    daily = [0] * days
    if ctx.day0 is not None:
        for finding in findings:
            for day in _days_of(finding, ctx, days):
                daily[day] = max(daily[day], finding.grade)
    neurologic = None
    if current.grade >= 1:
        evidence = tuple(dict.fromkeys(ref for d in current.drivers for ref in d.evidence))
        shown = "; ".join(d.text for d in current.drivers)
        neurologic = NeurologicFinding(
            NeurologicKind.ICANS,
            evidence,
            f"ICANS grade {current.grade} ({shown})",
        )
    return IcansResult(IcansAssessment(current, peak, assessed, sedated), tuple(daily), neurologic)


def with_icans(
    findings: tuple[NeurologicFinding, ...], icans_finding: NeurologicFinding | None
) -> tuple[NeurologicFinding, ...]:
    """SPEC 2.5 neurologic findings with ICANS >= 1 among them (SPEC 2.9). The ICANS finding
    cites its ICE scores, so it replaces the "ICE < 10" one (each fact once); an ICE that did not
    grade (a child under 12) stays as "ICE < 10"."""
    if icans_finding is None:
        return findings
    kept = tuple(f for f in findings if f.kind != NeurologicKind.ICE_BELOW_10)
    return (*kept, icans_finding)
