"""Draft orders read with their timing, their dose range and beside the other drafts of the call.

Found in review: a methylprednisolone draft of 55 mg every 12 h (110 mg a day, the protocol's
2 mg/kg/day) was called 50% low and its correction ordered 111 mg every 12 h (222 mg a day); a
tocilizumab order of four doses every 8 h, and two tocilizumab drafts signed together, were each
checked as one first dose; a dose range up to 1200 mg was only "unreadable". Sources: seed
Corticosteroids ("methylprednisolone (2 mg/kg/day)"), seed Tocilizumab (a second dose only if
CRS has not improved 24 h after the first), tocilizumab USPI (CRS: up to 3 additional doses, at
least 8 h apart, no more than 800 mg per infusion).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from crs_grading.treatment import Severity, check_draft_order, check_draft_orders

from .conftest import H, assessment, order, tocilizumab_doses

CRIT, WARN = Severity.CRITICAL, Severity.WARNING
GRADE_3_AFTER_TOCILIZUMAB = {"grade": 3, "given": tocilizumab_doses(H(30))}


def _codes(findings):
    return {(f.severity, f.code) for f in findings}


def _every(hours: float) -> dict[str, object]:
    return {"doses_per_day": 24 / hours, "dose_interval": timedelta(hours=hours)}


# -- daily doses: the order's daily total against the protocol's daily dose ------------------


@pytest.mark.parametrize(
    ("dose", "timing", "expected"),
    [
        pytest.param(70, _every(12), set(), id="seed 2 mg/kg/day: 70 mg every 12 h = 140 mg a day"),
        pytest.param(35, _every(6), set(), id="seed 2 mg/kg/day: 35 mg every 6 h = 140 mg a day"),
        pytest.param(
            140, _every(24), set(), id="seed 2 mg/kg/day: 140 mg once a day = 140 mg a day"
        ),
        pytest.param(
            140,
            _every(12),
            {(WARN, "dose-off-protocol")},
            id="seed 2 mg/kg/day: 140 mg every 12 h = 280 mg a day, 100% above",
        ),
        pytest.param(
            30,
            _every(12),
            {(WARN, "dose-off-protocol")},
            id="seed 2 mg/kg/day: 30 mg every 12 h = 60 mg a day, 57% below",
        ),
    ],
)
def test_a_methylprednisolone_order_is_compared_by_its_daily_total(dose, timing, expected):
    findings = check_draft_order(
        order("methylprednisolone", dose, **timing), assessment(**GRADE_3_AFTER_TOCILIZUMAB)
    )
    assert _codes(findings) == expected


def test_the_daily_total_is_in_the_warning_and_the_correction_is_the_daily_dose():
    (finding,) = check_draft_order(
        order("methylprednisolone", 30, **_every(12)), assessment(**GRADE_3_AFTER_TOCILIZUMAB)
    )
    assert finding.text.startswith(
        "methylprednisolone 30 mg, 2 doses a day (= 60 mg per day) is 57% below the protocol "
        "dose (140 mg"
    )
    assert "compare the daily total" not in finding.text  # it was compared
    assert finding.corrected_dose_mg == 140
    assert finding.summary.startswith("Methylprednisolone 30 mg x 2 a day is 57% below")


def test_a_count_of_1_is_one_dose_whatever_the_schedule():
    """Found in the final review: 70 mg every 12 h with a count of 1 is one 70 mg dose (1 mg/kg
    on 70 kg), not 140 mg a day: 50% below 2 mg/kg/day, and flagged."""
    findings = check_draft_order(
        order("methylprednisolone", 70, dose_count=1, **_every(12)),
        assessment(**GRADE_3_AFTER_TOCILIZUMAB),
    )
    assert _codes(findings) == {(WARN, "dose-off-protocol")}


def test_without_a_timing_the_single_dose_is_compared_and_the_text_says_so():
    (finding,) = check_draft_order(
        order("methylprednisolone", 70), assessment(**GRADE_3_AFTER_TOCILIZUMAB)
    )
    assert "compare the daily total" in finding.text


def test_a_per_dose_protocol_ignores_the_daily_total():
    """seed: dexamethasone 10 mg per dose (not per day): 10 mg every 6 h is on protocol."""
    findings = check_draft_order(
        order("dexamethasone", 10, **_every(6)), assessment(grade=3, neuro=True)
    )
    assert not {f.code for f in findings} & {"dose-off-protocol", "dose-above-maximum"}


# -- tocilizumab orders holding more than one dose ------------------------------------------


@pytest.mark.parametrize(
    ("timing", "given", "expected"),
    [
        pytest.param(
            {**_every(8), "dose_count": 4},
            (),
            (WARN, "redose-before-reassessment"),
            id="seed Tocilizumab: 4 doses every 8 h skip the 24 h reassessment",
        ),
        pytest.param(
            {**_every(6), "dose_count": 2},
            (),
            (CRIT, "redose-too-soon"),
            id="tocilizumab USPI: doses every 6 h are less than 8 h apart",
        ),
        pytest.param(
            {**_every(8), "dose_count": 4},
            (H(30),),
            (CRIT, "too-many-doses"),
            id="tocilizumab USPI: 1 given + 4 ordered is more than 4 doses in all",
        ),
        pytest.param(
            _every(8),
            (H(30), H(60), H(90)),
            (CRIT, "too-many-doses"),
            id="tocilizumab USPI: 3 given + a standing order every 8 h is more than 4",
        ),
        pytest.param(
            _every(12),
            (),
            (WARN, "redose-before-reassessment"),
            id="seed Tocilizumab: a standing order every 12 h skips the reassessment",
        ),
        pytest.param(
            {"dose_count": 2},
            (),
            (WARN, "redose-before-reassessment"),
            id="seed Tocilizumab: 2 doses with no interval skip the reassessment",
        ),
    ],
)
def test_a_tocilizumab_order_of_several_doses_is_checked_as_those_doses(timing, given, expected):
    findings = check_draft_order(
        order("tocilizumab", 280, **timing), assessment(grade=3, given=tocilizumab_doses(*given))
    )
    assert expected in _codes(findings)
    (redose,) = [f for f in findings if f.code == expected[1]]
    assert redose.text.startswith("This order holds ")


@pytest.mark.parametrize(
    "timing",
    [
        pytest.param({**_every(8), "dose_count": 1}, id="a count of 1 is one dose"),
        pytest.param(_every(24), id="once a day with no count: one dose (often a one-off)"),
        pytest.param({}, id="no timing: one dose"),
    ],
)
def test_a_tocilizumab_order_of_one_dose_has_no_repeat_finding(timing):
    findings = check_draft_order(order("tocilizumab", 280, **timing), assessment(grade=3))
    assert findings == ()


def test_tocilizumab_drafts_signed_together_are_doses_given_together():
    """tocilizumab USPI: at least 8 h between doses; two drafts at once are two doses at once."""
    drafts = [
        order("tocilizumab", 280, position=0, reference="MedicationRequest/a"),
        order("dexamethasone", 10, position=1, reference="MedicationRequest/b"),
        order("tocilizumab", 280, position=2, reference="MedicationRequest/c"),
    ]
    first, dexamethasone, second = check_draft_orders(drafts, assessment(grade=3, neuro=False))
    assert "redose-too-soon" not in {f.code for f in first}
    assert "redose-too-soon" not in {f.code for f in dexamethasone}
    (too_soon,) = [f for f in second if f.code == "redose-too-soon"]
    assert too_soon.severity is CRIT
    assert "signed together with another tocilizumab order" in too_soon.text


def test_drafts_signed_together_count_toward_the_four_doses():
    drafts = [order("tocilizumab", 280, position=i) for i in range(3)]
    results = check_draft_orders(drafts, assessment(grade=3, given=tocilizumab_doses(H(30), H(60))))
    assert "too-many-doses" in {f.code for f in results[2]}  # 2 given + 3 drafts > 4


# -- dose ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("high", "basis", "weight", "expected"),
    [
        pytest.param(1200, "mg", 70.0, (CRIT, "dose-above-maximum"), id="USPI 800 mg: up to 1200"),
        pytest.param(
            12, "mg/kg", 70.0, (CRIT, "dose-above-maximum"), id="USPI 800 mg: 12 mg/kg x 70 kg"
        ),
        pytest.param(600, "mg", 70.0, (WARN, "dose-unreadable"), id="a range within 800: unread"),
        pytest.param(
            12, "mg/kg", None, (WARN, "dose-unreadable"), id="mg/kg range, no weight: unread"
        ),
    ],
)
def test_a_dose_range_is_checked_against_the_maximum_by_its_upper_end(
    high, basis, weight, expected
):
    draft = order("tocilizumab", None, basis, dose_high=high)
    findings = check_draft_order(draft, assessment(grade=3, weight_kg=weight))
    assert expected in _codes(findings)
    if expected[1] == "dose-above-maximum":
        (finding,) = [f for f in findings if f.code == "dose-above-maximum"]
        assert "dose range up to" in finding.text
        assert "above the maximum of 800 mg per dose" in finding.text
