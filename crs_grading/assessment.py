"""What the grader concludes: the Assessment and its parts.

An ``Assessment`` is computed from ``GradingInputs`` at one ``as_of`` time by
``crs_grading.assess``. It is plain data: the treatment algorithm and the cards read it, and the
``org.crscds.assessment`` card extension of SPEC section 4 is a direct rendering of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from crs_grading.criteria import INFECTION_SIGNALS, Criterion, WarningCode
from crs_grading.inputs import (
    BloodPressure,
    ConditionFinding,
    ImmunosuppressantDose,
    LabResult,
    LabTest,
    Measurement,
    SkippedResource,
    TherapyAdministration,
    UnidentifiedAdministration,
)
from crs_grading.tables import windows


class GradingSystem(enum.StrEnum):
    """Grading systems the service knows (SPEC 2.3, 2.4)."""

    LEE_2014 = "lee2014"
    ASTCT_2019 = "astct2019"


@dataclass(frozen=True, slots=True)
class Driver:
    """One criterion that reached a grade, with the resources that show it.

    ``criterion`` is a stable kebab-case name documented in ``docs/`` (public contract); a
    plain string is read as its ``Criterion`` (an unknown one raises ``ValueError``).
    """

    criterion: Criterion
    grade: int
    evidence: tuple[str, ...]
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.criterion, Criterion):
            object.__setattr__(self, "criterion", Criterion(self.criterion))


@dataclass(frozen=True, slots=True)
class SystemGrade:
    """A grade by one system over one window: the highest grade any driver reaches."""

    system: GradingSystem
    grade: int
    drivers: tuple[Driver, ...]
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True, slots=True)
class AttributionWarning:
    """A signal that infection or sepsis could explain the picture (SPEC 2.7).

    ``code`` is one of the stable codes of SPEC 2.7 (``WarningCode``; a plain string is read as
    its member, an unknown one raises ``ValueError``).
    """

    code: WarningCode
    evidence: tuple[str, ...]
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, WarningCode):
            object.__setattr__(self, "code", WarningCode(self.code))

    @property
    def is_infection_signal(self) -> bool:
        """True for the four signals that make an immunosuppression suggestion critical."""
        return self.code.is_infection_signal


#: SPEC 2.7: any of these with an immunosuppression suggestion makes the card critical.
INFECTION_SIGNAL_CODES: frozenset[WarningCode] = INFECTION_SIGNALS


@dataclass(frozen=True, slots=True)
class TherapyContext:
    """The therapy that puts the patient in scope; its administration date is day 0."""

    therapy: TherapyAdministration
    day: int  # whole days since day 0 at as_of (day 0 = the administration date)


class Trend(enum.StrEnum):
    RISING = "rising"
    FALLING = "falling"
    STABLE = "stable"


@dataclass(frozen=True, slots=True)
class BiomarkerSummary:
    """CRP, ferritin or IL-6 for display only; never changes the grade (SPEC 2.8)."""

    test: LabTest
    latest: LabResult
    baseline: LabResult | None
    peak: LabResult
    fold_change: float | None  # latest / baseline
    trend: Trend | None  # from the last two results
    falling_after_peak: bool  # seed: a falling CRP after a peak may mark the syndrome's peak


@dataclass(frozen=True, slots=True)
class DailyGrade:
    """The worst grade of one post-infusion day, for the timeline strip (CRS by both systems,
    ICANS by ASTCT 2019)."""

    day: int
    lee2014: int
    astct2019: int
    icans: int = 0


@dataclass(frozen=True, slots=True)
class NeurologicFinding:
    """Evidence of neurologic dysfunction in the window (SPEC 2.5)."""

    kind: str  # "gcs-below-15", "ice-below-10", or the condition term ("encephalopathy", ...)
    evidence: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class IcansGrade:
    """The ICANS grade over one window: the worst domain, with one driver per domain."""

    grade: int
    drivers: tuple[Driver, ...]
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class IcansAssessment:
    """ICANS by ASTCT 2019 (SPEC 2.9): current (worst of the last 24 h) and peak (worst of any
    24 h since day 0).

    ``assessed`` is true when an ICE, CAPD or RASS was charted in the current window: without one,
    a grade 0 means "nothing charted", not "checked" (the assessment carries a data gap).
    ``sedated`` holds the RASS readings of the current window taken under continuous sedation
    (sedation confounds the level of consciousness; the grade still counts).
    """

    current: IcansGrade
    peak: IcansGrade
    assessed: bool
    sedated: tuple[str, ...] = ()

    @property
    def grade(self) -> int:
        return self.current.grade

    @property
    def peak_grade(self) -> int:
        return self.peak.grade


#: An assessment that holds no ICANS data (the default of hand-built assessments).
ICANS_NOT_ASSESSED = IcansAssessment(IcansGrade(0, ()), IcansGrade(0, ()), assessed=False)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The CRS assessment of one patient at one time.

    ``therapy`` is ``None`` when no CRS-associated therapy was given in the scope window: the
    patient is out of scope and gets no cards (SPEC 2.1). ``timezone`` is the local clock of the
    patient's data (``crs_grading.calendar``): day numbers were counted in it, and every time a
    clinician reads is written in it. ``vitals_window`` is the current grade's window (24 h).
    """

    as_of: datetime
    system: GradingSystem
    therapy: TherapyContext | None
    current: SystemGrade
    peak: SystemGrade
    other_systems: dict[GradingSystem, SystemGrade]
    fever_in_window: bool
    first_fever: Measurement | None  # since day 0
    neurologic_findings: tuple[NeurologicFinding, ...]
    vasopressor_in_window: bool  # seed: "significant hemodynamic instability" proxy
    attribution_warnings: tuple[AttributionWarning, ...]
    biomarkers: tuple[BiomarkerSummary, ...]
    baseline_blood_pressure: BloodPressure | None  # last reading before day 0
    weight: Measurement | None  # latest body weight within 30 days
    age_years: float | None
    comorbidities: tuple[ConditionFinding, ...]
    immunosuppressants_given: tuple[ImmunosuppressantDose, ...]  # oldest first; see _given
    daily: tuple[DailyGrade, ...]
    data_gaps: tuple[str, ...]
    skipped: tuple[SkippedResource, ...]
    timezone: tzinfo = UTC
    vitals_window: timedelta = windows.VITALS_WINDOW
    icans: IcansAssessment = ICANS_NOT_ASSESSED  # SPEC 2.9, graded beside CRS
    #: Out of scope only: administrations in the scope window whose drug could not be
    #: identified (its Medication could not be read). Each may have been the therapy, so the
    #: CRS check is incomplete rather than not needed (SPEC 2.1).
    unconfirmed_therapies: tuple[UnidentifiedAdministration, ...] = ()
    #: The weight weight-based vasopressor rates were converted with (SPEC 2.3: the latest body
    #: weight at any age; ``weight`` when there is one within 30 days).
    rate_weight: Measurement | None = None

    @property
    def in_scope(self) -> bool:
        return self.therapy is not None

    @property
    def grade(self) -> int:
        return self.current.grade

    @property
    def peak_grade(self) -> int:
        return self.peak.grade
