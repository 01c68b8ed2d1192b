"""ICANS graded from the chart feeds the treatment algorithm (SPEC 2.9 into SPEC 2.6): the grader
and the planner together, on inputs as ``fhir_maps`` builds them."""

from __future__ import annotations

from crs_grading.inputs import Vasopressor
from crs_grading.treatment import RecommendationRole, Severity, plan_treatment

DAY, HOUR = 9, 2  # day 9 at noon; findings at 10:00 on day 9 are in the current window


def test_icans_3_with_crs_0_gets_dexamethasone_never_tocilizumab(chart):
    """SPEC 2.9 (ASTCT 2019 ICE 0-2 is grade 3; seed text: tocilizumab does not cross the
    blood-brain barrier): an afebrile adult with ICE 2 and RASS -2 gets dexamethasone 10 mg
    (0.5 mg/kg, at most 10 mg: seed Corticosteroids), recommended, and no tocilizumab."""
    chart.ice(chart.t(DAY), 2)
    chart.rass(chart.t(DAY), -2)
    chart.weight(chart.t(DAY - 1), 70)
    chart.temp(chart.t(DAY), 37.0)
    assessment = chart.assess(chart.t(DAY, HOUR))
    assert (assessment.grade, assessment.icans.grade) == (0, 3)

    plan = plan_treatment(assessment)
    assert [
        (str(r.drug), r.role, r.is_recommended, r.dose.dose_mg) for r in plan.recommendations
    ] == [("dexamethasone", RecommendationRole.FOR_ICANS, True, 10)]
    assert plan.indicator is Severity.CRITICAL


def test_icans_from_a_rass_makes_grade_3_crs_dexamethasone_first(chart):
    """SPEC 2.9: any ICANS grade >= 1 is neurologic dysfunction for SPEC 2.6 [seed text]: grade 3
    CRS (FiO2 45%) with RASS -1 and no vasopressor gets dexamethasone first line."""
    chart.rass(chart.t(DAY), -1)
    chart.oxygen(chart.t(DAY), fio2=45)
    chart.weight(chart.t(DAY - 1), 70)
    assessment = chart.assess(chart.t(DAY, HOUR))
    assert (assessment.grade, assessment.icans.grade) == (3, 1)

    plan = plan_treatment(assessment)
    assert [(str(r.drug), r.role) for r in plan.recommendations] == [
        ("dexamethasone", RecommendationRole.FIRST_LINE),
        ("tocilizumab", RecommendationRole.ALSO_OFFERED),
    ]
    assert "neurologic dysfunction (ICANS grade 1)" in plan.recommendations[0].reason


def test_icans_beside_a_running_vasopressor_keeps_tocilizumab_first(chart):
    """seed text: corticosteroids first only without significant hemodynamic instability."""
    chart.ice(chart.t(DAY), 1)
    chart.drip(Vasopressor.NOREPINEPHRINE, chart.t(DAY, -3), rate=25, in_progress=True)
    chart.weight(chart.t(DAY - 1), 70)
    assessment = chart.assess(chart.t(DAY, HOUR))
    assert assessment.grade == 3 and assessment.icans.grade == 3
    plan = plan_treatment(assessment)
    assert str(plan.recommendations[0].drug) == "tocilizumab"
    assert plan.recommendations[0].role is RecommendationRole.FIRST_LINE
