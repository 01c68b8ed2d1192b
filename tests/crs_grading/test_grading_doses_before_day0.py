"""Tocilizumab given before day 0 still counts (SPEC 2.6, 2.4, 2.7).

Day 0 is the latest infusion or dose of the therapy (SPEC 2.1), but the tocilizumab label's 8 h
interval and four-dose limit hold for every dose of a course: a prophylactic dose before a
CAR-T infusion, or doses given in the 24 h before a later step-up dose of a T-cell engager,
block another dose just as a dose after day 0 does, and mask fever (ASTCT 2019: the fever
requirement is lifted). Found in a review: such doses were dropped, and the plan suggested
tocilizumab 6 h after a dose. Doses given earlier treated an earlier episode and do not count
(a second review: counting the scope window made a new episode a "second dose").
Other immunosuppressants still count from day 0: a corticosteroid given before it is
premedication (before every engager step-up dose), not CRS treatment.
"""

from __future__ import annotations

from typing import Any

from crs_grading.assessment import GradingSystem
from crs_grading.criteria import WarningCode
from crs_grading.inputs import (
    DoseBasis,
    DraftMedicationOrder,
    Immunosuppressant,
    OxygenDevice,
    TherapyKind,
)
from crs_grading.treatment import check_draft_order, plan_treatment
from crs_grading.treatment.model import RecommendationRole

TOCI = Immunosuppressant.TOCILIZUMAB


def _grade_3_after_prophylaxis(make_chart: Any, hours_before: float) -> Any:
    """70 kg adult, tocilizumab 560 mg ``hours_before`` the CAR-T infusion, grade 3 at +5 h."""
    chart = make_chart()
    chart.weight(chart.t(-1), 70)
    chart.immuno(TOCI, chart.t(h=-hours_before), 560)
    chart.temp(chart.t(h=4), 39.5)
    chart.oxygen(chart.t(h=5), fio2=50)
    return chart


def _tocilizumab_offered(chart: Any, hours: float) -> list[RecommendationRole]:
    plan = plan_treatment(chart.assess(chart.t(h=hours)))
    return [r.role for r in plan.recommendations if r.drug is TOCI]


def test_label_a_prophylactic_dose_1_h_before_the_infusion_blocks_a_dose_6_h_later(make_chart):
    """Tocilizumab USPI: at least 8 h between doses, whatever day 0 is."""
    chart = _grade_3_after_prophylaxis(make_chart, hours_before=1)
    assessment = chart.assess(chart.t(h=5))
    assert assessment.grade == 3
    assert [d.time for d in assessment.immunosuppressants_given] == [chart.t(h=-1)]
    # SPEC 2.7: fever and CRP no longer track CRS after it
    assert WarningCode.MASKED_FEVER in [w.code for w in assessment.attribution_warnings]
    plan = plan_treatment(assessment)
    assert [w.code for w in plan.withheld if w.drug is TOCI] == ["redose-too-soon"]
    assert not any(
        r.drug is TOCI and r.role is RecommendationRole.FIRST_LINE for r in plan.recommendations
    )
    draft = DraftMedicationOrder(TOCI, "MedicationRequest/d1", 280, DoseBasis.MG, "intravenous")
    codes = [finding.code for finding in check_draft_order(draft, assessment)]
    assert "redose-too-soon" in codes


def test_seed_after_24_h_a_second_dose_is_offered_counting_the_prophylactic_dose(make_chart):
    """Seed: tocilizumab given >= 24 h ago and still grade 3 -> a second dose."""
    chart = _grade_3_after_prophylaxis(make_chart, hours_before=1)
    chart.oxygen(chart.t(h=24), fio2=50)
    assert RecommendationRole.SECOND_DOSE in _tocilizumab_offered(chart, hours=24)


def test_label_four_doses_in_the_24_h_before_a_step_up_dose_withhold_a_fifth(make_chart):
    """Tocilizumab USPI: no more than 4 doses; a step-up dose given within 24 h of doses moves
    day 0, not the count."""
    chart = make_chart(therapy="teclistamab", kind=TherapyKind.T_CELL_ENGAGER)
    chart.weight(chart.t(-1), 70)
    for hours in (80, 88, 96, 105):  # three in the 24 h before the step-up, one after it
        chart.immuno(TOCI, chart.t(h=hours), 280)
    chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(4, 1))  # the next step-up
    chart.temp(chart.t(5), 39.0)
    chart.oxygen(chart.t(5), device=OxygenDevice.NON_REBREATHER)
    assessment = chart.assess(chart.t(5, 1))
    assert assessment.therapy is not None and assessment.therapy.day == 1
    assert len(assessment.immunosuppressants_given) == 4
    plan = plan_treatment(assessment)
    assert [w.code for w in plan.withheld if w.drug is TOCI] == ["too-many-doses"]


def test_seed_tocilizumab_for_an_earlier_episode_does_not_make_a_new_one_a_second_dose(
    make_chart,
):
    """Seed Figure 2 / SPEC 2.6 ("still grade >= 3" after the last dose): a dose on day 1, a
    later step-up dose on day 14 and grade 3 the next day is a new episode: tocilizumab first
    line, not a second dose with methylprednisolone (found in review of the first version)."""
    chart = make_chart(therapy="teclistamab", kind=TherapyKind.T_CELL_ENGAGER)
    chart.weight(chart.t(-1), 70)
    chart.immuno(TOCI, chart.t(1), 280)
    chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(14))
    chart.temp(chart.t(14, 20), 39.0)
    chart.oxygen(chart.t(14, 22), fio2=50)
    assessment = chart.assess(chart.t(14, 22))
    assert assessment.grade == 3 and assessment.immunosuppressants_given == ()
    assert _tocilizumab_offered(chart, hours=14 * 24 + 22) == [RecommendationRole.FIRST_LINE]


def test_tocilizumab_more_than_24_h_before_day_0_is_not_counted(make_chart):
    """windows.TOCILIZUMAB_BEFORE_DAY0: 24 h 1 min before the infusion is an earlier episode."""
    chart = _grade_3_after_prophylaxis(make_chart, hours_before=1)
    old = chart.t(h=-24, m=-1)
    chart.immuno(TOCI, old, 560)
    given = [d.time for d in chart.assess(chart.t(h=5)).immunosuppressants_given]
    assert given == [chart.t(h=-1)]


def test_a_corticosteroid_premedication_before_day_0_is_not_counted(make_chart):
    """docs/treatment.md: dexamethasone before a step-up dose is premedication, not counted."""
    chart = make_chart(therapy="teclistamab", kind=TherapyKind.T_CELL_ENGAGER)
    chart.immuno(Immunosuppressant.DEXAMETHASONE, chart.t(h=-1), 16)
    chart.temp(chart.t(h=20), 38.6)
    assessment = chart.assess(chart.t(1))
    assert assessment.immunosuppressants_given == ()
    assert WarningCode.MASKED_FEVER not in [w.code for w in assessment.attribution_warnings]


def test_astct_2019_prophylactic_tocilizumab_lifts_the_fever_requirement(make_chart):
    """ASTCT 2019 (SPEC 2.4): after tocilizumab, hypotension grades without fever."""
    with_dose, without = make_chart(), make_chart()
    with_dose.immuno(TOCI, with_dose.t(h=-1), 560)
    for chart in (with_dose, without):
        chart.bp(chart.t(h=10), 82, 50)
    astct = GradingSystem.ASTCT_2019
    assert with_dose.assess(with_dose.t(h=12)).other_systems[astct].grade == 2
    assert without.assess(without.t(h=12)).other_systems[astct].grade == 0
