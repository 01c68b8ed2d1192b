"""Seed Case 3: grade 3 CRS after CD19 CAR T cells (11-year-old girl, relapsed B-ALL).

Paper: 2 x 10^7 CD19-CAR cells on day 0; day 1 admitted with fever, blood cultures grew
Streptococcus mitis, afebrile on vancomycin; day 4 new fever with headache and nausea; day 5
tachycardia, hypotension 70/40, new oxygen requirement, 2 fluid boluses, PICU, dopamine and
norepinephrine, tocilizumab 8 mg/kg: afebrile within hours, off oxygen, pressors weaned to
minimal; day 7 febrile again with intermittent hypotension on continued pressors; ferritin
130 000 ng/mL and CRP 21.5 mg/L peak on day 7; day 9 encephalopathy with near aphasia; pressors
off day 10; encephalopathy resolved by day 13; discharged day 15.

Representation exercised here: the cells as a Procedure ("CD19 CAR T-cell infusion"); both
vasopressors weight-based (ug/kg/min); oxygen as components of the pulse oximetry Observation;
a measured MAP from the arterial line in the PICU; a positive culture with a SNOMED organism;
twice-daily neurologic checks from admission as local flowsheet rows: the CAPD (she is 11, and
ASTCT 2019 screens children under 12 with the CAPD, not the ICE score) and the RASS as a charted
choice, so that her day 9 encephalopathy grades as ICANS (SPEC 2.9).
"""

from __future__ import annotations

from cds_service.demo._case_parts import (
    lab_series,
    lymphodepletion,
    stem_cell_transplant_status,
    symptom,
)
from cds_service.demo._codes import ICD10CM, SNOMED, coding, concept
from cds_service.demo._model import (
    BloodCulture,
    ConditionSpec,
    Dose,
    Drip,
    ExpectedDay,
    ExpectedSignal,
    FeverSpell,
    HypotensionSpell,
    NeuroCheck,
    Organism,
    OxygenSpell,
    PatientSpec,
    Physiology,
    PinnedVitals,
    StatLab,
    Storyline,
    TherapySpec,
    VitalsSegment,
    at,
    curve,
    repeated,
)

_SOURCE = "Lee et al., Blood 2014;124(2):188-195, Case 3"

#: PICU weight on day 5, the weight the tocilizumab dose was calculated on.
PICU_WEIGHT_KG = 36.4
TOCILIZUMAB_MG = round(8 * PICU_WEIGHT_KG)  # 8 mg/kg (seed: children 8 mg/kg) = 291 mg

_LAB_TIMES = (
    at(-1, "10:00"),
    at(0, "08:30"),
    at(1, "11:30"),
    *(at(day, "05:00") for day in range(2, 16)),
)
_LABS = (
    lab_series(
        "crp",
        _LAB_TIMES,
        (1.2, 1.4, 5.8, 8.9, 6.1, 7.4, 13.6, 18.2, 21.5, 17.4, 12.8, 8.1, 5.5, 3.9, 2.8, 2.1, 1.8),
        unit="mg/L",
        high=10.0,
    ),
    lab_series(
        "ferritin",
        _LAB_TIMES,
        (
            1450,
            1480,
            1600,
            1750,
            1900,
            3200,
            18500,
            74000,
            130000,
            96000,
            61000,
            35000,
            21000,
            12500,
            8200,
            5600,
            4100,
        ),
        unit="ng/mL",
        low=13,
        high=150,
    ),
    lab_series(
        "il6",
        _LAB_TIMES,
        (
            6.2,
            6.5,
            38.0,
            24.0,
            12.0,
            85.0,
            640.0,
            4800.0,
            3100.0,
            1200.0,
            420.0,
            160.0,
            62.0,
            28.0,
            15.0,
            10.0,
            8.1,
        ),
        unit="pg/mL",
        high=7.0,
    ),
    lab_series(
        "ast",
        _LAB_TIMES,
        (24, 25, 28, 30, 29, 33, 58, 96, 112, 88, 62, 44, 36, 31, 28, 26, 25),
        unit="U/L",
        low=10,
        high=40,
    ),
    lab_series(
        "alt",
        _LAB_TIMES,
        (20, 21, 23, 26, 25, 28, 47, 90, 118, 104, 80, 61, 48, 38, 30, 26, 23),
        unit="U/L",
        low=5,
        high=45,
    ),
    lab_series(
        "bilirubin",
        _LAB_TIMES,
        (0.4, 0.4, 0.5, 0.5, 0.4, 0.6, 0.9, 1.3, 1.6, 1.4, 1.1, 0.8, 0.6, 0.5, 0.5, 0.4, 0.4),
        unit="mg/dL",
        low=0.2,
        high=1.2,
    ),
    lab_series(
        "creatinine",
        _LAB_TIMES,
        (
            0.38,
            0.38,
            0.40,
            0.39,
            0.37,
            0.41,
            0.50,
            0.55,
            0.53,
            0.49,
            0.45,
            0.42,
            0.40,
            0.39,
            0.38,
            0.37,
            0.37,
        ),
        unit="mg/dL",
        low=0.3,
        high=0.7,
    ),
    lab_series(
        "fibrinogen",
        _LAB_TIMES,
        (260, 262, 280, 275, 270, 265, 240, 212, 200, 210, 228, 245, 255, 262, 265, 268, 270),
        unit="mg/dL",
        low=200,
        high=400,
    ),
    lab_series(
        "anc",
        _LAB_TIMES,
        (
            1.10,
            0.95,
            0.82,
            0.74,
            0.66,
            0.62,
            0.70,
            0.88,
            1.15,
            1.52,
            1.90,
            2.20,
            2.45,
            2.60,
            2.70,
            2.80,
            2.90,
        ),
        unit="10*3/uL",
        low=1.5,
        high=8.0,
    ),
    lab_series(
        "lactate",
        _LAB_TIMES,
        (1.1, 1.0, 1.6, 1.2, 1.0, 1.3, 1.9, 1.6, 1.5, 1.2, 1.1, 1.0, 1.0, 0.9, 1.0, 0.9, 0.9),
        unit="mmol/L",
        low=0.5,
        high=2.2,
    ),
)

_MITIS = Organism("57997003", "Streptococcus mitis")

#: Day 9: "encephalopathy, with near aphasia, disorientation, and lethargy, which improved
#: rapidly over the next 2 days ... resolved completely by day 13" (seed Case 3), as the PICU
#: nurses chart it: CAPD (ASTCT 2019 for children under 12; 0 normal, >= 9 delirium, 32 worst)
#: near its worst while she barely speaks and is disoriented, RASS -2 (opens her eyes to voice)
#: while lethargic; the times of the GCS checks. ICANS (ASTCT 2019): CAPD >= 9 is grade 3,
#: CAPD 1-8 awake is grade 1, RASS -2 is grade 2.
_ENCEPHALOPATHY = (
    NeuroCheck(at(9, "11:00"), "CAPD", 20, -2),
    NeuroCheck(at(9, "15:00"), "CAPD", 21, -2),
    NeuroCheck(at(9, "23:00"), "CAPD", 17, -1),
    NeuroCheck(at(10, "07:00"), "CAPD", 13, -1),
    NeuroCheck(at(10, "15:00"), "CAPD", 10, 0),
    NeuroCheck(at(10, "23:00"), "CAPD", 7, 0),
    NeuroCheck(at(11, "09:00"), "CAPD", 5, 0),
    NeuroCheck(at(11, "21:00"), "CAPD", 4, 0),
    NeuroCheck(at(12, "09:00"), "CAPD", 2, 0),
)


def _neuro_checks() -> tuple[NeuroCheck, ...]:
    """Twice-daily checks (08:00 and 20:00) from admission on day 1 to discharge on day 15, a
    normal CAPD 0 and RASS 0 outside the encephalopathy, and the encephalopathy's own checks."""
    first, last = at(9, "11:00"), at(12, "09:00")
    routine = tuple(
        NeuroCheck(hours, "CAPD", 0, 0)
        for day in range(1, 16)
        for hours in (at(day, "08:00"), at(day, "20:00"))
        if at(1, "20:00") <= hours <= at(15, "08:00") and not first <= hours <= last
    )
    return tuple(sorted((*routine, *_ENCEPHALOPATHY), key=lambda check: check.at))


def _expected() -> tuple[ExpectedDay, ...]:
    quiet = "Afebrile, off vasopressors and oxygen: no CRS criteria."
    return (
        ExpectedDay(0, 0, 0, "CAR T-cell infusion (day 0): no findings."),
        ExpectedDay(
            1,
            1,
            1,
            "Case 3: admitted with fever on day 1; blood cultures grow S. mitis. "
            "Fever only: grade 1 by the data, but infection explains it (warning).",
        ),
        ExpectedDay(2, 1, 1, "Fever until midday, then afebrile on vancomycin (Case 3): grade 1."),
        ExpectedDay(3, 0, 0, "Afebrile on vancomycin: no CRS criteria."),
        ExpectedDay(4, 1, 1, "New fever with headache and nausea (Case 3, day 4): grade 1."),
        ExpectedDay(
            5,
            3,
            4,
            "Hypotension 70/40, new oxygen need (2 L/min, FiO2 28%), 2 fluid "
            "boluses, then dopamine and norepinephrine together: seed Table 2 grade 3 "
            "(multiple vasopressors); ASTCT 4. Tocilizumab 8 mg/kg.",
        ),
        ExpectedDay(
            6,
            3,
            4,
            "Afebrile after tocilizumab and off oxygen, but both pressors still "
            "run at minimal rates: grade 3; ASTCT 4 (no fever needed after tocilizumab).",
        ),
        ExpectedDay(
            7,
            3,
            4,
            "Febrile again with intermittent hypotension on both pressors; "
            "ferritin 130,000 ng/mL and CRP 21.5 mg/L peak (Case 3): grade 3, ASTCT 4.",
        ),
        ExpectedDay(
            8, 3, 4, "Dopamine runs with norepinephrine until noon, then stops: grade 3, ASTCT 4."
        ),
        ExpectedDay(
            9,
            2,
            3,
            "Norepinephrine alone at a low dose: grade 2 (one low-dose "
            "vasopressor); ASTCT 3. Encephalopathy with near aphasia, disorientation and "
            "lethargy (Case 3, day 9): CAPD 20-21 and RASS -2, ICANS grade 3; it never "
            "changes the CRS grade.",
            icans=3,
        ),
        ExpectedDay(
            10,
            2,
            3,
            "Norepinephrine stopped at noon (Case 3: 'Pressors were "
            "discontinued on day 10'): grade 2, ASTCT 3. CAPD 13 then 10 (>= 9): ICANS grade 3, "
            "improving.",
            icans=3,
        ),
        ExpectedDay(
            11, 0, 0, quiet + " Encephalopathy improving: CAPD 5 then 4, awake: ICANS 1.", icans=1
        ),
        ExpectedDay(12, 0, 0, quiet + " CAPD 2 in the morning (ICANS 1), then 0.", icans=1),
        ExpectedDay(
            13, 0, 0, quiet + " Encephalopathy resolved (Case 3: by day 13): CAPD 0, ICANS 0."
        ),
        ExpectedDay(14, 0, 0, quiet),
        ExpectedDay(15, 0, 0, "Discharged home on day 15 (Case 3)."),
    )


def storyline() -> Storyline:
    return Storyline(
        case_id="case3",
        title="Case 3: grade 3 CRS after CD19 CAR T-cell therapy for leukemia",
        source=_SOURCE,
        summary=(
            "11-year-old girl with B-ALL relapsed after HSCT; 2 x 10^7 CD19-CAR T cells on day 0; "
            "S. mitis bacteremia on day 1; shock on day 5 with dopamine plus norepinephrine and "
            "tocilizumab 8 mg/kg; recurrent fever day 7; encephalopathy days 9 to 13; "
            "pressors off day 10; discharged day 15."
        ),
        seed=20140303,
        utc_offset_h=-8,
        patient=PatientSpec("Nora", "Whitfield", "female", 11 * 365 + 255, "CRS-DEMO-0003"),
        infusion=at(0, "09:30"),
        end=at(15, "11:00"),
        physiology=Physiology(
            temp_c=curve((at(0, "00:00"), 36.9)),
            heart_rate=curve(
                (at(1, "00:00"), 96),
                (at(5, "09:00"), 110),
                (at(5, "12:00"), 132),
                (at(6, "12:00"), 112),
                (at(8, "12:00"), 112),
                (at(10, "12:00"), 98),
                (at(12, "00:00"), 92),
            ),
            systolic=curve(
                (at(5, "09:00"), 104),
                (at(5, "12:00"), 80),
                (at(5, "16:00"), 92),
                (at(6, "06:00"), 96),
                (at(6, "12:00"), 99),
                (at(7, "10:00"), 98),
                (at(7, "13:00"), 90),
                (at(8, "12:00"), 97),
                (at(9, "12:00"), 102),
            ),
            diastolic=curve(
                (at(5, "09:00"), 64),
                (at(5, "12:00"), 44),
                (at(5, "16:00"), 54),
                (at(6, "12:00"), 58),
                (at(7, "13:00"), 52),
                (at(8, "12:00"), 58),
                (at(9, "12:00"), 62),
            ),
            resp_rate=curve(
                (at(5, "09:00"), 20),
                (at(5, "12:00"), 30),
                (at(6, "06:00"), 24),
                (at(8, "12:00"), 22),
                (at(10, "00:00"), 20),
            ),
            spo2=curve(
                (at(5, "09:00"), 98),
                (at(5, "12:00"), 91),
                (at(5, "13:00"), 95),
                (at(5, "21:00"), 96),
                (at(7, "00:00"), 97),
            ),
        ),
        vitals=(
            VitalsSegment(at(-1, "10:00"), at(-1, "10:00"), 1),  # pre-infusion clinic visit
            VitalsSegment(at(0, "09:00"), at(0, "11:30"), 0.5),  # infusion, outpatient
            VitalsSegment(at(1, "11:00"), at(4, "11:00"), 4),  # ward
            VitalsSegment(at(4, "13:00"), at(5, "11:00"), 2),  # febrile
            VitalsSegment(at(5, "13:00"), at(10, "16:00"), 1, icu=True),  # PICU
            VitalsSegment(at(10, "19:00"), at(15, "07:00"), 4),  # ward
        ),
        temperature_unit="Cel",
        min_systolic=92,
        min_mean_arterial=55,
        therapy=TherapySpec(
            resource_type="Procedure",
            minutes=15,
            concept=concept("CD19 CAR T-cell infusion"),
            note="2 x 10^7 CD19-CAR T cells IV, clinical trial product",
        ),
        fevers=(
            FeverSpell(at(1, "10:30"), at(2, "01:00"), 39.4, at(1, "15:00")),
            FeverSpell(at(2, "10:00"), at(2, "14:00"), 38.6, at(2, "11:00")),
            FeverSpell(at(4, "10:30"), at(5, "01:30"), 39.6, at(4, "15:00")),
            FeverSpell(at(5, "08:30"), at(5, "15:00"), 40.1, at(5, "11:00")),
            FeverSpell(at(7, "10:00"), at(8, "02:00"), 39.3, at(7, "14:00")),
            FeverSpell(at(8, "10:00"), at(8, "13:00"), 38.4, at(8, "11:00")),
        ),
        hypotension=(
            HypotensionSpell(at(5, "11:30"), at(6, "06:00")),
            HypotensionSpell(at(7, "11:00"), at(8, "12:00")),
        ),
        pinned=(
            PinnedVitals(
                at(5, "12:00"), systolic=70, diastolic=40, heart_rate=152, resp_rate=32, spo2=89
            ),
            PinnedVitals(at(5, "12:30"), spo2=94),  # nasal cannula on
            PinnedVitals(at(5, "13:00"), systolic=76, diastolic=44, heart_rate=148),
            PinnedVitals(at(7, "13:00"), systolic=84, diastolic=46),
            PinnedVitals(at(7, "21:00"), systolic=86, diastolic=48),
            PinnedVitals(at(8, "04:00"), systolic=88, diastolic=50),
        ),
        oxygen=(OxygenSpell(at(5, "12:30"), at(5, "21:00"), 2.0, 28.0, "component"),),
        weights_kg=(
            (at(-1, "10:00"), 35.8),
            (at(5, "13:30"), PICU_WEIGHT_KG),
            (at(10, "06:00"), 36.0),
            (at(15, "06:00"), 35.5),
        ),
        labs=_LABS,
        lab_times=_LAB_TIMES,
        stat_labs=(
            StatLab(at(5, "12:15"), "lactate", 3.4),
            StatLab(at(5, "12:15"), "il6", 2900.0),
        ),
        cultures=(
            BloodCulture(at(1, "11:30"), _MITIS, final_after_h=48),
            BloodCulture(at(2, "11:00"), None),
            BloodCulture(at(4, "11:00"), None),
            BloodCulture(at(7, "11:00"), None),
        ),
        neuro_checks=_neuro_checks(),
        gcs=(
            (at(8, "20:00"), 15),
            (at(9, "11:00"), 11),
            (at(9, "15:00"), 11),
            (at(9, "23:00"), 12),
            (at(10, "07:00"), 13),
            (at(10, "15:00"), 13),
            (at(11, "09:00"), 14),
            (at(12, "09:00"), 14),
            (at(13, "09:00"), 15),
            (at(14, "09:00"), 15),
        ),
        drips=(
            Drip(
                "dopamine",
                "ug/kg/min",
                (
                    (at(5, "13:45"), 5),
                    (at(5, "14:30"), 8),
                    (at(5, "20:00"), 5),
                    (at(6, "04:00"), 3),
                    (at(6, "12:00"), 2),
                    (at(7, "13:00"), 5),
                    (at(8, "08:00"), 3),
                ),
                stop=at(8, "12:00"),
            ),
            Drip(
                "norepinephrine",
                "ug/kg/min",
                (
                    (at(5, "14:15"), 0.05),
                    (at(5, "15:00"), 0.1),
                    (at(5, "22:00"), 0.05),
                    (at(6, "08:00"), 0.03),
                    (at(6, "14:00"), 0.02),
                    (at(7, "13:00"), 0.06),
                    (at(8, "14:00"), 0.04),
                    (at(9, "10:00"), 0.02),
                ),
                stop=at(10, "12:00"),
            ),
        ),
        doses=(
            *lymphodepletion(
                fludarabine_mg=36,
                fludarabine_days=(-4, -3, -2),
                cyclophosphamide_mg=600,
                cyclophosphamide_days=(-4, -3),
            ),
            *repeated(
                "vancomycin", at(1, "12:30"), 6, at(10, "18:30"), 540, note="15 mg/kg every 6 h"
            ),
            Dose("sodium-chloride", at(5, "12:05"), 720, "mL", "iv", 30, "20 mL/kg fluid bolus"),
            Dose("sodium-chloride", at(5, "12:50"), 720, "mL", "iv", 30, "20 mL/kg fluid bolus"),
            Dose(
                "tocilizumab",
                at(5, "14:30"),
                TOCILIZUMAB_MG,
                "mg",
                "iv",
                60,
                f"8 mg/kg x {PICU_WEIGHT_KG} kg = {TOCILIZUMAB_MG} mg IV over 1 h",
            ),
        ),
        conditions=(
            ConditionSpec(
                key="all",
                concept=concept(
                    "B-cell acute lymphoblastic leukemia, relapsed after HSCT",
                    coding(ICD10CM, "C91.02", "Acute lymphoblastic leukemia, in relapse"),
                ),
                category="problem-list-item",
                onset=at(-30, "00:00"),
                dated=True,
            ),
            stem_cell_transplant_status(-210),
            ConditionSpec(
                key="bacteremia",
                concept=concept(
                    "Streptococcus mitis bacteremia",
                    coding(SNOMED, "5758002", "Bacteremia"),
                    coding(ICD10CM, "R78.81", "Bacteremia"),
                ),
                category="encounter-diagnosis",
                onset=at(1, "11:30"),
                abatement=at(11, "12:00"),
            ),
            symptom(
                "headache",
                "Headache",
                ("25064002", "Headache"),
                ("R51.9", "Headache, unspecified"),
                at(4, "11:00"),
                at(5, "15:00"),
            ),
            symptom(
                "nausea",
                "Nausea",
                ("422587007", "Nausea"),
                ("R11.0", "Nausea"),
                at(4, "11:00"),
                at(5, "15:00"),
            ),
            symptom(
                "encephalopathy",
                "Encephalopathy",
                ("81308009", "Disorder of brain"),
                ("G93.40", "Encephalopathy, unspecified"),
                at(9, "11:00"),
                at(13, "12:00"),
            ),
            symptom(
                "aphasia",
                "Aphasia (near aphasia)",
                ("87486003", "Aphasia"),
                ("R47.01", "Aphasia"),
                at(9, "11:00"),
                at(11, "12:00"),
            ),
        ),
        expected=_expected(),
        signals=(
            ExpectedSignal(
                "positive-blood-culture",
                1,
                8,
                "Blood culture of day 1 grows Streptococcus mitis (final day 3); "
                "in the last 7 days until day 8.",
            ),
            ExpectedSignal(
                "infection-diagnosis",
                1,
                11,
                "Active Condition 'Streptococcus mitis bacteremia' from day 1, resolved on day 11.",
            ),
            ExpectedSignal(
                "elevated-lactate", 5, 5, "Lactate 3.4 mmol/L at 12:15 on day 5, during the shock."
            ),
            ExpectedSignal(
                "masked-fever", 5, 15, "Tocilizumab on day 5: fever and CRP no longer track CRS."
            ),
        ),
        notes=(
            "CRP is 21.5 mg/L at its day-7 peak as the paper prints it; the unit was probably "
            "mg/dL (215 mg/L) in the original. We keep the printed value and unit; biomarkers "
            "never change the grade.",
            "Oxygen: 2 L/min nasal cannula with FiO2 28% (below 40%: seed Table 2 grade 2, "
            "ASTCT low-flow grade 2), sent as components of the pulse oximetry Observation; "
            "off at 21:00 on day 5 ('no longer required supplemental oxygen').",
            f"Tocilizumab {TOCILIZUMAB_MG} mg = 8 mg/kg x {PICU_WEIGHT_KG} kg (PICU weight at "
            "13:30 on day 5, the latest before the dose).",
            "Dopamine and norepinephrine are in ug/kg/min; neither reaches Table 3's high dose "
            "(dopamine max 8 ug/kg/min; norepinephrine max 0.1 ug/kg/min = 3.6 ug/min).",
            "Pressors: 'weaned to minimal levels' after tocilizumab but both kept until dopamine "
            "stops at noon on day 8; norepinephrine alone until noon on day 10.",
        ),
    )
