"""One wording of each number, time and duration (issue 12: "five number formatters and two
duration formats"), used by the grader, the plan, the cards, the SMART page and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crs_grading import wording


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=3, minutes=5), "3 h 5 min"),
        (timedelta(hours=8), "8 h"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=23, minutes=59, seconds=59), "23 h 59 min"),
    ],
)
def test_one_duration_format(span, text):
    assert wording.duration(span) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("250.500"), "250.5"),
        (62.625, "62.625"),
        (13.6000001, "13.6"),
        (-0.0001, "0"),
        (280, "280"),
    ],
)
def test_numbers(value, text):
    assert wording.number(value) == text


def test_a_time_reads_on_the_patients_clock_and_says_utc_only_when_it_is():
    moment = datetime(2026, 1, 11, 12, 30, tzinfo=UTC)
    assert wording.clock(moment, timezone(timedelta(hours=1))) == "11 Jan 13:30"
    assert wording.clock(moment, timezone(timedelta(hours=-8))) == "11 Jan 04:30"
    assert wording.clock(moment) == "11 Jan 12:30 UTC"


def test_windows_read_as_rules_state_them():
    assert wording.span(timedelta(days=7)) == "7 days"
    assert wording.span(timedelta(hours=72)) == "72 h"
    assert wording.span(timedelta(days=30)) == "30 days"


def test_a_summary_never_reaches_140_characters():
    long = "x" * 200
    assert wording.fit_summary(long, "short one") == "short one"
    assert len(wording.fit_summary(long)) < 140


# -- the "CRS check incomplete" card (SPEC 2.1: a possible therapy whose drug was not read) ----


def _unconfirmed(make_chart, *days):
    chart = make_chart(therapy=None)
    for day in days:
        chart.unidentified(chart.t(day))
    return chart.assess(chart.t(max(days) + 1))


def test_the_incomplete_card_says_the_therapy_was_not_confirmed_and_what_was_not_read(
    make_chart,
):
    from crs_grading.criteria import Severity
    from crs_grading.wording.cards import check_incomplete_text

    assessment = _unconfirmed(make_chart, 0)
    text = check_incomplete_text(assessment, ["procedures could not be read"])
    assert text.summary.startswith("CRS check incomplete")
    assert len(text.summary) < 140
    assert text.indicator is Severity.INFO
    lead, check, unread = text.sections
    assert lead.lines[0].text == (
        "Whether a CAR T-cell or bispecific antibody therapy was given could not be confirmed: "
        "the drug of 1 medication administration on 18 Nov 10:00 UTC could not be identified. "
        "CRS was not graded."
    )
    assert check.strong and "Check the medication record" in check.lines[0].text
    assert unread.heading == "Data not read"
    assert unread.lines[0].text == "Procedures could not be read."


def test_the_incomplete_card_dates_several_administrations_first_to_last(make_chart):
    from crs_grading.wording.cards import check_incomplete_text

    assessment = _unconfirmed(make_chart, 3, 0, 1)
    lead = check_incomplete_text(assessment).sections[0].lines[0].text
    assert "the drug of 3 medication administrations from 18 Nov 10:00 UTC to 21 Nov 10:00 UTC" in (
        lead
    )


def test_no_incomplete_card_without_an_unconfirmed_therapy(chart):
    from crs_grading.wording.cards import check_incomplete_text

    with pytest.raises(ValueError, match="not incomplete"):
        check_incomplete_text(chart.assess())
