"""Seed Figure 3: the paper's hypothetical patient with grade 3 CRS after CAR T cells.

Paper (Figure 3 and text): fever on day 3 with a dramatic rise of IL-6 and IFN-gamma;
hypotension on day 5 needing 1 vasopressor (low dose); after a brief period of stability a
second vasopressor on day 6, when tocilizumab is given; IL-6 rises transiently after
tocilizumab while IFN-gamma falls fast; vasopressors weaned over the next 48 h; neurologic
changes may appear after tocilizumab and eventually resolve.

The paper gives no age: we make the patient a 58-year-old man with large B-cell lymphoma given
tisagenlecleucel (hypothetical, as in the paper). Representation exercised here: the product by
name in text with an NDC product code; norepinephrine ONLY as a medicationReference to a
contained Medication; European units (creatinine and bilirubin in umol/L with their molar
LOINC codes, fibrinogen in g/L, ANC in 10^9/L); oxygen as standalone flow Observations with no
FiO2 (the FiO2 must be estimated); FiO2 21% on room-air oximetry; GCS scores.
"""

from __future__ import annotations

from cds_service.demo._case_parts import lab_series, lymphodepletion
from cds_service.demo._codes import ICD10CM, NDC, SNOMED, coding, concept
from cds_service.demo._model import (
    BloodCulture,
    ConditionSpec,
    Dose,
    Drip,
    ExpectedDay,
    ExpectedSignal,
    FeverSpell,
    HypotensionSpell,
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
)

_SOURCE = "Lee et al., Blood 2014;124(2):188-195, Figure 3 (hypothetical patient)"

WEIGHT_KG = 82.0
TOCILIZUMAB_MG = round(4 * WEIGHT_KG)  # seed: 4 mg/kg in adults = 328 mg

_LAB_TIMES = (at(-1, "15:00"), *(at(day, "06:00") for day in range(0, 13)))
_LABS = (
    lab_series(
        "il6",
        _LAB_TIMES,
        (5.1, 5.4, 6.0, 9.0, 14.0, 880.0, 1600.0, 2400.0, 3600.0, 1100.0, 310.0, 95.0, 40.0, 22.0),
        unit="pg/mL",
        high=7.0,
    ),
    lab_series(
        "ifng",
        _LAB_TIMES,
        (2.0, 2.1, 2.4, 3.1, 4.0, 350.0, 620.0, 880.0, 45.0, 12.0, 5.0, 3.2, 2.6, 2.2),
        unit="pg/mL",
        high=7.8,
    ),
    lab_series(
        "crp",
        _LAB_TIMES,
        (4.0, 4.2, 5.1, 8.0, 12.0, 95.0, 168.0, 214.0, 172.0, 96.0, 48.0, 22.0, 11.0, 6.5),
        unit="mg/L",
        high=5.0,
    ),
    lab_series(
        "ferritin",
        _LAB_TIMES,
        (450, 460, 480, 520, 610, 2100, 5400, 8900, 8600, 6100, 3900, 2400, 1500, 980),
        unit="ng/mL",
        low=30,
        high=400,
    ),
    lab_series(
        "ast",
        _LAB_TIMES,
        (22, 23, 24, 25, 27, 38, 56, 74, 88, 70, 52, 38, 30, 26),
        unit="U/L",
        low=10,
        high=40,
    ),
    lab_series(
        "alt",
        _LAB_TIMES,
        (25, 26, 26, 27, 29, 41, 62, 85, 102, 94, 76, 58, 44, 35),
        unit="U/L",
        low=10,
        high=50,
    ),
    lab_series(
        "bilirubin-molar",
        _LAB_TIMES,
        (9, 9, 10, 10, 11, 14, 18, 22, 24, 20, 16, 13, 11, 10),
        unit="umol/L",
        low=3,
        high=21,
    ),
    lab_series(
        "creatinine-molar",
        _LAB_TIMES,
        (78, 77, 79, 80, 82, 88, 97, 108, 112, 101, 92, 85, 81, 79),
        unit="umol/L",
        low=62,
        high=106,
    ),
    lab_series(
        "fibrinogen",
        _LAB_TIMES,
        (3.6, 3.6, 3.7, 3.8, 4.0, 4.6, 5.0, 5.2, 4.8, 4.1, 3.8, 3.6, 3.5, 3.5),
        unit="g/L",
        low=2.0,
        high=4.0,
        decimals=1,
    ),
    lab_series(
        "anc",
        _LAB_TIMES,
        (2.10, 1.60, 1.20, 0.95, 0.82, 0.76, 0.70, 0.72, 0.80, 0.92, 1.05, 1.20, 1.40, 1.60),
        unit="10*9/L",
        low=1.8,
        high=7.5,
    ),
    lab_series(
        "lactate",
        _LAB_TIMES,
        (1.2, 1.1, 1.0, 1.1, 1.2, 1.4, 1.6, 1.7, 1.3, 1.1, 1.0, 1.0, 0.9, 0.9),
        unit="mmol/L",
        low=0.5,
        high=2.2,
    ),
)


def _expected() -> tuple[ExpectedDay, ...]:
    quiet = "Afebrile, off vasopressors and oxygen: no CRS criteria."
    return (
        ExpectedDay(0, 0, 0, "Tisagenlecleucel infusion (day 0 of Figure 3): no findings."),
        ExpectedDay(1, 0, 0, "No fever yet."),
        ExpectedDay(2, 0, 0, "No fever yet."),
        ExpectedDay(
            3, 1, 1, "Fever from day 3 with a dramatic IL-6 and IFN-gamma rise (Figure 3): grade 1."
        ),
        ExpectedDay(4, 1, 1, "Fever continues, normotensive on room air: grade 1."),
        ExpectedDay(
            5,
            2,
            3,
            "Hypotension after fluids needs 1 vasopressor at low dose "
            "(norepinephrine 3-5 ug/min, Table 3 high dose is 20): seed Table 2 grade 2; "
            "ASTCT 3 (one vasopressor).",
        ),
        ExpectedDay(
            6,
            3,
            4,
            "Second vasopressor (phenylephrine) added to norepinephrine at 13:00 "
            "(Figure 3, day 6): grade 3 by multiple vasopressors, ASTCT 4; tocilizumab "
            "at 13:30; oxygen 2 L/min by flow only.",
        ),
        ExpectedDay(
            7,
            3,
            4,
            "Weaning over 48 h: phenylephrine still runs with norepinephrine "
            "until 14:00: grade 3, ASTCT 4; confusion appears after tocilizumab.",
        ),
        ExpectedDay(
            8,
            2,
            3,
            "Norepinephrine alone (2-4 ug/min) until 13:00: grade 2; ASTCT 3 "
            "(after tocilizumab no fever is needed). Neurologic changes persist.",
        ),
        ExpectedDay(9, 0, 0, quiet + " Confusion persists (neurologic: shown, not graded)."),
        ExpectedDay(10, 0, 0, quiet + " Neurologic changes resolve (Figure 3)."),
        ExpectedDay(11, 0, 0, quiet),
        ExpectedDay(12, 0, 0, "Discharged on day 12 (hypothetical)."),
    )


def storyline() -> Storyline:
    return Storyline(
        case_id="figure3",
        title="Figure 3: hypothetical patient with grade 3 CRS after CAR T-cell infusion",
        source=_SOURCE,
        summary=(
            "Hypothetical 58-year-old man (the paper gives no age) with relapsed large B-cell "
            "lymphoma; tisagenlecleucel on day 0; fever day 3 with IL-6 and IFN-gamma rise; one "
            "low-dose vasopressor day 5; second vasopressor and tocilizumab day 6; weaned over "
            "48 h; confusion after tocilizumab that resolves."
        ),
        seed=20140404,
        utc_offset_h=1,
        patient=PatientSpec("Henrik", "Dahl", "male", 58 * 365 + 100, "CRS-DEMO-0004"),
        infusion=at(0, "11:00"),
        end=at(12, "11:00"),
        physiology=Physiology(
            temp_c=curve((at(0, "00:00"), 36.8)),
            heart_rate=curve(
                (at(3, "00:00"), 76),
                (at(5, "12:00"), 96),
                (at(7, "00:00"), 96),
                (at(9, "00:00"), 78),
            ),
            systolic=curve(
                (at(3, "00:00"), 128),
                (at(5, "10:00"), 112),
                (at(5, "14:00"), 90),
                (at(5, "20:00"), 100),
                (at(6, "10:00"), 104),
                (at(6, "12:30"), 84),
                (at(6, "16:00"), 100),
                (at(7, "12:00"), 110),
                (at(9, "00:00"), 124),
            ),
            diastolic=curve(
                (at(3, "00:00"), 78),
                (at(5, "10:00"), 70),
                (at(5, "14:00"), 54),
                (at(5, "20:00"), 60),
                (at(6, "10:00"), 62),
                (at(6, "12:30"), 48),
                (at(6, "16:00"), 60),
                (at(7, "12:00"), 68),
                (at(9, "00:00"), 76),
            ),
            resp_rate=curve((at(5, "00:00"), 16), (at(6, "12:00"), 22), (at(8, "00:00"), 16)),
            spo2=curve(
                (at(5, "00:00"), 97),
                (at(6, "12:00"), 93),
                (at(6, "14:00"), 95),
                (at(7, "12:00"), 96),
            ),
        ),
        vitals=(
            VitalsSegment(at(-1, "14:00"), at(5, "14:00"), 4),  # ward
            VitalsSegment(at(0, "11:15"), at(0, "12:00"), 0.25),  # infusion monitoring
            VitalsSegment(at(5, "16:00"), at(8, "16:00"), 1, icu=True),  # ICU
            VitalsSegment(at(8, "20:00"), at(12, "08:00"), 4),  # ward
        ),
        temperature_unit="Cel",
        min_systolic=95,
        min_mean_arterial=67,
        therapy=TherapySpec(
            resource_type="MedicationAdministration",
            minutes=20,
            concept=concept(
                "tisagenlecleucel",
                coding(
                    NDC,
                    "0078-0958-19",
                    "Kymriah (tisagenlecleucel) suspension for intravenous infusion",
                ),
            ),
            note="3.0 x 10^8 CAR-positive viable T cells IV",
        ),
        fevers=(
            FeverSpell(at(3, "13:00"), at(4, "03:00"), 39.1, at(3, "22:00")),
            FeverSpell(at(4, "09:00"), at(5, "03:00"), 39.6, at(4, "18:00")),
            FeverSpell(at(5, "09:00"), at(6, "04:00"), 40.0, at(5, "18:00")),
            FeverSpell(at(6, "09:00"), at(6, "15:00"), 39.8, at(6, "12:00")),
        ),
        hypotension=(
            HypotensionSpell(at(5, "13:30"), at(5, "20:00")),
            HypotensionSpell(at(6, "12:00"), at(7, "02:00")),
        ),
        pinned=(
            PinnedVitals(at(5, "14:00"), systolic=86, diastolic=52, heart_rate=124),
            PinnedVitals(at(5, "16:00"), systolic=88, diastolic=54),
            PinnedVitals(at(6, "12:30"), systolic=78, diastolic=44, heart_rate=132),
        ),
        oxygen=(OxygenSpell(at(6, "13:00"), at(7, "12:00"), 2.0, None, "standalone"),),
        room_air_fio2_component=True,
        weights_kg=((at(-1, "14:30"), WEIGHT_KG), (at(7, "06:00"), 83.1), (at(12, "06:00"), 81.4)),
        labs=_LABS,
        lab_times=_LAB_TIMES,
        stat_labs=(
            StatLab(at(3, "20:00"), "il6", 420.0),
            StatLab(at(3, "20:00"), "ifng", 180.0),
            StatLab(at(6, "12:45"), "lactate", 1.8),
            StatLab(at(6, "18:00"), "il6", 4100.0),
            StatLab(at(6, "18:00"), "ifng", 210.0),
        ),
        cultures=(
            BloodCulture(at(3, "14:30"), None),
            BloodCulture(at(6, "12:45"), None),
        ),
        gcs=(
            (at(-1, "14:00"), 15),
            (at(3, "22:00"), 15),
            (at(5, "18:00"), 15),
            (at(6, "20:00"), 15),
            (at(7, "16:00"), 14),
            (at(8, "08:00"), 13),
            (at(8, "20:00"), 14),
            (at(9, "08:00"), 14),
            (at(9, "20:00"), 14),
            (at(10, "14:00"), 15),
            (at(11, "10:00"), 15),
        ),
        drips=(
            Drip(
                "norepinephrine",
                "ug/min",
                (
                    (at(5, "16:30"), 3),
                    (at(5, "18:00"), 5),
                    (at(6, "13:00"), 8),
                    (at(6, "20:00"), 6),
                    (at(7, "16:00"), 4),
                    (at(8, "06:00"), 2),
                ),
                stop=at(8, "13:00"),
                contained=True,
            ),
            Drip(
                "phenylephrine",
                "ug/min",
                (
                    (at(6, "13:00"), 40),
                    (at(6, "14:00"), 80),
                    (at(6, "22:00"), 40),
                    (at(7, "08:00"), 20),
                ),
                stop=at(7, "14:00"),
            ),
        ),
        doses=(
            *lymphodepletion(
                fludarabine_mg=50,
                fludarabine_days=(-5, -4, -3),
                cyclophosphamide_mg=500,
                cyclophosphamide_days=(-5, -4, -3),
            ),
            Dose("sodium-chloride", at(5, "14:15"), 1000, "mL", "iv", 30, "fluid bolus"),
            Dose(
                "tocilizumab",
                at(6, "13:30"),
                TOCILIZUMAB_MG,
                "mg",
                "iv",
                60,
                f"4 mg/kg x {WEIGHT_KG} kg = {TOCILIZUMAB_MG} mg IV over 1 h",
            ),
        ),
        conditions=(
            ConditionSpec(
                key="dlbcl",
                concept=concept(
                    "Relapsed diffuse large B-cell lymphoma",
                    coding(ICD10CM, "C83.30", "Diffuse large B-cell lymphoma, unspecified site"),
                ),
                category="problem-list-item",
                onset=at(-400, "00:00"),
                dated=True,
            ),
            ConditionSpec(
                key="hypertension",
                concept=concept(
                    "Essential hypertension",
                    coding(ICD10CM, "I10", "Essential (primary) hypertension"),
                    coding(SNOMED, "38341003", "Hypertensive disorder"),
                ),
                category="problem-list-item",
                onset=at(-3000, "00:00"),
                dated=True,
            ),
            ConditionSpec(
                key="icans",
                concept=concept(
                    "Confusion (immune effector cell-associated neurotoxicity)",
                    coding(SNOMED, "286933003", "Confusional state"),
                    coding(
                        ICD10CM,
                        "G92.01",
                        "Immune effector cell-associated neurotoxicity syndrome, grade 1",
                    ),
                ),
                category="encounter-diagnosis",
                onset=at(7, "15:00"),
                abatement=at(10, "14:00"),
            ),
        ),
        expected=_expected(),
        signals=(
            ExpectedSignal(
                "masked-fever", 6, 12, "Tocilizumab on day 6: fever and CRP no longer track CRS."
            ),
        ),
        notes=(
            "Hypothetical patient: the paper's Figure 3 has no age, sex or weight; we chose a "
            "58-year-old man of 82 kg (under 65: no age criterion for early tocilizumab).",
            "Seed Table 2 grade 3 is reached on DAY 6, not day 5: on day 5 one vasopressor runs "
            "at a low dose (grade 2); the second vasopressor starts at 13:00 on day 6. ASTCT "
            "reaches 3 already on day 5 (any vasopressor) and 4 on day 6 (two).",
            f"Tocilizumab {TOCILIZUMAB_MG} mg = 4 mg/kg x {WEIGHT_KG} kg "
            "(seed: 4 mg/kg in adults).",
            "Norepinephrine is sent only as a medicationReference to a contained Medication "
            "(product text, ingredient coded RxNorm 7512); phenylephrine with RxNorm 8163.",
            "Combined dose stays below Table 3: norepinephrine equivalent at most 8 + 80/10 = 16 "
            "ug/min (< 20).",
            "Oxygen is charted as flow only (3151-8, 2 L/min) with no FiO2: the grader must "
            "estimate FiO2 (21% + 4% per L/min = 29%) and say so.",
            "IL-6 rises transiently after tocilizumab (2,400 before, 4,100 pg/mL 4.5 h after) "
            "while IFN-gamma falls (880 to 210 pg/mL), as Figure 3 shows.",
        ),
    )
