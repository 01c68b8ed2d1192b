"""The watch of one process: its store, queue, jobs and metrics, built from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from cds_service.clock import Clock
from cds_service.config import Settings
from cds_service.metrics import Metrics
from cds_service.outbound import is_loopback_host
from cds_service.watch.backend_auth import BackendAuth, load_signing_key
from cds_service.watch.metrics import WatchMetrics, WatchStateCollector
from cds_service.watch.queue import WatchQueue, make_huey, queue_kind
from cds_service.watch.store import WatchStore
from cds_service.watch.worker import WatchContext, Watcher

__all__ = ["WatchRuntime", "build_runtime", "find_watch", "get_watch"]

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "crs_cds.watch"


@dataclass(frozen=True, slots=True)
class WatchRuntime:
    """Everything the watch needs in one process."""

    settings: Settings
    store: WatchStore
    queue: WatchQueue
    watcher: Watcher
    metrics: WatchMetrics
    clock: Clock
    registry: CollectorRegistry

    @property
    def queue_kind(self) -> str:
        return queue_kind(self.settings.watch.queue_url)


def build_runtime(
    settings: Settings,
    engine: Engine,
    session: requests.Session,
    *,
    instance_path: str,
    metrics: Metrics,
    clock: Clock,
) -> WatchRuntime:
    """Build the watch (the settings must have ``CRS_CDS_WATCH_FHIR_URL``)."""
    watch = settings.watch
    assert watch.fhir_url is not None  # noqa: S101 - callers check settings.watch.enabled
    auth = None
    if watch.client_id is not None:
        assert watch.private_key_file is not None and watch.key_id is not None  # noqa: S101
        key = load_signing_key(watch.private_key_file, watch.key_id)
        auth = BackendAuth(session, watch.fhir_url, watch.client_id, key, watch.scopes)
    else:
        # A FHIR server on this machine is a development one (the demo's); elsewhere, say so.
        local = is_loopback_host(urlsplit(watch.fhir_url).hostname)
        logger.log(
            logging.INFO if local else logging.WARNING,
            "CRS_CDS_WATCH_CLIENT_ID is not set: the watch reads %s without a token "
            "(development FHIR servers only)",
            watch.fhir_url,
        )
    if settings.public_url is None:
        logger.warning(
            "CRS_CDS_PUBLIC_URL is not set: watch alerts link the SMART app by a relative URL"
        )
    store = WatchStore(engine)
    queue = WatchQueue(make_huey(watch.queue_url, instance_path), watch)
    watch_metrics = WatchMetrics(metrics.registry)
    context = WatchContext(settings, store, session, auth, watch_metrics, clock)
    watcher = Watcher(context, queue)
    queue.serve(watcher)
    metrics.add_live_collector(WatchStateCollector(queue.depth, store.status))
    return WatchRuntime(settings, store, queue, watcher, watch_metrics, clock, metrics.registry)


def attach(app: Flask, runtime: WatchRuntime) -> None:
    app.extensions[_EXTENSION_KEY] = runtime


def find_watch(app: Flask | None = None) -> WatchRuntime | None:
    """The watch of ``app`` (or of the current app), None when the watch is off."""
    target = app if app is not None else current_app
    runtime = target.extensions.get(_EXTENSION_KEY)
    return runtime if isinstance(runtime, WatchRuntime) else None


def get_watch(app: Flask | None = None) -> WatchRuntime:
    """The watch of ``app``; raises ``RuntimeError`` when it is off."""
    runtime = find_watch(app)
    if runtime is None:
        raise RuntimeError("the watch is off: set CRS_CDS_WATCH_FHIR_URL")
    return runtime
