"""The watch's part of ``crs-cds demo``: Case 3 at night, no chart open, an alert arriving.

The demo EHR holds a copy of the seed's Case 3 (``Patient/crs-demo-case3-night``) charted up
to day 4 at noon (grade 1). The demo's EHR notifies the watch (a Subscription notification, as
a real EHR would), the watch grades the chart: no alert. Then the night's data is filed, the
chart reaching day 5 at noon (hypotension: grade 2), the EHR notifies again, and the watch's
alert arrives at the EHR as a FHIR Communication, which the demo prints. Each chart is placed so
that its moment is "now". Used by ``cds_service.demo_command`` only; never by ``create_app()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
import requests
from flask import Flask

from cds_service.demo import bundle_at_time, demo_patient_id
from cds_service.demo.fhir_store import FhirStore
from cds_service.demo.notifications import event_notification
from cds_service.demo.server import DEMO_PREFIX, DemoServer
from cds_service.watch.runtime import find_watch

__all__ = ["NIGHT_PATIENT", "night_chart", "show_watch_alert", "watch_settings"]

NIGHT_PATIENT = "crs-demo-case3-night"
_CASE = "case3"
_BEFORE = (4, "12:00")  # grade 1: fever
_AFTER = (5, "12:00")  # grade 2: hypotension, the night's data filed
_TIMEOUT_S = 60.0


def watch_settings(fhir_base: str, queue_url: str) -> dict[str, str]:
    """The demo's watch: its own EHR, an embedded queue, alerts as Communications."""
    return {
        "CRS_CDS_WATCH_FHIR_URL": fhir_base,
        "CRS_CDS_WATCH_QUEUE_URL": queue_url,
        "CRS_CDS_WATCH_ALERT_CHANNELS": "communication",
        "CRS_CDS_WATCH_RETRY_DELAY_S": "2",
    }


def night_chart(day: int, clock: str, now: datetime) -> list[dict[str, Any]]:
    """Case 3 as ``Patient/crs-demo-case3-night``, charted up to ``day`` ``clock`` = ``now``."""
    bundle = bundle_at_time(_CASE, day, clock, now)
    text = orjson.dumps([entry["resource"] for entry in bundle["entry"]])
    renamed: list[dict[str, Any]] = orjson.loads(
        text.replace(demo_patient_id(_CASE).encode(), NIGHT_PATIENT.encode())
    )
    return renamed


def add_night_chart(store: FhirStore, day: int, clock: str, now: datetime) -> None:
    for resource in night_chart(day, clock, now):
        store.add(resource)  # the same ids again: the chart advances, nothing is duplicated


def show_watch_alert(
    base: str, app: Flask, ehr: DemoServer, session: requests.Session, out: TextIO
) -> bool:
    """Tell the night's story on ``out``; True when the alert arrived."""
    runtime = find_watch(app)
    if runtime is None:
        return False
    fhir = f"{base}{DEMO_PREFIX}/fhir"
    arrived = threading.Event()
    alerts: list[Mapping[str, Any]] = []

    def heard(resource: Mapping[str, Any]) -> None:
        if resource.get("subject", {}).get("reference") == f"Patient/{NIGHT_PATIENT}":
            alerts.append(resource)
            arrived.set()

    ehr.on_communication = heard
    out.write(
        f"\nThe watch, no chart open: Case 3 at night (Patient/{NIGHT_PATIENT}, a copy of "
        "Case 3; each step placed at now)\n"
    )
    _notify(session, base, fhir, 1)
    evaluation = _first_evaluation(runtime)
    if evaluation is None:
        out.write("  The watch did not evaluate the chart in time (see the log).\n")
        return False
    out.write(
        f"  Day 4 12:00, data filed, the EHR notifies the watch: CRS grade "
        f"{evaluation['grades']['crs']}, no alert.\n"
    )
    add_night_chart(ehr.store, *_AFTER, datetime.now(UTC))
    out.write("  Day 5 12:00, the night's data filed, the EHR notifies the watch ...\n")
    out.flush()
    _notify(session, base, fhir, 2)
    if not arrived.wait(_TIMEOUT_S):
        out.write(f"  No alert arrived within {_TIMEOUT_S:.0f} s (see the log).\n")
        return False
    alert = alerts[0]
    out.write(
        f"  ALERT received by the EHR as Communication/{alert['id']} "
        f"({alert.get('priority')}): {alert['payload'][0]['contentString']}\n"
    )
    out.flush()
    return True


def _notify(session: requests.Session, base: str, fhir: str, number: int) -> None:
    at = datetime.now(UTC).isoformat()
    answer = session.post(
        f"{base}/fhir/subscription-notification",
        data=orjson.dumps(event_notification(fhir, number, NIGHT_PATIENT, at)),
        headers={"Content-Type": "application/fhir+json"},
        timeout=10,
    )
    answer.raise_for_status()


def _first_evaluation(runtime: Any) -> dict[str, Any] | None:
    deadline = time.monotonic() + _TIMEOUT_S
    while time.monotonic() < deadline:
        evaluations = runtime.store.evaluations_of(NIGHT_PATIENT)
        if evaluations:
            return dict(evaluations[-1])
        time.sleep(0.1)
    return None
