"""When the watch alerts (SPEC 4b "Alert"): the rise rule, as data and one small function.

A rise is judged per *watched measure* (a current grade of the assessment) between the
patient's alert state (what the last evaluation saw) and a new evaluation:

- a measure rises when its current grade is at least the alert grade
  (``CRS_CDS_WATCH_ALERT_GRADE``, default 2) and higher than in the state (or the state has
  none: the first evaluation of a patient already at grade 3 alerts);
- a new infection warning (SPEC 2.7: positive blood culture, neutropenia, lactate > 2 mmol/L,
  an infection diagnosis) rises when it was not in the state and any watched grade is at least
  2 now (``INFECTION_WARNING_GRADE``: SPEC 4b fixes it, whatever the alert grade);
- one evaluation makes at most one alert, naming every reason;
- a fall is recorded as the new state, so that a fall then a new rise alerts again; but a
  partial evaluation (part of the record could not be read) never lowers the state, since the
  missing part may hold what kept the grade up, and a later full read must not "rise" again;
- an evaluation older than the state (``as_of`` not after it: two workers finishing out of
  order) is stored but changes nothing.

``WATCHED_MEASURES`` is the one place that names what is watched: the current CRS grade and
the current ICANS grade (SPEC 2.9), each stored in its own column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from crs_grading import Assessment
from crs_grading.assessment import INFECTION_SIGNAL_CODES

__all__ = [
    "INFECTION_WARNINGS",
    "INFECTION_WARNING_GRADE",
    "WATCHED_MEASURES",
    "AlertState",
    "Observation",
    "Reason",
    "WatchedMeasure",
    "may_alert",
    "observe",
    "transition",
]


@dataclass(frozen=True, slots=True)
class WatchedMeasure:
    """One current grade the watch alerts on.

    ``name`` is stable (stored in alert reasons and shown in webhooks); ``column`` is the
    column of ``watch_patients`` and ``watch_evaluations`` that stores it; ``read`` takes it
    from an assessment of a patient in scope.
    """

    name: str
    label: str
    column: str
    read: Callable[[Assessment], int]


def _crs_grade(assessment: Assessment) -> int:
    return assessment.grade  # current Lee 2014 grade (SPEC 2.3), the service's system


def _icans_grade(assessment: Assessment) -> int:
    return assessment.icans.grade  # current ICANS grade, ASTCT 2019 (SPEC 2.9)


#: What the watch alerts on (SPEC 4b: "the current CRS or ICANS grade rises").
WATCHED_MEASURES: tuple[WatchedMeasure, ...] = (
    WatchedMeasure("crs", "CRS", "crs_grade", _crs_grade),
    WatchedMeasure("icans", "ICANS", "icans_grade", _icans_grade),
)

#: The infection warnings of SPEC 2.7 whose appearance alerts (the clinical core's own set).
INFECTION_WARNINGS: frozenset[str] = INFECTION_SIGNAL_CODES

#: SPEC 4b: "a new infection warning appears on a patient with grade >= 2". Fixed: it does not
#: follow ``CRS_CDS_WATCH_ALERT_GRADE`` (review finding: with the alert grade at 3, a new
#: positive blood culture at grade 2 did not alert).
INFECTION_WARNING_GRADE = 2


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the watch last knew of a patient (``watch_patients``)."""

    as_of: datetime | None = None
    grades: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    warnings: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Observation:
    """What one evaluation saw: grades per measure (None out of scope), infection warnings."""

    as_of: datetime
    in_scope: bool
    grades: Mapping[str, int | None]
    warnings: frozenset[str]
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an alert is sent: a grade rise (``measure``, ``from_grade`` -> ``to_grade``) or a
    new infection warning (``code``)."""

    kind: str  # "grade-rise" or "new-infection-warning"
    measure: str | None = None
    from_grade: int | None = None
    to_grade: int | None = None
    code: str | None = None

    def to_json(self) -> dict[str, object]:
        if self.kind == "grade-rise":
            return {
                "kind": self.kind,
                "measure": self.measure,
                "from": self.from_grade,
                "to": self.to_grade,
            }
        return {"kind": self.kind, "code": self.code}


def observe(assessment: Assessment, *, partial: bool) -> Observation:
    """The watched measures and infection warnings of ``assessment``."""
    in_scope = assessment.in_scope
    grades = {m.name: (m.read(assessment) if in_scope else None) for m in WATCHED_MEASURES}
    warnings = frozenset(
        w.code for w in assessment.attribution_warnings if w.code in INFECTION_WARNINGS
    )
    return Observation(
        as_of=assessment.as_of,
        in_scope=in_scope,
        grades=MappingProxyType(grades),
        warnings=warnings if in_scope else frozenset(),
        partial=partial,
    )


def still_in_scope(was_in_scope: bool | None, seen: Observation) -> bool:
    """Whether the patient stays on the watch's list after ``seen``. A partial read never takes
    a patient out of scope: the therapy may be in what could not be read (found in review: one
    failed page of administrations dropped a watched patient from the poll list for good)."""
    return seen.in_scope or (seen.partial and bool(was_in_scope))


def may_alert(seen: Observation, alert_grade: int) -> bool:
    """Whether ``seen`` could make an alert by some state (a grade at the alert grade, or an
    infection warning at ``INFECTION_WARNING_GRADE``): the worker then keeps the card's
    summary for it."""
    return _at_least(seen, alert_grade) or bool(
        seen.warnings and _at_least(seen, INFECTION_WARNING_GRADE)
    )


def _at_least(seen: Observation, grade: int) -> bool:
    return any(g is not None and g >= grade for g in seen.grades.values())


def transition(
    state: AlertState, seen: Observation, alert_grade: int
) -> tuple[AlertState, tuple[Reason, ...]]:
    """The new alert state after ``seen``, and the reasons to alert (empty: no alert)."""
    if state.as_of is not None and seen.as_of <= state.as_of:
        return state, ()
    reasons: list[Reason] = []
    for measure in WATCHED_MEASURES:
        now = seen.grades.get(measure.name)
        before = state.grades.get(measure.name)
        if now is not None and now >= alert_grade and (before is None or now > before):
            reasons.append(Reason("grade-rise", measure.name, before, now))
    if _at_least(seen, INFECTION_WARNING_GRADE):
        for code in sorted(seen.warnings - state.warnings):
            reasons.append(Reason("new-infection-warning", code=code))

    grades: dict[str, int | None] = {}
    for measure in WATCHED_MEASURES:
        now = seen.grades.get(measure.name)
        before = state.grades.get(measure.name)
        if seen.partial and before is not None and (now is None or now < before):
            now = before  # a partial read never lowers the state
        grades[measure.name] = now
    warnings = seen.warnings | state.warnings if seen.partial else seen.warnings
    return AlertState(seen.as_of, MappingProxyType(grades), warnings), tuple(reasons)
