"""Organ toxicity by CTCAE v4.03 (SPEC 2.3 table) and its CRS grade (seed Table 2)."""

from __future__ import annotations

import pytest

from crs_grading.inputs import LabTest

AST, ALT, BILI, CREAT, FIB, LVEF = (
    LabTest.AST,
    LabTest.ALT,
    LabTest.BILIRUBIN,
    LabTest.CREATININE,
    LabTest.FIBRINOGEN,
    LabTest.LVEF,
)


def row(id, test, value, grade, criterion=None, baseline=None, low=None, high=None):
    return pytest.param(test, value, baseline, low, high, grade, criterion, id=id)


CASES = [
    # AST / ALT increased, ULN 40 U/L.
    row("CTCAE v4.03 AST increased: exactly 3.0 x ULN is not grade 2", AST, 120, 0),
    row(
        "CTCAE v4.03 AST increased: 3.01 x ULN is grade 2",
        AST,
        120.4,
        2,
        "organ-toxicity-ast-increased-grade-2",
    ),
    row(
        "CTCAE v4.03 AST increased: exactly 5.0 x ULN is still grade 2",
        AST,
        200,
        2,
        "organ-toxicity-ast-increased-grade-2",
    ),
    row(
        "CTCAE v4.03 AST increased: 5.01 x ULN is grade 3",
        AST,
        200.4,
        3,
        "organ-toxicity-ast-increased-grade-3",
    ),
    row(
        "CTCAE v4.03 AST increased: exactly 20 x ULN is grade 3",
        AST,
        800,
        3,
        "organ-toxicity-ast-increased-grade-3",
    ),
    row(
        "seed Table 2: grade 4 transaminitis (AST 20.01 x ULN) is CRS grade 3, not 4",
        AST,
        800.4,
        3,
        "transaminitis-grade-4",
    ),
    row(
        "CTCAE v4.03 ALT increased: 3.5 x ULN is grade 2",
        ALT,
        140,
        2,
        "organ-toxicity-alt-increased-grade-2",
    ),
    row(
        "seed Table 2: grade 4 transaminitis (ALT 25 x ULN) is CRS grade 3",
        ALT,
        1000,
        3,
        "transaminitis-grade-4",
    ),
    row(
        "CTCAE v4.03 AST increased: ULN from the result's reference range (3.5 x 50)",
        AST,
        175,
        2,
        "organ-toxicity-ast-increased-grade-2",
        high=50,
    ),
    # Blood bilirubin increased, ULN 1.2 mg/dL.
    row("CTCAE v4.03 Blood bilirubin increased: exactly 1.5 x ULN is not grade 2", BILI, 1.8, 0),
    row(
        "CTCAE v4.03 Blood bilirubin increased: 1.6 x ULN is grade 2",
        BILI,
        1.92,
        2,
        "organ-toxicity-bilirubin-increased-grade-2",
    ),
    row(
        "CTCAE v4.03 Blood bilirubin increased: 3.5 x ULN is grade 3",
        BILI,
        4.2,
        3,
        "organ-toxicity-bilirubin-increased-grade-3",
    ),
    row(
        "CTCAE v4.03 Blood bilirubin increased: 10.5 x ULN is grade 4, CRS grade 4",
        BILI,
        12.6,
        4,
        "organ-toxicity-bilirubin-increased-grade-4",
    ),
    # Creatinine increased, ULN 1.0 mg/dL.
    row("CTCAE v4.03 Creatinine increased: exactly 1.5 x ULN is not grade 2", CREAT, 1.5, 0),
    row(
        "CTCAE v4.03 Creatinine increased: 1.51 x ULN is grade 2",
        CREAT,
        1.51,
        2,
        "organ-toxicity-creatinine-increased-grade-2",
    ),
    row(
        "CTCAE v4.03 Creatinine increased: 3.01 x ULN is grade 3",
        CREAT,
        3.01,
        3,
        "organ-toxicity-creatinine-increased-grade-3",
    ),
    row(
        "CTCAE v4.03 Creatinine increased: 6.01 x ULN is grade 4",
        CREAT,
        6.01,
        4,
        "organ-toxicity-creatinine-increased-grade-4",
    ),
    row(
        "CTCAE v4.03 Creatinine increased: 1.6 x baseline 0.5 (below ULN) is grade 2",
        CREAT,
        0.8,
        2,
        "organ-toxicity-creatinine-increased-grade-2",
        baseline=0.5,
    ),
    row(
        "CTCAE v4.03 Creatinine increased: exactly 1.5 x baseline is not grade 2",
        CREAT,
        0.75,
        0,
        baseline=0.5,
    ),
    row(
        "CTCAE v4.03 Creatinine increased: 3.25 x baseline 0.4 is grade 3",
        CREAT,
        1.3,
        3,
        "organ-toxicity-creatinine-increased-grade-3",
        baseline=0.4,
    ),
    row(
        "CTCAE v4.03 Creatinine increased: without a baseline, 1.3 mg/dL (< 1.5 x ULN) is 0",
        CREAT,
        1.3,
        0,
    ),
    # Fibrinogen decreased, LLN 200 mg/dL.
    row("CTCAE v4.03 Fibrinogen decreased: exactly 0.75 x LLN is not grade 2", FIB, 150, 0),
    row(
        "CTCAE v4.03 Fibrinogen decreased: 0.745 x LLN is grade 2",
        FIB,
        149,
        2,
        "organ-toxicity-fibrinogen-decreased-grade-2",
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: 0.495 x LLN is grade 3",
        FIB,
        99,
        3,
        "organ-toxicity-fibrinogen-decreased-grade-3",
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: 0.245 x LLN is grade 4",
        FIB,
        49,
        4,
        "organ-toxicity-fibrinogen-decreased-grade-4",
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: < 50 mg/dL is grade 4 with a low LLN",
        FIB,
        49.9,
        4,
        "organ-toxicity-fibrinogen-decreased-grade-4",
        low=100,
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: exactly 50 mg/dL (0.5 x LLN 100) is grade 2, not 4",
        FIB,
        50,
        2,
        "organ-toxicity-fibrinogen-decreased-grade-2",
        low=100,
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: a 25% fall from baseline 400 is grade 2",
        FIB,
        300,
        2,
        "organ-toxicity-fibrinogen-decreased-grade-2",
        baseline=400,
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: a 24.9% fall is not grade 2", FIB, 300.4, 0, baseline=400
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: a 50% fall from baseline 500 is grade 3",
        FIB,
        250,
        3,
        "organ-toxicity-fibrinogen-decreased-grade-3",
        baseline=500,
    ),
    row(
        "CTCAE v4.03 Fibrinogen decreased: a 75% fall from baseline 1000 is grade 4",
        FIB,
        250,
        4,
        "organ-toxicity-fibrinogen-decreased-grade-4",
        baseline=1000,
    ),
    # Ejection fraction decreased.
    row("CTCAE v4.03 Ejection fraction decreased: LVEF 55% is not graded", LVEF, 55, 0),
    row(
        "CTCAE v4.03 Ejection fraction decreased: LVEF exactly 50% is grade 2",
        LVEF,
        50,
        2,
        "organ-toxicity-ejection-fraction-decreased-grade-2",
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: LVEF 40% is grade 2",
        LVEF,
        40,
        2,
        "organ-toxicity-ejection-fraction-decreased-grade-2",
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: LVEF 39% is grade 3",
        LVEF,
        39,
        3,
        "organ-toxicity-ejection-fraction-decreased-grade-3",
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: LVEF 19% is grade 4",
        LVEF,
        19,
        4,
        "organ-toxicity-ejection-fraction-decreased-grade-4",
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: a 10 point fall (65 to 55%) is grade 2",
        LVEF,
        55,
        2,
        "organ-toxicity-ejection-fraction-decreased-grade-2",
        baseline=65,
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: a 9 point fall is not graded",
        LVEF,
        56,
        0,
        baseline=65,
    ),
    row(
        "CTCAE v4.03 Ejection fraction decreased: a 20 point fall (70 to 50%) is grade 3",
        LVEF,
        50,
        3,
        "organ-toxicity-ejection-fraction-decreased-grade-3",
        baseline=70,
    ),
]


@pytest.mark.parametrize(("test", "value", "baseline", "low", "high", "grade", "criterion"), CASES)
def test_organ_toxicity(chart, find_driver, test, value, baseline, low, high, grade, criterion):
    base_ref = None
    if baseline is not None:
        base_ref = chart.lab(test, chart.t(-2), baseline, low, high)
    result = chart.lab(test, chart.t(1), value, low, high)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == grade
    if criterion is not None:
        found = find_driver(assessment, criterion)
        assert found is not None, assessment.current.drivers
        assert found.grade == grade
        assert result in found.evidence
        assert "CTCAE v4.03" in found.text
        if base_ref is not None and "baseline" in found.text:
            assert base_ref in found.evidence


def test_baseline_is_the_last_result_before_day_0(chart, find_driver):
    """SPEC 2.3: baseline = last result before day 0; an older, lower one is not used."""
    chart.lab(CREAT, chart.t(-10), 0.3)
    last = chart.lab(CREAT, chart.t(0, -2), 0.6)
    chart.lab(CREAT, chart.t(1), 1.0)  # 1.67 x the last baseline, 3.3 x the older one
    found = find_driver(chart.assess(chart.t(2)), "organ-toxicity-creatinine-increased-grade-2")
    assert found is not None
    assert last in found.evidence


def test_no_baseline_is_a_data_gap(chart):
    """SPEC 2.3: without a baseline, the baseline criteria are skipped and the card says so."""
    chart.lab(CREAT, chart.t(1), 1.3)
    gaps = chart.assess(chart.t(2)).data_gaps
    assert "no creatinine result before day 0: baseline criteria skipped" in gaps


def test_result_without_upper_limit_skips_uln_rows(chart):
    """SPEC 2.3: ULN comes from the reference range; none means the x ULN rows cannot fire."""
    chart.lab(AST, chart.t(1), 1000, high=0)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 0
    assert "AST result without an upper limit of normal: x ULN criteria skipped" in (
        assessment.data_gaps
    )


def test_the_latest_result_in_72_h_sets_the_current_grade(chart):
    """SPEC 2.2: the current grade uses the latest result of each kind; the peak keeps the
    worse earlier one."""
    chart.lab(AST, chart.t(1), 300)  # 7.5 x ULN: grade 3
    chart.lab(AST, chart.t(2), 50)
    assessment = chart.assess(chart.t(2, 1))
    assert assessment.grade == 0
    assert assessment.peak_grade == 3


@pytest.mark.parametrize(
    ("hours_ago", "grade"),
    [
        pytest.param(71, 2, id="SPEC 2.2: a lab 71 h old counts for the current grade"),
        pytest.param(73, 0, id="SPEC 2.2: a lab 73 h old does not count, and is a stale gap"),
    ],
)
def test_lab_window(chart, hours_ago, grade):
    chart.lab(AST, chart.t(1), 140)
    assessment = chart.assess(chart.t(1, hours_ago))
    assert assessment.grade == grade
    stale = "latest AST result is older than 72 h and was not used"
    assert (stale in assessment.data_gaps) is (grade == 0)
