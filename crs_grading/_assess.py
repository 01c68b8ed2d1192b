"""``assess``: grading inputs at one time -> an ``Assessment`` (SPEC 2.1 to 2.5, 2.7, 2.8).

Order of work: drop future-dated data; choose the therapy and day 0; grade every reading, drip
and result once as a *finding*; then read the current grade, the peak grade and the daily grades
off the findings by window. Sorting dominates: O(n log n) in the number of inputs.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from crs_grading import _icans, _iec_hs, _organ, _oxygen, _signals, _vasopressors, _vitals, wording
from crs_grading._model import (
    BEGINNING,
    Context,
    Finding,
    Gaps,
    Window,
    condition_interval,
    drivers,
)
from crs_grading.assessment import (
    Assessment,
    DailyGrade,
    GradingSystem,
    SystemGrade,
    TherapyContext,
)
from crs_grading.calendar import local_zone
from crs_grading.criteria import Criterion
from crs_grading.inputs import (
    LAB_NAMES,
    BloodPressure,
    ConditionCategory,
    ConditionFinding,
    ConsciousnessReading,
    CultureResult,
    EncephalopathyScreen,
    GradingInputs,
    Immunosuppressant,
    ImmunosuppressantDose,
    LabResult,
    LabTest,
    Measurement,
    NeurologicSignFinding,
    NeuroScore,
    OxygenReading,
    PatientFacts,
    SkippedResource,
    TherapyAdministration,
    TherapyKind,
    UnidentifiedAdministration,
    VasopressorAdministration,
    VentilationPeriod,
)
from crs_grading.options import GradingOptions
from crs_grading.tables import astct2019, lee2014, signals, windows

logger = logging.getLogger(__name__)

FUTURE_REASON = "dated after the assessment time"
GAP_STATED_WEIGHT = "no measured body weight: the weight stated by the patient is used"

#: SPEC 2.1: a cell-therapy infusion within scope sets day 0 before any engager or antibody dose.
CELL_THERAPY_KINDS = frozenset(
    {TherapyKind.CAR_T, TherapyKind.TCR_TIL, TherapyKind.CELL_THERAPY_OTHER}
)

_T = TypeVar("_T")


# -- Data as of the assessment time ---------------------------------------------------------------


def _as_of_data(
    items: Iterable[_T],
    time_of: Callable[[_T], datetime | None],
    reference_of: Callable[[_T], str],
    horizon: datetime,
    skipped: list[SkippedResource],
) -> list[_T]:
    """Items dated up to ``horizon``, sorted by (time, reference); later ones go to ``skipped``."""
    kept: list[tuple[datetime, str, _T]] = []
    for item in items:
        when = time_of(item)
        if when is not None and when > horizon:
            skipped.append(SkippedResource(reference_of(item), FUTURE_REASON))
            continue
        kept.append((when or BEGINNING, reference_of(item), item))
    kept.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in kept]


@dataclass(frozen=True, slots=True)
class _Data:
    """The inputs as of the assessment time, each sequence sorted by time and reference."""

    therapies: list[TherapyAdministration]
    temperatures: list[Measurement]
    pressures: list[BloodPressure]
    vitals: list[Measurement]  # heart rate, respiratory rate, SpO2: only "are there vitals"
    oxygen: list[OxygenReading]
    ventilation: list[VentilationPeriod]
    vasopressors: list[VasopressorAdministration]
    labs: list[LabResult]
    cultures: list[CultureResult]
    scores: list[NeuroScore]
    conditions: list[ConditionFinding]
    immunosuppressants: list[ImmunosuppressantDose]
    weights: list[Measurement]
    stated_weights: list[Measurement]
    screens: list[EncephalopathyScreen]  # ICE and CAPD (SPEC 2.9)
    consciousness: list[ConsciousnessReading]
    signs: list[NeurologicSignFinding]
    death_time: datetime | None
    deceased: bool


def _data(inputs: GradingInputs, horizon: datetime, skipped: list[SkippedResource]) -> _Data:
    def keep(items: Iterable[_T], time_of: Callable[[_T], datetime | None]) -> list[_T]:
        return _as_of_data(
            items, time_of, lambda i: str(getattr(i, "reference", "")), horizon, skipped
        )

    patient = inputs.patient
    deceased, death_time = patient.deceased, patient.deceased_time
    if deceased and death_time is not None and death_time > horizon:
        skipped.append(SkippedResource(patient.reference, f"time of death {FUTURE_REASON}"))
        deceased, death_time = False, None
    return _Data(
        therapies=keep(inputs.therapies, lambda t: t.time),
        temperatures=keep(inputs.temperatures_c, lambda m: m.time),
        pressures=keep(inputs.blood_pressures, lambda b: b.time),
        vitals=keep(
            (*inputs.heart_rates, *inputs.respiratory_rates, *inputs.spo2_percent),
            lambda m: m.time,
        ),
        oxygen=keep(inputs.oxygen, lambda o: o.time),
        ventilation=keep(inputs.ventilation, lambda v: v.start),
        vasopressors=keep(inputs.vasopressors, lambda v: v.start),
        labs=keep(inputs.labs, lambda r: r.time),
        cultures=keep(inputs.blood_cultures, lambda c: c.time),
        scores=keep(
            (*inputs.neuro_scores, *_icans.ice_scores(inputs.encephalopathy_screens)),
            lambda s: s.time,
        ),
        conditions=keep(inputs.conditions, lambda c: c.onset),
        immunosuppressants=keep(inputs.immunosuppressants, lambda d: d.time),
        weights=keep(inputs.weights_kg, lambda m: m.time),
        stated_weights=keep(inputs.stated_weights_kg, lambda m: m.time),
        screens=keep(
            (*inputs.encephalopathy_screens, *_icans.legacy_ice_screens(inputs.neuro_scores)),
            lambda s: s.time,
        ),
        consciousness=keep(inputs.consciousness, lambda r: r.time),
        signs=keep(inputs.neurologic_signs, lambda s: s.onset or s.recorded),
        death_time=death_time,
        deceased=deceased,
    )


# -- Scope, day 0, patient facts -----------------------------------------------------------------


#: Administrations of one continuous infusion charted bag by bag are one course when each starts
#: within this time of the previous one's end (bag changes; our choice, documented).
INFUSION_BAG_GAP = timedelta(hours=4)


def _courses(therapies: Sequence[TherapyAdministration]) -> list[TherapyAdministration]:
    """Therapies with periods (continuous infusions) merged into courses: bags of the same
    product that follow one another are one infusion, dated by the first bag's start (SPEC
    2.1: day 0 is its start). Doses without a period stay as they are."""
    courses: list[TherapyAdministration] = []
    open_course: dict[str, int] = {}  # product name -> index of its last course with a period
    for therapy in sorted(therapies, key=lambda t: (t.time, t.reference)):
        index = open_course.get(therapy.name)
        if therapy.end is not None or therapy.ongoing:
            if index is not None:
                course = courses[index]
                course_end = course.end if course.end is not None else course.time
                if course.ongoing or therapy.time <= course_end + INFUSION_BAG_GAP:
                    ends = [e for e in (course.end, therapy.end) if e is not None]
                    courses[index] = replace(
                        course,
                        end=max(ends) if ends else None,
                        ongoing=therapy.ongoing,
                    )
                    continue
            open_course[therapy.name] = len(courses)
        courses.append(therapy)
    return courses


def _last_day(therapy: TherapyAdministration, as_of: datetime) -> datetime:
    """When the therapy was last given: now while it runs, else its end, else its time."""
    if therapy.ongoing:
        return as_of
    return therapy.end if therapy.end is not None else therapy.time


def choose_therapy(
    therapies: Sequence[TherapyAdministration], as_of: datetime, options: GradingOptions
) -> TherapyAdministration | None:
    """The therapy that sets day 0 (SPEC 2.1), or ``None``: out of scope.

    In scope when given within ``scope_days`` before ``as_of`` (future-dated ones are already
    dropped); a continuous infusion is in scope for ``scope_days`` after its end, or after now
    while it runs, and its day 0 is its start. Of those: the most recent cell-therapy infusion
    (CAR-T, TCR/TIL, other cell therapy); without one, the most recent engager or antibody
    course or dose.
    """
    earliest = as_of - timedelta(days=options.scope_days)
    in_scope = [t for t in _courses(therapies) if min(_last_day(t, as_of), as_of) >= earliest]
    cells = [t for t in in_scope if t.kind in CELL_THERAPY_KINDS]
    pool = cells or in_scope
    return max(pool, key=lambda t: (t.time, t.reference)) if pool else None


def _unconfirmed_therapies(
    inputs: GradingInputs, as_of: datetime, horizon: datetime, options: GradingOptions
) -> tuple[UnidentifiedAdministration, ...]:
    """Administrations of unidentified drugs given in the scope window (SPEC 2.1): each may
    have been the therapy. Future-dated ones are no evidence (they are skipped as such)."""
    earliest = as_of - timedelta(days=options.scope_days)
    return tuple(
        item
        for item in inputs.unidentified_administrations
        if item.time <= horizon and (item.ongoing or item.last_given >= earliest)
    )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def age_on(birth_date: date | None, on: date) -> tuple[int | None, float | None]:
    """Completed years and fractional years on ``on``; ``(None, None)`` when unknown."""
    if birth_date is None or birth_date > on:
        return None, None
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    last, following = _add_years(birth_date, years), _add_years(birth_date, years + 1)
    return years, years + (on - last).days / (following - last).days


def _given(doses: Sequence[ImmunosuppressantDose], ctx: Context) -> list[ImmunosuppressantDose]:
    """The immunosuppressants given for this course: every one since day 0, and tocilizumab
    given in the 24 h before it (``windows.TOCILIZUMAB_BEFORE_DAY0``: prophylaxis before an
    infusion or a step-up dose), which the label's 8 h interval and four-dose limit hold for,
    and which masks fever (SPEC 2.6, 2.4, 2.7). Earlier doses treated an earlier episode. Any
    dose within 8 h of now falls in that span, as day 0 is not after now. Sorted by time."""
    earliest = ctx.since - windows.TOCILIZUMAB_BEFORE_DAY0
    return [
        d
        for d in doses
        if d.time >= ctx.since or (d.agent is Immunosuppressant.TOCILIZUMAB and d.time >= earliest)
    ]


def _latest_weight(
    weights: Sequence[Measurement], as_of: datetime, max_age: timedelta | None = None
) -> Measurement | None:
    """The latest positive weight (weights sorted by time), within ``max_age`` when given."""
    recent = [
        w for w in weights if w.value > 0 and (max_age is None or w.time >= as_of - max_age)
    ]
    return recent[-1] if recent else None


# -- Windows and grades ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SystemFindings:
    """One system's findings: ``events`` are windowed; Lee's labs are handled apart (SPEC 2.2)."""

    system: GradingSystem
    events: list[Finding]
    labs_all: list[Finding]
    labs_current: list[Finding]
    fever_required: bool
    fever_lifted_from: datetime | None

    def counts_alone(self, finding: Finding) -> bool:
        """True when the finding counts without a fever in its window."""
        return (
            not self.fever_required or finding.fever or finding.standalone or self.lifted(finding)
        )

    def lifted(self, finding: Finding) -> bool:
        """ASTCT: tocilizumab or a corticosteroid given by the finding's end lifts the fever
        requirement."""
        return self.fever_lifted_from is not None and self.fever_lifted_from <= finding.end

    def in_window(self, window: Window, *, current: bool = False) -> list[Finding]:
        """Findings of the window; on ``current``, labs are the latest of each within 72 h."""
        hits = [f for f in self.events if f.overlaps(window)]
        hits += self.labs_current if current else [f for f in self.labs_all if f.overlaps(window)]
        if not self.fever_required:
            return hits
        fever = any(f.fever for f in hits)
        return [f for f in hits if fever or self.counts_alone(f)]

    def grade(self, window: Window, *, current: bool = False) -> SystemGrade:
        hits = self.in_window(window, current=current)
        grade = max((f.grade for f in hits), default=0)
        return SystemGrade(self.system, grade, drivers(hits), window.start, window.end)

    def peak_window(self, ctx: Context) -> Window | None:
        """A 24 h window holding the worst finding since day 0 (ASTCT: with its fever); of
        several, the earliest. One pass, with a bisect for the fever: O(n log n)."""
        length = ctx.options.vitals_window
        fevers = sorted(f.start for f in self.events if f.fever)
        best_grade, best_end = -1, ctx.horizon
        for finding in (*self.events, *self.labs_all):
            if finding.grade < best_grade:
                continue
            end = min(finding.end, max(finding.start, ctx.since) + length)
            if not self.counts_alone(finding):
                index = bisect_left(fevers, finding.start - length)
                if index == len(fevers) or fevers[index] > finding.end + length:
                    continue  # no fever within 24 h of it: not ASTCT CRS
                end = max(fevers[index], finding.start)
            if finding.grade > best_grade or end < best_end:
                best_grade, best_end = finding.grade, end
        if best_grade < 0:
            return None
        return Window(max(best_end - length, ctx.since), best_end)

    def peak(self, ctx: Context, current: SystemGrade) -> SystemGrade:
        window = self.peak_window(ctx)
        if window is None:
            return current
        peak = self.grade(window)
        return peak if peak.grade >= current.grade else current


def _daily(
    systems: dict[GradingSystem, _SystemFindings], ctx: Context, days: int
) -> tuple[DailyGrade, ...]:
    """The worst grade of each post-infusion calendar day, day 0 to the as-of day.

    Day boundaries are computed once; a finding's days come from a bisect. A finding spanning
    several days counts on each, so the work is O(n log n + n x days spanned).
    """
    if ctx.day0 is None:
        return ()
    tz = ctx.options.timezone
    midnights = [
        datetime.combine(ctx.day0 + timedelta(days=day), time(0), tzinfo=tz).astimezone(UTC)
        for day in range(1, days)
    ]

    def days_of(finding: Finding) -> range:
        last_time = finding.end
        if finding.end > finding.start:
            last_time -= timedelta(microseconds=1)  # an interval ending at midnight
        first = bisect_right(midnights, max(finding.start, ctx.since))
        return range(first, bisect_right(midnights, last_time) + 1)

    worst: dict[GradingSystem, list[int]] = {}
    for system, found in systems.items():
        grades = [0] * days
        fever_days: set[int] = set()
        for finding in found.events:
            if finding.fever:
                for day in days_of(finding):
                    fever_days.add(day)
                    grades[day] = max(grades[day], finding.grade)
        for finding in (*found.events, *found.labs_all):
            if finding.fever:
                continue
            alone = found.counts_alone(finding)
            for day in days_of(finding):
                if finding.grade > grades[day] and (alone or day in fever_days):
                    grades[day] = finding.grade
        worst[system] = grades
    lee, astct = worst[GradingSystem.LEE_2014], worst[GradingSystem.ASTCT_2019]
    return tuple(DailyGrade(day, lee[day], astct[day]) for day in range(days))


def _death_findings(
    patient: PatientFacts,
    death_time: datetime | None,
    deceased: bool,
    systems: dict[GradingSystem, _SystemFindings],
    ctx: Context,
    gaps: Gaps,
) -> None:
    """Grade 5: death after day 0 with CRS (grade >= 1) in the preceding 24 h (seed Table 2)."""
    if not deceased:
        return
    if death_time is None:
        gaps.add("time of death unknown: grade 5 judged on the 24 h before the assessment")
        death_time = ctx.as_of
    if death_time < ctx.since:
        return
    before = Window(death_time - ctx.options.vitals_window, death_time)
    criteria = {
        GradingSystem.LEE_2014: (Criterion.DEATH, lee2014.GRADES[Criterion.DEATH][0]),
        GradingSystem.ASTCT_2019: (
            Criterion.ASTCT_DEATH,
            astct2019.GRADES[Criterion.ASTCT_DEATH][0],
        ),
    }
    for system, found in systems.items():
        grade = found.grade(before).grade
        if grade >= 1:
            criterion, death_grade = criteria[system]
            found.events.append(
                Finding(
                    criterion,
                    death_grade,
                    death_time,
                    max(death_time, ctx.as_of),
                    (patient.reference,),
                    f"death with CRS grade {grade} in the preceding 24 h",
                    standalone=True,
                )
            )


# -- Data gaps -----------------------------------------------------------------------------------


def _stale_lab_gaps(labs: Sequence[LabResult], ctx: Context) -> list[str]:
    """Tests whose latest result is too old to use (SPEC 2.2)."""
    windows: dict[LabTest, timedelta] = dict.fromkeys(_organ.TERMS_BY_TEST, ctx.options.lab_window)
    windows[LabTest.ANC] = ctx.options.lab_window
    windows[LabTest.LACTATE] = ctx.options.lactate_window
    latest: dict[LabTest, LabResult] = {r.test: r for r in labs}
    return [
        f"latest {LAB_NAMES[test]} result is older than {wording.span(length)} and was not used"
        for test, length in windows.items()
        if test in latest and latest[test].time < ctx.as_of - length
    ]


# -- The assessment ------------------------------------------------------------------------------


def assess(
    inputs: GradingInputs, as_of: datetime, options: GradingOptions | None = None
) -> Assessment:
    """Grade CRS for one patient at ``as_of`` (timezone-aware) by Lee 2014 and ASTCT 2019.

    Raises ``ValueError`` when ``as_of`` has no time zone. Every other imperfection of the data
    becomes a data gap or a skipped entry of the assessment, never an exception.
    """
    options = options if options is not None else GradingOptions()
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    # Days and times in the local clock of the data, else the configured zone (SPEC section 4).
    options = replace(options, timezone=local_zone(inputs.clock_offsets, options.timezone))
    as_of = as_of.astimezone(UTC)
    horizon = as_of + options.clock_skew
    skipped: list[SkippedResource] = list(inputs.skipped)
    data = _data(inputs, horizon, skipped)

    therapy = choose_therapy(data.therapies, as_of, options)
    tz = options.timezone
    age_years, age = age_on(inputs.patient.birth_date, as_of.astimezone(tz).date())
    weight = _latest_weight(data.weights, as_of, options.weight_max_age)
    stated = (
        _latest_weight(data.stated_weights, as_of, options.weight_max_age)
        if weight is None
        else None
    )
    if stated is not None:
        weight = stated  # SPEC 3: the stated weight (3142-7) only as a last resort
    # SPEC 2.3: weight-based drip rates convert with the latest body weight, at any age (the
    # 30 days of SPEC 2.6 bound the dosing weight only); the stated weight last here too.
    rate_weight = weight or _latest_weight(data.weights, as_of) or _latest_weight(
        data.stated_weights, as_of
    )
    ctx = Context(
        as_of=as_of,
        horizon=horizon,
        since=min(therapy.time, as_of) if therapy else as_of - timedelta(days=options.scope_days),
        day0=therapy.time.astimezone(tz).date() if therapy else None,
        options=options,
        age_years=age_years,
        weight=rate_weight,
    )
    gaps = Gaps()
    if age_years is None:
        gaps.add("age unknown: adult hypotension thresholds used")
    if stated is not None:
        gaps.add(GAP_STATED_WEIGHT)
    if weight is None:
        gaps.add(f"no body weight in the last {wording.span(options.weight_max_age)}")
    recent_vitals = ctx.recent(options.vitals_window)
    vital_times = [m.time for m in (*data.temperatures, *data.vitals)]
    vital_times += [b.time for b in data.pressures]
    if not any(recent_vitals.contains(time) for time in vital_times):
        gaps.add(f"no vital signs in the last {wording.span(options.vitals_window)}")

    lee_fever, astct_fever = _vitals.fever_findings(data.temperatures, ctx)
    lee_hypotension, astct_hypotension = _vitals.hypotension_findings(data.pressures, ctx)
    lee_oxygen, astct_oxygen = _oxygen.oxygen_findings(data.oxygen, ctx, gaps)
    lee_ventilation, astct_ventilation = _oxygen.ventilation_findings(data.ventilation, ctx)
    drips = _vasopressors.vasopressor_findings(data.vasopressors, ctx, gaps)
    if rate_weight is not weight and rate_weight is not None:
        if any(piece.weight_reference == rate_weight.reference for piece in drips.pieces):
            gaps.add(
                "vasopressor rates converted with the last body weight, charted more than "
                f"{wording.span(options.weight_max_age)} ago"
            )
    baseline = _organ.baselines(data.labs, ctx)
    organ_all, organ_current = _organ.organ_findings(data.labs, ctx, baseline, gaps)
    gaps.extend(_stale_lab_gaps(data.labs, ctx))

    given = _given(data.immunosuppressants, ctx)
    lifted = [d.time for d in given if d.agent in astct2019.FEVER_LIFTED_BY]
    systems = {
        GradingSystem.LEE_2014: _SystemFindings(
            GradingSystem.LEE_2014,
            [
                *lee_fever,
                *_vitals.constitutional_findings(data.conditions, ctx),
                *lee_hypotension,
                *lee_oxygen,
                *lee_ventilation,
                *drips.lee,
            ],
            organ_all,
            organ_current,
            fever_required=False,
            fever_lifted_from=None,
        ),
        GradingSystem.ASTCT_2019: _SystemFindings(
            GradingSystem.ASTCT_2019,
            [*astct_fever, *astct_hypotension, *astct_oxygen, *astct_ventilation, *drips.astct],
            [],
            [],
            fever_required=True,
            fever_lifted_from=min(lifted) if lifted else None,
        ),
    }
    _death_findings(inputs.patient, data.death_time, data.deceased, systems, ctx, gaps)
    gaps.extend(inputs.notes)

    current_window = ctx.current
    grades = {}
    for system, found in systems.items():
        current = found.grade(current_window, current=True)
        current = SystemGrade(system, current.grade, current.drivers, current.window_start, as_of)
        grades[system] = (current, found.peak(ctx, current))
    primary = options.system
    other = {system: grade[0] for system, grade in grades.items() if system is not primary}

    span = ctx.span
    fevers = [m for m in data.temperatures if span.contains(m.time) and _vitals.is_fever(m)]
    fever_in_window = any(current_window.contains(m.time) for m in fevers)
    first_fever = fevers[0] if fevers else None
    therapy_context = None
    daily: tuple[DailyGrade, ...] = ()
    days = max(ctx.day(as_of), 0) + 1 if therapy is not None else 0
    icans = _icans.assess_icans(data.screens, data.consciousness, data.signs, ctx, gaps, days)
    if therapy is not None:
        therapy_context = TherapyContext(therapy, days - 1)
        daily = tuple(
            replace(grade, icans=icans.daily[grade.day]) for grade in _daily(systems, ctx, days)
        )
    pre_infusion = [b for b in data.pressures if b.time < ctx.since] if therapy else []
    comorbidities = [
        c
        for c in data.conditions
        if c.category is ConditionCategory.COMORBIDITY
        and (interval := condition_interval(c, as_of)) is not None
        and interval.end >= as_of
    ]
    masking = [d for d in given if d.agent in signals.FEVER_MASKING_AGENTS]
    iec_hs = tuple(w for w in (_iec_hs.iec_hs_warning(data.labs, baseline, ctx, gaps),) if w)
    assessment = Assessment(
        as_of=as_of,
        system=primary,
        therapy=therapy_context,
        current=grades[primary][0],
        peak=grades[primary][1],
        other_systems=other,
        fever_in_window=fever_in_window,
        first_fever=first_fever,
        neurologic_findings=_icans.with_icans(
            _signals.neurologic_findings(data.scores, data.conditions, ctx), icans.neurologic
        ),
        vasopressor_in_window=any(
            p.start <= current_window.end and p.end >= current_window.start for p in drips.pieces
        ),
        attribution_warnings=_signals.attribution_warnings(
            cultures=data.cultures,
            labs=data.labs,
            conditions=data.conditions,
            immunosuppressants=masking,
            first_fever=first_fever,
            fever_in_window=fever_in_window,
            therapy_name=therapy.name if therapy else None,
            ctx=ctx,
        )
        + iec_hs,
        biomarkers=_signals.biomarker_summaries(data.labs, baseline, ctx),
        baseline_blood_pressure=pre_infusion[-1] if pre_infusion else None,
        weight=weight,
        rate_weight=rate_weight,
        age_years=age,
        comorbidities=tuple(sorted(comorbidities, key=lambda c: c.reference)),
        immunosuppressants_given=tuple(given),
        daily=daily,
        data_gaps=gaps.items(),
        skipped=tuple(sorted(dict.fromkeys(skipped), key=lambda s: (s.reference, s.reason))),
        timezone=options.timezone,
        vitals_window=options.vitals_window,
        icans=icans.assessment,
        unconfirmed_therapies=(
            () if therapy is not None else _unconfirmed_therapies(inputs, as_of, horizon, options)
        ),
    )
    logger.debug(
        "assessed %s: %s grade %d, peak %d",
        inputs.patient.reference,
        primary,
        assessment.grade,
        assessment.peak_grade,
    )
    return assessment
