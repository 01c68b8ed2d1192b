"""Grading options: the windows and the system, each with its documented default.

Every default is a row of ``crs_grading.tables.windows`` and cites the rule it comes from.
``assess`` takes one ``GradingOptions``; nothing in ``crs_grading`` reads the environment (the
service builds the options from its settings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo

from crs_grading.assessment import GradingSystem
from crs_grading.tables import windows


@dataclass(frozen=True, slots=True)
class GradingOptions:
    """How ``assess`` grades.

    - ``system``: the system of ``Assessment.current`` and ``Assessment.peak``; the other system
      goes to ``Assessment.other_systems`` (SPEC 2.3, 2.4).
    - ``scope_days``: a CRS-associated therapy given this many days before ``as_of`` puts the
      patient in scope (SPEC 2.1: 30 days).
    - ``vitals_window``: the current grade's window for vitals, drips, oxygen, ventilation,
      conditions and neurologic scores, and the length of the windows the peak grade is the worst
      of (SPEC 2.2: 24 h).
    - ``lab_window``: the latest result of each lab within this window counts for the current grade
      (SPEC 2.2: 72 h).
    - ``clock_skew``: data dated up to this long after ``as_of`` still counts; later data is ignored
      and reported in ``Assessment.skipped`` (SPEC 2.2: 5 minutes).
    - ``weight_max_age``: the latest body weight within this age is the weight (SPEC 2.6: 30 days).
    - ``late_onset_days``: a first fever on a later day than this warns ``late-onset``
      (SPEC 2.7: 14 days).
    - ``culture_window``: a positive blood culture this recent warns (SPEC 2.7: 7 days).
    - ``lactate_window``: the latest lactate within this window is checked (SPEC 2.7: 24 h).
    - ``infusion_gap``: a pause this short between two administrations of the same vasopressor is
      a charting gap, not a stop, so the episode stays continuous for the 3 h rule of seed Table 3
      (our choice: 5 minutes).
    - ``timezone``: the calendar that numbers post-infusion days (day 0 = the infusion date) and
      in which times are written, when the data's own timestamps carry no local offset
      (``crs_grading.calendar``; the service sets it from ``CRS_CDS_TIMEZONE``).
    """

    system: GradingSystem = GradingSystem.LEE_2014
    scope_days: int = windows.SCOPE_DAYS
    vitals_window: timedelta = windows.VITALS_WINDOW
    lab_window: timedelta = windows.LAB_WINDOW
    clock_skew: timedelta = windows.CLOCK_SKEW
    weight_max_age: timedelta = windows.WEIGHT_MAX_AGE
    late_onset_days: int = windows.LATE_ONSET_DAYS
    culture_window: timedelta = windows.CULTURE_WINDOW
    lactate_window: timedelta = windows.LACTATE_WINDOW
    infusion_gap: timedelta = windows.INFUSION_GAP
    timezone: tzinfo = field(default=UTC)

    def __post_init__(self) -> None:
        if self.scope_days < 0:
            raise ValueError("scope_days must be >= 0")
        if self.late_onset_days < 0:
            raise ValueError("late_onset_days must be >= 0")
        positive = {
            "vitals_window": self.vitals_window,
            "lab_window": self.lab_window,
            "weight_max_age": self.weight_max_age,
            "culture_window": self.culture_window,
            "lactate_window": self.lactate_window,
        }
        for name, value in positive.items():
            if value <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        for name, value in {
            "clock_skew": self.clock_skew,
            "infusion_gap": self.infusion_gap,
        }.items():
            if value < timedelta(0):
                raise ValueError(f"{name} must not be negative")
