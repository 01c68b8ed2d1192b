"""A corticosteroid just given is not suggested, preselected, again (found in review: grade 3
with encephalopathy and dexamethasone 10 mg an hour ago got dexamethasone 10 mg preselected).

The seed gives no corticosteroid interval; ``CORTICOSTEROID_REPEAT_AFTER`` is our policy:
dexamethasone every 6 h (common practice, e.g. the ASCO 2021 guideline), methylprednisolone once
a day (the seed's 2 mg/kg/day). The suggestion stays on the card, unselected, saying when the
drug was given and when the next dose is due.
"""

from __future__ import annotations

import pytest

from crs_grading.inputs import Immunosuppressant
from crs_grading.tables.treatment import CORTICOSTEROID_REPEAT_AFTER
from crs_grading.treatment import plan_treatment

from .conftest import H, assessment

DEX, MP = Immunosuppressant.DEXAMETHASONE, Immunosuppressant.METHYLPREDNISOLONE


def _suggestion(plan, drug):
    (found,) = [r for r in plan.recommendations if r.drug is drug]
    return found


def test_the_policy_table():
    assert CORTICOSTEROID_REPEAT_AFTER == {DEX: H(6), MP: H(24)}


@pytest.mark.parametrize(
    ("before", "preselected"),
    [
        pytest.param(H(1), False, id="policy 6 h: dexamethasone 1 h ago is not suggested again"),
        pytest.param(H(5, 59), False, id="policy 6 h: 5 h 59 min ago, not yet"),
        pytest.param(H(6), True, id="policy 6 h: exactly 6 h ago, due again"),
        pytest.param(H(30), True, id="policy 6 h: 30 h ago, due again"),
    ],
)
def test_dexamethasone_first_line_after_a_recent_dose(before, preselected):
    """seed neurologic dysfunction: dexamethasone first at grade 3 without vasopressors."""
    plan = plan_treatment(assessment(grade=3, neuro=True, given=(("dexamethasone", before),)))
    dexamethasone = _suggestion(plan, DEX)
    assert dexamethasone.is_recommended is preselected
    if not preselected:
        assert "Dexamethasone was given at" in dexamethasone.reason
        assert "the next dose is not due before" in dexamethasone.reason
        assert "given 1 h ago" in dexamethasone.note or "given 5 h 59 min ago" in dexamethasone.note
        assert plan.next_step.startswith("dexamethasone given ")
        assert ", next not before " in plan.next_step


def test_dexamethasone_for_icans_after_a_recent_dose():
    """SPEC 2.9: ICANS >= 2 with CRS <= 1 gets dexamethasone; not again 1 h after a dose."""
    plan = plan_treatment(assessment(grade=1, icans=2, given=(("dexamethasone", H(1)),)))
    assert _suggestion(plan, DEX).is_recommended is False


@pytest.mark.parametrize(
    ("before", "preselected"),
    [
        pytest.param(H(1), False, id="policy 24 h: methylprednisolone 1 h ago"),
        pytest.param(H(23), False, id="policy 24 h: 23 h ago"),
        pytest.param(H(24), True, id="policy 24 h: 24 h ago, the next daily dose"),
    ],
)
def test_methylprednisolone_as_the_second_agent_after_a_recent_dose(before, preselected):
    """seed Tocilizumab: a second agent 24 h after tocilizumab without improvement; four doses
    given, so methylprednisolone is the one suggestion."""
    given = [("tocilizumab", H(30 + 10 * i)) for i in range(4)]
    plan = plan_treatment(assessment(grade=3, given=(*given, ("methylprednisolone", before))))
    assert _suggestion(plan, MP).is_recommended is preselected


def test_another_corticosteroid_given_recently_does_not_hold_back_dexamethasone():
    plan = plan_treatment(assessment(grade=3, neuro=True, given=(("methylprednisolone", H(1)),)))
    assert _suggestion(plan, DEX).is_recommended is True
