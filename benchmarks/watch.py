"""``python -m benchmarks.watch``: notifications per second the watch's workers handle.

    .venv/bin/python -m benchmarks.watch                 # M-sized charts, 1, 2 and 3 workers,
                                                         # writes the table into docs/watch.md
    .venv/bin/python -m benchmarks.watch --quick         # S-sized charts, 1 and 2 workers, prints
    .venv/bin/python -m benchmarks.watch --redis redis://127.0.0.1:6379/0   # the shared engine

Each run: a fake EHR on loopback (FHIR reads and searches, conditional create of the alert
Communication) holding one chart per patient, the M payload of ``benchmarks.payloads`` (Case 3,
7 days, vitals every 15 min, labs every 6 h: 3,700 resources, 2.9 MB) renamed per patient;
``crs-cds watch worker`` processes on the queue (Redis with ``--redis``, else the embedded
SQLite queue) and a SQLite database. One notification per patient (no coalescing) is posted
through the app's endpoint as fast as it takes them; the clock runs from the first post to the
last stored evaluation. Every job reads the whole chart over HTTP, maps it and grades it, as in
production. The fake EHR answers from a cache of its searches (filled before the clock starts),
but it still shares the machine's cores with the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from benchmarks.payloads import SIZES, build_payload
from benchmarks.report import machine_facts, replace_between_markers
from benchmarks.stats import percentile
from cds_service import create_app
from cds_service.fhir_io import render_template
from cds_service.services import PATIENT_KEY, PREFETCH_TEMPLATES
from cds_service.watch import get_watch
from cds_service.watch.tables import watch_evaluations_table
from tests.watch.fake_ehr import FakeEhr, rename_patient, serve
from tests.watch.notices import r4_notification

_REPOSITORY = Path(__file__).absolute().parent.parent
_DOC = _REPOSITORY / "docs" / "watch.md"
BEGIN = "<!-- BEGIN watch benchmark (python -m benchmarks.watch writes this part) -->"
END = "<!-- END watch benchmark -->"
_SUBSCRIPTION = "bench"
_SECRET = "benchmark-subscription-secret-0123456789"  # noqa: S105 - a throwaway test secret


@dataclass(frozen=True, slots=True)
class RunResult:
    workers: int
    threads: int
    notifications: int
    seconds: float
    latency_p50_s: float
    latency_p95_s: float

    @property
    def per_second(self) -> float:
        return self.notifications / self.seconds


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _charts(size_name: str, patients: int) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    size = next(s for s in SIZES if s.name == size_name)
    payload = build_payload(size)
    prefetch = orjson.loads(payload.body)["prefetch"]
    resources: list[dict[str, Any]] = [prefetch["patient"]]
    for key, value in prefetch.items():
        if key != "patient":
            resources += [entry["resource"] for entry in value.get("entry", [])]
    return len(resources), {
        f"bench-{n:03d}": rename_patient(resources, payload.patient_id, f"bench-{n:03d}")
        for n in range(patients)
    }


def _environment(ehr: FakeEhr, folder: Path, queue_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{folder / 'watch.sqlite3'}",
        "CRS_CDS_AUTH": "jwt",
        "CRS_CDS_SECRET_KEY": "benchmark-secret-key-0123456789abcdefghij",
        "CRS_CDS_PUBLIC_URL": "http://127.0.0.1:9",
        "CRS_CDS_LOG_LEVEL": "WARNING",
        "CRS_CDS_MAX_RESOURCES": "50000",
        "CRS_CDS_WATCH_FHIR_URL": ehr.base,
        "CRS_CDS_WATCH_QUEUE_URL": queue_url,
        "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS": json.dumps({_SUBSCRIPTION: _SECRET}),
        "CRS_CDS_WATCH_FHIR_TIMEOUT_S": "30",
        "CRS_CDS_WATCH_LEASE_S": "120",
    }


def _warm(ehr: FakeEhr, patients: list[str]) -> None:
    """Let the fake EHR answer every search of the watch from its cache (all pages), so that
    the run measures the workers, not the fake's JSON encoding."""
    for patient in patients:
        for key, template in PREFETCH_TEMPLATES.items():
            if key == PATIENT_KEY:
                continue
            url: str | None = f"{ehr.base}/" + render_template(
                template, {"context.patientId": patient}
            )
            while url is not None:
                _, _, body = ehr.handle("GET", url, {}, b"")
                links = orjson.loads(body).get("link", [])
                url = next((link["url"] for link in links if link["relation"] == "next"), None)


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter("huey.*"))
    if keys:
        client.delete(*keys)
    client.close()


def run(
    workers: int, threads: int, charts: dict[str, list[dict[str, Any]]], redis_url: str | None
) -> RunResult:
    """One measurement: ``workers`` processes, one notification per chart."""
    folder = Path(tempfile.mkdtemp(prefix="crs-cds-watch-bench-"))
    ehr, stop_ehr = serve(lambda port: FakeEhr(f"http://127.0.0.1:{port}/fhir"))
    for patient, chart in charts.items():
        ehr.set_chart(patient, chart)
    _warm(ehr, list(charts))
    if redis_url:
        _flush_redis(redis_url)
    queue_url = redis_url or f"sqlite:///{folder / 'queue.sqlite3'}"
    env = _environment(ehr, folder, queue_url)
    app = create_app(env)
    runtime = get_watch(app)
    client = app.test_client()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    child_env.update(env)
    processes = []
    numbers = iter(range(1, 1_000_000))

    def notify(patient: str) -> None:
        bundle = r4_notification(
            ehr.base,
            _SUBSCRIPTION,
            events=[{"number": next(numbers), "focus": f"Patient/{patient}"}],
        )
        answer = client.post(
            "/fhir/subscription-notification",
            json=bundle,
            headers={"X-CRS-CDS-Subscription-Secret": _SECRET},
        )
        assert answer.status_code == 200, answer.get_json()

    def stored() -> int:
        with runtime.store.engine.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(watch_evaluations_table)
            ).scalar()
        return int(count or 0)

    def wait_for(total: int, timeout: float) -> None:
        end = time.monotonic() + timeout
        while stored() < total:
            if time.monotonic() > end:
                raise RuntimeError(f"only {stored()} of {total} evaluations stored in time")
            time.sleep(0.05)

    try:
        for index in range(workers):
            log = open(folder / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed below
            processes.append(
                (
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "cds_service.cli",
                            "watch",
                            "worker",
                            "--threads",
                            str(threads),
                        ],
                        env=child_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
            )
        patients = list(charts)
        warmup = patients[: workers * threads]
        for patient in warmup:  # every worker thread has started and imported everything
            notify(patient)
        wait_for(len(warmup), 120)
        before = stored()
        started = time.monotonic()
        for patient in patients:
            notify(patient)
        wait_for(before + len(patients), 600)
        seconds = time.monotonic() - started
        with runtime.store.engine.connect() as connection:
            rows = connection.execute(
                select(
                    watch_evaluations_table.c.finished_at - watch_evaluations_table.c.requested_at
                ).where(watch_evaluations_table.c.id > before)
            ).all()
        latencies = [float(r[0]) for r in rows]
    finally:
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, log in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            log.close()
        runtime.store.engine.dispose()
        stop_ehr()
        shutil.rmtree(folder, ignore_errors=True)
    return RunResult(
        workers,
        threads,
        len(patients),
        seconds,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
    )


def markdown(
    results: list[RunResult], size: str, resources: int, engine: str, arguments: list[str]
) -> str:
    facts = machine_facts()
    single = results[0].per_second
    lines = [
        f"Measured {facts['date (UTC)']} UTC on {facts['nproc']} cores ({facts['CPU']}), "
        f"{facts['Python']}, {facts['code']}, load average at start "
        f"{facts['load average at start']}; queue on {engine}, charts of size {size} "
        f"({resources:,} resources each): `python -m benchmarks.watch {' '.join(arguments)}`.",
        "",
        "| workers | threads each | notifications | seconds | per second | x one worker "
        "| latency p50 | latency p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.workers} | {r.threads} | {r.notifications} | {r.seconds:.1f} | "
            f"{r.per_second:.2f} | {r.per_second / single:.2f} | {r.latency_p50_s:.1f} s | "
            f"{r.latency_p95_s:.1f} s |"
        )
    lines += [
        "",
        "Latency is from the notification's arrival to the stored evaluation, for a burst "
        "posted at once (so it grows with the queue behind it).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.watch", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="S charts, 1 and 2 workers, prints")
    parser.add_argument("--workers", default=None, help="comma list of worker counts (1,2,3)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    parser.add_argument("--patients", type=int, default=None, help="notifications per run")
    parser.add_argument("--redis", default=None, help="Redis URL for the queue (else SQLite)")
    options = parser.parse_args(arguments)
    size = "S" if options.quick else "M"
    counts = [int(c) for c in (options.workers or ("1,2" if options.quick else "1,2,3")).split(",")]
    patients = options.patients or (12 if options.quick else 24)
    resources, charts = _charts(size, patients)
    engine = "Redis" if options.redis else "SQLite (embedded)"
    _say(f"{patients} charts of size {size} ({resources} resources each); queue on {engine}")
    results = []
    for workers in counts:
        result = run(workers, options.threads, charts, options.redis)
        _say(
            f"{workers} worker(s) x {options.threads} thread(s): {result.per_second:.2f} "
            f"notifications/s ({result.notifications} in {result.seconds:.1f} s), latency p50 "
            f"{result.latency_p50_s:.1f} s, p95 {result.latency_p95_s:.1f} s"
        )
        results.append(result)
    text = markdown(results, size, resources, engine, arguments)
    if options.quick:
        sys.stdout.write(text + "\n")
    else:
        replace_between_markers(_DOC, BEGIN, END, text)
        _say(f"wrote {_DOC.relative_to(_REPOSITORY)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
