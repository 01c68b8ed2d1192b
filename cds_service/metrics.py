"""Prometheus metrics of one app: request counts and latency by endpoint, service and status.

Each app has its own ``CollectorRegistry`` (not the process-global one), so tests and several
apps in one process do not share counters.

Under gunicorn, a scrape reaches one worker at a time; per-worker counters would then jump
between scrapes. With ``PROMETHEUS_MULTIPROC_DIR`` set (``cds_service.gunicorn_conf`` sets it
for every worker), prometheus_client's multiprocess mode applies: each worker writes its values
to files in that folder and ``/metrics`` adds up the files of all workers, dead ones included,
so that a counter never goes back. The gunicorn config empties the folder at start and marks
exited workers dead.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Iterable

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from cds_service.services import SERVICES_BY_ID

__all__ = ["Metrics", "get_metrics", "init_app", "use_multiprocess_values"]

_EXTENSION_KEY = "crs_cds.metrics"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def use_multiprocess_values(directory: str) -> None:
    """Make metrics created from now on in this process write to ``directory``.

    prometheus_client picks its value class from ``PROMETHEUS_MULTIPROC_DIR`` once, when it is
    first imported, and finds the folder through that variable; our package imports it before
    any configuration is read (gunicorn imports the config module through the package), so
    the variable is set and the class picked again here, before the app's metrics exist.
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class Metrics:
    """The collectors of one app; ``multiprocess_dir`` adds up every worker's values."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None:
            use_multiprocess_values(multiprocess_dir)
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "crs_cds_requests",
            "HTTP requests answered, by endpoint, CDS service id and status.",
            ["endpoint", "service", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crs_cds_request_duration_seconds",
            "Time to answer HTTP requests, by endpoint, CDS service id and status.",
            ["endpoint", "service", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.audit_failures = Counter(
            "crs_cds_audit_write_failures",
            "Hook answers whose audit row could not be written (each also logged as an error).",
            registry=self.registry,
        )
        self.fhir_problems = Counter(
            "crs_cds_fhir_data_problems",
            "Prefetch keys that could not be read completely, by key.",
            ["key"],
            registry=self.registry,
        )
        self._live: list[Collector] = []

    def add_live_collector(self, collector: Collector) -> None:
        """Add a collector that computes its values at scrape time (e.g. the watch's queue
        depth read from the queue): the same in every process, so it is shown as it is, not
        added up across workers."""
        self._live.append(collector)
        self.registry.register(collector)

    def exposition(self) -> Response:
        """The metrics in the Prometheus text format: this process's, or every worker's."""
        registry = self.registry
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            registry.register(_WorkerFiles(self.multiprocess_dir))
            for collector in self._live:
                registry.register(collector)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


#: prometheus_client's files start with the 8 bytes saying how much of them is used.
_HEADER_BYTES = 8


class _WorkerFiles(Collector):
    """Every worker's values in ``path`` added up (prometheus_client's ``MultiProcessCollector``),
    skipping a file that has no header yet.

    prometheus_client creates a worker's file and sizes it a moment later; read in between, the
    empty file raised and the whole scrape answered 500, and a worker killed in that moment left
    the empty file behind for good (prometheus/client_python issue 1199). A file only grows once
    sized, so one that has its header when listed can be read.
    """

    def __init__(self, path: str) -> None:
        self._path = path

    def collect(self) -> Iterable[Metric]:
        files = [f for f in glob.glob(os.path.join(self._path, "*.db")) if _has_header(f)]
        merged: Iterable[Metric] = multiprocess.MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


def _has_header(path: str) -> bool:
    try:
        return os.path.getsize(path) >= _HEADER_BYTES
    except OSError:  # removed meanwhile (a dead worker's live gauge)
        return False


def _service_label() -> str:
    """The CDS service id of the request; unknown ids collapse into one label value."""
    view_args = request.view_args or {}
    service_id = view_args.get("service_id")
    if service_id is None:
        return ""
    return str(service_id) if service_id in SERVICES_BY_ID else "unknown"


def init_app(app: Flask, multiprocess_dir: str | None = None) -> Metrics:
    """Create the app's collectors and time every request."""
    metrics = Metrics(multiprocess_dir)
    app.extensions[_EXTENSION_KEY] = metrics

    @app.before_request
    def start_timer() -> None:
        g.crs_cds_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.get("crs_cds_started")
        if started is not None:
            labels = (request.endpoint or "unmatched", _service_label(), str(response.status_code))
            metrics.requests.labels(*labels).inc()
            metrics.latency.labels(*labels).observe(time.perf_counter() - started)
        return response

    return metrics


def get_metrics(app: Flask | None = None) -> Metrics:
    """The metrics of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    metrics = target.extensions[_EXTENSION_KEY]
    assert isinstance(metrics, Metrics)  # noqa: S101 - set only by init_app
    return metrics
