"""SPEC 2.7: immunosuppression is never preselected when infection could explain the picture.
When the data that would show an infection signal could not be read in full (labs, blood
cultures, problems), no signal could be seen: nothing is preselected either, and the reason says
which data (found in review: tocilizumab was preselected as if none could be present)."""

from __future__ import annotations

import pytest

from crs_grading.treatment import check_draft_order, plan_treatment

from .conftest import assessment, order


@pytest.mark.parametrize(
    "unread",
    [("labs",), ("blood cultures",), ("problems",), ("labs", "blood cultures", "problems")],
    ids=lambda unread: "SPEC 2.7 unread: " + ", ".join(unread),
)
def test_nothing_is_preselected_when_the_infection_data_is_unread(unread):
    plan = plan_treatment(assessment(grade=3), unread_infection_data=unread)
    assert plan.recommendations
    assert not any(r.is_recommended for r in plan.recommendations)
    for recommendation in plan.recommendations:
        assert f"could not be read in full ({', '.join(unread)})" in recommendation.reason
    assert plan.attribution_caution is None  # no signal was seen: no sepsis caution invented


def test_read_in_full_the_same_plan_preselects_tocilizumab():
    plan = plan_treatment(assessment(grade=3))
    assert [r.drug.value for r in plan.recommendations if r.is_recommended] == ["tocilizumab"]


def test_a_dose_correction_is_not_preselected_either():
    findings = check_draft_order(
        order("tocilizumab", 400), assessment(grade=3), unread_infection_data=("labs",)
    )
    (dose,) = [f for f in findings if f.code == "dose-off-protocol"]
    assert dose.preselect_correction is False
    (read,) = [
        f
        for f in check_draft_order(order("tocilizumab", 400), assessment(grade=3))
        if f.code == "dose-off-protocol"
    ]
    assert read.preselect_correction is True
