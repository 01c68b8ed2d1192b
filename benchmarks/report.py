"""Markdown for the benchmark results: docs/performance.md and the README summary.

Both files keep their hand-written prose; only the text between the markers below is replaced.
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.http_load import LevelResult, ServerSettings
from benchmarks.inprocess import Growth, Memory, SizeResult

__all__ = [
    "P99_TARGET_S",
    "Results",
    "machine_facts",
    "performance_markdown",
    "readme_summary",
    "replace_between_markers",
]

RESULTS_BEGIN = "<!-- BEGIN benchmark results (python -m benchmarks writes this part) -->"
RESULTS_END = "<!-- END benchmark results -->"
SUMMARY_BEGIN = "<!-- BEGIN benchmark summary (python -m benchmarks writes this part) -->"
SUMMARY_END = "<!-- END benchmark summary -->"

#: Issue 6 targets.
RATIO_TARGET = 10.0  # M: handling <= 10 x orjson.loads (median ratio)
GROWTH_TARGET = 1.3  # M -> L: time ratio <= 1.3 x size ratio
P99_TARGET_S = 0.5  # HTTP at M: p99 <= 500 ms at the highest error-free concurrency

_REPOSITORY = Path(__file__).absolute().parent.parent


@dataclass(slots=True)
class Results:
    command: str
    quick: bool
    facts: dict[str, str]
    sizes: list[SizeResult]
    growth: Growth | None
    memory: list[Memory] = field(default_factory=list)
    server: ServerSettings | None = None
    levels: list[LevelResult] = field(default_factory=list)
    http_payload: str = "M"
    elapsed_s: float = 0.0


def _git(*args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=_REPOSITORY, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip() if completed.returncode == 0 else ""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1_048_576:.1f} GiB"
    except OSError:
        pass
    return "?"


def machine_facts() -> dict[str, str]:
    """What the numbers depend on: the machine, the interpreter, the libraries, the code."""
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    load = os.getloadavg()
    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": _cpu_model(),
        "memory": _memory_total(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": ", ".join(
            f"{name} {_version(name)}"
            for name in ("flask", "werkzeug", "gunicorn", "orjson", "fhir.resources")
        ),
        "code": f"commit {commit or '?'}" + (" with uncommitted changes" if dirty else ""),
        "load average at start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "gc thresholds (in process)": ", ".join(str(value) for value in gc.get_threshold()),
    }


def _ms(seconds: float) -> str:
    milliseconds = seconds * 1000
    if milliseconds >= 100:
        return f"{milliseconds:.0f}"
    if milliseconds >= 10:
        return f"{milliseconds:.1f}"
    return f"{milliseconds:.2f}"


def _yes(met: bool) -> str:
    return "**met**" if met else "**not met**"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def highest_error_free(levels: Sequence[LevelResult]) -> LevelResult | None:
    """The highest concurrency with no errors at it nor at any level below it."""
    best = None
    for level in sorted(levels, key=lambda item: item.concurrency):
        if level.errors:
            break
        best = level
    return best


def highest_within_p99(levels: Sequence[LevelResult]) -> LevelResult | None:
    """The highest error-free concurrency whose p99 is within the target."""
    best = None
    for level in sorted(levels, key=lambda item: item.concurrency):
        if level.errors:
            break
        if level.latency.values and level.latency.p99 <= P99_TARGET_S:
            best = level
    return best


def _targets(results: Results) -> list[list[str]]:
    rows: list[list[str]] = []
    by_name = {result.payload_name: result for result in results.sizes}
    medium = by_name.get("M")
    if medium is not None:
        ratio = medium.ratios.median
        rows.append(
            [
                "M in process: handling <= 10 x orjson.loads (median ratio)",
                f"{ratio:.2f} x",
                _yes(ratio <= RATIO_TARGET),
            ]
        )
    if results.growth is not None:
        growth = results.growth
        rows.append(
            [
                "M -> L: time ratio <= 1.3 x size ratio",
                f"{growth.m_to_l_time_ratio:.2f} / {growth.m_to_l_size_ratio:.2f} = "
                f"{growth.m_to_l_relative:.2f}",
                _yes(growth.m_to_l_relative <= GROWTH_TARGET),
            ]
        )
    if results.levels:
        top = highest_error_free(results.levels)
        if top is None:
            rows.append(
                [
                    "HTTP at M: p99 <= 500 ms at the highest error-free concurrency",
                    "errors at every level",
                    _yes(False),
                ]
            )
        else:
            tested = max(level.concurrency for level in results.levels)
            note = " (the highest level tested)" if top.concurrency == tested else ""
            rows.append(
                [
                    "HTTP at M: p99 <= 500 ms at the highest error-free concurrency",
                    f"concurrency {top.concurrency}{note}: p99 {_ms(top.latency.p99)} ms",
                    _yes(top.latency.p99 <= P99_TARGET_S),
                ]
            )
    return rows


def performance_markdown(results: Results) -> str:
    """The generated part of docs/performance.md."""
    lines: list[str] = []
    mode = " (`--quick` smoke run: few rounds, not for comparison)" if results.quick else ""
    load = os.getloadavg()
    lines += [
        f"Run with `{results.command}`{mode}, {results.elapsed_s:.0f} s in all; load average "
        f"at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
        "",
    ]
    lines += _table(["machine", ""], [[key, value] for key, value in results.facts.items()])

    lines += ["", "### Targets of issue 6", ""]
    lines += _table(["target", "measured", ""], _targets(results))

    lines += ["", "### In process: `crs-patient-view` through the WSGI app", ""]
    lines += [
        "Each round: `orjson.loads` of the body, then one POST of the same body through the "
        "Flask test client (authentication off; parse, fhir_io, fhir_maps, grading, cards). "
        'Times in ms; "handling CPU" is the CPU time of the handling thread, which stays '
        "put when other processes compete for the cores and the wall time does not.",
        "",
    ]
    header = [
        "payload",
        "resources",
        "body MB",
        "rounds",
        "handling median",
        "handling p95",
        "handling CPU median",
        "orjson.loads median",
        "ratio (median of rounds)",
        "us per resource",
        "cyclic GC",
        "cards",
        "grade",
    ]
    rows = [
        [
            f"{r.payload_name}: {r.description}",
            f"{r.resources:,}",
            f"{r.megabytes:.1f}",
            str(len(r.handling.values)),
            _ms(r.handling.median),
            _ms(r.handling.p95),
            _ms(r.handling_cpu.median),
            _ms(r.loads.median),
            f"{r.ratios.median:.2f}",
            f"{r.handling.median / r.resources * 1e6:.0f}",
            f"{r.gc_share:.0%}",
            str(r.cards),
            "-" if r.grade is None else str(r.grade),
        ]
        for r in results.sizes
    ]
    lines += _table(header, rows)
    if results.growth is not None:
        growth = results.growth
        lines += [
            "",
            f"Growth of the median handling time with the number of resources: exponent "
            f"{growth.exponent_s_to_l:.2f} from S to L (log-log slope; 1 is linear), "
            f"{growth.exponent_fit:.2f} fitted over S, M and L. From M to L the time grows "
            f"{growth.m_to_l_time_ratio:.2f} x for {growth.m_to_l_size_ratio:.2f} x the "
            f"resources ({growth.m_to_l_relative:.2f} x linear).",
        ]

    lines += ["", "### Where the time goes (stages timed one by one, medians in ms)", ""]
    stage_rows = []
    for r in results.sizes:
        stages = r.stages
        answer = (
            "failed: " + stages.answer_error if stages.answer_error else _ms(stages.answer.median)
        )
        stage_rows.append(
            [
                r.payload_name,
                _ms(r.loads.median),
                _ms(stages.parse.median),
                _ms(stages.read.median),
                _ms(stages.map.median),
                _ms(stages.grade.median),
                answer,
            ]
        )
    lines += _table(
        [
            "payload",
            "orjson.loads",
            "parse_hook_request",
            "fhir_io read",
            "fhir_maps map_patient_record",
            "crs_grading assess",
            "hooks.answer_hook (maps, grades, cards)",
        ],
        stage_rows,
    )

    if results.memory:
        lines += ["", "### Peak memory of one request (fresh process per payload)", ""]
        lines += _table(
            ["payload", "body MB", "RSS before, MB", "peak RSS growth, MB", "tracemalloc peak, MB"],
            [
                [
                    m.payload_name,
                    f"{m.body_mb:.1f}",
                    f"{m.rss_before_mb:.0f}",
                    f"{m.rss_peak_delta_mb:.0f}",
                    f"{m.tracemalloc_peak_mb:.0f}",
                ]
                for m in results.memory
            ],
        )

    if results.levels and results.server is not None:
        lines += ["", f"### Over HTTP: payload {results.http_payload}, gunicorn on 127.0.0.1", ""]
        lines += [
            f"`{results.server.command_line}` (flags from {results.server.source}; "
            "authentication off, request log at INFO). Closed-loop clients on loopback, one "
            "keep-alive connection each; latency from sending the request to the end of the "
            "answer, in ms.",
            "",
        ]
        rows = []
        for level in results.levels:
            errors = str(level.errors)
            if level.error_kinds:
                errors += " (" + ", ".join(f"{k}: {v}" for k, v in level.error_kinds.items()) + ")"
            has = bool(level.latency.values)
            rows.append(
                [
                    str(level.concurrency),
                    str(level.requests),
                    errors,
                    f"{level.throughput:.1f}",
                    _ms(level.latency.median) if has else "-",
                    _ms(level.latency.p95) if has else "-",
                    _ms(level.latency.p99) if has else "-",
                    f"{level.wall_seconds:.1f}"
                    + (" (time limit)" if level.stopped_by_time else ""),
                ]
            )
        lines += _table(
            [
                "concurrency",
                "requests",
                "errors",
                "throughput, req/s",
                "p50",
                "p95",
                "p99",
                "wall s",
            ],
            rows,
        )
        top = highest_error_free(results.levels)
        within = highest_within_p99(results.levels)
        lines += [""]
        if top is not None:
            lines += [
                f"Highest concurrency without errors: {top.concurrency} "
                f"(p99 {_ms(top.latency.p99)} ms). Highest error-free concurrency with p99 "
                f"<= 500 ms: {within.concurrency if within else 'none'}."
            ]
        else:
            lines += ["Errors at every concurrency level."]
    return "\n".join(lines)


def readme_summary(results: Results) -> str:
    """The generated lines of the README's Performance section."""
    by_name = {result.payload_name: result for result in results.sizes}
    lines = []
    for name in ("S", "M", "L"):
        r = by_name.get(name)
        if r is None:
            continue
        lines.append(
            f"- {name} ({r.resources:,} resources, {r.megabytes:.1f} MB): "
            f"{_ms(r.handling.median)} ms median, {_ms(r.handling.p95)} ms p95 in process; "
            f"{r.ratios.median:.1f} x `orjson.loads` of the same body"
        )
    if results.growth is not None:
        growth = results.growth
        lines.append(
            f"- growth from S to L: exponent {growth.exponent_s_to_l:.2f} (1 = linear); M to L "
            f"{growth.m_to_l_time_ratio:.1f} x the time for {growth.m_to_l_size_ratio:.1f} x "
            f"the resources"
        )
    if results.memory:
        largest = results.memory[-1]
        lines.append(
            f"- peak memory of one {largest.payload_name} request: "
            f"{largest.rss_peak_delta_mb:.0f} MB RSS growth "
            f"({largest.tracemalloc_peak_mb:.0f} MB of Python objects at peak)"
        )
    if results.levels:
        top = highest_error_free(results.levels)
        within = highest_within_p99(results.levels)
        if top is not None:
            best = max(results.levels, key=lambda level: level.throughput)
            lines.append(
                f"- over HTTP at M (2 gunicorn workers, 4 threads, {results.facts['nproc']} "
                f"cores): up to {best.throughput:.1f} requests/s; no errors up to "
                f"concurrency {top.concurrency} (p99 {_ms(top.latency.p99)} ms); p99 <= 500 ms "
                f"up to concurrency {within.concurrency if within else 'none'}"
            )
    targets = _targets(results)
    if targets:
        lines.append(
            "- issue 6 targets: " + "; ".join(f"{row[0]}: {row[2].strip('*')}" for row in targets)
        )
    facts = results.facts
    lines.append(
        f"- measured {facts['date (UTC)']} on {facts['nproc']} cores ({facts['CPU']}), "
        f"{facts['Python']}, {facts['code']}"
    )
    return "\n".join(lines)


def replace_between_markers(path: Path, begin: str, end: str, content: str) -> None:
    """Replace the text between ``begin`` and ``end`` in ``path``; the markers must exist."""
    text = path.read_text(encoding="utf-8")
    start = text.find(begin)
    stop = text.find(end)
    if start < 0 or stop < start:
        raise RuntimeError(f"{path}: markers {begin!r} ... {end!r} not found")
    updated = text[: start + len(begin)] + "\n" + content.rstrip() + "\n" + text[stop:]
    path.write_text(updated, encoding="utf-8")


def python_command(arguments: Sequence[str]) -> str:
    """How this run was started, for the report."""
    executable = os.path.relpath(sys.executable, _REPOSITORY)
    if executable.startswith(".."):
        executable = "python"
    return " ".join([executable, "-m", "benchmarks", *arguments])
