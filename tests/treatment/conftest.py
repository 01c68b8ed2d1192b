"""Builders for the treatment tests: an ``Assessment`` built directly in Python (no grader),
draft orders and tocilizumab histories in clinical words.

``assessment(grade=3, age_years=70, weight_kg=62.625, neuro=True, vasopressor=False,
warnings=("neutropenia",), comorbidities=("heart failure",), given=(("tocilizumab", H(24)),))``
reads as the chart it stands for. ``given`` entries are ``(agent, time before AS_OF)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from crs_grading.assessment import (
    Assessment,
    AttributionWarning,
    GradingSystem,
    NeurologicFinding,
    SystemGrade,
    TherapyContext,
)
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


def assessment(
    *,
    grade: int = 0,
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
    neurologic = (
        (NeurologicFinding("encephalopathy", ("Condition/enc",), "encephalopathy"),)
        if neuro
        else ()
    )
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
    )


def tocilizumab_doses(*befores: timedelta) -> tuple[tuple[str, timedelta], ...]:
    """A tocilizumab history: one dose at each time before AS_OF."""
    return tuple(("tocilizumab", before) for before in befores)


def order(
    agent: str,
    dose: float | None,
    basis: str | None = "mg",
    route: str | None = "intravenous",
) -> DraftMedicationOrder:
    """A draft order: ``order("tocilizumab", 280)``, ``order("dexamethasone", 0.5, "mg/kg")``."""
    return DraftMedicationOrder(
        agent=Immunosuppressant(agent),
        reference="MedicationRequest/draft1",
        dose_value=dose,
        dose_basis=None if basis is None else DoseBasis(basis),
        route=route,
    )
