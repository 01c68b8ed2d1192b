"""``python -m benchmarks``: run the issue 13 benchmarks and write the results.

    .venv/bin/python -m benchmarks            # full run (6-10 min), writes docs/performance.md
                                              # and the README summary
    .venv/bin/python -m benchmarks --quick    # smoke run (about a minute), prints only
    .venv/bin/python -m benchmarks --profile  # also prints where one M call spends its time

Run it on an otherwise idle machine: other load on the cores shows up in every number (the
report says so when the load average at the start was high).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.http_load import LevelResult, ServerSettings, run_levels
from benchmarks.inprocess import (
    FIXED_MMAP_THRESHOLD,
    MEMORY_PROCESSES,
    Memory,
    SizeResult,
    growth,
    like_a_worker,
    make_app,
    profile_call,
    run_memory,
    run_size,
)
from benchmarks.payloads import SIZES, build_payload
from benchmarks.report import (
    RESULTS_BEGIN,
    RESULTS_END,
    SUMMARY_BEGIN,
    SUMMARY_END,
    Results,
    machine_facts,
    performance_markdown,
    python_command,
    readme_summary,
    replace_between_markers,
)

_REPOSITORY = Path(__file__).absolute().parent.parent

#: Rounds per payload (full, quick).
_ROUNDS = {"S": (60, 5), "M": (25, 3), "L": (9, 2), "XL": (5, 2)}
_FULL_LEVELS = (1, 2, 4, 8, 16)
_QUICK_LEVELS = (1, 2, 4)


def _requests_for(level: int, quick: bool) -> int:
    return 8 if quick else max(60, 30 * level)


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: S and M, few rounds")
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma list of payloads to run in process (default: S,M,L,XL; --quick: S,M)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn run")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's top functions of one M call"
    )
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write docs/performance.md and the README summary (default: on, off with --quick)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=90.0,
        help="wall-clock limit of each HTTP concurrency level (default 90)",
    )
    parser.add_argument(
        "--gc-threshold",
        metavar="G0,G1,G2",
        help="in-process runs only: gc.set_threshold(G0, G1, G2) after create_app(), to try a "
        "GC setting against the production one",
    )
    options = parser.parse_args(arguments)
    write = (not options.quick) if options.write is None else options.write
    default_sizes = "S,M" if options.quick else ",".join(size.name for size in SIZES)
    wanted = (options.sizes or default_sizes).upper().split(",")
    sizes = [size for size in SIZES if size.name in wanted]
    if "M" not in wanted and not options.no_http:
        sizes = [size for size in SIZES if size.name in (*wanted, "M")]

    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    _say(f"building payloads {', '.join(size.name for size in sizes)} ...")
    payloads = [build_payload(size) for size in sizes]
    gc.collect()

    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory() as directory:
        app = make_app(Path(directory))  # sets the production GC thresholds
        like_a_worker()
        if options.gc_threshold:
            gc.set_threshold(*(int(part) for part in options.gc_threshold.split(",")))
        facts = machine_facts()
        for payload in payloads:
            rounds = _ROUNDS[payload.size.name][1 if options.quick else 0]
            _say(
                f"in process: {payload.size.name} ({payload.resources:,} resources, "
                f"{payload.megabytes:.1f} MB), {rounds} rounds ..."
            )
            results.append(run_size(app, payload, rounds))
        profiled = next((p for p in payloads if p.size.name == "M"), payloads[-1])
        if options.profile:
            sys.stdout.write(profile_call(app, profiled) + "\n")
        del app
    gc.collect()

    memory: list[Memory] = []
    if not options.no_memory and not options.quick:
        _say(f"memory, {MEMORY_PROCESSES} fresh processes per payload ...")
        measured = [payload for payload in payloads if payload.size.name != "S"]
        memory = run_memory(measured, payloads[0], processes=MEMORY_PROCESSES)
        memory += run_memory(measured, payloads[0], FIXED_MMAP_THRESHOLD)

    server: ServerSettings | None = None
    levels: list[LevelResult] = []
    medium = next((payload for payload in payloads if payload.size.name == "M"), None)
    if not options.no_http and medium is not None:
        chosen = _QUICK_LEVELS if options.quick else _FULL_LEVELS
        _say(f"HTTP: gunicorn, concurrency {', '.join(map(str, chosen))} ...")
        server, levels = run_levels(
            medium.body,
            chosen,
            {level: _requests_for(level, options.quick) for level in chosen},
            options.max_seconds,
        )

    report = Results(
        command=python_command(arguments),
        quick=options.quick,
        facts=facts,
        sizes=results,
        growth=growth(results),
        load_at_start=load_at_start,
        memory=memory,
        server=server,
        levels=levels,
        http_payload="M",
        elapsed_s=time.perf_counter() - started,
    )
    markdown = performance_markdown(report)
    summary = readme_summary(report)
    sys.stdout.write(markdown + "\n\nREADME summary:\n" + summary + "\n")
    if write:
        replace_between_markers(
            _REPOSITORY / "docs" / "performance.md", RESULTS_BEGIN, RESULTS_END, markdown
        )
        replace_between_markers(_REPOSITORY / "README.md", SUMMARY_BEGIN, SUMMARY_END, summary)
        _say("wrote docs/performance.md and the README summary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
