"""Load (issue 7): gunicorn with several workers, as README's production settings, on
127.0.0.1 under concurrent patient-view (demo case 3, in scope today) and feedback traffic for
a bounded time and count. Zero 5xx, every feedback item stored exactly once (resubmissions
included), JWT replays refused across workers, worker memory flat after warm-up.

Bounded: at most ``MAX_REQUESTS`` requests, for ``DURATION_S`` seconds or until
``MIN_REQUESTS`` were answered, loopback only. Runs on
SQLite (the default deployment) and, when DATABASE_URL_POSTGRES is set, on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from ehr_pages import ehr_prefetch
from security.jwt_support import bearer, issuers, token  # noqa: I001
from sqlalchemy import create_engine, func, select

from cds_service.demo import generate_bundle
from cds_service.storage import feedback_table

pytestmark = pytest.mark.slow

WORKERS = 3
THREADS = 4
CLIENTS = 8
DURATION_S = 12.0
#: Counted, not timed, so that a loaded machine measures the same thing: memory is first
#: sampled after this many answers, and the run goes on past DURATION_S (up to a ceiling)
#: until MIN_REQUESTS were answered. An unloaded run answers about 1,300 in 12 s.
WARM_UP_REQUESTS = 200
MIN_REQUESTS = 400
CEILING_S = 180.0
MAX_REQUESTS = 3000
#: Growth of a worker's resident memory between the end of warm-up and the end of the run.
RSS_TOLERANCE_MIB = 40
REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def worker_pids(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def recent_case3():
    """Case 3 with day 0 five days ago: in scope now, so the whole pipeline runs."""
    bundle = generate_bundle("case3", date.today() - timedelta(days=5), days=5)
    resources = [entry["resource"] for entry in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch = ehr_prefetch(resources, patient["id"], page_size=0)
    return patient["id"], prefetch


class Gunicorn:
    """The production command of README on a free loopback port; stopped by its own pid."""

    def __init__(self, tmp_path, database_url):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gunicorn.log"
        self._log_file = self.log.open("wb")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CRS_CDS_") and k != "DATABASE_URL"
        }
        env.update(
            {
                "CRS_CDS_AUTH": "jwt",
                "CRS_CDS_TRUSTED_ISSUERS": issuers(),
                "CRS_CDS_PUBLIC_URL": "http://localhost",
                "CRS_CDS_LOG_LEVEL": "WARNING",
                # Load shedding off: this test proves storage and replay under concurrency,
                # where every call must be answered (tests/service/test_admission.py covers 503).
                "CRS_CDS_QUEUE_WAIT_S": "30",
                "DATABASE_URL": database_url,
                "PYTHONPATH": str(REPO),
            }
        )
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cds_service:create_app()",
                "--config",
                "python:cds_service.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--keep-alive",
                "5",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )

    def wait_ready(self, timeout_s=90.0):
        ends = time.monotonic() + timeout_s
        while time.monotonic() < ends:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if (
                    requests.get(f"{self.base}/readyz", timeout=1).status_code == 200
                    and len(worker_pids(self.process.pid)) == WORKERS
                ):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not get ready: " + self.log.read_text()[-3000:])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log_file.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def load_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'load.sqlite3'}"
        return
    from storage.conftest import postgres_base_url

    base = postgres_base_url()
    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def test_gunicorn_under_concurrent_patient_view_and_feedback(tmp_path, load_database):
    server = Gunicorn(tmp_path, load_database)
    try:
        server.wait_ready()
        result = _drive(server)
    finally:
        server.stop()

    statuses = result["statuses"]
    assert result["failures"] == [], (result["numbers"], [f[:60] for f in result["failures"]])
    assert statuses.get(500, 0) + sum(n for s, n in statuses.items() if s >= 500) == 0, statuses
    assert set(statuses) <= {200, 401}, statuses
    assert statuses.get(401, 0) == result["replays"], "only the replayed tokens may be refused"
    assert result["cards"] > 0, "the demo case must give cards under load"
    assert result["requests"] >= MIN_REQUESTS, "the run stopped at its ceiling"

    engine = create_engine(load_database)
    try:
        with engine.connect() as connection:
            stored = dict(
                connection.execute(
                    select(feedback_table.c.card_uuid, func.count()).group_by(
                        feedback_table.c.card_uuid
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert set(stored) == result["feedback_cards"]
    assert set(stored.values()) == {1}, "a feedback item was stored more than once"

    for pid, (before, after) in result["rss"].items():
        assert after - before < RSS_TOLERANCE_MIB, f"worker {pid}: {before:.0f} -> {after:.0f} MiB"
    (tmp_path / "load.json").write_text(json.dumps(result["numbers"], indent=2))
    print("\nload:", json.dumps(result["numbers"]))  # noqa: T201 - the numbers of the run


def _drive(server):
    patient_id, prefetch = recent_case3()
    view_path = "/cds-services/crs-patient-view"
    feedback_path = f"{view_path}/feedback"
    view_body = json.dumps(
        {
            "hook": "patient-view",
            "hookInstance": "load",
            "prefetch": prefetch,
            "context": {"userId": "Practitioner/load", "patientId": patient_id},
        }
    ).encode()
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    feedback_cards: set[str] = set()
    sent_feedback: list[bytes] = []
    counters = {"requests": 0, "cards": 0, "replays": 0}
    started = time.monotonic()
    ends = started + DURATION_S
    ceiling = started + CEILING_S
    rss: dict[int, list[float]] = {}

    def answered() -> int:
        with lock:
            return len(latencies)

    def going_on() -> bool:
        now = time.monotonic()
        return now < ceiling and (now < ends or answered() < MIN_REQUESTS)

    failures: list[str] = []

    def post(session, path, body, jwt_):
        """POST and time it; a connection failure is recorded as status 0."""
        t0 = time.perf_counter()
        try:
            answer = session.post(
                f"{server.base}{path}",
                data=body,
                timeout=30,
                headers={**bearer(jwt_), "Content-Type": "application/json"},
            )
        except requests.ConnectionError as error:
            with lock:
                failures.append(f"{time.monotonic() - started:.2f}s {path}: {error}")
            record(0, time.perf_counter() - t0)
            return None
        record(answer.status_code, time.perf_counter() - t0)
        return answer

    def record(status, seconds):
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(seconds)

    def client(number):
        session = requests.Session()
        n = 0
        while going_on():
            with lock:
                if counters["requests"] >= MAX_REQUESTS:
                    return
                counters["requests"] += 1
            n += 1
            if n % 3 == 0:
                card = f"card-{number}-{n}"
                item = {
                    "card": card,
                    "outcome": "overridden",
                    "outcomeTimestamp": datetime.now(UTC).isoformat(),
                }
                body = json.dumps({"feedback": [item]}).encode()
                if n % 9 == 0 and sent_feedback:
                    body = sent_feedback[-1]  # a client retry: must not be stored twice
                answer = post(session, feedback_path, body, token(feedback_path))
                if answer is not None and answer.status_code == 200:
                    with lock:
                        feedback_cards.update(i["card"] for i in json.loads(body)["feedback"])
                        sent_feedback.append(body)
            elif n % 25 == 0:
                jwt_ = token(view_path)
                for _ in range(2):  # the second use is a replay, wherever it lands
                    post(session, view_path, view_body, jwt_)
                with lock:
                    counters["replays"] += 1
            else:
                answer = post(session, view_path, view_body, token(view_path))
                if answer is not None and answer.status_code == 200 and answer.json()["cards"]:
                    with lock:
                        counters["cards"] += 1
        session.close()

    def sample_rss():
        while answered() < WARM_UP_REQUESTS and time.monotonic() < ceiling:
            time.sleep(0.05)
        for pid in worker_pids(server.process.pid):
            rss[pid] = [rss_mib(pid)]

    sampler = threading.Thread(target=sample_rss)
    sampler.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    sampler.join()
    elapsed = time.monotonic() - started
    for pid, values in rss.items():
        values.append(rss_mib(pid))
    ordered = sorted(latencies)
    numbers = {
        "requests": len(latencies),
        "seconds": round(elapsed, 1),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "statuses": statuses,
        "rss_mib": {pid: [round(v, 1) for v in values] for pid, values in rss.items()},
    }
    return {
        "statuses": statuses,
        "failures": failures,
        "requests": len(latencies),
        "cards": counters["cards"],
        "replays": counters["replays"],
        "feedback_cards": feedback_cards,
        "rss": {pid: tuple(values) for pid, values in rss.items()},
        "numbers": numbers,
    }


def test_a_kept_alive_connection_survives_a_refused_call_with_a_large_body(tmp_path):
    """gunicorn drains only 64 KiB of a body the app did not read and then drops the
    connection under the client's next request; the app reads such bodies itself."""
    server = Gunicorn(tmp_path, f"sqlite:///{tmp_path / 'keepalive.sqlite3'}")
    try:
        server.wait_ready()
        patient_id, prefetch = recent_case3()
        body = json.dumps(
            {
                "hook": "patient-view",
                "hookInstance": "ka",
                "prefetch": prefetch,
                "context": {"userId": "u", "patientId": patient_id},
            }
        ).encode()
        assert len(body) > 64 * 1024
        path = "/cds-services/crs-patient-view"
        headers = {"Content-Type": "application/json"}
        # http.client never reconnects behind our back: a dropped connection shows.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        statuses = []
        for target, authorization in [
            (path, "Bearer not-a-jwt"),
            ("/cds-services/crs-nope", bearer(token("/cds-services/crs-nope"))["Authorization"]),
            (path, bearer(token(path))["Authorization"]),
            (path, bearer(token(path))["Authorization"]),  # after a body the app read itself
        ]:
            connection.request(
                "POST", target, body=body, headers={**headers, "Authorization": authorization}
            )
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
        connection.close()
    finally:
        server.stop()
    assert statuses == [401, 404, 200, 200]
