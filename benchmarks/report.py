"""Markdown for the benchmark results: docs/performance.md and the README summary.

Both files keep their hand-written prose; only the text between the markers below is replaced.
Every target of issue 13 is a row of ``targets()``, printed with met / not met.
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.http_load import LevelResult, ServerSettings
from benchmarks.inprocess import SETTLE_CALLS, Growth, Memory, SizeResult

__all__ = [
    "P99_TARGET_S",
    "Results",
    "Target",
    "machine_facts",
    "performance_markdown",
    "readme_summary",
    "replace_between_markers",
    "targets",
]

RESULTS_BEGIN = "<!-- BEGIN benchmark results (python -m benchmarks writes this part) -->"
RESULTS_END = "<!-- END benchmark results -->"
SUMMARY_BEGIN = "<!-- BEGIN benchmark summary (python -m benchmarks writes this part) -->"
SUMMARY_END = "<!-- END benchmark summary -->"

#: Issue 13 targets.
RATIO_TARGET = 1.5  # M, L, XL: the call <= 1.5 x orjson.loads of the same body (fair floor)
RATIO_STRETCH = 1.0
GROWTH_TARGET = 1.1  # M -> XL: growth exponent of the call time in the number of resources
XL_TARGET_S = 0.5  # XL in process on one core
PEAK_PER_BODY_TARGET = 3.0  # peak RSS growth per call / body size
RETAINED_TARGET_MB = 1.0  # what a call leaves behind: "nothing", within measuring noise
P99_TARGET_S = 0.5  # HTTP at M, concurrency 4
P99_CONCURRENCY = 4
#: A machine whose load average is above this at the start is too busy for final numbers.
BUSY_LOAD = 0.5

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
    load_at_start: float = 0.0


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run
    short: str = ""  # the name without its method, where the name carries one

    @property
    def label(self) -> str:
        """What the README summary calls the target."""
        return self.short or self.name

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "not measured"
        return "**met**" if self.met else "**not met**"


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
            for name in ("flask", "werkzeug", "gunicorn", "orjson", "msgspec", "fhir.resources")
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


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _level(levels: Sequence[LevelResult], concurrency: int) -> LevelResult | None:
    return next((level for level in levels if level.concurrency == concurrency), None)


def _shares(level: LevelResult) -> str:
    return " / ".join(f"{share:.0%}" for share in level.worker_shares) or "-"


def _default_memory(memory: Sequence[Memory]) -> dict[str, list[Memory]]:
    """The default allocator's memory runs by payload, in the order measured."""
    by_payload: dict[str, list[Memory]] = {}
    for run in memory:
        if run.allocator == "default":
            by_payload.setdefault(run.payload_name, []).append(run)
    return by_payload


def _each(figures: Iterable[float], spec: str = "+.1f") -> str:
    """One figure of each process, as "+0.9 / +2.1 / +1.4"."""
    return " / ".join(format(figure, spec) for figure in figures)


def _worst_peak(runs: Sequence[Memory]) -> Memory:
    """The process whose call peaked at the largest multiple of the body: the one judged."""
    return max(runs, key=lambda run: run.peak_per_body)


def targets(results: Results) -> list[Target]:
    """Every target of issue 13, in the issue's order, with what this run measured."""
    rows: list[Target] = []
    by_name = {result.payload_name: result for result in results.sizes}
    medium = by_name.get("M")
    if medium is not None:
        ratio = medium.target_ratio
        rows.append(
            Target(
                "M in process: the call <= 1.5 x orjson.loads of the same body (same process, "
                "production GC, median of interleaved rounds; judged on the larger of the ratio "
                "to the floor after the hook and to orjson.loads alone)",
                f"{medium.ratios.median:.2f} x ({_ms(medium.handling.median)} / "
                f"{_ms(medium.loads.median)} ms; CPU {medium.ratios_cpu.median:.2f} x); "
                f"{medium.ratio_to_alone:.2f} x orjson.loads alone "
                f"({_ms(medium.loads_alone.median)} ms)",
                ratio <= RATIO_TARGET,
                short="M in process: the call <= 1.5 x orjson.loads of the same body",
            )
        )
        rows.append(
            Target("M in process, stretch: <= 1.0 x", f"{ratio:.2f} x", ratio <= RATIO_STRETCH)
        )
    thresholds = ", ".join(str(value) for value in gc.get_threshold())
    floors = [r for r in results.sizes if r.loads.values]
    if floors:
        from cds_service.gc_tuning import GC_THRESHOLDS

        gc_share = max(r.gc_floor_share for r in floors)
        rows.append(
            Target(
                "the floor is fair: orjson.loads in the same process with the production GC "
                "settings of create_app()",
                f"same process and collector as the call (thresholds {thresholds}, start-up "
                f"objects frozen); cyclic GC up to {gc_share:.0%} of the floor, as in a worker; "
                "the floor after gunicorn's post_request, as the call, and alone (no hook)",
                gc.get_threshold() == GC_THRESHOLDS,
                short="the floor is fair",
            )
        )
    for name in ("L", "XL"):
        result = by_name.get(name)
        if result is None:
            rows.append(Target(f"{name} answered, not refused, <= 1.5 x", "not run", None))
            continue
        answered = "answered" if result.answered else f"HTTP {result.status}"
        rows.append(
            Target(
                f"{name} ({result.resources:,} resources, {result.megabytes:.0f} MB) answered, "
                "not refused, <= 1.5 x orjson.loads",
                f"{answered}, {result.ratios.median:.2f} x ({result.ratio_to_alone:.2f} x "
                "orjson.loads alone)",
                result.answered and result.target_ratio <= RATIO_TARGET,
                short=f"{name} answered, not refused, <= 1.5 x orjson.loads",
            )
        )
    if results.growth is not None:
        growth = results.growth
        rows.append(
            Target(
                f"growth exponent {growth.low} -> {growth.high} <= 1.1 (time in resources)",
                f"{growth.exponent:.2f} ({growth.time_ratio:.1f} x the time for "
                f"{growth.resource_ratio:.1f} x the resources)",
                growth.exponent <= GROWTH_TARGET,
                short=f"growth exponent {growth.low} -> {growth.high} <= 1.1",
            )
        )
    else:
        rows.append(Target("growth exponent M -> XL <= 1.1", "not run", None))
    extra = by_name.get("XL")
    if extra is not None and extra.answered:
        rows.append(
            Target(
                "XL within 500 ms in process on one core",
                f"{_ms(extra.handling.median)} ms median (CPU {_ms(extra.handling_cpu.median)} ms)",
                extra.handling.median <= XL_TARGET_S,
            )
        )
    else:
        rows.append(Target("XL within 500 ms in process on one core", "not run", None))
    by_payload = _default_memory(results.memory)
    for name, runs in by_payload.items():
        worst = _worst_peak(runs)
        rows.append(
            Target(
                f"{name}: peak RSS growth per call <= 3 x the body"
                + (f" (worst of {len(runs)} fresh processes)" if len(runs) > 1 else ""),
                f"{worst.rss_peak_delta_mb:.0f} MB for {worst.body_mb:.1f} MB = "
                f"{worst.peak_per_body:.1f} x",
                worst.peak_per_body <= PEAK_PER_BODY_TARGET,
                short=f"{name}: peak RSS growth per call <= 3 x the body",
            )
        )
    for name, runs in by_payload.items():
        rows.append(
            Target(
                f"{name}: nothing retained after the call (RSS after the first call and after "
                f"{SETTLE_CALLS}, growth per later call, Python objects: each <= "
                f"{RETAINED_TARGET_MB:.1f} MB"
                + (f", in each of {len(runs)} fresh processes)" if len(runs) > 1 else ")"),
                f"RSS {_each(m.retained_first_mb for m in runs)} MB after the first call, "
                f"{_each(m.retained_per_call_mb for m in runs)} MB per later call, "
                f"{_each(m.retained_settled_mb for m in runs)} MB after {SETTLE_CALLS}; "
                f"Python objects {_each((m.traced_retained_kb for m in runs), '+.0f')} KiB",
                max(m.retained_worst_mb for m in runs) <= RETAINED_TARGET_MB,
                short=f"{name}: nothing retained after the call",
            )
        )
    if not by_payload:
        rows.append(Target("peak RSS growth <= 3 x the body; nothing retained", "not run", None))
    level = _level(results.levels, P99_CONCURRENCY)
    if level is not None and level.latency.values:
        rows.append(
            Target(
                f"HTTP at {results.http_payload}, concurrency {P99_CONCURRENCY}: p99 <= 500 ms",
                f"p99 {_ms(level.latency.p99)} ms ({len(level.latency.values)} requests)",
                level.latency.p99 <= P99_TARGET_S,
            )
        )
        rows.append(
            Target(
                f"HTTP at {results.http_payload}, concurrency {P99_CONCURRENCY}: no 503s",
                f"{level.errors} errors"
                + (f" ({_error_kinds(level)})" if level.error_kinds else ""),
                level.errors == 0,
            )
        )
    else:
        rows.append(Target(f"HTTP at concurrency {P99_CONCURRENCY}", "not run", None))
    busy = [level for level in results.levels if level.concurrency in (2, P99_CONCURRENCY)]
    if busy:
        rows.append(
            Target(
                "HTTP: both workers busy at concurrency 2 and 4 (keep-alive connections)",
                "; ".join(
                    f"concurrency {level.concurrency}: CPU {_shares(level)}" for level in busy
                ),
                all(level.every_worker_busy for level in busy),
                short="HTTP: both workers busy at concurrency 2 and 4",
            )
        )
    return rows


def _error_kinds(level: LevelResult) -> str:
    return ", ".join(f"{kind}: {count}" for kind, count in level.error_kinds.items())


def _busy_note(results: Results) -> list[str]:
    nproc = int(results.facts.get("nproc", "1") or 1)
    if results.load_at_start / nproc <= BUSY_LOAD:
        return []
    return [
        "",
        f"**Busy machine**: the load average was {results.load_at_start:.1f} on {nproc} cores "
        "when this run started. Wall-clock times, ratios and HTTP latencies are inflated by "
        "the other load; these numbers are not final and need a rerun on an idle machine.",
    ]


def performance_markdown(results: Results) -> str:
    """The generated part of docs/performance.md."""
    lines: list[str] = []
    mode = " (`--quick` smoke run: few rounds, not for comparison)" if results.quick else ""
    load = os.getloadavg()
    lines += [
        f"Run with `{results.command}`{mode}, {results.elapsed_s:.0f} s in all; load average "
        f"at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
    ]
    lines += _busy_note(results)
    lines += [""]
    lines += _table(["machine", ""], [[key, value] for key, value in results.facts.items()])

    lines += ["", "### Targets of issue 13", ""]
    lines += _table(
        ["target", "measured", ""], [[t.name, t.measured, t.verdict] for t in targets(results)]
    )

    lines += ["", "### In process: `crs-patient-view` through the WSGI app", ""]
    lines += [
        "Each round: one POST of the body through the Flask test client (authentication off; "
        "parse, fhir_io, fhir_maps, grading, cards, audit row), then `orjson.loads` of the same "
        "body (the floor; its result is freed after the clock stops); each of the two after "
        "gunicorn's `post_request` hook, as a worker's call comes after the last one's (the "
        "hook after the call is timed apart: the last row of the stage table). Times in ms; "
        "CPU is the CPU time of the thread, which moves less than wall time when other processes "
        "compete for the cores.",
        "",
    ]
    header = [
        "payload",
        "resources",
        "body MB",
        "status",
        "rounds",
        "call median",
        "call p95",
        "call CPU",
        "floor median",
        "floor CPU",
        "ratio (median of rounds)",
        "ratio, CPU",
        "us per resource",
        "cyclic GC in call / floor",
        "cards",
        "grade",
    ]
    rows = []
    for r in results.sizes:
        has = bool(r.handling.values)
        rows.append(
            [
                f"{r.payload_name}: {r.description}",
                f"{r.resources:,}",
                f"{r.megabytes:.1f}",
                str(r.status),
                str(len(r.handling.values)),
                _ms(r.handling.median) if has else "-",
                _ms(r.handling.p95) if has else "-",
                _ms(r.handling_cpu.median) if has else "-",
                _ms(r.loads.median) if has else "-",
                _ms(r.loads_cpu.median) if has else "-",
                f"{r.ratios.median:.2f}" if has else "-",
                f"{r.ratios_cpu.median:.2f}" if has else "-",
                f"{r.handling.median / r.resources * 1e6:.0f}" if has else "-",
                f"{r.gc_share:.0%} / {r.gc_floor_share:.0%}" if has else "-",
                str(r.cards),
                "-" if r.grade is None else str(r.grade),
            ]
        )
    lines += _table(header, rows)
    if results.growth is not None:
        growth = results.growth
        lines += [
            "",
            f"Growth from {growth.low} to {growth.high}: {growth.time_ratio:.2f} x the median "
            f"call time for {growth.resource_ratio:.2f} x the resources "
            f"({growth.byte_ratio:.2f} x the bytes): exponent {growth.exponent:.2f} "
            "(log-log slope; 1 is linear).",
        ]

    staged = [r for r in results.sizes if r.stages.loads.values]
    if staged:
        lines += ["", "### Where the CPU of a call goes (stages one by one, CPU ms, medians)", ""]
        header = ["stage", *(r.payload_name for r in staged)]
        medium = next((r for r in staged if r.payload_name == "M"), None)
        if medium is not None:
            header.append("share of M")
        names = [name for name, _ in staged[0].stages.as_rows()]
        total_m = sum(samples.median for _, samples in medium.stages.as_rows()) if medium else 0.0
        rows = [
            [
                "(the floor, not a stage: orjson.loads of the body, no hook between)",
                *(_ms(r.stages.loads.median) for r in staged),
                *([""] if medium is not None else []),
            ]
        ]
        for index, name in enumerate(names):
            row = [name]
            for r in staged:
                samples = r.stages.as_rows()[index][1]
                row.append(_ms(samples.median) if samples.values else "-")
            if medium is not None:
                value = medium.stages.as_rows()[index][1].median
                row.append(f"{value / total_m:.0%}" if total_m else "-")
            rows.append(row)
        rows.append(
            [
                "sum of the stages",
                *(_ms(sum(s.median for _, s in r.stages.as_rows())) for r in staged),
                *(["100%"] if medium is not None else []),
            ]
        )
        rows.append(
            [
                "the whole call through Flask (CPU, from the rounds above)",
                *(_ms(r.handling_cpu.median) for r in staged),
                *([""] if medium is not None else []),
            ]
        )
        rows.append(
            [
                "after the answer, not in the call: gunicorn's post_request (CPU, rounds above)",
                *(_ms(r.after_answer_cpu.median) for r in staged),
                *([""] if medium is not None else []),
            ]
        )
        lines += _table(header, rows)

    if results.memory:
        lines += ["", "### Memory of a call (fresh processes, each warmed up with S)", ""]
        lines += _table(
            [
                "payload",
                "allocator",
                "process",
                "body MB",
                "RSS before, MB",
                "peak RSS growth, MB",
                "peak / body",
                "RSS kept after the first call, MB",
                "RSS growth per later call, MB",
                f"RSS kept after {SETTLE_CALLS} calls, MB",
                "Python objects at peak, MB",
                "Python objects kept, KiB",
            ],
            [
                [
                    m.payload_name,
                    m.allocator,
                    str(m.process),
                    f"{m.body_mb:.1f}",
                    f"{m.rss_before_mb:.0f}",
                    f"{m.rss_peak_delta_mb:.0f}",
                    f"{m.peak_per_body:.1f}",
                    f"{m.retained_first_mb:+.1f}",
                    f"{m.retained_per_call_mb:+.1f}",
                    f"{m.retained_settled_mb:+.1f}",
                    f"{m.traced_peak_mb:.0f}",
                    f"{m.traced_retained_kb:+.0f}",
                ]
                for m in results.memory
            ],
        )
        retainers = list(
            dict.fromkeys(
                (m.payload_name, line)
                for m in results.memory
                if m.allocator == "default"
                for line in m.traced_retainers
            )
        )
        if retainers:
            lines += ["", "Largest Python allocations kept after a call:", ""]
            lines += [f"- {name}: `{line}`" for name, line in retainers]

    if results.levels and results.server is not None:
        lines += ["", f"### Over HTTP: payload {results.http_payload}, gunicorn on 127.0.0.1", ""]
        lines += [
            f"`{results.server.command_line}` (flags from {results.server.source}; "
            "authentication off, request log at INFO). Closed-loop clients on loopback, one "
            "keep-alive connection each, as an EHR's connection pool; latency from sending the "
            "request to the end of the answer, in ms. Worker CPU: each gunicorn worker's part "
            "of the CPU the workers used during the level.",
            "",
        ]
        rows = []
        for level in results.levels:
            errors = str(level.errors)
            if level.error_kinds:
                errors += f" ({_error_kinds(level)})"
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
                    _shares(level),
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
                "worker CPU",
                "wall s",
            ],
            rows,
        )
    return "\n".join(lines)


def readme_summary(results: Results) -> str:
    """The generated lines of the README's Performance section."""
    by_name = {result.payload_name: result for result in results.sizes}
    lines = []
    if _busy_note(results):
        lines.append(
            f"- **measured on a busy machine** (load average {results.load_at_start:.1f} at "
            "the start): not final, to be rerun on an idle machine"
        )
    for name in ("S", "M", "L", "XL"):
        r = by_name.get(name)
        if r is None or not r.handling.values:
            continue
        state = "" if r.answered else f" (answered HTTP {r.status})"
        lines.append(
            f"- {name} ({r.resources:,} resources, {r.megabytes:.1f} MB){state}: "
            f"{_ms(r.handling.median)} ms median in process ({_ms(r.handling_cpu.median)} ms "
            f"CPU); {r.ratios.median:.2f} x `orjson.loads` of the same body after the hook, "
            f"{r.ratio_to_alone:.2f} x it alone"
        )
    if results.growth is not None:
        growth = results.growth
        lines.append(
            f"- growth from {growth.low} to {growth.high}: exponent {growth.exponent:.2f} "
            f"(1 = linear)"
        )
    by_payload = _default_memory(results.memory)
    if by_payload:
        name, runs = list(by_payload.items())[-1]
        worst = _worst_peak(runs)
        lines.append(
            f"- memory of one {name} call: peak RSS growth {worst.rss_peak_delta_mb:.0f} MB "
            f"({worst.peak_per_body:.1f} x the body), "
            f"{_each(m.retained_first_mb for m in runs)} MB kept after the first call, "
            f"{_each(m.retained_settled_mb for m in runs)} MB after "
            f"{SETTLE_CALLS} ({len(runs)} fresh processes)"
        )
    level = _level(results.levels, P99_CONCURRENCY)
    if level is not None and level.latency.values:
        best = max(results.levels, key=lambda item: item.throughput)
        lines.append(
            f"- over HTTP at M (README production command, {results.facts['nproc']} cores): "
            f"p99 {_ms(level.latency.p99)} ms at concurrency {P99_CONCURRENCY} with "
            f"{level.errors} errors, worker CPU {_shares(level)}; up to "
            f"{best.throughput:.1f} requests/s"
        )
    rows = targets(results)
    met = [row for row in rows if row.met]
    missed = [row for row in rows if row.met is False]
    lines.append(
        f"- issue 13 targets: {len(met)} met, {len(missed)} not met"
        + (": " + "; ".join(row.label for row in missed) if missed else "")
        + " (docs/performance.md has the table)"
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
