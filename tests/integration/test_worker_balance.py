"""Both gunicorn workers get work (issue 13): with the README's production command, two EHR
connections kept alive at once land on different workers instead of one worker grading both
calls in turn while the other idles (``cds_service.gunicorn_worker``).

Runs the README's command through ``benchmarks.http_load`` (127.0.0.1, a free port, stopped by
its own process id) and measures each worker's CPU time (``/proc/<pid>/stat``)."""

from __future__ import annotations

import re
import sys

import pytest
from worker_metrics import health_checks_until

from benchmarks.http_load import gunicorn_server, production_settings, run_level
from benchmarks.payloads import SIZES, build_payload

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


@pytest.fixture(scope="module")
def week_of_icu_data():
    """The benchmark's M request: a week of vitals every 15 minutes (about 100 ms of CPU)."""
    return build_payload(next(size for size in SIZES if size.name == "M")).body


def test_the_production_command_runs_the_balancing_worker(tmp_path):
    settings = production_settings()
    assert "python:cds_service.gunicorn_conf" in settings.flags
    with gunicorn_server(settings, tmp_path):
        log = (tmp_path / "gunicorn.log").read_text()
    assert re.search(r"Using worker: cds_service\.gunicorn_worker\.BalancedThreadWorker", log)


@pytest.mark.parametrize("clients", [2, 4])
def test_kept_alive_connections_are_shared_by_both_workers(
    tmp_path, monkeypatch, week_of_icu_data, clients
):
    # Load shedding off: every call is answered even on a loaded test machine
    # (tests/service/test_admission.py covers the 503).
    monkeypatch.setenv("CRS_CDS_QUEUE_WAIT_S", "30")
    metrics_dir = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    settings = production_settings()
    with gunicorn_server(settings, tmp_path) as server:
        assert len(server.worker_pids()) == 2
        # gunicorn_server is ready when one worker answers; on a loaded machine the other may
        # still be loading the app and would take no connection. Measure once both serve.
        health_checks_until(
            f"http://127.0.0.1:{server.port}",
            metrics_dir,
            lambda counts: len(counts) == 2,
            (tmp_path / "gunicorn.log").read_text,
        )
        level = run_level(server, week_of_icu_data, clients, requests=6 * clients, max_seconds=120)
    assert level.errors == 0, level.error_kinds
    smaller, larger = sorted(level.worker_cpu_seconds)
    assert smaller >= 0.5 * larger, f"worker CPU shares {level.worker_shares}"


def test_under_overload_new_connections_are_still_taken_and_shed_not_left_waiting(
    tmp_path, week_of_icu_data
):
    """Eight clients on two busy workers: a connection that finds no idle worker is taken by
    a busy one after a short wait, and load shedding answers 503 with Retry-After as before;
    nobody waits in the kernel's queue for a worker that never goes idle."""
    with gunicorn_server(production_settings(), tmp_path) as server:
        level = run_level(server, week_of_icu_data, 8, requests=40, max_seconds=120, timeout=30)
    assert set(level.error_kinds) <= {"HTTP 503"}, level.error_kinds
    assert level.latency.values, "some calls were answered"
    assert max(level.latency.values) < 20, "a call waited for a worker to go idle"
