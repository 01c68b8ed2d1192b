"""The local clock of the patient's data (SPEC section 4): "Times are shown in the local offset
of the patient's own data (the EHR's clock), else CRS_CDS_TIMEZONE; day numbers follow the same
local date". ``crs_grading.calendar.local_zone`` picks the offset; ``assess`` counts days in it
and hands it on as ``Assessment.timezone``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crs_grading import GradingOptions, assess
from crs_grading.calendar import local_zone
from crs_grading.inputs import ClockOffset

H = timedelta(hours=1)
T = datetime(2026, 3, 20, 12, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def offset(hours: float, count: int, last: datetime = T) -> ClockOffset:
    return ClockOffset(timedelta(hours=hours), count, last)


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        pytest.param((offset(-8, 500),), timezone(-8 * H), id="one offset: the EHR's clock"),
        pytest.param((), BERLIN, id="no offset at all (every time in Z): the configured zone"),
        pytest.param(
            (offset(1, 900, T - 48 * H), offset(2, 120, T)),
            timezone(2 * H),
            id="daylight saving: the offset of the latest data wins once it is written",
        ),
        pytest.param(
            (offset(-5, 990, T - H), offset(0, 3, T)),
            timezone(-5 * H),
            id="an outside laboratory's own offset (under 10% of the times) does not move it",
        ),
        pytest.param(
            (offset(5.5, 200),),
            timezone(5.5 * H),
            id="half-hour offsets are offsets too",
        ),
    ],
)
def test_local_zone(offsets, expected):
    assert local_zone(offsets, BERLIN) == expected


def test_days_and_the_assessment_zone_follow_the_data(make_chart):
    """A cell infusion at 22:00 on the 18th, -08:00 (06:00 UTC on the 19th): at 09:00 local on
    the 19th it is day 1 on the ward, though both times fall on the 19th in UTC."""
    chart = make_chart(infused=datetime(2026, 11, 19, 6, 0, tzinfo=UTC))
    as_of = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)
    assert chart.assess(as_of).therapy.day == 0  # nothing says the clock: UTC
    inputs = replace(chart.inputs(), clock_offsets=(offset(-8, 300, as_of),))
    assessment = assess(inputs, as_of)
    assert assessment.therapy.day == 1
    assert assessment.timezone == timezone(-8 * H)


def test_the_data_clock_wins_over_the_configured_zone(make_chart):
    """SPEC 4: the configured zone is the fallback, not an override."""
    chart = make_chart(infused=datetime(2026, 11, 19, 6, 0, tzinfo=UTC))
    as_of = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)
    inputs = replace(chart.inputs(), clock_offsets=(offset(-8, 300, as_of),))
    options = GradingOptions(timezone=ZoneInfo("Asia/Tokyo"))
    assert assess(inputs, as_of, options).timezone == timezone(-8 * H)
    assert assess(chart.inputs(), as_of, options).timezone == ZoneInfo("Asia/Tokyo")
