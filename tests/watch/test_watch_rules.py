"""The rise rule of SPEC 4b ("when the current CRS or ICANS grade rises to >= a configured
grade (default 2), or a new infection warning appears on a patient with grade >= 2 ... one
alert per rise ... the same rise never alerts twice; a fall and a new rise alert again"), as
``rules.transition`` applies it between the stored state and a new evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cds_service.watch.rules import (
    INFECTION_WARNING_GRADE,
    WATCHED_MEASURES,
    AlertState,
    Observation,
    transition,
)

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def seen(grade, *, minutes=60, warnings=(), partial=False, in_scope=True):
    return Observation(
        as_of=T0 + timedelta(minutes=minutes),
        in_scope=in_scope,
        grades={"crs": grade},
        warnings=frozenset(warnings),
        partial=partial,
    )


def state(grade, warnings=()):
    return AlertState(as_of=T0, grades={"crs": grade}, warnings=frozenset(warnings))


def kinds(reasons):
    return [(r.kind, r.measure or r.code, r.from_grade, r.to_grade) for r in reasons]


@pytest.mark.parametrize(
    ("before", "now", "alerts"),
    [
        pytest.param(1, 2, True, id="a rise from 1 to the default alert grade 2 alerts"),
        pytest.param(1, 3, True, id="a rise from 1 to 3 alerts once"),
        pytest.param(2, 3, True, id="a rise within the alerting range (2 to 3) alerts"),
        pytest.param(0, 1, False, id="a rise that stays below the alert grade does not alert"),
        pytest.param(3, 3, False, id="the same grade again does not alert"),
        pytest.param(3, 2, False, id="a fall does not alert"),
        pytest.param(None, 3, True, id="the first evaluation of a patient already at 3 alerts"),
        pytest.param(None, 1, False, id="the first evaluation below the alert grade is silent"),
    ],
)
def test_grade_rises_alert_from_the_alert_grade_up(before, now, alerts):
    new_state, reasons = transition(state(before), seen(now), alert_grade=2)
    assert bool(reasons) is alerts
    assert new_state.grades["crs"] == now
    if alerts:
        assert kinds(reasons) == [("grade-rise", "crs", before, now)]


def test_the_alert_grade_is_configurable():
    assert transition(state(1), seen(2), alert_grade=3)[1] == ()
    assert kinds(transition(state(2), seen(3), alert_grade=3)[1]) == [("grade-rise", "crs", 2, 3)]


def test_a_fall_then_a_new_rise_alerts_again():
    first, reasons = transition(state(1), seen(3, minutes=10), 2)
    assert reasons
    fallen, reasons = transition(first, seen(1, minutes=20), 2)
    assert reasons == ()
    _, reasons = transition(fallen, seen(3, minutes=30), 2)
    assert kinds(reasons) == [("grade-rise", "crs", 1, 3)]


def test_the_same_rise_seen_twice_alerts_once():
    after, reasons = transition(state(1), seen(3, minutes=10), 2)
    assert reasons
    _, again = transition(after, seen(3, minutes=20), 2)
    assert again == ()


def test_an_evaluation_not_newer_than_the_state_changes_nothing():
    """Two workers finishing out of order: the older read must not record a fall."""
    newer, _ = transition(state(1), seen(3, minutes=30), 2)
    kept, reasons = transition(newer, seen(1, minutes=10), 2)
    assert kept is newer and reasons == ()


def test_a_partial_read_never_lowers_the_state():
    """Part of the chart unread may be what held the grade up: no fall, so no second alert."""
    high, _ = transition(state(1), seen(3, minutes=10), 2)
    after_partial, reasons = transition(high, seen(1, minutes=20, partial=True), 2)
    assert reasons == () and after_partial.grades["crs"] == 3
    _, reasons = transition(after_partial, seen(3, minutes=30), 2)
    assert reasons == ()


def test_a_partial_read_that_shows_a_rise_still_alerts():
    _, reasons = transition(state(1), seen(3, partial=True), 2)
    assert kinds(reasons) == [("grade-rise", "crs", 1, 3)]


@pytest.mark.parametrize(
    ("grade", "alert_grade", "alerts"),
    [
        pytest.param(2, 2, True, id="a new positive blood culture at grade 2 alerts"),
        pytest.param(1, 2, False, id="a new positive blood culture at grade 1 does not alert"),
        pytest.param(
            2, 3, True, id="SPEC 4b grade >= 2: with the alert grade at 3, grade 2 still alerts"
        ),
        pytest.param(3, 3, True, id="with the alert grade at 3, a warning at grade 3 alerts"),
        pytest.param(
            1, 1, False, id="SPEC 4b grade >= 2: with the alert grade at 1, grade 1 is silent"
        ),
    ],
)
def test_a_new_infection_warning_alerts_from_grade_2_whatever_the_alert_grade(
    grade, alert_grade, alerts
):
    """SPEC 4b: "a new infection warning appears on a patient with grade >= 2" (review finding:
    the threshold followed CRS_CDS_WATCH_ALERT_GRADE)."""
    before = state(grade)
    seen_now = seen(grade, warnings=["positive-blood-culture"])
    _, reasons = transition(before, seen_now, alert_grade)
    assert bool(reasons) is alerts
    if alerts:
        assert kinds(reasons) == [("new-infection-warning", "positive-blood-culture", None, None)]


def test_the_infection_warning_grade_is_spec_4bs_fixed_2():
    assert INFECTION_WARNING_GRADE == 2


def test_a_warning_already_known_does_not_alert_again():
    before = state(2, warnings=["neutropenia"])
    assert transition(before, seen(2, warnings=["neutropenia"]), 2)[1] == ()


def test_a_rise_and_a_new_warning_at_once_make_one_alert_with_both_reasons():
    _, reasons = transition(state(1), seen(3, warnings=["elevated-lactate"]), 2)
    assert kinds(reasons) == [
        ("grade-rise", "crs", 1, 3),
        ("new-infection-warning", "elevated-lactate", None, None),
    ]


def test_a_patient_out_of_scope_never_alerts_and_resets_the_state():
    after, reasons = transition(state(3), seen(None, in_scope=False), 2)
    assert reasons == () and after.grades["crs"] is None
    _, reasons = transition(after, seen(2, minutes=90), 2)
    assert kinds(reasons) == [("grade-rise", "crs", None, 2)]


def test_the_watched_measures_are_the_assessment_grades_and_have_their_columns():
    """SPEC 4b: the current CRS and ICANS grades, each in its own column."""
    from cds_service.watch.tables import watch_evaluations_table, watch_patients_table

    assert [(m.name, m.column) for m in WATCHED_MEASURES] == [
        ("crs", "crs_grade"),
        ("icans", "icans_grade"),
    ]
    for column in ("crs_grade", "icans_grade"):
        assert column in watch_evaluations_table.c and column in watch_patients_table.c
    assert all(m.column in watch_evaluations_table.c for m in WATCHED_MEASURES)


def both(crs, icans, *, minutes=60):
    return Observation(
        as_of=T0 + timedelta(minutes=minutes),
        in_scope=True,
        grades={"crs": crs, "icans": icans},
        warnings=frozenset(),
    )


def test_an_icans_rise_to_the_alert_grade_alerts_once():
    """SPEC 4b: "when the current CRS or ICANS grade rises to >= a configured grade ... one
    alert per rise ... the same rise never alerts twice" (seed Case 3: ICANS rises on day 9 as
    her CRS settles)."""
    start = AlertState(as_of=T0, grades={"crs": 3, "icans": 0})
    after, reasons = transition(start, both(2, 3), alert_grade=2)
    assert kinds(reasons) == [("grade-rise", "icans", 0, 3)]  # CRS fell: only ICANS alerts
    again, reasons = transition(after, both(2, 3, minutes=120), alert_grade=2)
    assert reasons == ()
    assert dict(again.grades) == {"crs": 2, "icans": 3}


def test_an_icans_rise_below_the_configured_grade_does_not_alert():
    start = AlertState(as_of=T0, grades={"crs": 1, "icans": 0})
    assert transition(start, both(1, 2), alert_grade=3)[1] == ()
    _, reasons = transition(start, both(1, 3), alert_grade=3)
    assert kinds(reasons) == [("grade-rise", "icans", 0, 3)]


def test_an_icans_fall_then_a_new_rise_alerts_again():
    start = AlertState(as_of=T0, grades={"crs": 0, "icans": 3})
    fallen, reasons = transition(start, both(0, 0), alert_grade=2)
    assert reasons == ()
    _, reasons = transition(fallen, both(0, 2, minutes=120), alert_grade=2)
    assert kinds(reasons) == [("grade-rise", "icans", 0, 2)]


def test_crs_and_icans_rising_together_make_one_alert_naming_both():
    start = AlertState(as_of=T0, grades={"crs": 1, "icans": 0})
    _, reasons = transition(start, both(3, 2), alert_grade=2)
    assert kinds(reasons) == [("grade-rise", "crs", 1, 3), ("grade-rise", "icans", 0, 2)]
