"""In-process timing of ``crs-patient-view``: the whole request through the WSGI app.

For each payload, every round times ``orjson.loads`` of the body and then one POST of the same
body through the Flask test client (authentication off, so nothing but the pipeline is timed:
request parsing, fhir_io, fhir_maps, grading and cards). Only the body bytes are held between
rounds, as in a server, so the garbage collector sees what a worker would. A second pass times
the stages one by one (for finding hot spots), and a subprocess per payload measures peak
memory on a fresh app.
"""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.payloads import Payload
from benchmarks.stats import GcTimer, Samples, loglog_slope

__all__ = [
    "SERVICE_PATH",
    "Growth",
    "Memory",
    "SizeResult",
    "StageTimes",
    "benchmark_environment",
    "growth",
    "make_app",
    "measure_memory",
    "run_size",
]

SERVICE_PATH = "/cds-services/crs-patient-view"


def benchmark_environment(directory: Path) -> dict[str, str]:
    """The app's environment for benchmarks: production defaults but authentication off.

    ``CRS_CDS_MAX_RESOURCES`` is raised above its default (20,000) because the L payload of
    issue 6 holds 20,478 resources and the default would refuse it with 413 before any work.
    """
    return {
        "CRS_CDS_AUTH": "none",
        "DATABASE_URL": f"sqlite:///{directory / 'benchmark.sqlite3'}",
        "CRS_CDS_LOG_LEVEL": "WARNING",
        "CRS_CDS_MAX_RESOURCES": "100000",
        "CRS_CDS_SECRET_KEY": secrets.token_urlsafe(32),
    }


def make_app(directory: Path) -> Flask:
    from cds_service import create_app

    app = create_app(benchmark_environment(directory))
    app.config["TESTING"] = True
    return app


def post(client: FlaskClient, body: bytes) -> dict[str, Any]:
    """POST one body; the answer's JSON. Anything but 200 stops the benchmark."""
    response = client.post(SERVICE_PATH, data=body, content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(
            f"{SERVICE_PATH} answered {response.status_code}: {response.get_data(as_text=True)}"
        )
    answer: dict[str, Any] = orjson.loads(response.get_data())
    return answer


@dataclass(slots=True)
class StageTimes:
    """Each stage of the pipeline timed on its own (medians over the rounds), in seconds."""

    parse: Samples = field(default_factory=Samples)  # parse_hook_request: loads + checks
    read: Samples = field(default_factory=Samples)  # fhir_io: prefetch -> PatientData
    map: Samples = field(default_factory=Samples)  # fhir_maps.map_patient_record
    grade: Samples = field(default_factory=Samples)  # crs_grading.assess
    answer: Samples = field(default_factory=Samples)  # hooks.answer_hook (map, grade, cards)
    answer_error: str | None = None


@dataclass(slots=True)
class SizeResult:
    payload_name: str
    description: str
    resources: int
    megabytes: float
    handling: Samples
    handling_cpu: Samples  # CPU time of the handling thread: wall minus waiting for a core
    loads: Samples
    ratios: Samples  # per round: handling / loads
    gc_seconds: float  # cyclic GC time during all handling rounds
    stages: StageTimes
    cards: int
    grade: int | None

    @property
    def ratio_of_medians(self) -> float:
        return self.handling.median / self.loads.median

    @property
    def gc_share(self) -> float:
        return self.gc_seconds / sum(self.handling.values)


def _card_grade(answer: dict[str, Any]) -> int | None:
    for card in answer.get("cards", []):
        extension = card.get("extension") or {}
        assessment = extension.get("org.crscds.assessment")
        if isinstance(assessment, dict) and isinstance(assessment.get("grade"), int):
            return int(assessment["grade"])
    return None


def _stages(app: Flask, payload: Payload, rounds: int) -> StageTimes:
    from cds_service.config import get_settings
    from cds_service.hooks import answer_hook
    from cds_service.services import SERVICES_BY_ID
    from cds_service.validation import parse_hook_request
    from cds_service.web.cds import get_fhir_reader
    from crs_grading import assess
    from fhir_maps import map_patient_record

    service = SERVICES_BY_ID["crs-patient-view"]
    stages = StageTimes()
    clock = time.perf_counter
    with app.test_request_context(SERVICE_PATH, method="POST"):
        settings = get_settings(app)
        reader = get_fhir_reader(app)
        for _ in range(rounds):
            started = clock()
            request = parse_hook_request(service, "application/json", payload.body)
            stages.parse.add(clock() - started)
            started = clock()
            data = reader.read(
                templates=service.prefetch,
                tokens=request.context.prefetch_tokens(),
                patient_id=request.context.patient_id,
                prefetch=request.prefetch,
                endpoint=None,
            )
            stages.read.add(clock() - started)
            started = clock()
            inputs = map_patient_record([data.patient, *data.resources], payload.patient_id)
            stages.map.add(clock() - started)
            started = clock()
            assess(inputs, datetime.now(UTC))
            stages.grade.add(clock() - started)
            del inputs
            started = clock()
            try:
                answer_hook(service, request, data, settings)
            except Exception as error:  # noqa: BLE001 - reported, not fatal: a diagnosis only
                stages.answer_error = f"{type(error).__name__}: {error}"[:200]
            else:
                stages.answer.add(clock() - started)
            del request, data
    return stages


def run_size(app: Flask, payload: Payload, rounds: int, warmup: int = 2) -> SizeResult:
    """Time ``rounds`` rounds of (orjson.loads, full request) on one payload."""
    client = app.test_client()
    answer: dict[str, Any] = {}
    for _ in range(warmup):
        answer = post(client, payload.body)
    handling, loads, ratios, cpu = Samples(), Samples(), Samples(), Samples()
    gc.collect()
    gc_seconds = 0.0
    with GcTimer() as gc_timer:
        for _ in range(rounds):
            started = time.perf_counter()
            orjson.loads(payload.body)  # the result is dropped at once, as a server would
            parsed = time.perf_counter()
            gc_mark = gc_timer.seconds
            cpu_mark = time.thread_time()
            post(client, payload.body)
            done = time.perf_counter()
            cpu.add(time.thread_time() - cpu_mark)
            gc_seconds += gc_timer.seconds - gc_mark
            loads.add(parsed - started)
            handling.add(done - parsed)
            ratios.add((done - parsed) / (parsed - started))
    stages = _stages(app, payload, max(3, rounds // 2))
    return SizeResult(
        payload_name=payload.size.name,
        description=payload.size.description,
        resources=payload.resources,
        megabytes=payload.megabytes,
        handling=handling,
        handling_cpu=cpu,
        loads=loads,
        ratios=ratios,
        gc_seconds=gc_seconds,
        stages=stages,
        cards=len(answer.get("cards", [])),
        grade=_card_grade(answer),
    )


@dataclass(frozen=True, slots=True)
class Growth:
    """How handling time grows with the number of resources."""

    exponent_s_to_l: float  # log-log slope between the smallest and the largest payload
    exponent_fit: float  # least-squares log-log slope over every payload
    m_to_l_time_ratio: float
    m_to_l_size_ratio: float

    @property
    def m_to_l_relative(self) -> float:
        """Time ratio over size ratio: <= 1.3 is the target of issue 6."""
        return self.m_to_l_time_ratio / self.m_to_l_size_ratio


def growth(results: Sequence[SizeResult]) -> Growth | None:
    """Growth from the results named S, M and L (``None`` unless all three are there)."""
    by_name = {result.payload_name: result for result in results}
    if not {"S", "M", "L"} <= by_name.keys():
        return None
    small, medium, large = by_name["S"], by_name["M"], by_name["L"]
    points = [(r.resources, r.handling.median) for r in (small, medium, large)]
    return Growth(
        exponent_s_to_l=loglog_slope([points[0], points[2]]),
        exponent_fit=loglog_slope(points),
        m_to_l_time_ratio=large.handling.median / medium.handling.median,
        m_to_l_size_ratio=large.resources / medium.resources,
    )


# -- memory, in a fresh process per payload -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Memory:
    payload_name: str
    rss_before_mb: float
    rss_peak_delta_mb: float  # VmHWM after one request - VmRSS before it (fresh, warmed app)
    tracemalloc_peak_mb: float  # Python allocations at their peak during one request
    body_mb: float


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name}")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_memory(warmup: Path, target: Path, name: str) -> dict[str, float | str]:
    """In this (fresh) process: the peak memory of one request of ``target``."""
    with tempfile.TemporaryDirectory() as directory:
        app = make_app(Path(directory))
        client = app.test_client()
        post(client, warmup.read_bytes())
        body = target.read_bytes()
        gc.collect()
        rss_before = _status_kb("VmRSS")
        if not _reset_peak_rss():
            raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
        post(client, body)
        rss_peak = _status_kb("VmHWM")
        gc.collect()
        tracemalloc.start()
        post(client, body)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "payload_name": name,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_delta_mb": (rss_peak - rss_before) / 1024,
        "tracemalloc_peak_mb": traced_peak / 1_048_576,
        "body_mb": len(body) / 1_000_000,
    }


def run_memory(payloads: Sequence[Payload], warmup: Payload) -> list[Memory]:
    """Peak memory of one request per payload, each in a fresh Python process."""
    results = []
    with tempfile.TemporaryDirectory() as directory:
        warmup_file = Path(directory) / "warmup.json"
        warmup_file.write_bytes(warmup.body)
        for payload in payloads:
            target = Path(directory) / f"{payload.size.name}.json"
            target.write_bytes(payload.body)
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.inprocess",
                    str(warmup_file),
                    str(target),
                    payload.size.name,
                ],
                capture_output=True,
                check=True,
                cwd=Path(__file__).absolute().parent.parent,
                env={**os.environ, "PYTHONHASHSEED": "0"},
                timeout=600,
            )
            document = orjson.loads(completed.stdout.splitlines()[-1])
            results.append(Memory(**document))
    return results


if __name__ == "__main__":  # the memory subprocess: WARMUP_FILE TARGET_FILE NAME
    sys.stdout.write(
        orjson.dumps(measure_memory(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])).decode()
        + "\n"
    )
