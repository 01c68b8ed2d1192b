"""Builders for grading inputs: a ``Chart`` collects findings in clinical words and builds
``GradingInputs`` directly (no FHIR), with unique ``Type/id`` references."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from crs_grading import GradingOptions, assess
from crs_grading.assessment import Assessment
from crs_grading.inputs import (
    BloodPressure,
    Comparator,
    ConditionCategory,
    ConditionFinding,
    ConsciousnessReading,
    CultureResult,
    EncephalopathyItem,
    EncephalopathyScreen,
    EncephalopathyTool,
    GradingInputs,
    Immunosuppressant,
    ImmunosuppressantDose,
    InfusionRate,
    LabResult,
    LabTest,
    Measurement,
    NeurologicSign,
    NeurologicSignFinding,
    NeuroScore,
    NeuroScoreKind,
    OxygenDevice,
    OxygenReading,
    PatientFacts,
    RateBasis,
    ScreenItem,
    ScreenUnable,
    SkippedResource,
    TherapyAdministration,
    TherapyKind,
    UnidentifiedAdministration,
    Vasopressor,
    VasopressorAdministration,
    VentilationKind,
    VentilationPeriod,
)

#: The infusion of every default chart: day 0 is 18 November 2026 (UTC).
DAY0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

#: Reference ranges as fhir_maps fills them by default (adult).
ULN = {LabTest.AST: 40.0, LabTest.ALT: 40.0, LabTest.BILIRUBIN: 1.2, LabTest.CREATININE: 1.0}
LLN = {LabTest.FIBRINOGEN: 200.0}


class Chart:
    """A patient's chart as grading inputs. Every adder returns the new item's reference."""

    def __init__(
        self,
        age: int | None = 40,
        therapy: str | None = "tisagenlecleucel",
        kind: TherapyKind = TherapyKind.CAR_T,
        infused: datetime = DAY0,
    ) -> None:
        self.infused = infused
        self.birth_date = date(infused.year - age, 1, 1) if age is not None else None
        self.deceased_time: datetime | None = None
        self.deceased = False
        self.items: dict[str, list[Any]] = {}
        self._count = 0
        if therapy is not None:
            self.therapy(therapy, kind, infused)

    # -- time -------------------------------------------------------------------------------
    def t(self, day: float = 0, h: float = 0, m: float = 0) -> datetime:
        """``day`` days, ``h`` hours and ``m`` minutes after the infusion."""
        return self.infused + timedelta(days=day, hours=h, minutes=m)

    # -- adders -----------------------------------------------------------------------------
    def _ref(self, kind: str) -> str:
        self._count += 1
        return f"{kind}/{self._count}"

    def _add(self, field: str, item: Any) -> str:
        self.items.setdefault(field, []).append(item)
        return str(item.reference)

    def therapy(
        self,
        name: str,
        kind: TherapyKind,
        when: datetime,
        end: datetime | None = None,
        ongoing: bool = False,
    ) -> str:
        ref = self._ref("MedicationAdministration")
        return self._add("therapies", TherapyAdministration(name, kind, when, ref, end, ongoing))

    def unidentified(
        self, when: datetime, end: datetime | None = None, ongoing: bool = False
    ) -> str:
        """An administration whose drug could not be read (a possible therapy)."""
        ref = self._ref("MedicationAdministration")
        item = UnidentifiedAdministration(ref, when, end, ongoing)
        return self._add("unidentified_administrations", item)

    def temp(self, when: datetime, celsius: float, comparator: Comparator | None = None) -> str:
        reading = Measurement(when, celsius, self._ref("Observation"), comparator)
        return self._add("temperatures_c", reading)

    def bp(
        self,
        when: datetime,
        systolic: float | None = None,
        diastolic: float | None = None,
        mean: float | None = None,
        **bounds: Comparator,
    ) -> str:
        """``bounds``: ``systolic_comparator=Comparator.BELOW`` and the like (SPEC 3)."""
        reading = BloodPressure(when, self._ref("Observation"), systolic, diastolic, mean, **bounds)
        return self._add("blood_pressures", reading)

    def heart_rate(self, when: datetime, bpm: float) -> str:
        return self._add("heart_rates", Measurement(when, bpm, self._ref("Observation")))

    def oxygen(
        self,
        when: datetime,
        fio2: float | None = None,
        flow: float | None = None,
        device: OxygenDevice | None = None,
    ) -> str:
        return self._add(
            "oxygen", OxygenReading(when, self._ref("Observation"), fio2, flow, device)
        )

    def vent(
        self,
        start: datetime,
        end: datetime | None = None,
        kind: VentilationKind = VentilationKind.INVASIVE,
        device: OxygenDevice | None = None,
    ) -> str:
        period = VentilationPeriod(kind, start, end, self._ref("Procedure"), device)
        return self._add("ventilation", period)

    def drip(
        self,
        agent: Vasopressor,
        start: datetime,
        end: datetime | None = None,
        rate: float | None = None,
        basis: RateBasis = RateBasis.MICROGRAMS_PER_MIN,
        in_progress: bool = False,
        rate_gap: str | None = None,
    ) -> str:
        infusion = InfusionRate(rate, basis) if rate is not None else None
        admin = VasopressorAdministration(
            agent,
            start,
            end,
            infusion,
            self._ref("MedicationAdministration"),
            in_progress,
            rate_gap,
        )
        return self._add("vasopressors", admin)

    def lab(
        self,
        test: LabTest,
        when: datetime,
        value: float,
        low: float | None = None,
        high: float | None = None,
        comparator: Comparator | None = None,
    ) -> str:
        low = LLN.get(test) if low is None else low
        high = ULN.get(test) if high is None else high
        result = LabResult(test, when, value, self._ref("Observation"), low, high, comparator)
        return self._add("labs", result)

    def weight(self, when: datetime, kg: float, stated: bool = False) -> str:
        field = "stated_weights_kg" if stated else "weights_kg"
        return self._add(field, Measurement(when, kg, self._ref("Observation")))

    def culture(
        self, when: datetime, positive: bool | None = True, organism: str | None = None
    ) -> str:
        result = CultureResult(when, positive, self._ref("Observation"), organism)
        return self._add("blood_cultures", result)

    def score(self, kind: NeuroScoreKind, when: datetime, value: float) -> str:
        return self._add("neuro_scores", NeuroScore(kind, when, value, self._ref("Observation")))

    def condition(
        self,
        category: ConditionCategory,
        name: str,
        active: bool = True,
        onset: datetime | None = None,
        abatement: datetime | None = None,
        refuted: bool = False,
    ) -> str:
        finding = ConditionFinding(
            category, name, active, self._ref("Condition"), onset, abatement, refuted
        )
        return self._add("conditions", finding)

    def immuno(self, agent: Immunosuppressant, when: datetime, dose_mg: float | None = None) -> str:
        dose = ImmunosuppressantDose(agent, when, self._ref("MedicationAdministration"), dose_mg)
        return self._add("immunosuppressants", dose)

    def skip(self, reference: str, reason: str) -> None:
        self._add("skipped", SkippedResource(reference, reason))

    def note(self, text: str) -> None:
        self.items.setdefault("notes", []).append(text)

    def died(self, when: datetime | None) -> None:
        self.deceased, self.deceased_time = True, when

    # -- ICANS (SPEC 2.9) ---------------------------------------------------------------------
    def screen(
        self,
        tool: EncephalopathyTool,
        when: datetime,
        total: float | None = None,
        items: dict[EncephalopathyItem, float] | None = None,
        unable: bool = False,
        because: ScreenUnable | None = None,
    ) -> str:
        charted = tuple(ScreenItem(item, points) for item, points in (items or {}).items())
        why: dict[str, Any] = {"unable_because": because} if because is not None else {}
        screen = EncephalopathyScreen(
            tool, when, self._ref("Observation"), total, charted, unable_to_perform=unable, **why
        )
        return self._add("encephalopathy_screens", screen)

    def ice(self, when: datetime, total: float | None = None, **kwargs: Any) -> str:
        return self.screen(EncephalopathyTool.ICE, when, total, **kwargs)

    def capd(self, when: datetime, total: float | None = None, **kwargs: Any) -> str:
        return self.screen(EncephalopathyTool.CAPD, when, total, **kwargs)

    def rass(self, when: datetime, score: int, sedated: bool = False) -> str:
        reading = ConsciousnessReading(when, score, self._ref("Observation"), sedated)
        return self._add("consciousness", reading)

    def sign(
        self,
        sign: NeurologicSign,
        onset: datetime | None,
        name: str = "",
        recorded: datetime | None = None,
        kind: str = "Condition",
        active: bool = False,
        abatement: datetime | None = None,
    ) -> str:
        course: dict[str, Any] = {"active": True} if active else {}
        if abatement is not None:
            course["abatement"] = abatement
        finding = NeurologicSignFinding(sign, name, self._ref(kind), onset, recorded, **course)
        return self._add("neurologic_signs", finding)

    # -- building ---------------------------------------------------------------------------
    def inputs(self) -> GradingInputs:
        patient = PatientFacts("Patient/p1", self.birth_date, self.deceased, self.deceased_time)
        return GradingInputs(patient, **{k: tuple(v) for k, v in self.items.items()})

    def assess(self, as_of: datetime | None = None, **options: Any) -> Assessment:
        when = as_of if as_of is not None else self.t(1)
        return assess(self.inputs(), when, GradingOptions(**options))


@pytest.fixture
def chart() -> Chart:
    return Chart()


@pytest.fixture(scope="session")
def make_chart() -> type[Chart]:
    return Chart


def driver(assessment: Assessment, criterion: str, peak: bool = False) -> Any:
    """The driver of ``criterion`` in the current (or peak) grade, or None."""
    grade = assessment.peak if peak else assessment.current
    return next((d for d in grade.drivers if d.criterion == criterion), None)


@pytest.fixture(scope="session")
def find_driver() -> Any:
    return driver
