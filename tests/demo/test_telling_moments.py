"""Each demo case placed at its telling moment (issue 14): the grade the paper gives at that
moment, at any time of day the demo is started, with nothing dated after it.

Source: Lee et al. 2014 (seed) Case 1 (febrile, grade 1), Case 2 (two vasopressors, grade 3),
Case 3 (dopamine plus norepinephrine on day 5, grade 3) and Figure 3 (second vasopressor on day
6, grade 3); ASTCT 2019 counts two vasopressors as grade 4.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cds_service.demo import (
    CASES,
    TELLING_MOMENTS,
    DemoDataError,
    bundle_at_moment,
    write_demo_data,
)
from crs_grading import assess
from fhir_maps import map_patient_record

from . import raw_fhir as raw

#: Starts of the demo spread over the day (UTC), so that every case crosses midnight somewhere
#: in its own offset (-08:00 to +01:00) in at least one of them.
NOWS = [
    datetime(2026, 12, 4, 19, 22, 17, tzinfo=UTC),
    datetime(2027, 3, 1, 0, 5, tzinfo=UTC),
    datetime(2027, 3, 1, 7, 59, 59, tzinfo=UTC),
    datetime(2027, 6, 30, 13, 30, tzinfo=UTC),
]


def _datetimes(node: Any, key: str = "") -> Iterator[tuple[str, datetime]]:
    """Every dateTime (a string with a time) in a resource, with its element name."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _datetimes(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from _datetimes(item, key)
    elif isinstance(node, str) and len(node) > 10 and node[4] == "-" and node[10] == "T":
        yield key, raw.when(node)


def _latest(bundle: dict[str, Any]) -> datetime:
    return max(moment for resource in raw.resources(bundle) for _, moment in _datetimes(resource))


def _assessment(bundle: dict[str, Any], now: datetime):
    resources = raw.resources(bundle)
    patient_id = raw.resources(bundle, "Patient")[0]["id"]
    return assess(map_patient_record(resources, patient_id), now)


@pytest.mark.parametrize("now", NOWS, ids=lambda now: f"started at {now:%H:%M} UTC")
@pytest.mark.parametrize("case_id", CASES)
def test_at_its_telling_moment_a_case_grades_as_the_paper_says(case_id: str, now: datetime) -> None:
    moment = TELLING_MOMENTS[case_id]
    assessment = _assessment(bundle_at_moment(case_id, now), now)
    assert assessment.in_scope
    assert assessment.grade == moment.lee2014, moment.shows
    astct = [grade.grade for grade in assessment.other_systems.values()]
    assert astct == [moment.astct2019], moment.shows
    # The post-infusion day is the paper's, give or take the calendar day the shift crosses.
    assert assessment.therapy is not None
    assert assessment.therapy.day in (moment.day - 1, moment.day, moment.day + 1)


@pytest.mark.parametrize("case_id", CASES)
def test_the_telling_moment_is_now_and_nothing_is_dated_later(case_id: str) -> None:
    now = NOWS[0]
    bundle = bundle_at_moment(case_id, now)
    assert _latest(bundle) <= now
    assert now - _latest(bundle) < timedelta(hours=1), "the chart runs up to now"
    assert not _assessment(bundle, now).skipped, "no resource is refused (e.g. as future data)"


@pytest.mark.parametrize("case_id", CASES)
def test_future_keeps_the_rest_of_the_stay(case_id: str) -> None:
    now = NOWS[0]
    assert _latest(bundle_at_moment(case_id, now, future=True)) > now + timedelta(days=1)


def test_case3_at_its_moment_is_before_tocilizumab_and_after_both_pressors() -> None:
    """seed Case 3, day 5: dopamine and norepinephrine run; tocilizumab comes at 14:30."""
    bundle = bundle_at_moment("case3", NOWS[1])
    names = {
        coding.get("display")
        for resource in raw.resources(bundle, "MedicationAdministration")
        for coding in resource.get("medicationCodeableConcept", {}).get("coding", [])
    }
    assert {"dopamine", "norepinephrine"} <= names
    assert "tocilizumab" not in names


def test_demo_data_defaults_to_each_case_at_its_moment_now(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    write_demo_data(tmp_path)
    after = datetime.now(UTC)
    expected = json.loads((tmp_path / "expected.json").read_text("utf-8"))
    assert before.replace(microsecond=0) <= datetime.fromisoformat(expected["dataUntil"]) <= after
    for case_id in CASES:
        bundle = json.loads((tmp_path / f"{case_id}.json").read_text("utf-8"))
        assert _latest(bundle) <= after
        moment = expected["cases"][case_id]["tellingMoment"]
        assert moment["lee2014"] == TELLING_MOMENTS[case_id].lee2014
        assert abs(datetime.fromisoformat(moment["at"]) - after) < timedelta(minutes=1)
    assert "nothing dated later" in (tmp_path / "README.md").read_text("utf-8")


def test_demo_data_with_a_past_day0_stops_at_now(tmp_path: Path) -> None:
    now = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
    write_demo_data(tmp_path, date(2026, 1, 5), now=now)
    for case_id in CASES:
        bundle = json.loads((tmp_path / f"{case_id}.json").read_text("utf-8"))
        assert _latest(bundle) <= now


def test_demo_data_refuses_a_day0_with_no_data_yet_unless_future(tmp_path: Path) -> None:
    now = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # before every case's infusion that day
    with pytest.raises(DemoDataError, match="--future"):
        write_demo_data(tmp_path, date(2026, 1, 5), now=now)
    write_demo_data(tmp_path, date(2026, 1, 5), now=now, future=True)
    assert (tmp_path / "case3.json").exists()
