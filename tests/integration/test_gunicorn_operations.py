"""gunicorn as README runs it (issue 14): metrics added up across workers, consistent from one
scrape to the next (prometheus_client multiprocess mode, the folder handled by
``cds_service.gunicorn_conf``, exited workers' counts kept), and no control socket.

Two real workers on 127.0.0.1, stopped by their own pid.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from worker_metrics import health_checks, health_checks_until, requests_by_worker

from cds_service.gunicorn_conf import prepare_metrics_dir

pytestmark = pytest.mark.slow

GUNICORN = Path(sys.executable).with_name("gunicorn")
HEALTHZ = re.compile(
    r'^crs_cds_requests_total\{endpoint="ops\.healthz",service="",status="200"\} (\S+)$', re.M
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, tmp_path: Path, **extra_env: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CRS_CDS_", "PROMETHEUS"))}
        env.pop("DATABASE_URL", None)
        env.update(
            {
                "CRS_CDS_AUTH": "none",
                "CRS_CDS_SECRET_KEY": "k" * 40,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}",
                **extra_env,
            }
        )
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, loopback only
            [
                str(GUNICORN),
                "cds_service:create_app()",
                "--config",
                "python:cds_service.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "1",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("gunicorn did not start: " + self.log()[-3000:])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def _scrape(base: str) -> float:
    answer = requests.get(f"{base}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text[-2000:]
    match = HEALTHZ.search(answer.text)
    return float(match.group(1)) if match else 0.0


def test_a_counter_is_the_sum_of_both_workers_at_every_scrape(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999.db").write_bytes(b"stale values of an earlier run")
    server = Gunicorn(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        assert not (metrics_dir / "counter_99999.db").exists(), "emptied at start"
        health_checks(server.base, 20)
        sent = 20 + health_checks_until(
            server.base, metrics_dir, lambda counts: len(counts) == 2, server.log
        )
        by_worker = requests_by_worker(metrics_dir)
        assert len(by_worker) == 2 and sum(by_worker.values()) == sent, by_worker
        # Each scrape is answered by one worker; every one must show both workers' sum.
        assert [_scrape(server.base) for _ in range(8)] == [float(sent)] * 8

        # A worker that dies keeps its count; its replacement adds to it.
        victim = min(by_worker)
        os.kill(victim, signal.SIGKILL)
        sent += health_checks_until(
            server.base, metrics_dir, lambda counts: len(counts.keys() - by_worker) == 1, server.log
        )
        assert [_scrape(server.base) for _ in range(6)] == [float(sent)] * 6
    finally:
        server.stop()


def test_without_the_variable_each_gunicorn_uses_its_own_temporary_folder(tmp_path):
    """Two instances on one host never mix their numbers; the folder goes at exit. And no
    control socket: the service user's home may be missing (as in the image)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"TMPDIR": str(temporary), "HOME": str(tmp_path / "no-such-home"), "XDG_RUNTIME_DIR": ""}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Gunicorn(tmp_path / "a", **env)
    second = Gunicorn(tmp_path / "b", **env)
    try:
        folders = sorted(temporary.glob("crs-cds-metrics-*"))
        assert len(folders) == 2
        health_checks(first.base, 10)
        health_checks(second.base, 3)
        assert _scrape(first.base) == 10.0
        assert _scrape(second.base) == 3.0
    finally:
        first.stop()
        second.stop()
    assert not list(temporary.glob("crs-cds-metrics-*")), "removed at exit"
    for server in (first, second):
        log = server.log()
        assert "Permission denied" not in log
        assert "control" not in log.lower(), log
    assert not (tmp_path / "no-such-home").exists()


def test_prepare_metrics_dir_keeps_other_files(tmp_path):
    (tmp_path / "counter_1.db").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("kept")
    folder, made_here = prepare_metrics_dir({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert (folder, made_here) == (str(tmp_path), False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_worker_file_still_being_created_does_not_fail_the_scrape(tmp_path):
    """prometheus_client creates a worker's file before sizing it (client_python issue 1199):
    a scrape in that moment, or after a worker killed in it, read an empty file and answered
    500 for every worker's metrics. An empty file holds nothing yet: it is skipped."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_99999999.db").write_bytes(b"")  # created, not yet sized
    script = """
import os, sys
from cds_service import create_app
app = create_app(dict(os.environ))
client = app.test_client()
assert client.get("/healthz").status_code == 200
answer = client.get("/metrics")
sys.stdout.write(f"{answer.status_code}\\n" + answer.get_data(as_text=True))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRS_CDS_", "PROMETHEUS"))}
    env.pop("DATABASE_URL", None)
    env.update(
        CRS_CDS_AUTH="none",
        DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    run = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    status, _, text = run.stdout.partition("\n")
    assert status == "200", text[-2000:]
    assert HEALTHZ.search(text).group(1) == "1.0"
