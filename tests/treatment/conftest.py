"""Builders for the treatment tests: an ``Assessment`` built directly in Python (no grader),
draft orders and tocilizumab histories in clinical words.

``assessment(grade=3, age_years=70, weight_kg=62.625, neuro=True, vasopressor=False,
warnings=("neutropenia",), comorbidities=("heart failure",), given=(("tocilizumab", H(24)),))``
reads as the chart it stands for. ``icans=3`` adds an ICANS grade 3 (an ICE score of 2) with its
neurologic-dysfunction finding, as the grader reports it (SPEC 2.9). ``given`` entries are
``(agent, time before AS_OF)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from crs_grading.assessment import (
    ICANS_NOT_ASSESSED,
    Assessment,
    AttributionWarning,
    Driver,
    GradingSystem,
    IcansAssessment,
    IcansGrade,
    NeurologicFinding,
    SystemGrade,
    TherapyContext,
)
from crs_grading.criteria import Criterion, NeurologicKind
from crs_grading.inputs import (
    ConditionCategory,
    ConditionFinding,
    DoseBasis,
    DraftMedicationOrder,
    Immunosuppressant,
    ImmunosuppressantDose,
    Measurement,
    TherapyAdministration,
    TherapyKind,
)

#: The time of every default assessment, and day 0 five days before it.
AS_OF = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DAY0 = AS_OF - timedelta(days=5)


def H(hours: float = 0, minutes: float = 0) -> timedelta:  # noqa: N802 - reads as "hours"
    """A duration in hours and minutes: ``H(23, 59)``."""
    return timedelta(hours=hours, minutes=minutes)


def warning(code: str) -> AttributionWarning:
    return AttributionWarning(code, (f"Observation/{code}",), f"{code.replace('-', ' ')} found")


#: The ICE score that shows each ICANS grade (ASTCT 2019), and grade 4 as unarousable.
_ICE_OF_GRADE = {1: "ICE score 8/10", 2: "ICE score 5/10", 3: "ICE score 2/10"}


def icans_assessment(grade: int) -> tuple[IcansAssessment, NeurologicFinding | None]:
    """ICANS at ``grade`` (0-4) from one ICE screen, and its neurologic-dysfunction finding."""
    if grade <= 0:
        return IcansAssessment(IcansGrade(0, ()), IcansGrade(0, ()), assessed=True), None
    text = _ICE_OF_GRADE.get(grade, "ICE score not possible: patient unarousable")
    driver = Driver(Criterion.ICANS_ICE_SCORE, grade, ("Observation/ice",), text)
    current = IcansGrade(grade, (driver,), AS_OF - H(24), AS_OF)
    finding = NeurologicFinding(
        NeurologicKind.ICANS, ("Observation/ice",), f"ICANS grade {grade} ({text})"
    )
    return IcansAssessment(current, current, assessed=True), finding


def assessment(
    *,
    grade: int = 0,
    icans: int | None = None,
    age_years: float | None = 40.0,
    weight_kg: float | None = 70.0,
    fever: bool | None = None,
    neuro: bool = False,
    vasopressor: bool = False,
    warnings: Iterable[str] = (),
    comorbidities: Iterable[str] = (),
    inactive_comorbidities: Iterable[str] = (),
    given: Iterable[tuple[str, timedelta]] = (),
    as_of: datetime = AS_OF,
) -> Assessment:
    """An assessment at ``as_of`` with the given grade and facts (defaults: 40 y, 70 kg)."""
    current = SystemGrade(
        GradingSystem.LEE_2014, grade, (), window_start=as_of - H(24), window_end=as_of
    )
    therapy = TherapyAdministration(
        "tisagenlecleucel", TherapyKind.CAR_T, DAY0, "MedicationAdministration/cart"
    )
    conditions = tuple(
        ConditionFinding(ConditionCategory.COMORBIDITY, name, True, f"Condition/{i}")
        for i, name in enumerate(comorbidities)
    ) + tuple(
        ConditionFinding(ConditionCategory.COMORBIDITY, name, False, f"Condition/old{i}")
        for i, name in enumerate(inactive_comorbidities)
    )
    doses = tuple(
        ImmunosuppressantDose(
            Immunosuppressant(agent), as_of - before, f"MedicationAdministration/is{i}"
        )
        for i, (agent, before) in enumerate(given)
    )
    neurologic: tuple[NeurologicFinding, ...] = (
        (NeurologicFinding("encephalopathy", ("Condition/enc",), "encephalopathy"),)
        if neuro
        else ()
    )
    icans_grade = ICANS_NOT_ASSESSED
    if icans is not None:
        icans_grade, icans_finding = icans_assessment(icans)
        if icans_finding is not None:
            neurologic = (*neurologic, icans_finding)
    return Assessment(
        as_of=as_of,
        system=GradingSystem.LEE_2014,
        therapy=TherapyContext(therapy, day=5),
        current=current,
        peak=current,
        other_systems={},
        fever_in_window=grade >= 1 if fever is None else fever,
        first_fever=None,
        neurologic_findings=neurologic,
        vasopressor_in_window=vasopressor,
        attribution_warnings=tuple(warning(code) for code in warnings),
        biomarkers=(),
        baseline_blood_pressure=None,
        weight=(
            None
            if weight_kg is None
            else Measurement(as_of - H(30), weight_kg, "Observation/weight")
        ),
        age_years=age_years,
        comorbidities=conditions,
        immunosuppressants_given=doses,
        daily=(),
        data_gaps=(),
        skipped=(),
        icans=icans_grade,
    )


def tocilizumab_doses(*befores: timedelta) -> tuple[tuple[str, timedelta], ...]:
    """A tocilizumab history: one dose at each time before AS_OF."""
    return tuple(("tocilizumab", before) for before in befores)


def order(
    agent: str,
    dose: float | None,
    basis: str | None = "mg",
    route: str | None = "intravenous",
    **timing: Any,
) -> DraftMedicationOrder:
    """A draft order: ``order("tocilizumab", 280)``, ``order("dexamethasone", 0.5, "mg/kg")``;
    ``timing``: ``doses_per_day``, ``dose_interval``, ``dose_count``, ``dose_high``,
    ``position``, ``reference``."""
    return DraftMedicationOrder(
        agent=Immunosuppressant(agent),
        reference=timing.pop("reference", "MedicationRequest/draft1"),
        dose_value=dose,
        dose_basis=None if basis is None else DoseBasis(basis),
        route=route,
        **timing,
    )
