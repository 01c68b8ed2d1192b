"""Seed Case 2: grade 3 CRS after multivirus-specific CTL (19-year-old woman, EBV-PTLD).

Paper: relapsed EBV-negative Hodgkin lymphoma; 9/10 HLA-DRB1-mismatched unrelated HSCT after
TBI 600 cGy, fludarabine and alemtuzumab; EBV-PTLD 3 months after transplant; only a transient
response to 2 doses of rituximab; donor-derived multispecific CTL 5 x 10^6 cells/m2. EBV DNA
normal with improvement "within 2 weeks after infusion. Shortly afterward", fever, rash,
tachycardia and hypotension; dopamine and norepinephrine, etanercept, methylprednisolone
1 mg/kg/day x 2; symptoms resolved within hours and vasopressors were stopped.

Representation exercised here: temperatures in [degF]; the product as free text plus a local
code; norepinephrine in ug/min and dopamine in ug/kg/min; an old in-scope antibody (rituximab)
more than 30 days before day 0; a negative culture still preliminary at discharge.
"""

from __future__ import annotations

from cds_service.demo._case_parts import lab_series, stem_cell_transplant_status, symptom
from cds_service.demo._codes import ICD10CM, LOCAL_PRODUCTS, SNOMED, coding, concept
from cds_service.demo._model import (
    BloodCulture,
    ConditionSpec,
    Dose,
    Drip,
    ExpectedDay,
    ExpectedSignal,
    FeverSpell,
    HistoryProcedure,
    HypotensionSpell,
    PatientSpec,
    Physiology,
    PinnedVitals,
    Storyline,
    TherapySpec,
    VitalsSegment,
    at,
    curve,
)

_SOURCE = "Lee et al., Blood 2014;124(2):188-195, Case 2"

_LAB_TIMES = (
    at(-7, "10:00"),
    at(0, "08:30"),
    at(3, "10:30"),
    at(7, "10:30"),
    at(10, "10:30"),
    at(14, "11:45"),
    at(15, "05:00"),
    at(16, "05:00"),
    at(17, "05:00"),
)
_LABS = (
    lab_series(
        "il6", _LAB_TIMES, (3.1, 3.4, 4.0, 3.6, 3.2, 108.0, 64.0, 21.0, 9.5), unit="pg/mL", high=7.0
    ),
    lab_series(
        "crp", _LAB_TIMES, (3.2, 3.5, 4.1, 3.0, 2.6, 46.0, 88.0, 61.0, 34.0), unit="mg/L", high=10.0
    ),
    lab_series(
        "ferritin",
        _LAB_TIMES,
        (2350, 2400, 2310, 2200, 2150, 4100, 5800, 5200, 4600),
        unit="ng/mL",
        low=13,
        high=150,
    ),
    lab_series(
        "ast", _LAB_TIMES, (26, 25, 27, 24, 23, 41, 48, 39, 31), unit="U/L", low=10, high=40
    ),
    lab_series("alt", _LAB_TIMES, (31, 30, 29, 27, 26, 38, 44, 40, 34), unit="U/L", low=7, high=35),
    lab_series(
        "bilirubin",
        _LAB_TIMES,
        (0.6, 0.6, 0.7, 0.6, 0.6, 0.9, 1.1, 0.9, 0.7),
        unit="mg/dL",
        low=0.1,
        high=1.2,
    ),
    lab_series(
        "creatinine",
        _LAB_TIMES,
        (0.72, 0.70, 0.74, 0.71, 0.70, 0.88, 0.96, 0.84, 0.76),
        unit="mg/dL",
        low=0.5,
        high=1.1,
    ),
    lab_series(
        "fibrinogen",
        _LAB_TIMES,
        (310, 305, 300, 295, 300, 340, 380, 360, 330),
        unit="mg/dL",
        low=200,
        high=400,
    ),
    lab_series(
        "anc",
        _LAB_TIMES,
        (3.4, 3.2, 3.0, 3.5, 3.8, 6.2, 7.4, 6.8, 5.1),
        unit="10*3/uL",
        low=1.5,
        high=8.0,
    ),
    lab_series(
        "lactate",
        _LAB_TIMES,
        (1.0, 1.1, 0.9, 1.0, 1.0, 1.9, 1.3, 1.0, 0.9),
        unit="mmol/L",
        low=0.5,
        high=2.2,
    ),
)

_OUTPATIENT = "Outpatient after the CTL infusion; afebrile and normotensive when seen."


def _expected() -> tuple[ExpectedDay, ...]:
    days = [ExpectedDay(0, 0, 0, "CTL infusion (day 0): afebrile and normotensive.")]
    for day in range(1, 14):
        reason = _OUTPATIENT
        if day in (3, 7, 10):
            reason = f"Clinic visit on day {day}: afebrile, normotensive (no CRS criteria)."
        days.append(ExpectedDay(day, 0, 0, reason))
    days.append(
        ExpectedDay(
            14,
            3,
            4,
            "Case 2: fever, rash, tachycardia, hypotension 'shortly afterward'; dopamine and "
            "norepinephrine at the same time: seed Table 2 grade 3 (multiple vasopressors); "
            "ASTCT grade 4 (two vasopressors).",
        )
    )
    days.append(
        ExpectedDay(
            15,
            0,
            0,
            "Symptoms resolved within hours and vasopressors stopped on day 14 (Case 2); second "
            "methylprednisolone dose; nothing left to grade.",
        )
    )
    days += [ExpectedDay(day, 0, 0, "Afebrile, normotensive: no CRS criteria.") for day in (16, 17)]
    return tuple(days)


def storyline() -> Storyline:
    return Storyline(
        case_id="case2",
        title="Case 2: grade 3 CRS after genetically unmodified CTL for EBV-associated lymphoma",
        source=_SOURCE,
        summary=(
            "19-year-old woman with EBV-PTLD after a mismatched unrelated HSCT for relapsed "
            "Hodgkin lymphoma; donor-derived multivirus-specific CTL on day 0; on day 14 fever, "
            "rash, tachycardia and hypotension treated with dopamine and norepinephrine together, "
            "etanercept and methylprednisolone 1 mg/kg/day x 2; resolved within hours."
        ),
        seed=20140202,
        utc_offset_h=-6,
        patient=PatientSpec("Camila", "Reyes", "female", 19 * 365 + 190, "CRS-DEMO-0002"),
        infusion=at(0, "10:30"),
        end=at(17, "11:00"),
        physiology=Physiology(
            temp_c=curve((at(0, "00:00"), 36.8)),
            heart_rate=curve(
                (at(14, "09:00"), 78),
                (at(14, "11:00"), 112),
                (at(14, "17:00"), 104),
                (at(15, "06:00"), 84),
            ),
            systolic=curve(
                (at(14, "09:00"), 116),
                (at(14, "11:30"), 100),
                (at(14, "12:00"), 86),
                (at(14, "13:30"), 88),
                (at(14, "15:00"), 96),
                (at(14, "18:00"), 108),
                (at(15, "12:00"), 114),
            ),
            diastolic=curve(
                (at(14, "09:00"), 72),
                (at(14, "11:30"), 60),
                (at(14, "12:00"), 50),
                (at(14, "13:30"), 52),
                (at(14, "15:00"), 58),
                (at(14, "18:00"), 66),
                (at(15, "12:00"), 70),
            ),
            resp_rate=curve((at(14, "09:00"), 16), (at(14, "12:00"), 22), (at(15, "06:00"), 16)),
            spo2=curve((at(14, "09:00"), 98), (at(14, "12:00"), 96), (at(15, "06:00"), 98)),
        ),
        vitals=(
            VitalsSegment(at(-7, "10:15"), at(-7, "10:15"), 1),  # pre-infusion clinic visit
            VitalsSegment(at(0, "10:00"), at(0, "12:30"), 0.5),  # infusion and 2 h after
            VitalsSegment(at(3, "10:45"), at(3, "10:45"), 1),  # clinic visits
            VitalsSegment(at(7, "10:45"), at(7, "10:45"), 1),
            VitalsSegment(at(10, "10:45"), at(10, "10:45"), 1),
            VitalsSegment(at(14, "11:00"), at(14, "12:30"), 0.5),  # presents febrile
            VitalsSegment(at(14, "13:00"), at(15, "13:00"), 1, icu=True),
            VitalsSegment(at(15, "16:00"), at(17, "08:00"), 4),
        ),
        temperature_unit="[degF]",
        min_systolic=95,
        min_mean_arterial=67,
        therapy=TherapySpec(
            resource_type="MedicationAdministration",
            minutes=10,
            concept=concept(
                "multivirus-specific cytotoxic T lymphocytes (CTL)",
                coding(
                    LOCAL_PRODUCTS,
                    "MVCTL-EBV-ADV-BK-HHV6",
                    "Donor-derived multivirus-specific CTL (EBV, adenovirus, BK virus, HHV6)",
                ),
            ),
            note="5 x 10^6 cells/m2 IV, patient-specific investigational product",
        ),
        fevers=(FeverSpell(at(14, "10:45"), at(14, "15:30"), 39.4, at(14, "12:00")),),
        hypotension=(HypotensionSpell(at(14, "11:50"), at(14, "17:30")),),
        pinned=(
            PinnedVitals(at(14, "12:00"), systolic=84, diastolic=48, heart_rate=132),
            PinnedVitals(at(14, "13:00"), systolic=80, diastolic=44, heart_rate=136),
        ),
        weights_kg=(
            (at(-7, "10:15"), 56.3),
            (at(0, "10:00"), 56.0),
            (at(14, "13:10"), 55.6),
            (at(17, "08:00"), 55.2),
        ),
        labs=_LABS,
        lab_times=_LAB_TIMES,
        cultures=(BloodCulture(at(14, "11:45"), None),),
        drips=(
            Drip(
                "dopamine",
                "ug/kg/min",
                (
                    (at(14, "13:15"), 5),
                    (at(14, "14:00"), 7.5),
                    (at(14, "15:30"), 5),
                    (at(14, "16:30"), 2.5),
                ),
                stop=at(14, "17:15"),
            ),
            Drip(
                "norepinephrine",
                "ug/min",
                (
                    (at(14, "13:30"), 4),
                    (at(14, "14:15"), 6),
                    (at(14, "16:00"), 4),
                    (at(14, "16:45"), 2),
                ),
                stop=at(14, "17:45"),
            ),
        ),
        doses=(
            Dose("rituximab", at(-45, "09:00"), 600, "mg", "iv", 240, "375 mg/m2 for EBV-PTLD"),
            Dose("rituximab", at(-38, "09:00"), 600, "mg", "iv", 240, "375 mg/m2 for EBV-PTLD"),
            Dose("sodium-chloride", at(14, "12:05"), 1000, "mL", "iv", 30, "fluid bolus"),
            Dose(
                "methylprednisolone",
                at(14, "14:00"),
                56,
                "mg",
                "iv",
                30,
                "1 mg/kg/day x 2 days (56 mg)",
            ),
            Dose("etanercept", at(14, "14:45"), 25, "mg", "sc", 0, "25 mg subcutaneous once"),
            Dose(
                "methylprednisolone",
                at(15, "14:00"),
                56,
                "mg",
                "iv",
                30,
                "1 mg/kg/day x 2 days (56 mg), day 2",
            ),
        ),
        history=(
            HistoryProcedure(
                "hsct",
                concept(
                    "Allogeneic hematopoietic stem cell transplant",
                    coding(SNOMED, "234336002", "Hemopoietic stem cell transplant"),
                ),
                at(-140, "10:00"),
                "9/10 HLA-DRB1-mismatched unrelated donor; conditioning with total body "
                "irradiation 600 cGy, fludarabine and alemtuzumab.",
            ),
        ),
        conditions=(
            ConditionSpec(
                key="hodgkin",
                concept=concept(
                    "Relapsed EBV-negative Hodgkin lymphoma",
                    coding(ICD10CM, "C81.90", "Hodgkin lymphoma, unspecified, unspecified site"),
                    coding(SNOMED, "118599009", "Hodgkin's disease"),
                ),
                category="problem-list-item",
                onset=at(-900, "00:00"),
                status="remission",
                dated=True,
            ),
            ConditionSpec(
                key="ptld",
                concept=concept(
                    "EBV-positive post-transplant lymphoproliferative disorder (PTLD)",
                    coding(
                        ICD10CM, "D47.Z1", "Post-transplant lymphoproliferative disorder (PTLD)"
                    ),
                ),
                category="problem-list-item",
                onset=at(-50, "00:00"),
                dated=True,
            ),
            stem_cell_transplant_status(-140),
            symptom(
                "rash",
                "Rash",
                ("271807003", "Eruption of skin"),
                ("R21", "Rash and other nonspecific skin eruption"),
                at(14, "11:00"),
                at(14, "17:30"),
            ),
        ),
        expected=_expected(),
        signals=(
            ExpectedSignal(
                "masked-fever",
                14,
                17,
                "Methylprednisolone from day 14 14:00: fever and CRP no longer track CRS.",
            ),
        ),
        notes=(
            "Day 0 is the CTL infusion. The rituximab doses of days -45 and -38 are in the "
            "antibody scope list but more than 30 days before day 0, so they are not day 0.",
            "Onset day: the paper says EBV DNA fell 'within 2 weeks after infusion. Shortly "
            "afterward' the CRS began; we place the first fever on day 14 at 11:00, 14 days and "
            "30 minutes after the infusion. SPEC 2.7 late-onset ('first fever more than 14 days "
            "after day 0') counts day numbers: day 14 is not more than 14, so NO late-onset "
            "warning is expected; a first fever on day 15 or later would raise it. A rule that "
            "compared elapsed hours (> 336 h) would fire here: that reading is not ours.",
            "Temperatures are in degrees Fahrenheit ([degF]); 100.4 F = 38.0 C.",
            "The day-14 blood culture is still preliminary ('no growth at 2 days') at discharge.",
        ),
    )
