"""Neurologic dysfunction (SPEC 2.5), attribution warnings (SPEC 2.7), biomarkers (SPEC 2.8)."""

from __future__ import annotations

import pytest

from crs_grading import WarningCode
from crs_grading.assessment import Trend
from crs_grading.inputs import ConditionCategory, Immunosuppressant, LabTest, NeuroScoreKind

GCS, ICE = NeuroScoreKind.GCS, NeuroScoreKind.ICE


@pytest.mark.parametrize(
    ("setup", "kind"),
    [
        pytest.param(
            lambda c: c.score(GCS, c.t(1), 14),
            "gcs-below-15",
            id="SPEC 2.5: GCS 14 is neurologic dysfunction",
        ),
        pytest.param(lambda c: c.score(GCS, c.t(1), 15), None, id="SPEC 2.5: GCS 15 is not"),
        pytest.param(
            lambda c: c.score(ICE, c.t(1), 9),
            "icans",
            id="SPEC 2.5 and 2.9: ICE 9 is neurologic dysfunction, as ICANS grade 1",
        ),
        pytest.param(lambda c: c.score(ICE, c.t(1), 10), None, id="SPEC 2.5: ICE 10 is not"),
        pytest.param(
            lambda c: c.score(GCS, c.t(0, 1), 12),
            None,
            id="SPEC 2.5: GCS 12 more than 24 h ago is outside the window",
        ),
        pytest.param(
            lambda c: c.condition(ConditionCategory.NEUROLOGIC, "Encephalopathy", onset=c.t(1)),
            "encephalopathy",
            id="SPEC 2.5: an active encephalopathy condition",
        ),
        pytest.param(
            lambda c: c.condition(
                ConditionCategory.NEUROLOGIC,
                "seizure",
                active=False,
                onset=c.t(0, 2),
                abatement=c.t(0, 3),
            ),
            None,
            id="SPEC 2.5: a seizure that abated before the window",
        ),
    ],
)
def test_neurologic_findings(chart, setup, kind):
    setup(chart)
    assessment = chart.assess(chart.t(1, 12))
    kinds = [f.kind for f in assessment.neurologic_findings]
    assert kinds == ([kind] if kind else [])
    if kind:
        assert assessment.neurologic_findings[0].evidence
    assert assessment.grade == 0  # neurologic findings never change the CRS grade


def codes(assessment):
    return [w.code for w in assessment.attribution_warnings]


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        pytest.param(
            lambda c: c.culture(c.t(3, -6 * 24), True, "E. coli"),
            "positive-blood-culture",
            id="SPEC 2.7: a positive blood culture 6 days ago warns",
        ),
        pytest.param(
            lambda c: c.culture(c.t(3, -8 * 24), True),
            None,
            id="SPEC 2.7: a positive blood culture 8 days ago does not",
        ),
        pytest.param(
            lambda c: c.culture(c.t(2), False),
            None,
            id="SPEC 2.7: a negative blood culture does not warn",
        ),
        pytest.param(
            lambda c: c.culture(c.t(2), None),
            None,
            id="SPEC 2.7: a pending blood culture does not warn",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.ANC, c.t(2), 499),
            "neutropenia",
            id="SPEC 2.7: ANC 499 /uL warns neutropenia",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.ANC, c.t(2), 500),
            None,
            id="SPEC 2.7: ANC exactly 500 /uL does not",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.ANC, c.t(3, -73), 100),
            None,
            id="SPEC 2.7: an ANC older than 72 h does not",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.LACTATE, c.t(2, 12), 2.1),
            "elevated-lactate",
            id="SPEC 2.7: lactate 2.1 mmol/L warns",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.LACTATE, c.t(2, 12), 2.0),
            None,
            id="SPEC 2.7: lactate exactly 2 mmol/L does not",
        ),
        pytest.param(
            lambda c: c.lab(LabTest.LACTATE, c.t(3, -25), 4.0),
            None,
            id="SPEC 2.7: a lactate older than 24 h does not",
        ),
        pytest.param(
            lambda c: c.condition(ConditionCategory.INFECTION, "sepsis", onset=c.t(2)),
            "infection-diagnosis",
            id="SPEC 2.7: an active sepsis diagnosis warns",
        ),
        pytest.param(
            lambda c: c.condition(ConditionCategory.INFECTION, "pneumonia", active=False),
            None,
            id="SPEC 2.7: a resolved infection does not",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.TOCILIZUMAB, c.t(2)),
            "masked-fever",
            id="SPEC 2.7: tocilizumab given masks fever",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.METHYLPREDNISOLONE, c.t(2)),
            "masked-fever",
            id="SPEC 2.7: a corticosteroid given masks fever",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.PREDNISONE, c.t(2)),
            "masked-fever",
            id="SPEC 2.7: prednisone, a corticosteroid, masks fever (found in review)",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.PREDNISOLONE, c.t(2)),
            "masked-fever",
            id="SPEC 2.7: prednisolone, a corticosteroid, masks fever (found in review)",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.ANAKINRA, c.t(2)),
            None,
            id="SPEC 2.7: anakinra does not warn masked-fever",
        ),
        pytest.param(
            lambda c: c.immuno(Immunosuppressant.DEXAMETHASONE, c.t(0, -5)),
            None,
            id="SPEC 2.7: a steroid before day 0 does not warn",
        ),
    ],
)
def test_attribution_warnings(chart, setup, code):
    setup(chart)
    assessment = chart.assess(chart.t(3))
    assert codes(assessment) == ([code] if code else [])
    if code:
        warning = assessment.attribution_warnings[0]
        assert warning.evidence and warning.text


def test_febrile_neutropenia_says_cultures_and_antibiotics(chart):
    """SPEC 2.7: neutropenia with fever is febrile neutropenia: cultures, empiric antibiotics."""
    chart.temp(chart.t(2, 20), 38.4)
    chart.lab(LabTest.ANC, chart.t(2), 200)
    warning = chart.assess(chart.t(3)).attribution_warnings[0]
    assert warning.code == WarningCode.NEUTROPENIA
    assert "febrile neutropenia" in warning.text
    assert "cultures" in warning.text and "antibiotics" in warning.text


@pytest.mark.parametrize(
    ("fever_days", "late"),
    [
        pytest.param([15], True, id="SPEC 2.7: first fever on day 15 is late onset"),
        pytest.param([14], False, id="SPEC 2.7: first fever on day 14 is not late onset"),
        pytest.param([2, 16], False, id="SPEC 2.7: an earlier fever on day 2 means not late"),
    ],
)
def test_late_onset(chart, fever_days, late):
    for day in fever_days:
        chart.temp(chart.t(day), 38.8)
    assessment = chart.assess(chart.t(max(fever_days), 1))
    assert ("late-onset" in codes(assessment)) is late
    assert assessment.first_fever.time == chart.t(fever_days[0])


def test_warnings_are_never_suppressed(chart):
    """SPEC 2.7: every signal present is reported, with a grade 3 picture too."""
    chart.temp(chart.t(16), 39)
    chart.oxygen(chart.t(16), fio2=60)
    chart.culture(chart.t(15), True)
    chart.lab(LabTest.ANC, chart.t(15), 100)
    chart.lab(LabTest.LACTATE, chart.t(16), 4.2)
    chart.condition(ConditionCategory.INFECTION, "bacteremia", onset=chart.t(15))
    chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(16, 1))
    assessment = chart.assess(chart.t(16, 2))
    assert assessment.grade == 3
    assert codes(assessment) == [
        "positive-blood-culture",
        "neutropenia",
        "elevated-lactate",
        "infection-diagnosis",
        "late-onset",
        "masked-fever",
    ]
    assert sum(w.is_infection_signal for w in assessment.attribution_warnings) == 4


def test_biomarkers_never_change_the_grade_and_mark_the_peak(chart):
    """SPEC 2.8 (seed: a falling CRP after a peak may mark the syndrome's peak)."""
    base = chart.lab(LabTest.CRP, chart.t(-1), 5)
    chart.lab(LabTest.CRP, chart.t(2), 50)
    peak = chart.lab(LabTest.CRP, chart.t(3), 120)
    latest = chart.lab(LabTest.CRP, chart.t(4), 80)
    chart.lab(LabTest.FERRITIN, chart.t(3), 1000)
    chart.lab(LabTest.FERRITIN, chart.t(4), 5000)
    chart.lab(LabTest.IL6, chart.t(3), 100)
    chart.lab(LabTest.IL6, chart.t(4), 105)
    assessment = chart.assess(chart.t(4, 1))
    assert assessment.grade == 0
    crp, ferritin, il6 = assessment.biomarkers
    assert (crp.test, crp.latest.reference, crp.peak.reference) == (LabTest.CRP, latest, peak)
    assert crp.baseline.reference == base
    assert crp.fold_change == pytest.approx(16.0)
    assert crp.trend == Trend.FALLING and crp.falling_after_peak is True
    assert ferritin.trend == Trend.RISING and ferritin.baseline is None
    assert ferritin.fold_change is None and ferritin.falling_after_peak is False
    assert il6.trend == Trend.STABLE


def test_a_single_biomarker_result_has_no_trend(chart):
    chart.lab(LabTest.IL6, chart.t(1), 222)
    (il6,) = chart.assess(chart.t(2)).biomarkers
    assert il6.trend is None and il6.peak == il6.latest
