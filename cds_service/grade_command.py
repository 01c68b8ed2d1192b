"""``crs-cds grade`` and ``crs-cds demo-data``: the clinical core from the command line.

``grade`` reads a FHIR Bundle file (transaction, collection or searchset), a single resource
file, or a folder of such files, maps them with ``fhir_maps`` and grades them with
``crs_grading`` exactly as the service does, without a server. ``demo-data`` writes the seed
cases as transaction Bundles for loading into any FHIR server.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from cds_service.cards.extension import assessment_extension, fhir_instant
from cds_service.demo import DemoDataError, write_demo_data
from crs_grading import Assessment, GradingOptions, GradingSystem, assess, wording
from crs_grading.assessment import Driver
from fhir_maps import map_patient_record

__all__ = ["add_demo_data_command", "add_grade_command", "load_resources", "render_table"]


class InputError(Exception):
    """The files given to ``crs-cds grade`` cannot be graded; the message says why."""


def _resources_of(document: Any, source: Path) -> Iterator[Mapping[str, Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise InputError(f"{source}: not a FHIR resource (no resourceType)")
    if document["resourceType"] != "Bundle":
        yield document
        return
    for index, entry in enumerate(document.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield resource
        else:
            raise InputError(f"{source}: Bundle entry {index} has no resource")


def load_resources(path: Path) -> list[Mapping[str, Any]]:
    """Every resource in ``path``: a JSON file or a folder of ``*.json`` files (sorted)."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise InputError(f"{path}: no .json files in this folder")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: no such file or folder")
    resources: list[Mapping[str, Any]] = []
    for file in files:
        try:
            document = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as error:
            raise InputError(f"{file}: not valid JSON ({error})") from None
        resources.extend(_resources_of(document, file))
    return resources


def _patient_id(resources: list[Mapping[str, Any]], wanted: str | None) -> str:
    ids = sorted(
        {str(r["id"]) for r in resources if r.get("resourceType") == "Patient" and "id" in r}
    )
    if wanted is not None:
        return wanted
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise InputError("no Patient resource found: name the patient with --patient ID")
    raise InputError(f"several patients ({', '.join(ids)}): choose one with --patient ID")


def _as_of(raw: str | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--as-of {raw!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InputError(f"--as-of {raw!r} needs a time zone, e.g. 2026-01-10T18:00:00Z")
    return moment


#: How many references the table lists per skip reason before it only counts them.
_REFERENCES_SHOWN = 5


def _skipped_lines(assessment: Assessment) -> list[str]:
    """Skipped resources grouped by reason (data after ``--as-of`` can be thousands)."""
    by_reason: dict[str, list[str]] = {}
    for item in assessment.skipped:
        by_reason.setdefault(item.reason, []).append(item.reference)
    lines = []
    for reason, references in by_reason.items():
        shown = ", ".join(references[:_REFERENCES_SHOWN])
        more = len(references) - _REFERENCES_SHOWN
        lines.append(
            f"{reason} ({len(references)}): {shown}" + (f" and {more} more" if more > 0 else "")
        )
    return lines


def render_table(assessment: Assessment, out: TextIO) -> None:
    """The assessment as a plain-text report for a terminal."""
    write = out.write
    therapy = assessment.therapy
    zone = assessment.timezone
    local = wording.clock(assessment.as_of, zone)
    write(f"CRS assessment as of {fhir_instant(assessment.as_of)} ({local} local)\n")
    if therapy is None:
        write("Out of scope: no CRS-associated therapy in the scope window.\n")
    else:
        given = wording.clock(therapy.therapy.time, zone)
        write(
            f"Therapy: {therapy.therapy.name} ({therapy.therapy.reference}, {given}), "
            f"day {therapy.day}\n"
        )
    system = wording.SYSTEM_NAMES[assessment.system]
    write(f"Grade ({system}): {assessment.grade}   peak: {assessment.peak_grade}\n")
    for other, grade in assessment.other_systems.items():
        write(f"Grade ({wording.SYSTEM_NAMES[other]}): {grade.grade}\n")
    icans = assessment.icans
    unassessed = "" if icans.assessed else "   (no ICE, CAPD or RASS in the current window)"
    write(f"ICANS (ASTCT 2019): {icans.grade}   peak: {icans.peak_grade}{unassessed}\n")
    sections: list[tuple[str, list[str]]] = [
        ("Drivers", _driver_lines(assessment.current.drivers)),
        ("ICANS drivers", _driver_lines(icans.current.drivers)),
        (
            "Neurologic findings",
            [f"{n.kind}: {n.text}" for n in assessment.neurologic_findings],
        ),
        (
            "Attribution warnings",
            [
                f"{w.code}: {w.text}  [{', '.join(w.evidence)}]"
                for w in assessment.attribution_warnings
            ],
        ),
        ("Data gaps", list(assessment.data_gaps)),
        ("Skipped", _skipped_lines(assessment)),
    ]
    for title, lines in sections:
        if lines:
            write(f"\n{title}:\n")
            for line in lines:
                write(f"  {line}\n")
    if assessment.daily:
        names = " / ".join(wording.SYSTEM_NAMES[s] for s in GradingSystem)
        write(f"\nDaily grades (day: {names} / ICANS):\n  ")
        write(
            "  ".join(f"{d.day}:{d.lee2014}/{d.astct2019}/{d.icans}" for d in assessment.daily)
        )
        write("\n")


def _driver_lines(drivers: Iterable[Driver]) -> list[str]:
    return [
        f"grade {d.grade}  {d.criterion:<40} {d.text}  [{', '.join(d.evidence)}]" for d in drivers
    ]


def _grade(args: argparse.Namespace) -> int:
    try:
        resources = load_resources(Path(args.file))
        patient_id = _patient_id(resources, args.patient)
        as_of = _as_of(args.as_of)
    except InputError as error:
        sys.stderr.write(f"crs-cds grade: {error}\n")
        return 2
    inputs = map_patient_record(resources, patient_id)
    assessment = assess(inputs, as_of, GradingOptions(system=GradingSystem(args.system)))
    if args.json:
        document = assessment_extension(assessment)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        render_table(assessment, sys.stdout)
    return 0


def add_grade_command(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``crs-cds grade``."""
    grade = subcommands.add_parser(
        "grade",
        help="grade CRS from a FHIR Bundle file or a folder of resources",
        description=(
            "Map FHIR R4 resources and grade CRS as the service does. FILE is a Bundle, a "
            "resource, or a folder of .json files."
        ),
    )
    grade.add_argument("file", metavar="FILE")
    grade.add_argument("--as-of", help="assessment time, ISO 8601 with zone (default: now)")
    grade.add_argument(
        "--system",
        choices=[system.value for system in GradingSystem],
        default=GradingSystem.LEE_2014.value,
        help="primary grading system (default lee2014; the other is reported beside it)",
    )
    grade.add_argument("--patient", help="Patient id, when the files hold several patients")
    grade.add_argument(
        "--json", action="store_true", help="print the org.crscds.assessment extension JSON"
    )
    grade.set_defaults(handler=_grade)


def _demo_data(args: argparse.Namespace) -> int:
    day0: date | None = None
    if args.day0 is not None:
        try:
            day0 = date.fromisoformat(args.day0)
        except ValueError:
            sys.stderr.write(
                f"crs-cds demo-data: --day0 {args.day0!r} is not a date (YYYY-MM-DD)\n"
            )
            return 2
    try:
        written = write_demo_data(Path(args.directory), day0, future=args.future)
    except DemoDataError as error:
        sys.stderr.write(f"crs-cds demo-data: {error}\n")
        return 2
    for path in written:
        sys.stdout.write(f"{path}\n")
    return 0


def add_demo_data_command(
    subcommands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register ``crs-cds demo-data``."""
    demo = subcommands.add_parser(
        "demo-data",
        help="write the seed cases as FHIR R4 transaction Bundles",
        description=(
            "Write Lee 2014 Cases 1-3 and the Figure 3 patient as FHIR R4 transaction Bundles "
            "(one file per case) with their expected grades by day. By default each case is "
            "placed so that its telling moment (Case 3 at its grade 3, Case 1 febrile, Figure 3 "
            "on its second vasopressor, Case 2 on two vasopressors) is now, and nothing dated "
            "after now is written."
        ),
    )
    demo.add_argument("directory", metavar="DIR")
    demo.add_argument(
        "--day0",
        help="put every case's infusion on this date (YYYY-MM-DD) instead, e.g. 2026-01-05 "
        "(the package's own Bundles)",
    )
    demo.add_argument(
        "--future",
        action="store_true",
        help="also write what is dated after now (the rest of each stay, to discharge)",
    )
    demo.set_defaults(handler=_demo_data)
