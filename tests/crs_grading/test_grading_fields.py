"""The rest of the Assessment: patient facts, windows' flags and data gaps (SPEC 2.2 to 2.7)."""

from __future__ import annotations

from datetime import date

import pytest

from crs_grading.inputs import ConditionCategory, Immunosuppressant, Vasopressor


def test_weight_is_the_latest_within_30_days(chart):
    """SPEC 2.6: weight = latest body weight within 30 days."""
    chart.weight(chart.t(-40), 90)
    latest = chart.weight(chart.t(-3), 71.5)
    assessment = chart.assess(chart.t(2))
    assert assessment.weight.reference == latest
    assert "no body weight in the last 30 days" not in assessment.data_gaps


def test_a_weight_older_than_30_days_is_a_gap(chart):
    chart.weight(chart.t(-31), 90)
    assessment = chart.assess(chart.t(0, 1))
    assert assessment.weight is None
    assert "no body weight in the last 30 days" in assessment.data_gaps


def test_age_in_years_with_fraction(make_chart):
    chart = make_chart(age=None)
    chart.birth_date = date(2016, 5, 18)
    assessment = chart.assess(chart.t(0, 1))  # 2026-11-18
    assert assessment.age_years == pytest.approx(10 + 184 / 365, abs=1e-9)


def test_comorbidities_are_the_active_ones(chart):
    active = chart.condition(ConditionCategory.COMORBIDITY, "heart failure")
    chart.condition(ConditionCategory.COMORBIDITY, "COPD", active=False)
    chart.condition(ConditionCategory.COMORBIDITY, "cirrhosis", abatement=chart.t(-5))
    assessment = chart.assess(chart.t(1))
    assert [c.reference for c in assessment.comorbidities] == [active]


def test_immunosuppressants_given_since_day_0_oldest_first(chart):
    chart.immuno(Immunosuppressant.DEXAMETHASONE, chart.t(-1))
    second = chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(3), 560)
    first = chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(2), 560)
    assessment = chart.assess(chart.t(4))
    assert [d.reference for d in assessment.immunosuppressants_given] == [first, second]


def test_baseline_blood_pressure_is_the_last_before_day_0(chart):
    """SPEC 2.3 (seed: establish a clear baseline blood pressure before therapy)."""
    chart.bp(chart.t(-3), 130, 80)
    last = chart.bp(chart.t(0, -1), 118, 72)
    chart.bp(chart.t(1), 100, 60)
    assert chart.assess(chart.t(2)).baseline_blood_pressure.reference == last


def test_vasopressor_and_fever_in_window_flags(chart):
    chart.drip(Vasopressor.NOREPINEPHRINE, chart.t(1), chart.t(1, 2), 4)
    chart.temp(chart.t(1, 1), 38.2)
    assert chart.assess(chart.t(1, 20)).vasopressor_in_window is True
    later = chart.assess(chart.t(2, 4))
    assert later.vasopressor_in_window is False
    assert later.fever_in_window is False
    assert later.first_fever is not None


def test_no_vitals_in_24_h_is_a_gap(chart):
    chart.temp(chart.t(1), 37)
    assert "no vital signs in the last 24 h" in chart.assess(chart.t(2, 1)).data_gaps
    assert "no vital signs in the last 24 h" not in chart.assess(chart.t(1, 23)).data_gaps


def test_estimated_fio2_and_deviceless_oxygen_are_gaps(chart):
    """SPEC 2.3: the card says when FiO2 is an estimate."""
    chart.oxygen(chart.t(1), flow=4)
    chart.oxygen(chart.t(1, 3), device="facemask")  # not within the hour of the flow
    gaps = chart.assess(chart.t(2)).data_gaps
    assert "FiO2 estimated from oxygen flow (21% + 4% per L/min)" in gaps
    assert "oxygen device recorded without FiO2 or flow: counted as FiO2 < 40%" in gaps


def test_mapping_notes_and_skipped_resources_pass_through(chart):
    """SPEC 3: skipped resources and mapping notes reach the assessment."""
    chart.skip("Observation/x9", "valueQuantity.value is not a number")
    chart.note("3 times without a time zone were read as UTC")
    assessment = chart.assess(chart.t(1))
    assert ("Observation/x9", "valueQuantity.value is not a number") in {
        (s.reference, s.reason) for s in assessment.skipped
    }
    assert "3 times without a time zone were read as UTC" in assessment.data_gaps


def test_repeated_gaps_are_counted_once(chart):
    for hour in range(3):
        chart.drip(Vasopressor.NOREPINEPHRINE, chart.t(1, hour * 2), None, None)
    gaps = chart.assess(chart.t(2)).data_gaps
    unknown = [g for g in gaps if g.startswith("norepinephrine rate unknown")]
    assert unknown == [
        "norepinephrine rate unknown (no rate recorded): counted as a vasopressor of unknown dose "
        "(3 administrations)"
    ]
