"""Which gunicorn worker served what, read from each worker's own Prometheus file
(``PROMETHEUS_MULTIPROC_DIR``, one ``counter_<pid>.db`` per worker): tests count calls per
worker instead of assuming how the kernel spreads connections over them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from prometheus_client.mmap_dict import MmapedDict


def requests_by_worker(metrics_dir: Path, endpoint: str = "ops.healthz") -> dict[int, float]:
    """Each worker's count of answered calls to ``endpoint`` (pid -> count)."""
    counts: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        if path.stat().st_size < 8:
            continue  # created, not yet sized (client_python issue 1199)
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, _ = json.loads(key)
            if sample == "crs_cds_requests_total" and labels.get("endpoint") == endpoint:
                counts[pid] = counts.get(pid, 0.0) + value
    return counts


def health_checks(base: str, count: int, at_once: int = 4) -> None:
    """``count`` health checks from ``at_once`` threads, each on a new connection."""
    statuses: list[int] = []

    def one() -> None:
        answer = requests.get(f"{base}/healthz", timeout=30, headers={"Connection": "close"})
        statuses.append(answer.status_code)

    for start in range(0, count, at_once):
        threads = [threading.Thread(target=one) for _ in range(min(at_once, count - start))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * count, statuses


def health_checks_until(
    base: str,
    metrics_dir: Path,
    served: Callable[[dict[int, float]], bool],
    log: Callable[[], str],
    ceiling_s: float = 120,
) -> int:
    """Health checks in rounds of 4 until ``served(counts by worker)`` holds; how many were
    sent. Which worker takes a connection is the kernel's choice (and a worker still loading
    the app takes none), so rounds go on, up to a ceiling no loaded machine reaches."""
    sent = 0
    deadline = time.monotonic() + ceiling_s
    while not served(requests_by_worker(metrics_dir)):
        assert time.monotonic() < deadline, log()[-2000:]
        health_checks(base, 4)
        sent += 4
    return sent
