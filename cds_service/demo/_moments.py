"""The telling moment of each demo case: when its chart says the most, and what it should show.

``crs-cds demo`` and ``crs-cds demo-data`` place each case so that this moment is "now": the
whole course moves in time (``Placement``), and nothing after the moment is sent. The expected
grades are the seed paper's (Lee et al., Blood 2014) as the storylines tell them; a test grades
every case at its moment and compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from cds_service.demo._model import Storyline, at


@dataclass(frozen=True, slots=True)
class TellingMoment:
    """A moment of a case: day and local wall-clock time, what it shows, the expected grades."""

    case_id: str
    day: int
    clock: str  # "HH:MM", local time of the case
    lee2014: int
    astct2019: int
    shows: str

    @property
    def hours(self) -> float:
        """Hours since midnight of day 0 (local), the storylines' time axis."""
        return at(self.day, self.clock)


#: One moment per case, in the paper's order.
TELLING_MOMENTS: dict[str, TellingMoment] = {
    moment.case_id: moment
    for moment in (
        TellingMoment(
            "case1",
            2,
            "14:00",
            1,
            1,
            "febrile at 40.7 C on day 2 with rigors, normotensive on room air: grade 1",
        ),
        TellingMoment(
            "case2",
            14,
            "13:45",
            3,
            4,
            "day 14: fever, hypotension, dopamine and norepinephrine together: grade 3",
        ),
        TellingMoment(
            "case3",
            5,
            "14:20",
            3,
            4,
            "day 5: hypotension 70/40, dopamine and norepinephrine together, S. mitis "
            "bacteremia on day 1, tocilizumab not yet given: grade 3 with an infection warning",
        ),
        TellingMoment(
            "figure3",
            6,
            "13:15",
            3,
            4,
            "day 6: phenylephrine added to norepinephrine (second vasopressor), tocilizumab "
            "not yet given: grade 3",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a case's course sits in real time: its day 0 and a shift within that day."""

    day0: date
    shift: timedelta = timedelta(0)

    def instant(self, story: Storyline, hours: float) -> datetime:
        """The real time of ``hours`` (the storyline's axis) under this placement."""
        zone = timezone(timedelta(hours=story.utc_offset_h))
        midnight = datetime.combine(self.day0, time(0), tzinfo=zone)
        return midnight + self.shift + timedelta(seconds=round(hours * 3600))

    def hours_at(self, story: Storyline, moment: datetime) -> float:
        """The storyline hours of the real time ``moment``."""
        return (moment - self.instant(story, 0.0)).total_seconds() / 3600.0


def placement_for(story: Storyline, hours: float, now: datetime) -> Placement:
    """The placement that puts ``hours`` of ``story`` at ``now`` (to the second).

    Day 0 is the local date (the case's UTC offset) of day 0 midnight shifted back from ``now``;
    the shift, under a day, keeps the story's hours exact.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    zone = timezone(timedelta(hours=story.utc_offset_h))
    origin = (now.astimezone(UTC) - timedelta(seconds=round(hours * 3600))).astimezone(zone)
    origin = origin.replace(microsecond=0)
    midnight = datetime.combine(origin.date(), time(0), tzinfo=zone)
    return Placement(origin.date(), origin - midnight)
