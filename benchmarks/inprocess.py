"""In-process timing of ``crs-patient-view``: the whole request through the WSGI app.

The fair floor (issue 13): the app comes from ``create_app()``, which sets the production
garbage-collector thresholds for the whole process, and the process then does what a gunicorn
worker does after loading the app (``gunicorn_conf.post_worker_init``: collect, freeze). Every
round times one POST of the body through the Flask test client (authentication off, so nothing
but the pipeline is timed: request parsing, fhir_io, fhir_maps, grading, cards, audit) and then
``orjson.loads`` of the same body in the same process, with the same collector: call, floor,
call, floor... The floor is the parse alone (its result is freed after the clock stops); the
ratio is the median over rounds of call / floor. Only the body bytes are held between rounds,
as in a server.

A second pass times the stages one by one on the CPU clock of the thread (for finding hot
spots), and fresh subprocesses per payload measure peak and retained memory on a fresh app.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.payloads import Payload
from benchmarks.stats import GcTimer, Samples

__all__ = [
    "FIXED_MMAP_THRESHOLD",
    "MEMORY_PROCESSES",
    "SERVICE_PATH",
    "Growth",
    "Memory",
    "SizeResult",
    "StageTimes",
    "benchmark_environment",
    "growth",
    "after_request",
    "like_a_worker",
    "make_app",
    "measure_memory",
    "profile_call",
    "run_size",
]

SERVICE_PATH = "/cds-services/crs-patient-view"


def benchmark_environment(directory: Path) -> dict[str, str]:
    """The app's environment for benchmarks: production defaults, authentication off."""
    return {
        "CRS_CDS_AUTH": "none",
        "DATABASE_URL": f"sqlite:///{directory / 'benchmark.sqlite3'}",
        "CRS_CDS_LOG_LEVEL": "WARNING",
        "CRS_CDS_SECRET_KEY": secrets.token_urlsafe(32),
    }


def make_app(directory: Path) -> Flask:
    from cds_service import create_app

    app = create_app(benchmark_environment(directory))
    app.config["TESTING"] = True
    return app


def like_a_worker() -> None:
    """What gunicorn does in each worker once the app is loaded (the production hook itself)."""
    from cds_service import gunicorn_conf

    gunicorn_conf.post_worker_init(None)


def after_request() -> None:
    """What gunicorn does in a worker after each request (the production hook itself)."""
    from cds_service import gunicorn_conf

    gunicorn_conf.post_request(None, None, {}, None)


def post(
    client: FlaskClient, body: bytes, read_answer: Callable[[bytes], Any] = orjson.loads
) -> tuple[int, dict[str, Any]]:
    """POST one body; the status and the answer's JSON (read by ``read_answer``)."""
    response = client.post(SERVICE_PATH, data=body, content_type="application/json")
    answer: dict[str, Any] = read_answer(response.get_data())
    return response.status_code, answer


@dataclass(slots=True)
class StageTimes:
    """Each stage of the pipeline timed on its own (CPU time of the thread), in seconds."""

    loads: Samples = field(default_factory=Samples)  # orjson.loads of the body: the floor
    checks: Samples = field(default_factory=Samples)  # parse_hook_request: decode and checks
    read: Samples = field(default_factory=Samples)  # fhir_io: prefetch -> PatientData
    map: Samples = field(default_factory=Samples)  # fhir_maps.map_patient_record
    grade: Samples = field(default_factory=Samples)  # crs_grading.assess
    rest: Samples = field(default_factory=Samples)  # answer_hook without map and grade
    free: Samples = field(default_factory=Samples)  # freeing the request's data
    answer_error: str | None = None

    def as_rows(self) -> list[tuple[str, Samples]]:
        """The stages of a call (the floor, ``loads``, is not one of them)."""
        return [
            ("request decode and checks (parse_hook_request)", self.checks),
            ("fhir_io: prefetch to PatientData", self.read),
            ("fhir_maps: map_patient_record", self.map),
            ("crs_grading: assess", self.grade),
            ("treatment plan, cards, audit row", self.rest),
            ("freeing the request's data", self.free),
        ]


@dataclass(slots=True)
class SizeResult:
    payload_name: str
    description: str
    resources: int
    megabytes: float
    status: int  # of the last call: 200 when answered
    handling: Samples  # wall time of the call
    handling_cpu: Samples  # CPU time of the handling thread: wall minus waiting for a core
    after_answer_cpu: Samples  # gunicorn's post_request after each call (not in the call)
    loads: Samples  # the floor: orjson.loads of the body, wall
    loads_cpu: Samples
    # orjson.loads back to back without the hook between: the hook makes the floor slower
    loads_alone: Samples
    ratios: Samples  # per round: call / floor, wall
    ratios_cpu: Samples  # per round: call / floor, CPU
    gc_seconds: float  # cyclic GC time during all calls
    gc_floor_seconds: float  # cyclic GC time during all floors
    stages: StageTimes
    cards: int
    grade: int | None

    @property
    def answered(self) -> bool:
        return self.status == 200

    @property
    def ratio_to_alone(self) -> float:
        """The median call over the median of ``orjson.loads`` alone, without the hook."""
        return self.handling.median / self.loads_alone.median

    @property
    def target_ratio(self) -> float:
        """What the targets are judged on: the larger of the two ratios."""
        return max(self.ratios.median, self.ratio_to_alone)

    @property
    def gc_share(self) -> float:
        return self.gc_seconds / sum(self.handling.values)

    @property
    def gc_floor_share(self) -> float:
        return self.gc_floor_seconds / sum(self.loads.values)


def _card_grade(answer: dict[str, Any]) -> int | None:
    for card in answer.get("cards", []):
        extension = card.get("extension") or {}
        assessment = extension.get("org.crscds.assessment")
        if isinstance(assessment, dict) and isinstance(assessment.get("grade"), int):
            return int(assessment["grade"])
    return None


def _returning(value: Any) -> Any:
    """A stand-in function that returns ``value`` (no mock: it must not keep its arguments)."""

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return value

    return stand_in


def _stages(app: Flask, payload: Payload, rounds: int) -> StageTimes:
    from cds_service import hooks
    from cds_service.config import get_settings
    from cds_service.services import SERVICES_BY_ID
    from cds_service.validation import parse_hook_request
    from cds_service.web.cds import get_fhir_reader
    from crs_grading import assess
    from fhir_maps import map_patient_record

    service = SERVICES_BY_ID["crs-patient-view"]
    stages = StageTimes()
    clock = time.thread_time
    with app.test_request_context(SERVICE_PATH, method="POST"):
        settings = get_settings(app)
        reader = get_fhir_reader(app)
        for _ in range(rounds):
            started = clock()
            document = orjson.loads(payload.body)
            loaded = clock()
            del document
            started_parse = clock()
            request = parse_hook_request(
                service, "application/json", payload.body, max_resources=settings.max_resources
            )
            parsed = clock()
            stages.loads.add(loaded - started)
            stages.checks.add(parsed - started_parse)
            started = clock()
            data = reader.read(
                templates=service.prefetch,
                tokens=request.context.prefetch_tokens(),
                patient_id=request.context.patient_id,
                prefetch=request.prefetch,
                endpoint=None,
                max_resources=settings.max_resources,
            )
            stages.read.add(clock() - started)
            started = clock()
            inputs = map_patient_record([data.patient, *data.resources], payload.patient_id)
            mapped = clock()
            assessment = assess(inputs, datetime.now(UTC))
            graded = clock()
            stages.map.add(mapped - started)
            stages.grade.add(graded - mapped)
            # The rest of answer_hook (treatment plan, cards, audit row), with the mapping and
            # grading just timed handed back instead of done again.
            with (
                mock.patch.object(hooks, "map_patient_record", new=_returning(inputs)),
                mock.patch.object(hooks, "assess", new=_returning(assessment)),
            ):
                started = clock()
                try:
                    hooks.store_audit(hooks.answer_hook(service, request, data, settings).audit)
                except Exception as error:  # noqa: BLE001 - a diagnosis only, not fatal
                    stages.answer_error = f"{type(error).__name__}: {error}"[:200]
                else:
                    stages.rest.add(clock() - started)
            started = clock()
            del request, data, inputs, assessment
            stages.free.add(clock() - started)
    return stages


def run_size(app: Flask, payload: Payload, rounds: int, warmup: int = 2) -> SizeResult:
    """Time ``rounds`` interleaved rounds of (the call, ``orjson.loads``) on one payload.
    Each call and each floor starts as a worker's call does, after gunicorn's ``post_request``
    (it empties the caches the next call fills again, collects and gives the freed heap back);
    the hook after each call is timed on its own: in a worker it runs after the answer is sent."""
    client = app.test_client()
    for _ in range(warmup):
        post(client, payload.body)
        after_request()
    # The first timed call, too, comes after the hook (its full collection included), even
    # with no warm-up: every call and floor below starts from the state a worker's call does.
    after_request()
    status, cards, grade = 0, 0, None
    handling, handling_cpu, after_answer_cpu = Samples(), Samples(), Samples()
    loads, loads_cpu = Samples(), Samples()
    ratios, ratios_cpu = Samples(), Samples()
    gc_call = gc_floor = 0.0
    wall, cpu = time.perf_counter, time.thread_time
    with GcTimer() as gc_timer:
        for _ in range(rounds):
            mark = gc_timer.seconds
            started, started_cpu = wall(), cpu()
            status, answer = post(client, payload.body)
            call, call_cpu = wall() - started, cpu() - started_cpu
            gc_call += gc_timer.seconds - mark
            # What the answer said, read off the clock; only the body is held between rounds.
            cards, grade = len(answer.get("cards", [])), _card_grade(answer)
            del answer
            started_cpu = cpu()
            after_request()
            after_answer_cpu.add(cpu() - started_cpu)

            mark = gc_timer.seconds
            started, started_cpu = wall(), cpu()
            document = orjson.loads(payload.body)
            floor, floor_cpu = wall() - started, cpu() - started_cpu
            gc_floor += gc_timer.seconds - mark
            del document  # freed after the clock: the floor is the parse alone
            after_request()  # so that the floor, too, starts as a worker's call does

            handling.add(call)
            handling_cpu.add(call_cpu)
            loads.add(floor)
            loads_cpu.add(floor_cpu)
            ratios.add(call / floor)
            ratios_cpu.add(call_cpu / floor_cpu)
    # The floor again, back to back without the hook: the hook slows orjson.loads (phase 7).
    loads_alone = Samples()
    for _ in range(rounds):
        started = wall()
        document = orjson.loads(payload.body)
        loads_alone.add(wall() - started)
        del document
    stages = _stages(app, payload, max(3, rounds // 2)) if status == 200 else StageTimes()
    return SizeResult(
        payload_name=payload.size.name,
        description=payload.size.description,
        resources=payload.resources,
        megabytes=payload.megabytes,
        status=status,
        handling=handling,
        handling_cpu=handling_cpu,
        after_answer_cpu=after_answer_cpu,
        loads=loads,
        loads_cpu=loads_cpu,
        loads_alone=loads_alone,
        ratios=ratios,
        ratios_cpu=ratios_cpu,
        gc_seconds=gc_call,
        gc_floor_seconds=gc_floor,
        stages=stages,
        cards=cards,
        grade=grade,
    )


def profile_call(app: Flask, payload: Payload, top: int = 25) -> str:
    """cProfile of one call (after a warm-up call): the functions with most own time."""
    client = app.test_client()
    post(client, payload.body)
    profiler = cProfile.Profile()
    profiler.enable()
    post(client, payload.body)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Growth:
    """How handling time grows from one payload to a larger one."""

    low: str
    high: str
    time_ratio: float
    resource_ratio: float
    byte_ratio: float

    @property
    def exponent(self) -> float:
        """log(time ratio) / log(resource ratio): 1 is linear."""
        import math

        return math.log(self.time_ratio) / math.log(self.resource_ratio)


def growth(results: Sequence[SizeResult], low: str = "M", high: str = "XL") -> Growth | None:
    """Growth of the median call from ``low`` to ``high`` (None unless both were answered)."""
    by_name = {result.payload_name: result for result in results}
    if low not in by_name or high not in by_name:
        return None
    small, large = by_name[low], by_name[high]
    if not (small.answered and large.answered):
        return None
    return Growth(
        low=low,
        high=high,
        time_ratio=large.handling.median / small.handling.median,
        resource_ratio=large.resources / small.resources,
        byte_ratio=large.megabytes / small.megabytes,
    )


# -- memory, in fresh processes per payload ------------------------------------------------------


#: An allocator setting the memory table compares with glibc's default (see docs).
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": "1048576"}


@dataclass(frozen=True, slots=True)
class Memory:
    payload_name: str
    allocator: str  # "default", or the environment that changed it
    body_mb: float
    rss_before_mb: float  # warmed-up app (S), before the first call of this payload
    rss_peak_delta_mb: float  # VmHWM during the first call - VmRSS before it
    retained_first_mb: float  # VmRSS after the first call - before it
    retained_per_call_mb: float  # VmRSS growth per call over calls 2 to 5
    retained_settled_mb: float  # VmRSS after SETTLE_CALLS calls - before the first
    traced_peak_mb: float  # Python allocations at their peak during one call
    traced_retained_kb: float  # Python allocations left after one call and post_request
    traced_retainers: tuple[str, ...]  # where the retained allocations were made
    process: int = 1  # which of the fresh processes of this payload and allocator (from 1)

    @property
    def peak_per_body(self) -> float:
        return self.rss_peak_delta_mb / self.body_mb

    @property
    def retained_worst_mb(self) -> float:
        """The most this process kept of what is measured after calls: RSS after the first
        call, after ``SETTLE_CALLS`` calls, the growth per later call, Python objects."""
        return max(
            self.retained_first_mb,
            self.retained_settled_mb,
            self.retained_per_call_mb,
            self.traced_retained_kb / 1024,
        )


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name}")


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as error:
        raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)") from error


#: Calls after which what a worker keeps has settled (``Memory.retained_settled_mb``): what
#: the calls leave behind can grow over the first calls of a size, up to about the peak of one.
SETTLE_CALLS = 20


def measure_memory(warmup: Path, target: Path, name: str) -> dict[str, Any]:
    """In this (fresh) process, a warmed-up worker: peak and retained memory of calls of
    ``target``. The peak is the first call's, so that no memory a previous call of this size
    left behind hides it; what the calls leave behind is measured over five calls, and once
    more after ``SETTLE_CALLS`` calls. After each call ``after_request()`` alone, as in a
    worker: gunicorn's hook collects and gives memory back. The answers are read with the
    standard library's ``json``: a worker never reads its own answer, and ``orjson`` would
    make the answer's keys in its process-wide key cache, where they would count as the
    worker's."""
    mb = 1024.0
    with tempfile.TemporaryDirectory() as directory:
        app = make_app(Path(directory))
        like_a_worker()
        client = app.test_client()
        post(client, warmup.read_bytes(), json.loads)
        body = target.read_bytes()
        after_request()
        rss = [_status_kb("VmRSS")]
        _reset_peak_rss()
        peak = 0
        for call in range(SETTLE_CALLS):
            status, _answer = post(client, body, json.loads)
            if call == 0:
                peak = _status_kb("VmHWM") - rss[0]
            if status != 200:
                raise RuntimeError(f"{name}: the call answered {status}")
            del _answer
            after_request()  # once the call's objects are freed, as in a worker
            rss.append(_status_kb("VmRSS"))
        tracemalloc.start(12)
        before_snapshot = tracemalloc.take_snapshot()
        traced_before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        post(client, body, json.loads)
        _, traced_peak = tracemalloc.get_traced_memory()
        after_request()  # as after the calls above: what a worker gives back is not kept
        traced_after, _ = tracemalloc.get_traced_memory()
        after_snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
    retainers = [
        f"{stat.size_diff / 1024:.0f} KiB: {stat.traceback.format()[-1].strip()}"
        for stat in after_snapshot.compare_to(before_snapshot, "traceback")[:5]
        if stat.size_diff > 16 * 1024
    ]
    return {
        "payload_name": name,
        "body_mb": len(body) / 1_000_000,
        "rss_before_mb": rss[0] / mb,
        "rss_peak_delta_mb": peak / mb,
        "retained_first_mb": (rss[1] - rss[0]) / mb,
        "retained_per_call_mb": (rss[5] - rss[1]) / 4 / mb,
        "retained_settled_mb": (rss[SETTLE_CALLS] - rss[0]) / mb,
        "traced_peak_mb": (traced_peak - traced_before) / 1_048_576,
        "traced_retained_kb": (traced_after - traced_before) / 1024,
        "traced_retainers": retainers,
    }


#: Fresh processes per payload with the default allocator: what a first call leaves resident
#: moves by about 1 MiB (one pymalloc arena) from one process to the next (phase 5), so one
#: process can pass by chance; the targets are judged on the worst of them.
MEMORY_PROCESSES = 3


def run_memory(
    payloads: Sequence[Payload],
    warmup: Payload,
    allocator: dict[str, str] | None = None,
    processes: int = 1,
) -> list[Memory]:
    """Peak and retained memory of calls per payload, in ``processes`` fresh Python processes
    each (with ``allocator`` added to their environment)."""
    results: list[Memory] = []
    with tempfile.TemporaryDirectory() as directory:
        warmup_file = Path(directory) / "warmup.json"
        warmup_file.write_bytes(warmup.body)
        for payload in payloads:
            target = Path(directory) / f"{payload.size.name}.json"
            target.write_bytes(payload.body)  # once: each process of the payload reads it
            results += [
                _memory_process(warmup_file, target, payload.size.name, allocator, process)
                for process in range(1, processes + 1)
            ]
            target.unlink()
    return results


def _memory_process(
    warmup: Path, target: Path, name: str, allocator: dict[str, str] | None, process: int
) -> Memory:
    """``measure_memory`` in a fresh Python process (``allocator`` added to its environment)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.inprocess", str(warmup), str(target), name],
        capture_output=True,
        check=True,
        cwd=Path(__file__).absolute().parent.parent,
        env={**os.environ, "PYTHONHASHSEED": "0", **(allocator or {})},
        timeout=1800,
    )
    document = orjson.loads(completed.stdout.splitlines()[-1])
    document["traced_retainers"] = tuple(document["traced_retainers"])
    document["allocator"] = (
        " ".join(f"{k}={v}" for k, v in allocator.items()) if allocator else "default"
    )
    document["process"] = process
    return Memory(**document)


if __name__ == "__main__":  # the memory subprocess: WARMUP_FILE TARGET_FILE NAME
    sys.stdout.write(
        orjson.dumps(measure_memory(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])).decode()
        + "\n"
    )
