"""Alerts of the watch (SPEC 4b): a FHIR Communication to the EHR and/or a signed webhook.

Both channels are idempotent per alert, so that a retry after a crash between "sent" and
"recorded as sent" does not make a second alert where the receiver looks:

- **Communication** (FHIR R4): ``status`` completed, ``category`` alert, ``priority`` urgent
  (stat from grade 3), ``subject`` the patient, ``payload`` the summary and a link to the SMART
  app, ``about`` the evidence, and an ``identifier`` (``alert_identifier_system`` | the alert
  key). It is POSTed as a conditional create (``If-None-Exist: identifier=...``), so the FHIR
  server keeps one Communication per alert whatever the number of attempts.
- **Webhook**: a JSON POST with ``X-CRS-CDS-Alert-Id`` (the alert key: the same on every
  attempt, for the receiver to drop repeats) and ``X-CRS-CDS-Signature: t=<unix time>,v1=<hex>``
  where ``v1`` is HMAC-SHA256 over ``"<t>." + body`` with ``CRS_CDS_WATCH_WEBHOOK_SECRET``
  (docs/watch.md shows how a receiver verifies it).

The webhook body holds the summary (clinical text) by design: it goes only to the configured,
signed endpoint. Logs name the alert key and channel only.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from cds_service.cards.extension import fhir_instant
from cds_service.watch.rules import WATCHED_MEASURES
from cds_service.watch.store import AlertRecord
from crs_grading.wording import SMART_APP_LINK, WARNING_NAMES, capitalised

__all__ = [
    "ALERT_ID_HEADER",
    "SIGNATURE_HEADER",
    "AlertContent",
    "alert_content",
    "communication_resource",
    "sign_webhook",
    "verify_webhook_signature",
    "webhook_body",
]

ALERT_ID_HEADER = "X-CRS-CDS-Alert-Id"
SIGNATURE_HEADER = "X-CRS-CDS-Signature"
#: Largest clock difference a receiver should accept between ``t`` and its own clock.
SIGNATURE_TOLERANCE_S = 300
_COMMUNICATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"
#: At most this many evidence references in ``Communication.about`` (the full list is in the
#: SMART app and the webhook).
_MAX_ABOUT = 50

_LABELS = {m.name: m.label for m in WATCHED_MEASURES}


@dataclass(frozen=True, slots=True)
class AlertContent:
    """What an alert says, the same on every channel."""

    key: str
    patient_id: str
    headline: str  # why it alerts: "CRS grade rose from 1 to 3"
    summary: str  # headline + the assessment card's summary
    link: str
    evidence: tuple[str, ...]
    top_grade: int | None
    grades: dict[str, int]
    reasons: tuple[dict[str, Any], ...]
    raised_at: str


def _reason_text(reason: Mapping[str, Any]) -> str:
    if reason.get("kind") == "grade-rise":
        label = _LABELS.get(str(reason.get("measure")), str(reason.get("measure")).upper())
        before = reason.get("from")
        if before is None:
            return f"{label} grade {reason.get('to')} on the first evaluation"
        return f"{label} grade rose from {before} to {reason.get('to')}"
    code = str(reason.get("code"))
    name = next((n for c, n in WARNING_NAMES.items() if c.value == code), code)
    return f"new infection warning: {name}"


def alert_content(alert: AlertRecord, link: str) -> AlertContent:
    """The text and facts of ``alert`` for every channel."""
    headline = capitalised("; ".join(_reason_text(r) for r in alert.reasons))
    summary = f"{headline}. {alert.summary}" if alert.summary else headline
    grades = {
        str(r["measure"]): int(r["to"])
        for r in alert.reasons
        if r.get("kind") == "grade-rise" and isinstance(r.get("to"), int)
    }
    return AlertContent(
        key=alert.key,
        patient_id=alert.patient_id,
        headline=headline,
        summary=summary,
        link=link,
        evidence=alert.evidence,
        top_grade=max(grades.values()) if grades else None,
        grades=grades,
        reasons=alert.reasons,
        raised_at=fhir_instant(alert.raised_at),
    )


def alert_identifier_system(public_url: str | None) -> str:
    """The ``Communication.identifier.system`` of watch alerts."""
    if public_url:
        return public_url.rstrip("/") + "/fhir/watch-alert"
    return "urn:crs-cds:watch-alert"


def communication_resource(
    content: AlertContent, identifier_system: str, sent: str
) -> dict[str, Any]:
    """The FHIR R4 Communication of an alert."""
    about = [{"reference": reference} for reference in content.evidence[:_MAX_ABOUT]]
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "identifier": [{"system": identifier_system, "value": content.key}],
        "status": "completed",
        "category": [
            {
                "coding": [
                    {"system": _COMMUNICATION_CATEGORY, "code": "alert", "display": "Alert"}
                ],
                "text": "CRS watch alert",
            }
        ],
        "priority": "stat" if (content.top_grade or 0) >= 3 else "urgent",
        "subject": {"reference": f"Patient/{content.patient_id}"},
        "sent": sent,
        "payload": [
            {"contentString": content.summary},
            {
                "contentAttachment": {
                    "contentType": "text/html",
                    "url": content.link,
                    "title": SMART_APP_LINK,
                }
            },
        ],
    }
    if about:
        resource["about"] = about
    return resource


def conditional_create_header(identifier_system: str, key: str) -> dict[str, str]:
    """FHIR R4 conditional create: the server makes the resource only if none matches."""
    query = f"identifier={quote(identifier_system, safe=':/')}|{quote(key, safe='')}"
    return {"If-None-Exist": query}


def webhook_body(content: AlertContent, fhir_server: str) -> bytes:
    """The webhook's JSON body."""
    return orjson.dumps(
        {
            "id": content.key,
            "type": "crs-cds.watch.alert",
            "patient": f"Patient/{content.patient_id}",
            "fhirServer": fhir_server,
            "raisedAt": content.raised_at,
            "reasons": list(content.reasons),
            "grades": content.grades,
            "summary": content.summary,
            "link": content.link,
            "evidence": list(content.evidence),
        }
    )


def sign_webhook(body: bytes, secret: str, now: float | None = None) -> str:
    """The ``X-CRS-CDS-Signature`` value: ``t=<unix time>,v1=<HMAC-SHA256 hex>``."""
    stamp = int(time.time() if now is None else now)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_webhook_signature(
    body: bytes,
    header: str,
    secret: str,
    now: float | None = None,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a receiver does: recompute the HMAC, compare in constant time, check ``t``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def communication_reference(location: str | None) -> str | None:
    """``Communication/<id>`` from a create's ``Location`` (or ``Content-Location``)."""
    if not location:
        return None
    path = urlsplit(location).path if "://" in location else location
    parts = [p for p in path.split("/") if p]
    if "Communication" in parts:
        index = parts.index("Communication")
        if index + 1 < len(parts):
            return f"Communication/{parts[index + 1]}"
    return None


def evidence_of(references: Sequence[str]) -> tuple[str, ...]:
    """Evidence references without repeats, in first-seen order."""
    return tuple(dict.fromkeys(references))
