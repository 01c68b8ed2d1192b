"""Demo patients: the seed paper's Cases 1-3 and its Figure 3 patient as FHIR R4 Bundles.

Each case is a storyline (``_case1`` ... ``_figure3``) that ``_engine`` turns into a transaction
Bundle: vitals every 1 to 4 h, drips as consecutive MedicationAdministrations with their rates,
daily labs with reference ranges, cultures, diagnoses and the CRS therapy, each case sending
its data a little differently, as real EHRs do. The Bundles generated for day 0 = 2026-01-05
ship as package data (``data/<case>.json``) with ``data/expected.json``, the expected grade of
every day by Lee 2014 and ASTCT 2019; regenerate them with ``python -m cds_service.demo``.

``generate_bundle`` also serves the benchmarks: the same patient at another vitals and lab
cadence, cut at any number of days after the infusion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from cds_service.demo import _case1, _case2, _case3, _figure3
from cds_service.demo._engine import Options, build_bundle
from cds_service.demo._expected import dumps, dumps_bundle, expected_document, readme
from cds_service.demo._model import JSON, ExpectedDay, Storyline

__all__ = [
    "CASES",
    "DEFAULT_DAY0",
    "ExpectedDay",
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


def load_bundle(case_id: str) -> JSON:
    """The shipped Bundle of ``case_id`` (day 0 = ``DEFAULT_DAY0``), a fresh copy each call."""
    _storyline(case_id)  # validates the id
    text = resources.files(_DATA_PACKAGE).joinpath(f"{case_id}.json").read_text("utf-8")
    bundle: JSON = json.loads(text)
    return bundle


def expected_grades(case_id: str) -> tuple[ExpectedDay, ...]:
    """The expected worst grade of each day after day 0 (Lee 2014 and ASTCT 2019), with why."""
    return _storyline(case_id).expected


def _render_demo_files(day0: date | None = None) -> dict[str, str]:
    """File name -> text of every demo file for ``day0``: the Bundles, expected.json, README."""
    start = day0 or DEFAULT_DAY0
    stories = [_storyline(case_id) for case_id in CASES]
    files = {
        f"{story.case_id}.json": dumps_bundle(build_bundle(story, Options(day0=start)))
        for story in stories
    }
    files["expected.json"] = dumps(expected_document(stories, start))
    files["README.md"] = readme(stories, start)
    return files


def write_demo_data(directory: Path, day0: date | None = None) -> list[Path]:
    """Write one transaction Bundle per case, ``expected.json`` and a README into ``directory``.

    For loading into any FHIR server (``crs-cds demo-data DIR``). Returns the paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in _render_demo_files(day0).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
