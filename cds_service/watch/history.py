"""The watch's record of one patient, for the SMART page (SPEC 4b "Record")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from cds_service.watch.alerts import alert_content
from cds_service.watch.rules import WATCHED_MEASURES
from cds_service.watch.runtime import find_watch
from crs_grading.wording import clock

__all__ = ["WatchHistory", "patient_history"]

_LABELS = {m.name: m.label for m in WATCHED_MEASURES}


@dataclass(frozen=True, slots=True)
class EvaluationLine:
    when: str
    grades: str  # "CRS 3, ICANS 0"
    warnings: str
    note: str  # "partial read", "alert sent", ...


@dataclass(frozen=True, slots=True)
class AlertLine:
    when: str
    headline: str
    channels: str  # "communication sent, webhook pending"


@dataclass(frozen=True, slots=True)
class WatchHistory:
    evaluations: tuple[EvaluationLine, ...]
    alerts: tuple[AlertLine, ...]


def _when(moment: datetime | None) -> str:
    return clock(moment) if moment is not None else ""


def patient_history(app: Flask, iss: str, patient_id: str, limit: int = 10) -> WatchHistory | None:
    """The patient's recent evaluations and alerts; None when the watch is off or watches
    another FHIR server than ``iss`` (the same id there is another patient)."""
    runtime = find_watch(app)
    if runtime is None or iss.rstrip("/") != runtime.watcher.fhir_base:
        return None
    store = runtime.store
    evaluations = []
    for row in store.evaluations_of(patient_id, limit):
        grades = ", ".join(
            f"{_LABELS.get(name, name)} {grade}"
            for name, grade in row["grades"].items()
            if grade is not None
        )
        notes = [n for n, on in (("alert", row["alerted"]), ("partial read", row["partial"])) if on]
        evaluations.append(
            EvaluationLine(
                when=_when(row["asOf"]),
                grades=grades if row["inScope"] else "out of scope",
                warnings=", ".join(row["warnings"]),
                note="; ".join(notes),
            )
        )
    alerts = []
    for alert in store.alerts_of(patient_id, limit):
        content = alert_content(alert, "")
        channels = ", ".join(
            f"{channel} {state.get('status', 'pending')}"
            for channel, state in sorted(alert.deliveries.items())
        )
        alerts.append(
            AlertLine(
                when=_when(alert.raised_at),
                headline=content.headline,
                channels=channels or ("not yet sent" if not alert.delivered else ""),
            )
        )
    return WatchHistory(tuple(evaluations), tuple(alerts))
