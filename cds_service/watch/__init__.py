"""The watch (SPEC 4b): re-grade a patient whenever the EHR files new data, alert on a rise.

CRS turns from grade 1 to 3 at night, when no chart is open and no hook fires. The watch::

    EHR FHIR server --Subscription notification--> POST /fhir/subscription-notification
        (routes: authenticate, parse, track event numbers, record the request)
      --> job queue (huey: SQLite embedded, or Redis / PostgreSQL shared)
      --> crs-cds watch worker (worker.Watcher: read with fhir_io, grade with crs_grading,
          store the evaluation, apply the rise rule of rules.py under the patient's row lock)
      --> alert: FHIR Communication to the EHR and/or signed webhook (alerts.py)

``crs-cds watch poll`` feeds the same queue for EHRs without Subscriptions; ``crs-cds watch
subscribe`` creates the Subscription (SMART Backend Services token); ``crs-cds watch status``
shows the queue, the failures and the dead letters. docs/watch.md tells the whole story.

Public surface: ``init_app`` (called by ``create_app``), ``find_watch``/``get_watch`` (the
process's ``WatchRuntime``), ``patient_history`` (the SMART page's section) and
``add_watch_command`` (the CLI group).
"""

from __future__ import annotations

import argparse

import requests
from flask import Flask

from cds_service.clock import get_clock
from cds_service.config import Settings
from cds_service.metrics import get_metrics
from cds_service.smart import WATCH_HISTORY_EXTENSION
from cds_service.storage import Storage
from cds_service.watch import tables as _tables  # noqa: F401 - registers the watch's tables
from cds_service.watch.history import WatchHistory, patient_history
from cds_service.watch.routes import bp
from cds_service.watch.runtime import WatchRuntime, attach, build_runtime, find_watch, get_watch

__all__ = [
    "WatchHistory",
    "WatchRuntime",
    "add_watch_command",
    "find_watch",
    "get_watch",
    "init_app",
    "patient_history",
]


def init_app(app: Flask, settings: Settings, storage: Storage, session: requests.Session) -> None:
    """Build the watch and register its blueprint, when ``CRS_CDS_WATCH_FHIR_URL`` is set."""
    if not settings.watch.enabled:
        return
    runtime = build_runtime(
        settings,
        storage.engine,
        session,
        instance_path=app.instance_path,
        metrics=get_metrics(app),
        clock=lambda: get_clock(app)(),
    )
    attach(app, runtime)
    app.register_blueprint(bp)
    app.extensions[WATCH_HISTORY_EXTENSION] = lambda iss, patient_id: patient_history(
        app, iss, patient_id
    )


def add_watch_command(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``crs-cds watch`` (imported late: its module imports the app factory)."""
    from cds_service.watch.commands import add_watch_command as add

    add(subcommands)
