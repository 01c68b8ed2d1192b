"""The watch on its distributed engine (issue 16): huey on Redis, two ``crs-cds watch worker``
processes, a burst of notifications for 50 patients of whom one rises to grade 3, and one of
the workers killed (SIGKILL) while it holds that patient. Exactly one alert must come out, for
that patient, on each channel; none for the 49 others.

Redis comes from ``REDIS_URL_TEST`` (``.ci/run`` installs Debian's redis-server and starts one
on loopback); under ``CI=true`` a missing Redis fails the test instead of skipping it. The
database is PostgreSQL when ``DATABASE_URL_POSTGRES`` is set (a schema of this test), else a
SQLite file. The EHR (FHIR server and webhook receiver) is a fake served over HTTP on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, func, select, text

from cds_service import create_app
from cds_service.demo import bundle_at_moment
from cds_service.watch import get_watch
from cds_service.watch.tables import (
    watch_alerts_table,
    watch_evaluations_table,
    watch_patients_table,
)
from crs_grading import assess
from fhir_maps import map_patient_record

from .fake_ehr import FakeEhr, rename_patient, serve
from .notices import r4_notification

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_VARIABLE = "REDIS_URL_TEST"
SUBSCRIPTION = "crs-watch-it"
SECRET = "integration-subscription-secret-0123456789"
WEBHOOK_SECRET = "integration-webhook-secret-0123456789-abc"
PATIENTS = [f"p-{n:02d}" for n in range(1, 51)]
RISER = "p-07"
DEADLINE_S = 60.0


def redis_url() -> str:
    url = os.environ.get(REDIS_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {REDIS_VARIABLE} is not set: .ci/run must start Redis")
    pytest.skip(f"{REDIS_VARIABLE} is not set")


@pytest.fixture
def queue_url() -> Iterator[str]:
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        pytest.fail(f"{REDIS_VARIABLE} names a Redis that does not answer")

    def flush() -> None:
        keys = list(client.scan_iter("huey.*"))
        if keys:
            client.delete(*keys)

    flush()
    yield url
    flush()
    client.close()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL_POSTGRES", "").strip()
    if not base:
        yield f"sqlite:///{tmp_path / 'watch.sqlite3'}"
        return
    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def chart_at(case: str, moment: datetime, patient_id: str) -> list[dict[str, Any]]:
    """A demo case placed so that its telling moment is ``moment``, as ``patient_id``."""
    bundle = bundle_at_moment(case, moment)
    resources = [entry["resource"] for entry in bundle["entry"]]
    old = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    return rename_patient(resources, old, patient_id)


def grade(resources: list[dict[str, Any]], patient_id: str, at: datetime) -> int:
    return assess(map_patient_record(resources, patient_id), at).grade


@pytest.fixture
def ehr() -> Iterator[FakeEhr]:
    fake, stop = serve(
        lambda port: FakeEhr(f"http://127.0.0.1:{port}/fhir", webhook_secret=WEBHOOK_SECRET)
    )
    yield fake
    stop()


def environment(ehr: FakeEhr, queue_url: str, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CRS_CDS_AUTH": "jwt",
        "CRS_CDS_SECRET_KEY": "integration-test-secret-key-0123456789abcdef",
        "CRS_CDS_PUBLIC_URL": "http://127.0.0.1:9",
        "CRS_CDS_LOG_LEVEL": "WARNING",
        "CRS_CDS_WATCH_FHIR_URL": ehr.base,
        "CRS_CDS_WATCH_QUEUE_URL": queue_url,
        "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS": json.dumps({SUBSCRIPTION: SECRET}),
        "CRS_CDS_WATCH_ALERT_CHANNELS": "communication,webhook",
        "CRS_CDS_WATCH_WEBHOOK_URL": ehr.base.rsplit("/fhir", 1)[0] + "/webhook",
        "CRS_CDS_WATCH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CRS_CDS_WATCH_LEASE_S": "4",
        "CRS_CDS_WATCH_FHIR_TIMEOUT_S": "3",
        "CRS_CDS_WATCH_RETRIES": "3",
        "CRS_CDS_WATCH_RETRY_DELAY_S": "1",
    }


class Workers:
    """``crs-cds watch worker`` processes, started and stopped by their own pids."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CRS_CDS_") and k != "DATABASE_URL"
        }
        self.env.update(env)
        self.logs = logs
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self) -> int:
        with open(self.logs / f"worker-{len(self.processes)}.log", "wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own command line
                [sys.executable, "-m", "cds_service.cli", "watch", "worker", "--threads", "2"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes[process.pid] = process
        return process.pid

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.processes[pid].wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def log_tail(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in sorted(self.logs.glob("*.log"))
        )


def wait_for(condition: Callable[[], bool], what: str, workers: Workers, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{workers.log_tail()}")


def test_fifty_patients_two_workers_one_killed_exactly_one_alert(
    ehr, queue_url, database_url, tmp_path, request
):
    now = datetime.now(UTC)
    # Phase 1: the riser is on day 4 (grade 1); later its chart reaches day 5 afternoon.
    early = chart_at("case3", now + timedelta(hours=24), RISER)
    late = chart_at("case3", now, RISER)
    # The others: Case 1 on day 2 (grade 1 with neutropenia: a warning, but below grade 2)
    # and Case 2 on day 10 (grade 0).
    others = {
        patient: chart_at("case1", now, patient)
        if index % 5 == 0
        else chart_at("case2", now + timedelta(days=4), patient)
        for index, patient in enumerate(PATIENTS)
        if patient != RISER
    }
    soon = now + timedelta(seconds=90)
    assert grade(early, RISER, soon) == 1 and grade(late, RISER, soon) == 3
    assert all(grade(chart, patient, soon) <= 1 for patient, chart in others.items())
    ehr.set_chart(RISER, early)
    for patient, chart in others.items():
        ehr.set_chart(patient, chart)

    env = environment(ehr, queue_url, database_url)
    app = create_app(env)  # the web side: receives the notifications
    client = app.test_client()
    runtime = get_watch(app)
    engine = runtime.store.engine
    request.addfinalizer(engine.dispose)
    request.addfinalizer(runtime.queue.huey.storage.pool.disconnect)
    numbers = iter(range(1, 10_000))

    def notify(patient: str, form: int) -> None:
        observation = next(r for r in ehr.charts[patient] if r["resourceType"] == "Observation")
        focus = f"{ehr.base}/Observation/{observation['id']}"
        if form == 0:  # full-resource
            bundle = r4_notification(
                ehr.base,
                SUBSCRIPTION,
                events=[{"number": next(numbers), "focus": focus}],
                resources=[observation],
            )
        elif form == 1:  # id-only, the patient as context
            bundle = r4_notification(
                ehr.base,
                SUBSCRIPTION,
                events=[
                    {"number": next(numbers), "focus": focus, "context": [f"Patient/{patient}"]}
                ],
            )
        else:  # id-only, the focus alone: a worker reads it to find the patient
            bundle = r4_notification(
                ehr.base, SUBSCRIPTION, events=[{"number": next(numbers), "focus": focus}]
            )
        response = client.post(
            "/fhir/subscription-notification",
            json=bundle,
            headers={"X-CRS-CDS-Subscription-Secret": SECRET},
            content_type="application/fhir+json",
        )
        assert response.status_code == 200, response.get_json()

    def scalar(statement: Any) -> Any:
        with engine.connect() as connection:
            return connection.execute(statement).scalar()

    def evaluated(at_least: int) -> Callable[[], bool]:
        def check() -> bool:
            done = scalar(
                select(func.count(func.distinct(watch_evaluations_table.c.patient_id))).where(
                    watch_evaluations_table.c.id > at_least
                )
            )
            state = runtime.store.status(time.time())
            return done == len(PATIENTS) and state.waiting == 0 and runtime.queue.depth() == (0, 0)

        return check

    workers = Workers(env, tmp_path)
    started = time.monotonic()
    try:
        workers.start()
        workers.start()
        for form in (0, 1, 2):
            for patient in PATIENTS:
                notify(patient, form)
        wait_for(evaluated(0), "the first round of 50 evaluations", workers, DEADLINE_S)
        assert scalar(select(func.count()).select_from(watch_alerts_table)) == 0
        first_round = scalar(select(func.max(watch_evaluations_table.c.id)))

        # Phase 2: new data for everyone; the riser's chart advances to grade 3 and its next
        # read is slow, so that a worker is caught holding it.
        for form in (1, 0):
            for patient in PATIENTS:
                if patient != RISER:
                    notify(patient, form)
        ehr.set_chart(RISER, late)
        ehr.hold[RISER] = 2.5  # within the read budget (3 s): only the kill stops it
        notify(RISER, 1)
        notify(RISER, 0)
        assert ehr.held.wait(DEADLINE_S), workers.log_tail()
        holder = scalar(
            select(watch_patients_table.c.claimed_by).where(
                watch_patients_table.c.patient_id == RISER
            )
        )
        pid = int(holder.split(":")[1])
        assert pid in workers.processes
        workers.kill(pid)  # mid-run, while it holds the patient that rises
        workers.start()  # the restarted worker (as a supervisor would)
        wait_for(evaluated(first_round), "the second round of 50 evaluations", workers, DEADLINE_S)
        wait_for(
            lambda: runtime.store.status(time.time()).alerts_undelivered == 0,
            "the alert's delivery",
            workers,
            DEADLINE_S,
        )

        # Once more for the riser (still grade 3): no new alert.
        notify(RISER, 1)
        wait_for(
            lambda: (
                runtime.store.status(time.time()).waiting == 0 and runtime.queue.depth() == (0, 0)
            ),
            "the last evaluation",
            workers,
            DEADLINE_S,
        )
    finally:
        workers.stop_all()
    elapsed = time.monotonic() - started
    check_outcome(runtime, ehr, scalar)
    print(f"distributed watch test: {elapsed:.1f} s with two workers, one killed")  # noqa: T201


def check_outcome(runtime: Any, ehr: FakeEhr, scalar: Callable[[Any], Any]) -> None:
    """Exactly one alert, for the riser, on each channel; no dead letters."""
    alerts = runtime.store.alerts_of(RISER)
    assert [a.reasons[0]["to"] for a in alerts] == [3]
    assert scalar(select(func.count()).select_from(watch_alerts_table)) == 1
    assert ehr.alert_ids_by_patient() == {RISER: {f"{RISER}.1"}}
    assert ehr.communications_by_patient() == {RISER: 1}
    assert runtime.store.status(time.time()).dead_letters == ()
