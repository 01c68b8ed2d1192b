"""The CRS course as time series from day 0: what the page plots, computed on plain types.

Pure: ``GradingInputs`` and the ``Assessment`` in, a ``Course`` out; no Flask, no I/O, no
plotting. The x axis is days since the start of day 0 (midnight of the infusion date in the
grader's calendar), so that day ``n`` spans ``[n, n + 1)`` exactly like ``Assessment.daily``.
Clinical numbers (the fever line, the hypotension thresholds, the norepinephrine equivalent,
the derived MAP, the FiO2 estimate, the ICE and CAPD totals and their ICANS bands) come from the
grader's functions and tables, never re-derived here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from crs_grading import GradingOptions
from crs_grading.assessment import Assessment, DailyGrade
from crs_grading.criteria import Criterion
from crs_grading.inputs import (
    LAB_UNITS,
    Comparator,
    EncephalopathyTool,
    GradingInputs,
    Immunosuppressant,
    LabTest,
    Measurement,
)
from crs_grading.readings import (
    FiO2Source,
    fio2_requirements,
    mean_arterial_pressure,
    screen_totals,
    vasopressor_segments,
)
from crs_grading.tables import hypotension, icans, lee2014
from crs_grading.tables.common import Comparison

_DAY_S = 86400.0


class SeriesKey(enum.StrEnum):
    """The plotted series; the values are the ids tests and the SVG use."""

    TEMPERATURE = "temperature"
    SYSTOLIC = "systolic-bp"
    MEAN_ARTERIAL = "mean-arterial-pressure"
    NOREPINEPHRINE_EQUIVALENT = "norepinephrine-equivalent"
    FIO2 = "fio2"
    CRP = "crp"
    FERRITIN = "ferritin"
    IL6 = "il6"
    ICE = "ice-score"  # ICANS encephalopathy screen from 12 y (SPEC 2.9)
    CAPD = "capd-score"  # under 12


class MarkerKind(enum.StrEnum):
    TOCILIZUMAB = "tocilizumab"
    CORTICOSTEROID = "corticosteroid"
    OTHER = "other-immunosuppressant"  # anakinra, siltuximab


@dataclass(frozen=True, slots=True)
class Point:
    day: float  # days since the start of day 0
    value: float
    reference: str  # the resource(s) the value comes from, "Type/id", comma-separated


@dataclass(frozen=True, slots=True)
class Series:
    key: SeriesKey
    label: str
    unit: str
    points: tuple[Point, ...]
    step: bool = False  # a rate that holds until the next point (drips)
    note: str | None = None  # e.g. "includes FiO2 estimated from oxygen flow"


@dataclass(frozen=True, slots=True)
class ThresholdLine:
    """A horizontal rule line on a series' panel, with its source."""

    key: SeriesKey
    value: float
    label: str
    source: str


@dataclass(frozen=True, slots=True)
class DoseMarker:
    kind: MarkerKind
    agent: str
    day: float
    reference: str
    dose_mg: float | None

    @property
    def day_number(self) -> int:
        return int(self.day // 1)


@dataclass(frozen=True, slots=True)
class Course:
    """Everything the chart draws, on one x axis (days since the start of day 0)."""

    day0: datetime  # start of day 0 (timezone-aware)
    as_of_day: float
    x_max: float
    therapy: str
    thresholds: tuple[ThresholdLine, ...]
    series: tuple[Series, ...]
    markers: tuple[DoseMarker, ...]
    daily: tuple[DailyGrade, ...]

    def get(self, key: SeriesKey) -> Series:
        return next(s for s in self.series if s.key is key)

    def to_json(self) -> dict[str, Any]:
        """The plotted data as embedded in the page (``<script id="crs-series">``)."""
        return {
            "day0": self.day0.isoformat(),
            "asOfDay": round(self.as_of_day, 4),
            "xMax": self.x_max,
            "therapy": self.therapy,
            "thresholds": [
                {"key": t.key.value, "value": t.value, "label": t.label, "source": t.source}
                for t in self.thresholds
            ],
            "series": [
                {
                    "key": s.key.value,
                    "label": s.label,
                    "unit": s.unit,
                    "step": s.step,
                    "note": s.note,
                    "points": [[round(p.day, 4), p.value, p.reference] for p in s.points],
                }
                for s in self.series
            ],
            "markers": [
                {
                    "kind": m.kind.value,
                    "agent": m.agent,
                    "day": round(m.day, 4),
                    "dayNumber": m.day_number,
                    "doseMg": m.dose_mg,
                    "reference": m.reference,
                }
                for m in self.markers
            ],
            "dailyGrades": [
                {"day": d.day, "lee2014": d.lee2014, "astct2019": d.astct2019, "icans": d.icans}
                for d in self.daily
            ],
        }


def start_of_day0(assessment: Assessment, tz: tzinfo = UTC) -> datetime | None:
    """Midnight starting day 0 (the infusion date in ``tz``), or None when out of scope."""
    if assessment.therapy is None:
        return None
    infused = assessment.therapy.therapy.time.astimezone(tz)
    return datetime.combine(infused.date(), time(0), tzinfo=tz)


def build_course(
    inputs: GradingInputs, assessment: Assessment, options: GradingOptions | None = None
) -> Course | None:
    """The course from day 0 to ``as_of``; None when the patient is out of scope (no day 0).

    ``options`` must be those ``assessment`` was graded with; the x axis numbers days in the
    assessment's calendar (``Assessment.timezone``), like ``Assessment.daily``.
    """
    options = options if options is not None else GradingOptions()
    day0 = start_of_day0(assessment, assessment.timezone)  # the calendar the days were counted in
    if day0 is None or assessment.therapy is None:
        return None
    as_of_day = _day(assessment.as_of, day0)

    def visible(t: datetime) -> bool:
        return 0.0 <= _day(t, day0) <= as_of_day

    def measured(key: SeriesKey, label: str, unit: str, items: Iterable[Measurement]) -> Series:
        shown = [m for m in items if visible(m.time)]
        points = _sorted(Point(_day(m.time, day0), m.value, m.reference) for m in shown)
        return Series(key, label, unit, points, note=_bound_note(m.comparator for m in shown))

    def lab(key: SeriesKey, label: str, test: LabTest) -> Series:
        shown = [r for r in inputs.labs if r.test is test and visible(r.time)]
        points = _sorted(Point(_day(r.time, day0), r.value, r.reference) for r in shown)
        note = _bound_note(r.comparator for r in shown)
        return Series(key, label, LAB_UNITS[test], points, note=note)

    systolic = measured(
        SeriesKey.SYSTOLIC,
        "Systolic BP",
        "mmHg",
        (
            Measurement(bp.time, bp.systolic, bp.reference, bp.systolic_comparator)
            for bp in inputs.blood_pressures
            if bp.systolic is not None
        ),
    )
    series = (
        measured(SeriesKey.TEMPERATURE, "Temperature", "°C", inputs.temperatures_c),
        systolic,
        _mean_arterial_series(inputs, day0, visible),
        _norepinephrine_equivalent_series(inputs, assessment, options, day0),
        _fio2_series(inputs, day0, visible),
        lab(SeriesKey.CRP, "CRP", LabTest.CRP),
        lab(SeriesKey.FERRITIN, "Ferritin", LabTest.FERRITIN),
        lab(SeriesKey.IL6, "IL-6", LabTest.IL6),
        *_screen_series(inputs, day0, visible),
    )
    markers = tuple(
        DoseMarker(
            kind=_marker_kind(dose.agent),
            agent=dose.agent.value,
            day=_day(dose.time, day0),
            reference=dose.reference,
            dose_mg=dose.dose_mg,
        )
        for dose in assessment.immunosuppressants_given
        if visible(dose.time)
    )
    return Course(
        day0=day0,
        as_of_day=as_of_day,
        x_max=float(max(1, int(as_of_day // 1) + 1)),
        therapy=assessment.therapy.therapy.name,
        thresholds=(*_thresholds(assessment.age_years), *_screen_thresholds()),
        series=series,
        markers=markers,
        daily=tuple(d for d in assessment.daily if d.day >= 0),
    )


def _day(t: datetime, day0: datetime) -> float:
    return (t - day0).total_seconds() / _DAY_S


def _sorted(points: Iterable[Point]) -> tuple[Point, ...]:
    return tuple(sorted(points, key=lambda p: (p.day, p.reference)))


def _marker_kind(agent: Immunosuppressant) -> MarkerKind:
    if agent is Immunosuppressant.TOCILIZUMAB:
        return MarkerKind.TOCILIZUMAB
    if agent.is_corticosteroid:
        return MarkerKind.CORTICOSTEROID
    return MarkerKind.OTHER


def _thresholds(age_years: float | None) -> tuple[ThresholdLine, ...]:
    """The grading thresholds drawn as lines, read from the grader's tables: fever (seed Table
    2, SPEC 2.3), hypotension at the patient's age (Mahadeo 2019), FiO2 of grade 3 (seed Table 2).
    """
    lines = [
        ThresholdLine(
            SeriesKey.TEMPERATURE,
            lee2014.FEVER_THRESHOLD_C,
            f"{lee2014.FEVER_THRESHOLD_C:g} °C",
            "seed Table 2 grade 1: fever",
        )
    ]
    age = int(age_years) if age_years is not None else hypotension.UNKNOWN_AGE_ASSUMED
    for row in hypotension.ROWS:
        if row.applies(age):
            systolic = row.pressure is hypotension.Pressure.SYSTOLIC
            key = SeriesKey.SYSTOLIC if systolic else SeriesKey.MEAN_ARTERIAL
            value = row.threshold(age)
            label = f"{'SBP' if systolic else 'MAP'} {value:g}"
            lines.append(ThresholdLine(key, value, label, row.source))
    for oxygen_row in lee2014.OXYGEN_ROWS:
        if oxygen_row.criterion is Criterion.OXYGEN_HIGH_FIO2:
            value = oxygen_row.conditions[0][1]
            lines.append(ThresholdLine(SeriesKey.FIO2, value, f"{value:g}%", oxygen_row.source))
    return tuple(lines)


#: The screen series of each ICANS screen tool.
_SCREEN_SERIES: dict[EncephalopathyTool, tuple[SeriesKey, str]] = {
    EncephalopathyTool.ICE: (SeriesKey.ICE, "ICE score"),
    EncephalopathyTool.CAPD: (SeriesKey.CAPD, "CAPD"),
}


def _screen_thresholds() -> tuple[ThresholdLine, ...]:
    """Where ICANS grade 2 and 3 begin on each screen, read from the grader's ICANS table
    (ASTCT 2019): ICE below 7 and below 3; CAPD 9 or more."""
    lines = []
    for row in icans.SCREEN_ROWS:
        if row.grade < 2:
            continue
        key, name = _SCREEN_SERIES[row.tool]
        abilities = icans.POINTS_ARE_ABILITIES[row.tool]
        wanted = Comparison.BELOW if abilities else Comparison.AT_LEAST
        for comparison, value in row.conditions:
            if comparison is wanted:
                sign = "<" if abilities else "≥"
                label = f"G{row.grade} {sign} {value:g}"
                lines.append(ThresholdLine(key, value, label, row.source))
    return tuple(lines)


#: A CAPD not possible is grade 4 whether the child was unarousable or unable to do it (SPEC 2.9;
#: review finding: the card said "unarousable" for a CAPD charted "unable to perform").
_CAPD_NOT_POSSIBLE = "not possible (unarousable, or unable to perform): not plotted (ICANS grade 4)"


def _screen_series(
    inputs: GradingInputs, day0: datetime, visible: Callable[[datetime], bool]
) -> tuple[Series, Series]:
    """The ICE and CAPD totals the ICANS grade reads (SPEC 2.9). An ICE not possible because the
    patient is unarousable is plotted as 0 (ASTCT 2019: grade 4); a CAPD not possible is not
    plotted (the ICANS strip shows its grade 4)."""
    points: dict[EncephalopathyTool, list[Point]] = {tool: [] for tool in EncephalopathyTool}
    notes: dict[EncephalopathyTool, list[str]] = {tool: [] for tool in EncephalopathyTool}
    for total in screen_totals(inputs.encephalopathy_screens):
        if not visible(total.time):
            continue
        day = _day(total.time, day0)
        if total.points is not None:
            points[total.tool].append(Point(day, total.points, total.reference))
            if total.how and "items" not in "".join(notes[total.tool]):
                notes[total.tool].append("includes totals summed from charted items")
        elif total.tool is EncephalopathyTool.ICE:
            points[total.tool].append(Point(day, 0.0, total.reference))
            if not any("unarousable" in note for note in notes[total.tool]):
                notes[total.tool].append("0 where the patient was unarousable (ICANS grade 4)")
        elif _CAPD_NOT_POSSIBLE not in notes[total.tool]:
            notes[total.tool].append(_CAPD_NOT_POSSIBLE)
    ice, capd = (
        Series(
            _SCREEN_SERIES[tool][0],
            _SCREEN_SERIES[tool][1],
            "points",
            _sorted(points[tool]),
            note="; ".join(notes[tool]) or None,
        )
        for tool in (EncephalopathyTool.ICE, EncephalopathyTool.CAPD)
    )
    return ice, capd


# -- Values the grader computes per reading ------------------------------------------------------
# The derived MAP, the FiO2 each reading is graded by and the VASST norepinephrine equivalent of
# concurrent drips come from crs_grading.readings: the grader's own rules, never re-implemented.


#: A value charted as a bound (CRP "<5 mg/L", systolic "<60 mmHg", SPEC 3 "Comparators") is drawn
#: at the bound; its series says so, since the figure cannot show which point is a bound.
BOUND_NOTE = 'includes values charted as bounds (such as "<5"), drawn at the bound'


def _bound_note(comparators: Iterable[Comparator | None]) -> str | None:
    return BOUND_NOTE if any(c is not None for c in comparators) else None


def _mean_arterial_series(
    inputs: GradingInputs, day0: datetime, visible: Callable[[datetime], bool]
) -> Series:
    points = []
    derived_any = bound_any = False
    for bp in inputs.blood_pressures:
        if not visible(bp.time):
            continue
        mean = mean_arterial_pressure(bp)
        if mean.value is not None:
            points.append(Point(_day(bp.time, day0), round(mean.value, 1), bp.reference))
            derived_any = derived_any or mean.derived
            bound_any = bound_any or mean.comparator is not None
    notes = ["derived as DBP + (SBP - DBP) / 3 where not measured"] if derived_any else []
    if bound_any:
        notes.append(BOUND_NOTE)
    note = "; ".join(notes) or None
    return Series(SeriesKey.MEAN_ARTERIAL, "MAP", "mmHg", _sorted(points), note=note)


def _fio2_series(
    inputs: GradingInputs, day0: datetime, visible: Callable[[datetime], bool]
) -> Series:
    """The FiO2 each reading is graded by: the grader's own pairing (SPEC 2.3), so a flow charted
    within the hour of a measured FiO2 is never plotted as an estimate."""
    points = []
    sources: set[FiO2Source] = set()
    for required in fio2_requirements(inputs.oxygen):
        reading = required.reading
        if not visible(reading.time):
            continue
        points.append(
            Point(_day(reading.time, day0), round(required.percent, 1), reading.reference)
        )
        sources.add(required.source)
    notes = []
    if FiO2Source.ESTIMATED in sources:
        notes.append("includes FiO2 estimated from oxygen flow (21% + 4% per L/min)")
    if FiO2Source.DEVICE in sources:
        notes.append("includes FiO2 >= 40% inferred from a high-flow device, FiO2 not charted")
    return Series(SeriesKey.FIO2, "FiO2", "%", _sorted(points), note="; ".join(notes) or None)


def _norepinephrine_equivalent_series(
    inputs: GradingInputs, assessment: Assessment, options: GradingOptions, day0: datetime
) -> Series:
    """The VASST norepinephrine equivalent of all drips running, as steps (seed Table 3)."""
    if assessment.therapy is None:
        return Series(SeriesKey.NOREPINEPHRINE_EQUIVALENT, "Norepinephrine eq.", "µg/min", ())
    segments = vasopressor_segments(inputs, assessment, options)
    points: list[Point] = []
    unknown_dose = False
    for index, segment in enumerate(segments):
        unknown_dose = unknown_dose or segment.unknown_dose
        start = max(_day(segment.start, day0), 0.0)
        end = _day(segment.end, day0)
        points.append(
            Point(start, round(segment.norepinephrine_equivalent, 2), ",".join(segment.evidence))
        )
        following = segments[index + 1] if index + 1 < len(segments) else None
        if following is None or following.start > segment.end:
            points.append(Point(end, 0.0, ""))  # nothing runs until the next segment
    note = "lower bound: a drip of unknown dose counts 0" if unknown_dose else None
    return Series(
        SeriesKey.NOREPINEPHRINE_EQUIVALENT,
        "Norepinephrine eq.",
        "µg/min",
        tuple(points),
        step=True,
        note=note,
    )
