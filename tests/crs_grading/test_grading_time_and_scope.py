"""Scope, day 0, day numbering, windows, peak and daily grades (SPEC 2.1, 2.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crs_grading import GradingOptions, GradingSystem, assess
from crs_grading.inputs import GradingInputs, PatientFacts, TherapyKind

FUTURE = "dated after the assessment time"


def test_no_therapy_is_out_of_scope_but_still_graded(make_chart):
    """SPEC 2.1: out of scope means therapy None; grades are still computed for callers."""
    chart = make_chart(therapy=None)
    chart.temp(chart.t(1), 39)
    assessment = chart.assess(chart.t(1, 1))
    assert assessment.therapy is None
    assert assessment.in_scope is False
    assert assessment.grade == 1
    assert assessment.daily == ()


@pytest.mark.parametrize(
    ("days_ago", "in_scope"),
    [
        pytest.param(29, True, id="SPEC 2.1: a CAR-T infusion 29 days ago is in scope"),
        pytest.param(30, True, id="SPEC 2.1: exactly 30 days ago is in scope"),
        pytest.param(31, False, id="SPEC 2.1: 31 days ago is out of scope"),
    ],
)
def test_scope_window(chart, days_ago, in_scope):
    assessment = chart.assess(chart.t(days_ago))
    assert assessment.in_scope is in_scope
    if in_scope:
        assert assessment.therapy.day == days_ago


def test_scope_days_is_configurable(chart):
    """SPEC 2.1: the 30 days are configurable."""
    assert chart.assess(chart.t(20), scope_days=14).in_scope is False


def test_a_future_therapy_is_ignored_and_reported(make_chart):
    """SPEC 2.2: a therapy dated after as_of is not day 0 and is listed as skipped."""
    chart = make_chart(therapy=None)
    ref = chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(2))
    assessment = chart.assess(chart.t(1))
    assert assessment.in_scope is False
    assert (ref, FUTURE) in {(s.reference, s.reason) for s in assessment.skipped}


# -- a possible therapy whose drug could not be read (SPEC 2.1) ---------------------------------


@pytest.mark.parametrize(
    ("days_ago", "unconfirmed"),
    [
        pytest.param(30, 1, id="an unidentified drug 30 days ago may be the therapy"),
        pytest.param(31, 0, id="one 31 days ago could not put the patient in scope"),
    ],
)
def test_an_unidentified_drug_in_the_scope_window_is_an_unconfirmed_therapy(
    make_chart, days_ago, unconfirmed
):
    chart = make_chart(therapy=None)
    chart.unidentified(chart.t(0))
    assessment = chart.assess(chart.t(days_ago))
    assert assessment.in_scope is False
    assert len(assessment.unconfirmed_therapies) == unconfirmed


def test_an_unidentified_infusion_counts_from_its_end_or_while_it_runs(make_chart):
    """As a continuous therapy would (SPEC 2.1): in the window for 30 days after its end, or
    as long as it runs."""
    chart = make_chart(therapy=None)
    ended = chart.unidentified(chart.t(0), end=chart.t(10))
    running = chart.unidentified(chart.t(1), ongoing=True)
    assessment = chart.assess(chart.t(45))
    assert [item.reference for item in assessment.unconfirmed_therapies] == [running]
    assessment = chart.assess(chart.t(39))
    assert {item.reference for item in assessment.unconfirmed_therapies} == {ended, running}


def test_a_future_unidentified_drug_is_no_evidence(make_chart):
    chart = make_chart(therapy=None)
    chart.unidentified(chart.t(2))
    assert chart.assess(chart.t(1)).unconfirmed_therapies == ()


def test_a_patient_in_scope_has_no_unconfirmed_therapy(chart):
    """The therapy is confirmed: an unreadable drug beside it changes nothing of the scope."""
    chart.unidentified(chart.t(1))
    assessment = chart.assess(chart.t(2))
    assert assessment.in_scope is True
    assert assessment.unconfirmed_therapies == ()


def test_cell_therapy_takes_precedence_over_a_later_engager(chart):
    """SPEC 2.1 (our rule): the most recent cell infusion in scope is day 0, even when an
    engager dose came later."""
    chart.therapy("blinatumomab", TherapyKind.T_CELL_ENGAGER, chart.t(5))
    assessment = chart.assess(chart.t(6))
    assert assessment.therapy.therapy.name == "tisagenlecleucel"
    assert assessment.therapy.day == 6


def test_most_recent_engager_dose_is_day_0_without_cell_therapy(make_chart):
    """SPEC 2.1: step-up doses of an engager: the latest dose in scope is day 0."""
    chart = make_chart(therapy="teclistamab", kind=TherapyKind.T_CELL_ENGAGER)
    chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(3))
    chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(7))
    chart.therapy("teclistamab", TherapyKind.T_CELL_ENGAGER, chart.t(12))  # future: skipped
    assessment = chart.assess(chart.t(8))
    assert assessment.therapy.therapy.time == chart.t(7)
    assert assessment.therapy.day == 1


def test_day_numbers_are_calendar_dates(make_chart):
    """SPEC 2.1: day 0 is the administration date; 1 h later but after midnight is day 1."""
    chart = make_chart(infused=datetime(2026, 11, 18, 23, 30, tzinfo=UTC))
    assert chart.assess(chart.t(0, 0, 20)).therapy.day == 0
    assert chart.assess(chart.t(0, 1)).therapy.day == 1


def test_day_numbers_follow_the_configured_time_zone(make_chart):
    """SPEC 2.1: days are counted in the local calendar (options.timezone)."""
    eastern = timezone(timedelta(hours=-5))
    chart = make_chart(infused=datetime(2026, 11, 19, 3, 0, tzinfo=UTC))  # 22:00 on the 18th
    as_of = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # 09:00 on the 19th
    assert chart.assess(as_of).therapy.day == 0
    assert chart.assess(as_of, timezone=eastern).therapy.day == 1


@pytest.mark.parametrize(
    ("minutes_after", "counted"),
    [
        pytest.param(4, True, id="SPEC 2.2: a reading 4 min after as_of is within clock skew"),
        pytest.param(6, False, id="SPEC 2.2: a reading 6 min after as_of is ignored and reported"),
    ],
)
def test_future_data(chart, minutes_after, counted):
    as_of = chart.t(2)
    ref = chart.temp(as_of + timedelta(minutes=minutes_after), 39.5)
    assessment = chart.assess(as_of)
    assert assessment.grade == (1 if counted else 0)
    skipped = {(s.reference, s.reason) for s in assessment.skipped}
    assert ((ref, FUTURE) in skipped) is not counted


def test_every_kind_of_future_data_is_reported(chart):
    """SPEC 2.2: future-dated vitals, drips, oxygen, labs and doses are all ignored."""
    later = chart.t(3)
    refs = {
        chart.bp(later, 60, 30),
        chart.oxygen(later, fio2=90),
        chart.drip("norepinephrine", later, None, 40, in_progress=True),
        chart.lab("ast", later, 5000),
        chart.vent(later),
        chart.weight(later, 70),
    }
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 0
    assert refs <= {s.reference for s in assessment.skipped}


def test_future_death_is_ignored(chart):
    chart.temp(chart.t(2), 39)
    chart.died(chart.t(4))
    assessment = chart.assess(chart.t(2, 1))
    assert assessment.grade == 1
    assert ("Patient/p1", f"time of death {FUTURE}") in {
        (s.reference, s.reason) for s in assessment.skipped
    }


def test_peak_keeps_the_worst_after_improvement(chart, find_driver):
    """SPEC 2.2: FiO2 50% on day 2, room air since: current 0, peak 3 with its evidence."""
    ref = chart.oxygen(chart.t(2), fio2=50)
    chart.oxygen(chart.t(4), fio2=21)
    chart.temp(chart.t(4), 36.8)
    assessment = chart.assess(chart.t(5))
    assert assessment.grade == 0
    assert assessment.peak_grade == 3
    peak_driver = find_driver(assessment, "oxygen-high-fio2", peak=True)
    assert peak_driver.evidence == (ref,)
    assert assessment.peak.window_start <= chart.t(2) <= assessment.peak.window_end
    assert assessment.peak.window_end - assessment.peak.window_start <= timedelta(hours=24)


@pytest.mark.parametrize(
    ("hours_ago", "grade"),
    [
        pytest.param(23, 1, id="SPEC 2.2: fever 23 h ago is in the current window"),
        pytest.param(25, 0, id="SPEC 2.2: fever 25 h ago is outside the current window"),
    ],
)
def test_vitals_window(chart, hours_ago, grade):
    chart.temp(chart.t(3, -hours_ago), 39)
    assessment = chart.assess(chart.t(3))
    assert assessment.grade == grade
    assert assessment.peak_grade == 1


def test_data_before_day_0_is_not_crs(make_chart):
    """SPEC 2.2: the windows never reach back before the infusion (peak "since day 0")."""
    chart = make_chart()
    chart.temp(chart.t(0, -2), 39.4)
    chart.bp(chart.t(0, -1), 80, 40)
    assessment = chart.assess(chart.t(0, 3))
    assert assessment.grade == 0
    assert assessment.peak_grade == 0
    assert assessment.first_fever is None


def test_daily_grades_from_day_0_to_today(chart):
    """SPEC 2.2: the worst Lee and ASTCT grade of each post-infusion day."""
    chart.temp(chart.t(1, 2), 38.6)
    chart.temp(chart.t(2, 2), 39.0)
    chart.bp(chart.t(2, 3), 82, 48)
    chart.bp(chart.t(3, 1), 84, 50)  # no fever on day 3: ASTCT 0, Lee 2
    chart.drip("norepinephrine", chart.t(3, 5), chart.t(4, 2), 8)  # through midnight
    assessment = chart.assess(chart.t(5))
    lee = [d.lee2014 for d in assessment.daily]
    astct = [d.astct2019 for d in assessment.daily]
    assert [d.day for d in assessment.daily] == [0, 1, 2, 3, 4, 5]
    assert lee == [0, 1, 2, 2, 2, 0]
    assert astct == [0, 1, 2, 0, 0, 0]


def test_naive_as_of_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(GradingInputs(PatientFacts("Patient/x")), datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"scope_days": -1}, id="negative scope_days"),
        pytest.param({"vitals_window": timedelta(0)}, id="empty vitals window"),
        pytest.param({"clock_skew": timedelta(minutes=-1)}, id="negative clock skew"),
    ],
)
def test_bad_options_fail_loudly(bad):
    with pytest.raises(ValueError):
        GradingOptions(**bad)


def test_options_defaults_follow_the_spec():
    """SPEC 2.1, 2.2, 2.6, 2.7 defaults."""
    options = GradingOptions()
    assert options.system == GradingSystem.LEE_2014
    assert options.scope_days == 30
    assert options.vitals_window == timedelta(hours=24)
    assert options.lab_window == timedelta(hours=72)
    assert options.clock_skew == timedelta(minutes=5)
    assert options.weight_max_age == timedelta(days=30)
    assert options.late_onset_days == 14
    assert options.culture_window == timedelta(days=7)
    assert options.lactate_window == timedelta(hours=24)
    assert options.timezone == UTC


def test_a_drip_running_since_before_day_0_counts_from_day_0(chart):
    """SPEC 2.2: an interval that began before the infusion counts only from day 0 on."""
    chart.drip("norepinephrine", chart.t(-2), chart.t(3), 30)
    assessment = chart.assess(chart.t(4))
    assert assessment.peak_grade == 3
    peak = assessment.peak
    assert chart.t(0) <= peak.window_start < peak.window_end
    assert [d.lee2014 for d in assessment.daily] == [3, 3, 3, 3, 0]
