"""Seed Case 1: grade 1 CRS after CD19 CAR T cells (11-year-old girl, pre-B ALL).

Paper: lymphodepletion days -4 to -2; 1 x 10^6 CD19 CAR T cells/kg on day 0; fever from day 1
peaking at 40.7 C with rigors for 5 days; no source of infection; hemodynamically stable, no
neurologic dysfunction; IL-6 peak 222 pg/mL (~30-fold over baseline).

Representation exercised here: the cells as free text only ("CD19 CAR T cells"), no code;
post-lymphodepletion neutropenia with fever (febrile neutropenia, empiric cefepime).
"""

from __future__ import annotations

from cds_service.demo._case_parts import lab_series, lymphodepletion, symptom
from cds_service.demo._codes import ICD10CM, coding, concept
from cds_service.demo._model import (
    BloodCulture,
    ConditionSpec,
    ExpectedDay,
    ExpectedSignal,
    FeverSpell,
    PatientSpec,
    Physiology,
    Storyline,
    TherapySpec,
    VitalsSegment,
    at,
    curve,
    repeated,
)

_SOURCE = "Lee et al., Blood 2014;124(2):188-195, Case 1"

_LAB_TIMES = (at(-1, "14:00"), *(at(day, "05:30") for day in range(0, 10)))
_LABS = (
    lab_series(
        "il6",
        _LAB_TIMES,
        (7.4, 8.1, 46.0, 131.0, 222.0, 96.0, 41.0, 18.0, 11.0, 9.0, 8.2),
        unit="pg/mL",
        high=7.0,
    ),
    lab_series(
        "crp",
        _LAB_TIMES,
        (2.1, 2.4, 12.6, 58.3, 121.0, 134.2, 92.5, 51.0, 26.4, 14.1, 9.3),
        unit="mg/L",
        high=10.0,
    ),
    lab_series(
        "ferritin",
        _LAB_TIMES,
        (820, 860, 910, 1650, 3900, 4550, 3800, 2900, 2100, 1600, 1300),
        unit="ng/mL",
        low=13,
        high=150,
    ),
    lab_series(
        "ast",
        _LAB_TIMES,
        (28, 30, 34, 45, 62, 58, 44, 36, 31, 29, 27),
        unit="U/L",
        low=15,
        high=40,
    ),
    lab_series(
        "alt",
        _LAB_TIMES,
        (24, 25, 27, 38, 52, 58, 49, 40, 33, 28, 26),
        unit="U/L",
        low=10,
        high=35,
    ),
    lab_series(
        "bilirubin",
        _LAB_TIMES,
        (0.5, 0.5, 0.6, 0.8, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.5),
        unit="mg/dL",
        low=0.2,
        high=1.2,
    ),
    lab_series(
        "creatinine",
        _LAB_TIMES,
        (0.42, 0.41, 0.45, 0.52, 0.55, 0.53, 0.48, 0.45, 0.43, 0.42, 0.41),
        unit="mg/dL",
        low=0.3,
        high=0.7,
    ),
    lab_series(
        "fibrinogen",
        _LAB_TIMES,
        (290, 285, 310, 360, 410, 420, 390, 350, 320, 300, 295),
        unit="mg/dL",
        low=200,
        high=400,
    ),
    lab_series(
        "anc",
        _LAB_TIMES,
        (0.90, 0.62, 0.31, 0.22, 0.18, 0.24, 0.35, 0.58, 0.91, 1.32, 1.84),
        unit="10*3/uL",
        low=1.5,
        high=8.0,
    ),
    lab_series(
        "lactate",
        _LAB_TIMES,
        (1.1, 1.0, 1.4, 1.6, 1.5, 1.3, 1.2, 1.0, 1.0, 0.9, 1.0),
        unit="mmol/L",
        low=0.5,
        high=2.2,
    ),
)

_QUIET = "Afebrile, normotensive on room air: no CRS criteria met."


def storyline() -> Storyline:
    return Storyline(
        case_id="case1",
        title="Case 1: grade 1 CRS after CD19 CAR T-cell therapy for leukemia",
        source=_SOURCE,
        summary=(
            "11-year-old girl with primary refractory pre-B-cell ALL; fludarabine and "
            "cyclophosphamide days -4 to -2; 1 x 10^6 CD19 CAR T cells/kg on day 0; fever "
            "days 1 to 5 peaking at 40.7 C with rigors; cultures negative; stable throughout."
        ),
        seed=20140101,
        utc_offset_h=-5,
        patient=PatientSpec("Lena", "Marsh", "female", 11 * 365 + 140, "CRS-DEMO-0001"),
        infusion=at(0, "10:00"),
        end=at(9, "11:00"),
        physiology=Physiology(
            temp_c=curve(
                (at(1, "00:00"), 36.8),
                (at(1, "12:00"), 37.3),
                (at(5, "18:00"), 37.3),
                (at(6, "12:00"), 36.8),
            ),
            heart_rate=curve(
                (at(1, "00:00"), 92),
                (at(1, "12:00"), 104),
                (at(5, "18:00"), 104),
                (at(6, "12:00"), 90),
            ),
            systolic=curve(
                (at(1, "00:00"), 106),
                (at(1, "12:00"), 99),
                (at(5, "18:00"), 99),
                (at(6, "12:00"), 105),
            ),
            diastolic=curve(
                (at(1, "00:00"), 64),
                (at(1, "12:00"), 56),
                (at(5, "18:00"), 56),
                (at(6, "12:00"), 63),
            ),
            resp_rate=curve(
                (at(1, "00:00"), 20),
                (at(1, "12:00"), 24),
                (at(5, "18:00"), 24),
                (at(6, "12:00"), 20),
            ),
            spo2=curve((at(1, "00:00"), 98), (at(1, "12:00"), 97), (at(6, "12:00"), 98)),
        ),
        vitals=(
            VitalsSegment(at(-1, "14:00"), at(1, "10:00"), 4),
            VitalsSegment(at(0, "10:15"), at(0, "11:00"), 0.25),  # infusion monitoring
            VitalsSegment(at(1, "12:00"), at(6, "12:00"), 2),  # febrile: every 2 h
            VitalsSegment(at(6, "16:00"), at(9, "08:00"), 4),
        ),
        temperature_unit="Cel",
        min_systolic=94,
        min_mean_arterial=55,
        therapy=TherapySpec(
            resource_type="MedicationAdministration",
            minutes=20,
            concept=concept("CD19 CAR T cells"),
            note="1 x 10^6 CD19 CAR T cells/kg IV (38 x 10^6 cells)",
        ),
        fevers=(
            FeverSpell(at(1, "13:00"), at(2, "01:00"), 39.5, at(1, "20:00")),
            FeverSpell(at(2, "09:00"), at(3, "01:00"), 40.7, at(2, "14:00")),
            FeverSpell(at(3, "09:00"), at(4, "02:00"), 40.1, at(3, "16:00")),
            FeverSpell(at(4, "10:00"), at(4, "23:00"), 39.4, at(4, "16:00")),
            FeverSpell(at(5, "10:00"), at(5, "17:00"), 38.7, at(5, "14:00")),
        ),
        weights_kg=((at(-1, "14:30"), 38.2),),
        labs=_LABS,
        lab_times=_LAB_TIMES,
        cultures=(
            BloodCulture(at(1, "14:00"), None),
            BloodCulture(at(3, "16:00"), None),
        ),
        doses=(
            *lymphodepletion(
                fludarabine_mg=30,
                fludarabine_days=(-4, -3, -2),
                cyclophosphamide_mg=1100,
                cyclophosphamide_days=(-2,),
            ),
            # Febrile neutropenia: empiric cefepime 50 mg/kg every 8 h.
            *repeated(
                "cefepime",
                at(1, "15:00"),
                8,
                at(7, "07:00"),
                1910,
                minutes=30,
                note="50 mg/kg every 8 h (febrile neutropenia)",
            ),
        ),
        conditions=(
            ConditionSpec(
                key="all",
                concept=concept(
                    "Primary refractory pre-B-cell acute lymphoblastic leukemia",
                    coding(
                        ICD10CM,
                        "C91.00",
                        "Acute lymphoblastic leukemia not having achieved remission",
                    ),
                ),
                category="problem-list-item",
                onset=at(-240, "00:00"),
                dated=True,
            ),
            symptom(
                "rigors", "Rigors", ("38880002", "Rigor"), None, at(1, "14:00"), at(5, "16:00")
            ),
        ),
        expected=(
            ExpectedDay(0, 0, 0, "Day of the CAR T-cell infusion: afebrile and stable."),
            ExpectedDay(
                1,
                1,
                1,
                "Case 1: fever from day 1 with rigors; normotensive on room "
                "air: fever only, seed Table 2 grade 1 (ASTCT 1).",
            ),
            ExpectedDay(
                2,
                1,
                1,
                "Fever peaks at 40.7 C with rigors (Case 1); no hypotension, no oxygen: grade 1.",
            ),
            ExpectedDay(
                3,
                1,
                1,
                "Fever persists; IL-6 peaks at 222 pg/mL (~30x baseline): "
                "biomarkers never change the grade (seed), grade 1.",
            ),
            ExpectedDay(
                4,
                1,
                1,
                "Fever persists (Case 1: 'persisted for 5 days'), hemodynamically stable: grade 1.",
            ),
            ExpectedDay(5, 1, 1, "Fifth and last febrile day: grade 1."),
            *(ExpectedDay(day, 0, 0, _QUIET) for day in range(6, 10)),
        ),
        signals=(
            ExpectedSignal(
                "neutropenia",
                1,
                5,
                "ANC below 0.5 x 10^3/uL (500/uL) on the morning labs of days 1 to 5 after "
                "lymphodepletion; with fever this is febrile neutropenia (cultures drawn, "
                "empiric cefepime). The 72-h latest-result rule keeps it until the day-6 result.",
            ),
        ),
        notes=(
            "The therapy is sent as free text only ('CD19 CAR T cells'): no code to match.",
            "ANC is sent in 10*3/uL (K/uL), as US labs report it: 0.31 means 310 cells/uL.",
            "Blood cultures on days 1 and 3 show no growth (Case 1: 'No source of infection').",
        ),
    )
