"""Prometheus metrics of the watch: queue depth, job latency, alerts sent, failures.

Two kinds, so that they work in one process, with several gunicorn workers and with
``prometheus_client``'s multiprocess mode alike:

- counters and a histogram (``WatchMetrics``) counted where the work happens: notifications
  in the web process, jobs, alerts and failures in ``crs-cds watch worker`` (which serves its
  own registry with ``--metrics-port``; under multiprocess mode on one machine their values
  land in the shared directory like any other);
- gauges read at scrape time from the queue and the database (``WatchStateCollector``), so
  any process that registers it reports the same, whole-system numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cds_service.watch.store import QueueStatus

__all__ = ["WatchMetrics", "WatchStateCollector"]

logger = logging.getLogger(__name__)

#: Notification to evaluation stored: seconds, up to a minute of queueing plus a slow read.
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class WatchMetrics:
    """The watch's counters and histogram, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "crs_cds_watch_notifications",
            "Subscription notifications received, by type and outcome.",
            ["type", "outcome"],
            registry=registry,
        )
        self.job_latency = Histogram(
            "crs_cds_watch_job_latency_seconds",
            "From the notification (or poll) to the stored evaluation of the patient.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.jobs = Counter(
            "crs_cds_watch_jobs",
            "Watch jobs run, by task and outcome (done, nothing-new, busy, failed, dead).",
            ["task", "outcome"],
            registry=registry,
        )
        self.alerts_sent = Counter(
            "crs_cds_watch_alerts_sent",
            "Alerts delivered, by channel (communication, webhook).",
            ["channel"],
            registry=registry,
        )
        self.failures = Counter(
            "crs_cds_watch_failures",
            "Failed watch job attempts, by task (each retry counts).",
            ["task"],
            registry=registry,
        )


class WatchStateCollector(Collector):
    """Gauges computed at scrape time: queue depth, patients waiting, dead letters."""

    def __init__(
        self,
        queue_depth: Callable[[], tuple[int, int]],
        status: Callable[[float], QueueStatus],
    ) -> None:
        self._queue_depth = queue_depth
        self._status = status

    def collect(self) -> Iterator[Metric]:
        try:
            pending, scheduled = self._queue_depth()
            state = self._status(time.time())
        except Exception as error:  # a scrape must not fail because Redis or the DB is down
            logger.warning("watch metrics unavailable: %s", type(error).__name__)
            return
        depth = GaugeMetricFamily(
            "crs_cds_watch_queue_depth",
            "Jobs in the watch queue: ready to run, and scheduled (retries, waits).",
            labels=["state"],
        )
        depth.add_metric(["ready"], pending)
        depth.add_metric(["scheduled"], scheduled)
        yield depth
        patients = GaugeMetricFamily(
            "crs_cds_watch_patients",
            "Watched patients by state: waiting for an evaluation, being evaluated, failing.",
            labels=["state"],
        )
        patients.add_metric(["waiting"], state.waiting)
        patients.add_metric(["in-progress"], state.in_progress)
        patients.add_metric(["failing"], state.failing)
        yield patients
        yield GaugeMetricFamily(
            "crs_cds_watch_alerts_undelivered",
            "Alerts recorded but not yet delivered on every channel.",
            value=state.alerts_undelivered,
        )
        yield GaugeMetricFamily(
            "crs_cds_watch_dead_letters",
            "Watch jobs that failed after every retry and wait for an operator.",
            value=len(state.dead_letters),
        )
        silence = GaugeMetricFamily(
            "crs_cds_watch_subscription_silence_seconds",
            "Seconds since each Subscription's last notification (heartbeats included): more "
            "than its heartbeat period means notifications no longer arrive.",
            labels=["subscription"],
        )
        for subscription, seconds in state.subscription_silence:
            silence.add_metric([subscription], seconds)
        yield silence
