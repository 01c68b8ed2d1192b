"""Demo patients: the seed paper's Cases 1-3 and its Figure 3 patient as FHIR R4 Bundles.

Each case is a storyline (``_case1`` ... ``_figure3``) that ``_engine`` turns into a transaction
Bundle: vitals every 1 to 4 h, drips as consecutive MedicationAdministrations with their rates,
daily labs with reference ranges, cultures, diagnoses and the CRS therapy, each case sending
its data a little differently, as real EHRs do. The Bundles generated for day 0 = 2026-01-05
ship as package data (``data/<case>.json``) with ``data/expected.json``, the expected grade of
every day by Lee 2014 and ASTCT 2019; regenerate them with ``python -m cds_service.demo``.

``generate_bundle`` also serves the benchmarks: the same patient at another vitals and lab
cadence, cut at any number of days after the infusion.

Each case has a telling moment (``TELLING_MOMENTS``: Case 3 at its grade 3, Case 1 febrile,
Figure 3 on its second vasopressor). ``bundle_at_moment`` places a case so that its moment is a
given time ("now" for ``crs-cds demo`` and, by default, ``crs-cds demo-data``) and leaves out
everything after it, as a chart would be at that moment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

from cds_service.demo import _case1, _case2, _case3, _figure3
from cds_service.demo._engine import Options, build_bundle, patient_id
from cds_service.demo._expected import dumps, dumps_bundle, expected_document, readme
from cds_service.demo._model import JSON, ExpectedDay, Storyline, at
from cds_service.demo._moments import TELLING_MOMENTS, Placement, TellingMoment, placement_for

__all__ = [
    "CASES",
    "DEFAULT_DAY0",
    "TELLING_MOMENTS",
    "DemoDataError",
    "ExpectedDay",
    "TellingMoment",
    "bundle_at_moment",
    "bundle_at_time",
    "case_title",
    "demo_patient_id",
    "expected_grades",
    "generate_bundle",
    "load_bundle",
    "write_demo_data",
]

#: Day 0 of the shipped Bundles (a Monday).
DEFAULT_DAY0 = date(2026, 1, 5)

_STORYLINES: dict[str, Callable[[], Storyline]] = {
    "case1": _case1.storyline,
    "case2": _case2.storyline,
    "case3": _case3.storyline,
    "figure3": _figure3.storyline,
}

#: The demo case ids, in the paper's order.
CASES: tuple[str, ...] = tuple(_STORYLINES)

_DATA_PACKAGE = "cds_service.demo.data"


class DemoDataError(ValueError):
    """The demo data cannot be written as asked; the message says why."""


def _storyline(case_id: str) -> Storyline:
    try:
        return _STORYLINES[case_id]()
    except KeyError:
        raise ValueError(f"unknown demo case {case_id!r}; known: {', '.join(CASES)}") from None


def _hours(value: timedelta | None, name: str) -> float | None:
    if value is None:
        return None
    if value <= timedelta(0):
        raise ValueError(f"{name} must be positive")
    return value.total_seconds() / 3600.0


def generate_bundle(
    case_id: str,
    day0: date | None = None,
    *,
    vitals_every: timedelta | None = None,
    days: int | None = None,
    labs_every: timedelta | None = None,
) -> JSON:
    """A fresh transaction Bundle of ``case_id``; deterministic for the same arguments.

    ``day0`` moves the whole course (and the birth date) to another date. ``vitals_every``
    charts vitals at one cadence from 1 h before the infusion instead of the case's own 1-4 h
    schedule; ``labs_every`` does the same for the lab panel. ``days`` cuts the course at that
    many days after the infusion: what the EHR would hold then (a running drip is
    ``in-progress``), continuing the last clinical state past the case's discharge if needed.
    """
    options = Options(
        day0=day0 or DEFAULT_DAY0,
        vitals_every_h=_hours(vitals_every, "vitals_every"),
        labs_every_h=_hours(labs_every, "labs_every"),
        days=days,
    )
    return build_bundle(_storyline(case_id), options)


def demo_patient_id(case_id: str) -> str:
    """The Patient id of a demo case, e.g. ``crs-demo-case3``."""
    _storyline(case_id)  # validates the id
    return patient_id(case_id)


def case_title(case_id: str) -> str:
    """The case's title, e.g. "Case 3: grade 3 CRS after CD19 CAR T-cell therapy ..."."""
    return _storyline(case_id).title


def bundle_at_moment(case_id: str, now: datetime, *, future: bool = False) -> JSON:
    """``case_id`` placed so that its telling moment is ``now``, with nothing dated later.

    ``future`` keeps the rest of the stay (dated after ``now``) too.
    """
    story = _storyline(case_id)
    moment = TELLING_MOMENTS[case_id]
    placement = placement_for(story, moment.hours, now)
    return _build(story, placement, None if future else moment.hours)


def bundle_at_time(case_id: str, day: int, clock: str, now: datetime) -> JSON:
    """``case_id`` placed so that ``day`` at ``clock`` (local "HH:MM") is ``now``, with nothing
    dated later: the chart as it stood then (the watch's demo advances Case 3 with it)."""
    story = _storyline(case_id)
    hours = at(day, clock)
    return _build(story, placement_for(story, hours, now), hours)


def _build(story: Storyline, placement: Placement, until_h: float | None) -> JSON:
    options = Options(day0=placement.day0, shift=placement.shift, until_h=until_h)
    return build_bundle(story, options)


def load_bundle(case_id: str) -> JSON:
    """The shipped Bundle of ``case_id`` (day 0 = ``DEFAULT_DAY0``), a fresh copy each call."""
    _storyline(case_id)  # validates the id
    text = resources.files(_DATA_PACKAGE).joinpath(f"{case_id}.json").read_text("utf-8")
    bundle: JSON = json.loads(text)
    return bundle


def expected_grades(case_id: str) -> tuple[ExpectedDay, ...]:
    """The expected worst grade of each day after day 0 (Lee 2014 and ASTCT 2019), with why."""
    return _storyline(case_id).expected


def _render_demo_files(
    day0: date | None = DEFAULT_DAY0, *, now: datetime | None = None, future: bool = True
) -> dict[str, str]:
    """File name -> text of every demo file: the Bundles, expected.json, README.

    ``day0`` places every case on that day 0; ``None`` places each case so that its telling
    moment is ``now``. Unless ``future``, nothing dated after ``now`` is written.
    """
    moment_now = (now or datetime.now(UTC)).replace(microsecond=0)
    placed: list[tuple[Storyline, Placement]] = []
    files: dict[str, str] = {}
    for case_id in CASES:
        story = _storyline(case_id)
        if day0 is None:
            placement = placement_for(story, TELLING_MOMENTS[case_id].hours, moment_now)
        else:
            placement = Placement(day0)
        until_h = None
        if not future:
            # At its telling moment exactly (no rounding), else where now falls in the story.
            if day0 is None:
                until_h = min(story.end, TELLING_MOMENTS[case_id].hours)
            else:
                until_h = min(story.end, placement.hours_at(story, moment_now))
            if until_h < story.infusion_end:
                raise DemoDataError(
                    f"day 0 {placement.day0.isoformat()} is after now for {case_id}: "
                    "choose an earlier --day0, or write the future data with --future"
                )
        placed.append((story, placement))
        files[f"{case_id}.json"] = dumps_bundle(_build(story, placement, until_h))
    data_until = None if future else moment_now
    files["expected.json"] = dumps(expected_document(placed, data_until))
    files["README.md"] = readme(placed, data_until)
    return files


def write_demo_data(
    directory: Path,
    day0: date | None = None,
    *,
    now: datetime | None = None,
    future: bool = False,
) -> list[Path]:
    """Write one transaction Bundle per case, ``expected.json`` and a README into ``directory``.

    For loading into any FHIR server (``crs-cds demo-data DIR``). ``day0`` ``None`` places
    each case so that its telling moment is ``now`` (default: the current time); a date puts
    every case's infusion on that day. Nothing dated after ``now`` is written unless
    ``future``. Returns the paths written; raises ``DemoDataError`` when ``day0`` is so late
    that a case would have no data yet.
    """
    files = _render_demo_files(day0, now=now, future=future)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
