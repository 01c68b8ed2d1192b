"""The storyline of one demo patient: what happens when, as plain data.

A storyline says, in hours since midnight (local time) of day 0, when the fevers, the blood
pressures, the drips, the doses, the labs and the diagnoses happen. ``_engine`` turns it into
FHIR resources; the case modules (``_case1`` ...) write one storyline each. Keeping the story as
data lets the tests check the clinical facts against the generated JSON, and lets the benchmark
generators reuse a case at another vitals cadence or length.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Literal

#: A FHIR resource or element as JSON.
JSON = dict[str, Any]


def at(day: int, hhmm: str) -> float:
    """Hours since midnight of day 0 (local time) for ``day`` at ``hhmm``; day may be negative."""
    hours, minutes = hhmm.split(":")
    return day * 24.0 + int(hours) + int(minutes) / 60.0


@dataclass(frozen=True, slots=True)
class Curve:
    """A value over time: linear between keyframes ``(hours, value)``, flat before and after."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a curve needs at least one keyframe")
        hours = [h for h, _ in self.points]
        if hours != sorted(hours):
            raise ValueError("curve keyframes must be in time order")

    def value(self, hours: float) -> float:
        times = [h for h, _ in self.points]
        index = bisect.bisect_right(times, hours)
        if index == 0:
            return self.points[0][1]
        if index == len(self.points):
            return self.points[-1][1]
        (h0, v0), (h1, v1) = self.points[index - 1], self.points[index]
        if h1 == h0:
            return v1
        return v0 + (v1 - v0) * (hours - h0) / (h1 - h0)

    def is_keyframe(self, hours: float) -> bool:
        return any(abs(h - hours) < 1e-6 for h, _ in self.points)


def curve(*points: tuple[float, float]) -> Curve:
    return Curve(tuple(points))


@dataclass(frozen=True, slots=True)
class PatientSpec:
    """A fictional patient; the birth date is computed from day 0 so the age stays right."""

    given: str
    family: str
    gender: Literal["female", "male"]
    age_days_at_day0: int
    mrn: str


@dataclass(frozen=True, slots=True)
class VitalsSegment:
    """Vital signs every ``every`` hours from ``start`` to ``end``; ``icu`` adds a measured MAP."""

    start: float
    end: float
    every: float
    icu: bool = False


@dataclass(frozen=True, slots=True)
class Physiology:
    """Afebrile baselines of the vital signs over time (noise is added by the engine)."""

    temp_c: Curve
    heart_rate: Curve
    systolic: Curve
    diastolic: Curve
    resp_rate: Curve
    spo2: Curve


@dataclass(frozen=True, slots=True)
class FeverSpell:
    """Every temperature in ``[start, end]`` is >= 38.1 C; the reading nearest ``peak_at`` is
    exactly ``peak_c``. Outside all spells temperatures stay <= 37.8 C."""

    start: float
    end: float
    peak_c: float
    peak_at: float


@dataclass(frozen=True, slots=True)
class HypotensionSpell:
    """Blood pressure may fall below the age threshold only inside such a spell."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class PinnedVitals:
    """A charted set of vitals at an exact time (a recheck), overriding the modelled values."""

    at: float
    temp_c: float | None = None
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    resp_rate: int | None = None
    spo2: int | None = None


@dataclass(frozen=True, slots=True)
class OxygenSpell:
    """Supplemental oxygen from ``start`` to ``end``.

    ``style`` says how the EHR sends it: ``component`` as 3151-8/3150-0 components of the pulse
    oximetry Observation, ``standalone`` as separate 3151-8 (and 3150-0) Observations.
    ``fio2_percent`` None: flow only, so the FiO2 must be estimated from the flow.
    """

    start: float
    end: float
    flow_l_min: float
    fio2_percent: float | None
    style: Literal["component", "standalone"]


@dataclass(frozen=True, slots=True)
class LabSpec:
    """One lab test of a case: its code, unit, reference range and its course over time."""

    key: str
    loinc: str
    display: str
    text: str
    unit: str  # UCUM code
    unit_display: str
    decimals: int
    course: Curve
    low: float | None = None
    high: float | None = None
    turnaround_h: float = 1.5


@dataclass(frozen=True, slots=True)
class StatLab:
    """An extra lab drawn at an exact time (e.g. a lactate when the patient crashes)."""

    at: float
    key: str
    value: float


@dataclass(frozen=True, slots=True)
class Organism:
    snomed: str
    name: str


@dataclass(frozen=True, slots=True)
class BloodCulture:
    """A blood culture (600-7). ``organism`` None: no growth. Final ``final_after_h`` after
    collection (earlier: preliminary "no growth to date" after 48 h, or nothing yet)."""

    collected: float
    organism: Organism | None
    final_after_h: float = 120.0


@dataclass(frozen=True, slots=True)
class Drip:
    """A continuous vasopressor infusion: ``steps`` are (start, rate) of each rate, then ``stop``.

    Each rate becomes one MedicationAdministration with an effectivePeriod, consecutive in time.
    ``contained`` sends the drug only as a medicationReference to a contained Medication.
    """

    agent: str
    rate_unit: Literal["ug/min", "ug/kg/min"]
    steps: tuple[tuple[float, float], ...]
    stop: float
    contained: bool = False


@dataclass(frozen=True, slots=True)
class Dose:
    """A single administration of a drug (dose in ``unit``: mg or mL)."""

    drug: str
    at: float
    amount: float
    unit: Literal["mg", "mL"]
    route: Literal["iv", "sc"]
    minutes: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class TherapySpec:
    """The CRS-associated therapy, given at the storyline's ``infusion`` time, as EHRs send it."""

    resource_type: Literal["MedicationAdministration", "Procedure"]
    minutes: int
    concept: JSON
    note: str


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """A diagnosis. Times are hours since day 0; ``dated`` sends the onset as a date only."""

    key: str
    concept: JSON
    category: Literal["problem-list-item", "encounter-diagnosis"]
    onset: float
    abatement: float | None = None
    status_when_abated: Literal["resolved", "remission", "inactive"] = "resolved"
    status: Literal["active", "remission"] = "active"
    dated: bool = False


@dataclass(frozen=True, slots=True)
class NeuroCheck:
    """A bedside neurologic check (SPEC 2.9): the encephalopathy screen the patient's age calls
    for (ICE from 12 y, CAPD under 12, ASTCT 2019) and the level of consciousness as RASS."""

    at: float
    screen: Literal["ICE", "CAPD"]
    score: int  # ICE 0-10 (10 normal); CAPD 0-32 (0 normal, >= 9 delirium)
    rass: int  # -5 (unarousable) to +4 (combative); 0 alert and calm


@dataclass(frozen=True, slots=True)
class HistoryProcedure:
    key: str
    concept: JSON
    at: float
    note: str


@dataclass(frozen=True, slots=True)
class ExpectedDay:
    """The expected worst grade of one day after day 0, by both CRS systems and for ICANS, with
    why."""

    day: int
    lee2014: int
    astct2019: int
    reason: str
    icans: int = 0  # the worst ICANS grade of the day (ASTCT 2019, SPEC 2.9)


@dataclass(frozen=True, slots=True)
class ExpectedSignal:
    """An infection or attribution signal of SPEC 2.7 the data shows, from day to day."""

    code: str
    first_day: int
    last_day: int
    text: str


@dataclass(frozen=True, slots=True)
class Storyline:
    """Everything that happens to one demo patient."""

    case_id: str
    title: str
    source: str
    summary: str
    seed: int
    utc_offset_h: int
    patient: PatientSpec
    infusion: float  # hours since day 0 midnight (local): the therapy's start
    end: float  # discharge: the last data point of the full course
    physiology: Physiology
    vitals: tuple[VitalsSegment, ...]
    temperature_unit: Literal["Cel", "[degF]"]
    min_systolic: int  # outside hypotension spells
    min_mean_arterial: int  # outside hypotension spells (used for adults)
    therapy: TherapySpec
    fevers: tuple[FeverSpell, ...] = ()
    hypotension: tuple[HypotensionSpell, ...] = ()
    pinned: tuple[PinnedVitals, ...] = ()
    oxygen: tuple[OxygenSpell, ...] = ()
    room_air_fio2_component: bool = False
    weights_kg: tuple[tuple[float, float], ...] = ()
    labs: tuple[LabSpec, ...] = ()
    lab_times: tuple[float, ...] = ()
    stat_labs: tuple[StatLab, ...] = ()
    cultures: tuple[BloodCulture, ...] = ()
    gcs: tuple[tuple[float, int], ...] = ()
    neuro_checks: tuple[NeuroCheck, ...] = ()
    drips: tuple[Drip, ...] = ()
    doses: tuple[Dose, ...] = ()
    conditions: tuple[ConditionSpec, ...] = ()
    history: tuple[HistoryProcedure, ...] = ()
    expected: tuple[ExpectedDay, ...] = ()
    signals: tuple[ExpectedSignal, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def infusion_end(self) -> float:
        """When the day-0 therapy ends (hours since day 0 midnight)."""
        return self.infusion + self.therapy.minutes / 60.0


def repeated(
    drug: str,
    first: float,
    every_h: float,
    last: float,
    amount: float,
    *,
    unit: Literal["mg", "mL"] = "mg",
    route: Literal["iv", "sc"] = "iv",
    minutes: int = 60,
    note: str = "",
) -> tuple[Dose, ...]:
    """A scheduled drug (e.g. vancomycin every 6 h) as one Dose per administration."""
    doses: list[Dose] = []
    time = first
    while time <= last + 1e-9:
        doses.append(Dose(drug, time, amount, unit, route, minutes, note))
        time += every_h
    return tuple(doses)
