"""The IEC-HS flag (SPEC 2.10; Hines et al., Transplant Cell Ther 2023): each ferritin arm, each
feature, their boundaries, and that the flag never changes a grade."""

from __future__ import annotations

import pytest

from crs_grading import WarningCode
from crs_grading.inputs import Comparator, LabTest

F = LabTest
SOURCE = "SPEC 2.10, Hines et al. TCT 2023 (IEC-HS)"
FERRITIN_ULN = 300.0
#: Assessed on day 8 at noon; results at 06:00 on day 8 are the latest within 72 h.
DAY = 8


def _flag(assessment):
    found = [w for w in assessment.attribution_warnings if w.code is WarningCode.IEC_HS]
    assert len(found) <= 1
    return found[0] if found else None


def _ferritin(chart, day, value, hours=-4, high=FERRITIN_ULN):
    return chart.lab(F.FERRITIN, chart.t(day, hours), value, high=high)


def _assess(chart):
    return chart.assess(chart.t(DAY, 2))


# -- The ferritin arms (each with ANC < 500 as its feature) ------------------------------------


def test_ferritin_above_2_x_uln_with_a_feature_flags(chart):
    """SPEC 2.10 arm 1: ferritin > 2 x ULN."""
    ferritin = _ferritin(chart, DAY, 650)
    anc = chart.lab(F.ANC, chart.t(DAY, -4), 300)
    flag = _flag(_assess(chart))
    assert flag.evidence == (ferritin, anc)
    assert flag.text == (
        "possible IEC-HS (HLH-like syndrome): ferritin 650 ng/mL (> 2 x ULN 300) with ANC "
        "300 /uL; typical as CRS resolves or after a first response to CRS therapy"
    )
    assert not flag.is_infection_signal


def test_ferritin_exactly_2_x_uln_does_not_flag(chart):
    _ferritin(chart, DAY, 600)
    chart.lab(F.ANC, chart.t(DAY, -4), 300)
    assert _flag(_assess(chart)) is None


def test_a_high_baseline_needs_ferritin_above_twice_the_baseline(chart):
    """SPEC 2.10 arm 2: with a pre-infusion baseline already above ULN, > 2 x that baseline
    (and 2 x ULN is not enough)."""
    baseline = _ferritin(chart, -1, 1000)
    chart.lab(F.PLATELETS, chart.t(DAY, -4), 30)
    _ferritin(chart, DAY - 3, 900)  # older than 48 h: no doubling against it
    _ferritin(chart, DAY, 1900)  # > 2 x ULN, < 2 x baseline
    assert _flag(_assess(chart)) is None
    latest = _ferritin(chart, DAY, 2100, hours=-3)
    flag = _flag(_assess(chart))
    assert flag.evidence[:2] == (latest, baseline)
    assert "ferritin 2100 ng/mL, more than twice its pre-infusion 1000" in flag.text


def test_a_normal_baseline_keeps_the_uln_arm(chart):
    _ferritin(chart, -1, 200)
    _ferritin(chart, DAY, 700)
    chart.lab(F.HEMOGLOBIN, chart.t(DAY, -4), 7.2)
    assert "(> 2 x ULN 300)" in _flag(_assess(chart)).text


def test_ferritin_doubled_within_48_h_flags_below_2_x_uln(chart):
    """SPEC 2.10 arm 3: doubled within 48 h, whatever the ULN."""
    earlier = _ferritin(chart, DAY - 2, 140, hours=-2)  # 46 h before the latest
    latest = _ferritin(chart, DAY, 280, high=400)
    chart.lab(F.FIBRINOGEN, chart.t(DAY, -4), 120)
    flag = _flag(_assess(chart))
    assert flag.evidence[:2] == (latest, earlier)
    assert "ferritin doubled within 48 h (140 to 280 ng/mL)" in flag.text


def test_a_doubling_over_more_than_48_h_does_not_flag(chart):
    _ferritin(chart, DAY - 3, 140)
    _ferritin(chart, DAY, 280, high=400)
    chart.lab(F.FIBRINOGEN, chart.t(DAY, -4), 120)
    assert _flag(_assess(chart)) is None


def test_ferritin_without_a_reference_range_is_a_gap_when_a_feature_is_present(chart):
    chart.lab(F.FERRITIN, chart.t(DAY, -4), 5000)
    chart.lab(F.ANC, chart.t(DAY, -4), 100)
    assessment = _assess(chart)
    assert _flag(assessment) is None
    assert (
        "ferritin without a reference range: the IEC-HS flag (> 2 x ULN) not checked"
        in assessment.data_gaps
    )


# -- The features (each with ferritin 1,000 > 2 x ULN 300) --------------------------------------

FEATURES = [
    (F.ANC, 499, None, True, "ANC < 500 /uL: ANC 499", "ANC 499 /uL"),
    (F.ANC, 500, None, False, "ANC 500 is not < 500", None),
    (F.PLATELETS, 49, None, True, "platelets < 50 x10^9/L: 49", "platelets 49 x10^9/L"),
    (F.PLATELETS, 50, None, False, "platelets 50 is not < 50", None),
    (F.HEMOGLOBIN, 7.9, None, True, "hemoglobin < 8 g/dL: 7.9", "hemoglobin 7.9 g/dL"),
    (F.HEMOGLOBIN, 8.0, None, False, "hemoglobin 8 is not < 8", None),
    (F.AST, 201, 40, True, "AST > 5 x ULN: 201/40", "AST 201 U/L (5.025 x ULN 40)"),
    (F.AST, 200, 40, False, "AST exactly 5 x ULN", None),
    (F.ALT, 260, 40, True, "ALT > 5 x ULN: 260/40", "ALT 260 U/L (6.5 x ULN 40)"),
    (F.FIBRINOGEN, 149, None, True, "fibrinogen < 150 mg/dL: 149", "fibrinogen 149 mg/dL"),
    (F.FIBRINOGEN, 150, None, False, "fibrinogen 150 is not < 150", None),
    (F.LDH, 501, 250, True, "LDH > 2 x ULN: 501/250", "LDH 501 U/L (2.004 x ULN 250)"),
    (F.LDH, 500, 250, False, "LDH exactly 2 x ULN", None),
]


@pytest.mark.parametrize(
    ("test", "value", "high", "flags", "text"),
    [pytest.param(t, v, h, f, x, id=f"{SOURCE}: {why}") for t, v, h, f, why, x in FEATURES],
)
def test_each_feature(chart, test, value, high, flags, text):
    _ferritin(chart, DAY, 1000)
    ref = chart.lab(test, chart.t(DAY, -4), value, high=high)
    flag = _flag(_assess(chart))
    if flags:
        assert ref in flag.evidence
        assert f"with {text};" in flag.text
    else:
        assert flag is None


def test_platelets_below_half_their_highest_since_day_0(chart):
    """SPEC 2.10: cytopenia as platelets below half their highest since day 0 (even above 50)."""
    _ferritin(chart, DAY, 1000)
    chart.lab(F.PLATELETS, chart.t(-1), 400)  # before day 0: not the peak
    peak = chart.lab(F.PLATELETS, chart.t(2), 180)
    latest = chart.lab(F.PLATELETS, chart.t(DAY, -4), 89)
    flag = _flag(_assess(chart))
    assert {peak, latest} <= set(flag.evidence)
    assert "platelets 89 x10^9/L, under half their highest since day 0 (180)" in flag.text
    chart.lab(F.PLATELETS, chart.t(DAY, -3), 90)  # exactly half: not below
    assert _flag(_assess(chart)) is None


def test_every_feature_present_is_named_once(chart):
    _ferritin(chart, DAY, 1000)
    chart.lab(F.ANC, chart.t(DAY, -4), 200)
    chart.lab(F.PLATELETS, chart.t(2), 200)
    chart.lab(F.PLATELETS, chart.t(DAY, -4), 20)  # both platelet rows: named once
    chart.lab(F.LDH, chart.t(DAY, -4), 900, high=250)
    flag = _flag(_assess(chart))
    assert flag.text.count("platelets") == 1
    assert "with ANC 200 /uL, platelets 20 x10^9/L, LDH 900 U/L (3.6 x ULN 250);" in flag.text


# -- What does not flag ------------------------------------------------------------------------


def test_high_ferritin_without_a_feature_does_not_flag(chart):
    _ferritin(chart, DAY, 130000)
    chart.lab(F.ANC, chart.t(DAY, -4), 1200)
    assert _flag(_assess(chart)) is None


def test_a_feature_without_high_ferritin_does_not_flag(chart):
    _ferritin(chart, DAY, 250)
    chart.lab(F.ANC, chart.t(DAY, -4), 100)
    assert _flag(_assess(chart)) is None


def test_results_older_than_72_h_do_not_flag(chart):
    _ferritin(chart, DAY - 4, 5000)
    chart.lab(F.ANC, chart.t(DAY - 4), 100)
    assert _flag(_assess(chart)) is None


def test_out_of_scope_never_flags(make_chart):
    chart = make_chart(therapy=None)
    _ferritin(chart, DAY, 5000)
    chart.lab(F.ANC, chart.t(DAY, -4), 100)
    assert _flag(_assess(chart)) is None


def test_the_flag_never_changes_a_grade(chart):
    """SPEC 2.10: never a grade."""
    _ferritin(chart, DAY, 5000)
    chart.lab(F.HEMOGLOBIN, chart.t(DAY, -4), 6.0)
    assessment = _assess(chart)
    assert _flag(assessment) is not None
    assert (assessment.grade, assessment.peak_grade, assessment.icans.grade) == (0, 0, 0)


# -- Bounds (SPEC 3 "Comparators"; found in review: "<250" AST flagged as > 5 x ULN) -----------

BELOW, ABOVE = Comparator.BELOW, Comparator.ABOVE
BOUND_FEATURES = [
    (F.AST, 250, 40, BELOW, False, "AST <250 may be 200: not > 5 x ULN 40", None),
    (F.AST, 250, 40, ABOVE, True, "AST >250 is > 5 x ULN 40", "AST >250 U/L"),
    (F.PLATELETS, 20, None, BELOW, True, "platelets <20 is < 50", "platelets <20 x10^9/L"),
    (F.PLATELETS, 20, None, ABOVE, False, "platelets >20 may be 60: not < 50", None),
    (F.ANC, 100, None, BELOW, True, "ANC <100 is < 500", "ANC <100 /uL"),
    (F.FIBRINOGEN, 50, None, BELOW, True, "fibrinogen <50 is < 150", "fibrinogen <50 mg/dL"),
]


@pytest.mark.parametrize(
    ("test", "value", "high", "comparator", "flags", "text"),
    [
        pytest.param(t, v, h, c, f, x, id=f"{SOURCE}; SPEC 3 comparators: {why}")
        for t, v, h, c, f, why, x in BOUND_FEATURES
    ],
)
def test_a_feature_charted_as_a_bound(chart, test, value, high, comparator, flags, text):
    _ferritin(chart, DAY, 1000)
    chart.lab(test, chart.t(DAY, -4), value, high=high, comparator=comparator)
    flag = _flag(_assess(chart))
    if flags:
        assert text in flag.text
    else:
        assert flag is None


@pytest.mark.parametrize(
    ("comparator", "flags"),
    [
        pytest.param(ABOVE, True, id=f"{SOURCE}; SPEC 3: ferritin >1000 is > 2 x ULN 300"),
        pytest.param(BELOW, False, id=f"{SOURCE}; SPEC 3: ferritin <1000 may be 300: not > 2 x"),
    ],
)
def test_a_ferritin_charted_as_a_bound(chart, comparator, flags):
    chart.lab(F.FERRITIN, chart.t(DAY, -4), 1000, high=FERRITIN_ULN, comparator=comparator)
    chart.lab(F.ANC, chart.t(DAY, -4), 300)
    flag = _flag(_assess(chart))
    assert (flag is not None) is flags
    if flags:
        assert "ferritin >1000 ng/mL" in flag.text


def test_a_bound_is_never_the_peak_platelets_fall_from(chart):
    """SPEC 2.10 cytopenia as a fall below half the highest since day 0: ">400" is no peak."""
    _ferritin(chart, DAY, 1000)
    chart.lab(F.PLATELETS, chart.t(2), 400, comparator=ABOVE)
    chart.lab(F.PLATELETS, chart.t(DAY, -4), 89)
    assert _flag(_assess(chart)) is None
