"""Internal building blocks: findings, windows, the assessment context and small helpers.

A *finding* is one criterion met at a point in time (a reading) or over an interval (a drip
episode, a ventilation period, an active condition). Every criterion is graded once per finding;
windows then only ask which findings overlap them, which keeps the whole assessment
O(n log n) in the number of inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from crs_grading.assessment import Driver
from crs_grading.criteria import Criterion
from crs_grading.inputs import LabResult, LabTest, Measurement
from crs_grading.options import GradingOptions
from crs_grading.wording import duration as format_duration
from crs_grading.wording import number as format_number

__all__ = ["format_duration", "format_number"]  # the wording module's, for the grading modules

#: The earliest time, for an interval whose start is unknown (a condition without onset).
BEGINNING = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A closed time interval ``[start, end]``."""

    start: datetime
    end: datetime

    def contains(self, time: datetime) -> bool:
        return self.start <= time <= self.end


@dataclass(frozen=True, slots=True)
class Finding:
    """One criterion met from ``start`` to ``end`` (equal for a point in time).

    ``severity`` only orders findings of the same criterion so that a driver's text shows the
    worst one (the highest temperature, the lowest pressure). ``fever`` marks the findings that
    satisfy ASTCT 2019's fever requirement; ``standalone`` findings (death, which was checked
    for CRS when it was made) count without one.
    """

    criterion: Criterion
    grade: int
    start: datetime
    end: datetime
    evidence: tuple[str, ...]
    text: str
    severity: float = 0.0
    fever: bool = False
    standalone: bool = False

    def overlaps(self, window: Window) -> bool:
        return self.start <= window.end and self.end >= window.start


@dataclass(frozen=True, slots=True)
class Context:
    """What every rule needs to know about the assessment at hand."""

    as_of: datetime
    horizon: datetime  # as_of + clock skew: data dated later is ignored
    since: datetime  # day 0's administration, or as_of - scope when out of scope
    day0: date | None  # None: out of scope
    options: GradingOptions
    age_years: int | None  # completed years, None when unknown
    weight: Measurement | None  # weight-based drip rates convert with it (SPEC 2.3)

    @property
    def current(self) -> Window:
        """The current grade's window (SPEC 2.2), never reaching back before day 0."""
        return Window(max(self.as_of - self.options.vitals_window, self.since), self.horizon)

    @property
    def span(self) -> Window:
        """Everything since day 0: the peak grade's range."""
        return Window(self.since, self.horizon)

    def recent(self, length: timedelta) -> Window:
        """``[as_of - length, horizon]``, not clipped to day 0 (infection signals, labs)."""
        return Window(self.as_of - length, self.horizon)

    def day(self, time: datetime) -> int:
        """Post-infusion day of ``time`` (calendar dates in the options' time zone)."""
        if self.day0 is None:
            raise ValueError("no day 0 out of scope")
        return (time.astimezone(self.options.timezone).date() - self.day0).days


@dataclass
class Gaps:
    """Data gaps in first-seen order, each once; repeated ones are counted."""

    _counts: dict[str, int] = field(default_factory=dict)

    def add(self, text: str) -> None:
        self._counts[text] = self._counts.get(text, 0) + 1

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.add(text)

    def items(self) -> tuple[str, ...]:
        return tuple(self._counts)

    def counted(self, noun: str) -> tuple[str, ...]:
        """Each gap with how often it occurred, e.g. ``"... (3 administrations)"``."""
        return tuple(
            f"{text} ({count} {noun}{'' if count == 1 else 's'})"
            for text, count in self._counts.items()
        )


class ConditionCourse(Protocol):
    """What ``condition_interval`` reads of a Condition: a ``ConditionFinding`` (SPEC 2.5), or a
    ``NeurologicSignFinding`` (SPEC 2.9) dated by its onset."""

    @property
    def active(self) -> bool: ...

    @property
    def onset(self) -> datetime | None: ...

    @property
    def abatement(self) -> datetime | None: ...


def condition_interval(condition: ConditionCourse, as_of: datetime) -> Window | None:
    """When a condition was active, or ``None`` when that cannot be said.

    An active condition runs from its onset (or the beginning, when unknown) until its abatement
    or ``as_of``; a resolved one needs its abatement time.
    """
    if condition.abatement is not None:
        end = min(condition.abatement, as_of)
    elif condition.active:
        end = as_of
    else:
        return None
    start = condition.onset if condition.onset is not None else BEGINNING
    if start > end:
        return None
    return Window(start, end)


def latest_in(labs: Sequence[LabResult], window: Window) -> dict[LabTest, LabResult]:
    """The latest result of each test within ``window`` (labs sorted by time, reference)."""
    found: dict[LabTest, LabResult] = {}
    for result in labs:
        if window.contains(result.time):
            found[result.test] = result
    return found


#: Criteria whose findings are different symptoms of one grade: the driver names them all.
_LISTED_CRITERIA = frozenset({Criterion.CONSTITUTIONAL_SYMPTOMS})


def drivers(findings: Iterable[Finding]) -> tuple[Driver, ...]:
    """One driver per criterion: its highest grade, all evidence, the worst finding's text."""
    grouped: dict[Criterion, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.criterion, []).append(finding)
    result = []
    for criterion, group in grouped.items():
        group.sort(key=lambda f: (f.start, f.end, f.evidence))
        worst = max(group, key=lambda f: (f.grade, f.severity, f.end, f.text))
        evidence = dict.fromkeys(ref for f in group for ref in f.evidence)
        text = worst.text
        if criterion in _LISTED_CRITERIA:  # every symptom cited as evidence is named
            text = "; ".join(dict.fromkeys(f.text for f in group))
        result.append(Driver(criterion, worst.grade, tuple(evidence), text))
    result.sort(key=lambda d: (-d.grade, d.criterion))
    return tuple(result)
