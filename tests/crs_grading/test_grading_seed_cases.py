"""The seed paper's patients built as grading inputs and graded as the paper grades them
(Lee et al., Blood 2014: cases 1 to 3 and the Figure 3 patient)."""

from __future__ import annotations

from crs_grading import GradingSystem
from crs_grading.inputs import (
    ConditionCategory,
    Immunosuppressant,
    LabTest,
    NeuroScoreKind,
    OxygenDevice,
    RateBasis,
    TherapyKind,
    Vasopressor,
)

NE, DOPA = Vasopressor.NOREPINEPHRINE, Vasopressor.DOPAMINE
PER_KG = RateBasis.MICROGRAMS_PER_KG_PER_MIN


def routine_vitals(chart, first_day, last_day, every_h=4, systolic=108, diastolic=66, temp=36.9):
    for day in range(first_day, last_day + 1):
        for hour in range(0, 24, every_h):
            when = chart.t(day, hour)
            chart.temp(when, temp)
            chart.bp(when, systolic, diastolic)
            chart.heart_rate(when, 95)


def case_1(make_chart):
    """Case 1: 11-year-old, CD19 CAR T cells on day 0, fever from day 1 peaking at 40.7 C with
    rigors for 5 days, hemodynamically stable, IL-6 peaking at 222 pg/mL (~30-fold)."""
    chart = make_chart(age=11, therapy="CD19 CAR T cells", kind=TherapyKind.CAR_T)
    chart.weight(chart.t(-4), 38)
    chart.lab(LabTest.IL6, chart.t(-1), 7.4)
    routine_vitals(chart, 0, 0)
    fevers = [38.6, 39.4, 40.7, 39.8, 38.9]
    for day, peak in enumerate(fevers, start=1):
        for hour, temp in ((2, 38.1), (10, peak), (18, 38.4)):
            chart.temp(chart.t(day, hour), temp)
            chart.bp(chart.t(day, hour), 104, 64)
            chart.oxygen(chart.t(day, hour), fio2=21, device=OxygenDevice.ROOM_AIR)
        chart.lab(LabTest.IL6, chart.t(day, 6), [60, 150, 222, 120, 40][day - 1])
        chart.lab(LabTest.AST, chart.t(day, 6), 35)
        chart.lab(LabTest.CREATININE, chart.t(day, 6), 0.5)
    chart.condition(
        ConditionCategory.CONSTITUTIONAL,
        "rigors",
        active=False,
        onset=chart.t(1),
        abatement=chart.t(6),
    )
    routine_vitals(chart, 6, 8)
    return chart


def test_case_1_is_grade_1(make_chart):
    chart = case_1(make_chart)
    during = chart.assess(chart.t(3, 12))
    assert during.grade == 1
    # SPEC 2.3: the rigors (onset day 1) count only in the windows that hold their onset.
    assert {d.criterion for d in during.current.drivers} == {"fever"}
    first_day = chart.assess(chart.t(1, 12))
    assert {d.criterion for d in first_day.current.drivers} == {"fever", "constitutional-symptoms"}
    assert during.other_systems[GradingSystem.ASTCT_2019].grade == 1
    assert during.attribution_warnings == ()
    after = chart.assess(chart.t(8, 20))
    assert (after.grade, after.peak_grade) == (0, 1)
    assert [d.lee2014 for d in after.daily] == [0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    (il6,) = after.biomarkers
    assert il6.peak.value == 222
    assert round(il6.peak.value / il6.baseline.value) == 30


def case_2(make_chart):
    """Case 2: 19-year-old, donor CTLs on day 0; about two weeks later fever, rash, tachycardia
    and hypotension treated with dopamine and norepinephrine, etanercept, methylprednisolone."""
    chart = make_chart(
        age=19, therapy="multispecific CTL line", kind=TherapyKind.CELL_THERAPY_OTHER
    )
    chart.weight(chart.t(-1), 58)
    chart.bp(chart.t(-1), 112, 70)
    routine_vitals(chart, 12, 13, systolic=110, diastolic=68)
    chart.temp(chart.t(14, 8), 38.9)
    chart.temp(chart.t(14, 14), 39.6)
    for hour, (systolic, diastolic) in enumerate([(88, 50), (82, 46), (78, 44), (84, 50)]):
        chart.bp(chart.t(14, 16 + hour * 2), systolic, diastolic)
    dopamine = chart.drip(DOPA, chart.t(14, 20), chart.t(15, 4), 5, PER_KG)
    norepinephrine = chart.drip(NE, chart.t(14, 22), chart.t(15, 3), 0.08, PER_KG)
    chart.immuno(Immunosuppressant.METHYLPREDNISOLONE, chart.t(15), 58)
    routine_vitals(chart, 15, 16, systolic=104, diastolic=62)
    return chart, dopamine, norepinephrine


def test_case_2_is_grade_3_dopamine_and_norepinephrine(make_chart, find_driver):
    chart, dopamine, norepinephrine = case_2(make_chart)
    assessment = chart.assess(chart.t(15, 2))
    assert assessment.grade == 3
    both = find_driver(assessment, "multiple-vasopressors")
    assert {dopamine, norepinephrine} <= set(both.evidence)
    assert assessment.other_systems[GradingSystem.ASTCT_2019].grade == 4
    assert assessment.vasopressor_in_window is True
    assert [w.code for w in assessment.attribution_warnings] == ["masked-fever"]
    assert assessment.baseline_blood_pressure is not None
    later = chart.assess(chart.t(16, 20))
    assert (later.grade, later.peak_grade) == (0, 3)


def case_3(make_chart):
    """Case 3: 11-year-old, CD19 CAR T cells on day 0; day 1 fever with Streptococcus mitis
    bacteremia; day 4 new fever with headache and nausea; day 5 hypotension 70/40, new oxygen
    requirement, dopamine and norepinephrine, tocilizumab 8 mg/kg; day 7 fever again with pressor
    support; ferritin and CRP peak on day 7; day 9 encephalopathy; pressors off day 10."""
    chart = make_chart(age=11, therapy="CD19 CAR T cells", kind=TherapyKind.CAR_T)
    chart.weight(chart.t(-2), 36)
    chart.bp(chart.t(-1), 106, 64)
    chart.lab(LabTest.CRP, chart.t(-1), 1.0)
    routine_vitals(chart, 0, 14, every_h=6)
    chart.temp(chart.t(1, 3), 39.1)
    chart.culture(chart.t(1, 3), True, "Streptococcus mitis")
    chart.condition(
        ConditionCategory.INFECTION,
        "Streptococcus mitis bacteremia",
        active=False,
        onset=chart.t(1, 3),
        abatement=chart.t(3),
    )
    chart.temp(chart.t(4, 9), 39.3)
    chart.condition(
        ConditionCategory.CONSTITUTIONAL,
        "headache",
        active=False,
        onset=chart.t(4, 9),
        abatement=chart.t(5, 20),
    )
    chart.temp(chart.t(5, 2), 39.8)
    chart.bp(chart.t(5, 4), 70, 40)
    chart.oxygen(chart.t(5, 4), flow=2, device=OxygenDevice.NASAL_CANNULA)
    chart.bp(chart.t(5, 5), 72, 42)
    chart.drip(DOPA, chart.t(5, 6), chart.t(5, 14), 10, PER_KG)
    chart.drip(DOPA, chart.t(5, 14), chart.t(10, 8), 3, PER_KG)
    chart.drip(NE, chart.t(5, 7), chart.t(5, 15), 0.1, PER_KG)
    chart.drip(NE, chart.t(5, 15), chart.t(8, 12), 0.02, PER_KG)
    chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(5, 9), 288)
    chart.temp(chart.t(7, 6), 38.7)
    chart.bp(chart.t(7, 8), 78, 44)
    chart.lab(LabTest.CRP, chart.t(6), 15.2)
    chart.lab(LabTest.CRP, chart.t(7), 21.5)
    chart.lab(LabTest.CRP, chart.t(8), 12.0)
    chart.lab(LabTest.FERRITIN, chart.t(7), 130_000)
    chart.condition(
        ConditionCategory.NEUROLOGIC,
        "encephalopathy",
        active=False,
        onset=chart.t(9, 4),
        abatement=chart.t(13),
    )
    chart.score(NeuroScoreKind.ICE, chart.t(9, 6), 3)
    return chart


def test_case_3_is_grade_3_on_day_5(make_chart):
    chart = case_3(make_chart)
    day5 = chart.assess(chart.t(5, 12))
    assert day5.grade == 3
    assert day5.therapy.day == 5
    assert {"multiple-vasopressors", "vasopressor-high-dose", "hypotension", "oxygen-low-fio2"} <= {
        d.criterion for d in day5.current.drivers
    }
    assert "FiO2 estimated from oxygen flow (21% + 4% per L/min)" in day5.data_gaps
    assert [w.code for w in day5.attribution_warnings] == ["positive-blood-culture", "masked-fever"]
    assert day5.other_systems[GradingSystem.ASTCT_2019].grade == 4

    day9 = chart.assess(chart.t(9, 12))
    assert [f.kind for f in day9.neurologic_findings] == ["ice-below-10", "encephalopathy"]
    assert day9.vasopressor_in_window is True
    assert "positive-blood-culture" not in [w.code for w in day9.attribution_warnings]
    crp = next(b for b in day9.biomarkers if b.test is LabTest.CRP)
    assert crp.peak.value == 21.5 and crp.falling_after_peak is True

    discharge = chart.assess(chart.t(15))
    assert discharge.peak_grade == 3
    lee = [d.lee2014 for d in discharge.daily]
    assert lee[:6] == [0, 1, 0, 0, 1, 3]
    assert lee[5:11] == [3, 3, 3, 3, 2, 2]
    assert lee[11:] == [0, 0, 0, 0, 0]


def figure_3(make_chart):
    """Figure 3: fever on day 3; hypotension on day 5 on one low-dose vasopressor; a second
    vasopressor and tocilizumab on day 6; vasopressors weaned over the next 48 h."""
    chart = make_chart(age=45, therapy="axicabtagene ciloleucel", kind=TherapyKind.CAR_T)
    chart.weight(chart.t(-1), 80)
    routine_vitals(chart, 0, 9, every_h=4, systolic=118, diastolic=72)
    for day in (3, 4, 5, 6):
        chart.temp(chart.t(day, 5), 39.2)
        chart.lab(LabTest.IL6, chart.t(day, 6), [80, 300, 900, 2500][day - 3])
    chart.lab(LabTest.IL6, chart.t(7, 6), 4000)  # rises after tocilizumab (receptor blockade)
    chart.lab(LabTest.IL6, chart.t(8, 6), 600)
    chart.bp(chart.t(5, 9), 84, 50)
    chart.drip(NE, chart.t(5, 10), chart.t(6, 8), 6)
    chart.drip(NE, chart.t(6, 8), chart.t(7, 20), 12)
    chart.drip(Vasopressor.EPINEPHRINE, chart.t(6, 8), chart.t(7, 2), 4)
    chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(6, 9), 320)
    chart.drip(NE, chart.t(7, 20), chart.t(8, 8), 3)
    return chart


def test_figure_3_patient_reaches_grade_3_on_day_6(make_chart):
    chart = figure_3(make_chart)
    assessment = chart.assess(chart.t(9, 12))
    assert [d.lee2014 for d in assessment.daily] == [0, 0, 0, 1, 1, 2, 3, 3, 2, 0]
    assert [d.astct2019 for d in assessment.daily] == [0, 0, 0, 1, 1, 3, 4, 4, 3, 0]
    assert (assessment.grade, assessment.peak_grade) == (0, 3)
    il6 = next(b for b in assessment.biomarkers if b.test is LabTest.IL6)
    assert il6.peak.value == 4000 and il6.falling_after_peak is True
