"""Synthetic assessments for the card tests, built in Python (no FHIR, no grader).

``assessment(grade=3, warnings=("neutropenia",), weight_kg=None)`` reads as the chart it stands
for; the treatment plan then comes from the real ``plan_treatment``, so the cards are tested on
what the algorithm really says.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cds_service.cards import CardContext, DataProblemNote
from crs_grading.assessment import (
    ICANS_NOT_ASSESSED,
    Assessment,
    AttributionWarning,
    BiomarkerSummary,
    DailyGrade,
    Driver,
    GradingSystem,
    IcansAssessment,
    IcansGrade,
    NeurologicFinding,
    SystemGrade,
    TherapyContext,
    Trend,
)
from crs_grading.criteria import NeurologicKind, WarningCode
from crs_grading.inputs import (
    BloodPressure,
    ConditionCategory,
    ConditionFinding,
    Immunosuppressant,
    ImmunosuppressantDose,
    LabResult,
    LabTest,
    Measurement,
    SkippedResource,
    TherapyAdministration,
    TherapyKind,
)
from crs_grading.treatment import TreatmentOptions, TreatmentPlan, plan_treatment
from crs_grading.wording.phrases import WARNINGS

AS_OF = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DAY0 = AS_OF - timedelta(days=5)
PATIENT_ID = "pt-7"
LAUNCH = "https://cds.example.org/smart/launch"

#: A driver for each grade, as the grader would report it.
_DRIVERS = {
    1: Driver("fever", 1, ("Observation/t1",), "temperature 39.2 C"),
    2: Driver("hypotension", 2, ("Observation/bp1",), "BP 84/50 mmHg: systolic 84 < 90 mmHg"),
    3: Driver(
        "multiple-vasopressors",
        3,
        ("MedicationAdministration/ne1", "MedicationAdministration/dop1"),
        "norepinephrine and dopamine at the same time",
    ),
    4: Driver("ventilation", 4, ("Procedure/vent1",), "invasive mechanical ventilation"),
    5: Driver("death", 5, ("Patient/pt-7",), "death recorded with CRS in the preceding 24 h"),
}

_WARNING_TEXTS = {
    "positive-blood-culture": WARNINGS[WarningCode.POSITIVE_BLOOD_CULTURE].format(
        organisms=" (E. coli)", window="7 days"
    ),
    "neutropenia": WARNINGS[WarningCode.NEUTROPENIA].format(anc="300"),
    "febrile-neutropenia": WARNINGS["febrile-neutropenia"].format(anc="300"),
    "elevated-lactate": WARNINGS[WarningCode.ELEVATED_LACTATE].format(lactate="3.1", threshold="2"),
    "infection-diagnosis": WARNINGS[WarningCode.INFECTION_DIAGNOSIS].format(names="sepsis"),
    "late-onset": WARNINGS[WarningCode.LATE_ONSET].format(day=16, after="", days=14),
    "masked-fever": WARNINGS[WarningCode.MASKED_FEVER].format(agents="tocilizumab"),
    "iec-hs": WARNINGS[WarningCode.IEC_HS].format(
        ferritin="ferritin 9000 ng/mL (> 2 x ULN 300)", features="platelets 30 x10^9/L"
    ),
}


#: ICANS drivers for each grade, as the grader words them (ASTCT 2019, SPEC 2.9).
_ICANS_DRIVERS = {
    1: (Driver("icans-depressed-consciousness", 1, ("Observation/rass",), "RASS -1: drowsy"),),
    2: (Driver("icans-ice-score", 2, ("Observation/ice",), "ICE score 5/10"),),
    3: (
        Driver("icans-ice-score", 3, ("Observation/ice",), "ICE score 2/10"),
        Driver(
            "icans-depressed-consciousness", 2, ("Observation/rass",), "RASS -2: awakens to voice"
        ),
    ),
    4: (
        Driver(
            "icans-ice-score",
            4,
            ("Observation/ice",),
            "ICE score not possible: patient unarousable",
        ),
        Driver("icans-seizure", 3, ("Condition/sz",), "clinical seizure, resolved"),
        Driver("icans-cerebral-edema", 3, ("Observation/ct",), "focal cerebral edema on imaging"),
    ),
}


def icans_assessment(grade: int, peak: int | None = None) -> IcansAssessment:
    """ICANS now at ``grade`` and at ``peak`` (default: ``grade``) with the drivers above."""
    peak = grade if peak is None else peak
    current = IcansGrade(grade, _ICANS_DRIVERS.get(grade, ()), AS_OF - timedelta(hours=24), AS_OF)
    highest = IcansGrade(
        peak, _ICANS_DRIVERS.get(peak, ()), AS_OF - timedelta(hours=60), AS_OF - timedelta(hours=36)
    )
    return IcansAssessment(current, highest, assessed=True)


def warning(code: str, febrile: bool = False) -> AttributionWarning:
    """A warning worded as the grader words it (``crs_grading.wording.phrases``)."""
    text = _WARNING_TEXTS["febrile-neutropenia" if febrile and code == "neutropenia" else code]
    return AttributionWarning(code, (f"Observation/{code}",), text)


def assessment(
    *,
    grade: int = 0,
    peak: int | None = None,
    age_years: float | None = 40.0,
    weight_kg: float | None = 70.0,
    fever: bool | None = None,
    neuro: bool = False,
    vasopressor: bool = False,
    warnings: Iterable[str] = (),
    comorbidities: Iterable[str] = (),
    tocilizumab_hours_ago: Iterable[float] = (),
    therapy_name: str = "tisagenlecleucel",
    day: int = 5,
    in_scope: bool = True,
    data_gaps: tuple[str, ...] = (),
    skipped: tuple[SkippedResource, ...] = (),
    biomarkers: tuple[BiomarkerSummary, ...] = (),
    baseline: BloodPressure | None = None,
    icans: int | None = None,
    icans_peak: int | None = None,
) -> Assessment:
    """An assessment at AS_OF with the given facts (defaults: 40 y, 70 kg, day 5)."""
    drivers = tuple(_DRIVERS[g] for g in range(grade, 0, -1) if g in _DRIVERS)
    current = SystemGrade(
        GradingSystem.LEE_2014, grade, drivers, AS_OF - timedelta(hours=24), AS_OF
    )
    peak_grade = grade if peak is None else peak
    peak_drivers = tuple(_DRIVERS[g] for g in range(peak_grade, 0, -1) if g in _DRIVERS)
    peak_system = SystemGrade(
        GradingSystem.LEE_2014,
        peak_grade,
        peak_drivers,
        AS_OF - timedelta(hours=60),
        AS_OF - timedelta(hours=36),
    )
    astct = SystemGrade(
        GradingSystem.ASTCT_2019, min(grade + 1, 5) if grade >= 3 else grade, (), AS_OF, AS_OF
    )
    therapy = TherapyAdministration(
        therapy_name, TherapyKind.CAR_T, DAY0, "MedicationAdministration/cart"
    )
    given = tuple(
        ImmunosuppressantDose(
            Immunosuppressant.TOCILIZUMAB,
            AS_OF - timedelta(hours=hours),
            f"MedicationAdministration/toci{index}",
            280,
        )
        for index, hours in enumerate(tocilizumab_hours_ago)
    )
    return Assessment(
        as_of=AS_OF,
        system=GradingSystem.LEE_2014,
        therapy=TherapyContext(therapy, day) if in_scope else None,
        current=current,
        peak=peak_system,
        other_systems={GradingSystem.ASTCT_2019: astct},
        fever_in_window=(grade >= 1) if fever is None else fever,
        first_fever=None,
        neurologic_findings=(
            (NeurologicFinding("encephalopathy", ("Condition/enc",), "encephalopathy"),)
            if neuro
            else ()
        )
        + _icans_finding(icans),
        vasopressor_in_window=vasopressor,
        attribution_warnings=tuple(
            warning(code, febrile=(grade >= 1) if fever is None else fever) for code in warnings
        ),
        biomarkers=biomarkers,
        baseline_blood_pressure=baseline,
        weight=(
            None
            if weight_kg is None
            else Measurement(AS_OF - timedelta(hours=30), weight_kg, "Observation/weight")
        ),
        age_years=age_years,
        comorbidities=tuple(
            ConditionFinding(ConditionCategory.COMORBIDITY, name, True, f"Condition/c{i}")
            for i, name in enumerate(comorbidities)
        ),
        immunosuppressants_given=given,
        daily=tuple(DailyGrade(d, min(d, grade), min(d, grade)) for d in range(day + 1)),
        data_gaps=data_gaps,
        skipped=skipped,
        icans=ICANS_NOT_ASSESSED if icans is None else icans_assessment(icans, icans_peak),
    )


def _icans_finding(grade: int | None) -> tuple[NeurologicFinding, ...]:
    """The neurologic-dysfunction finding the grader adds for ICANS >= 1 (SPEC 2.9)."""
    if grade is None or grade < 1:
        return ()
    drivers = _ICANS_DRIVERS[grade]
    shown = "; ".join(d.text for d in drivers)
    evidence = tuple(ref for d in drivers for ref in d.evidence)
    return (NeurologicFinding(NeurologicKind.ICANS, evidence, f"ICANS grade {grade} ({shown})"),)


def crp(
    latest: float, baseline: float | None, *, falling_after_peak: bool = False
) -> BiomarkerSummary:
    """A CRP summary (mg/L)."""
    latest_result = LabResult(LabTest.CRP, AS_OF - timedelta(hours=6), latest, "Observation/crp2")
    baseline_result = (
        None
        if baseline is None
        else LabResult(LabTest.CRP, DAY0 - timedelta(hours=10), baseline, "Observation/crp0")
    )
    peak = LabResult(
        LabTest.CRP, AS_OF - timedelta(hours=30), max(latest, 180.0), "Observation/crp1"
    )
    return BiomarkerSummary(
        test=LabTest.CRP,
        latest=latest_result,
        baseline=baseline_result,
        peak=peak,
        fold_change=None if baseline is None else latest / baseline,
        trend=Trend.FALLING if falling_after_peak else Trend.RISING,
        falling_after_peak=falling_after_peak,
    )


def plan(value: Assessment, protocol: str = "lee2014") -> TreatmentPlan:
    from crs_grading.treatment import Protocol

    return plan_treatment(value, TreatmentOptions(protocol=Protocol(protocol)))


def context(*problems: tuple[str, ...]) -> CardContext:
    """A card context for PATIENT_ID with sequential uuids (u1, u2, ...); each problem is
    ``(key, message)`` or ``(key, message, hides_data, card_line)``."""
    counter = iter(range(1, 10_000))
    return CardContext(
        patient_id=PATIENT_ID,
        smart_launch_url=LAUNCH,
        data_problems=tuple(DataProblemNote(*problem) for problem in problems),  # type: ignore[arg-type]
        new_uuid=lambda: f"u{next(counter)}",
    )
