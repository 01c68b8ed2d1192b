"""The ``watch`` blueprint: ``POST /fhir/subscription-notification`` (SPEC 4b "Input").

The EHR's FHIR server posts topic-based Subscription notifications here (Subscriptions R5
Backport IG, R4). The view authenticates, parses, records the event numbers, queues the
patients and answers at once; the work happens in ``crs-cds watch worker``.

Authentication, one of (unless ``CRS_CDS_AUTH=none``, development only):

- ``Authorization: Bearer <JWT>`` of a trusted issuer, checked exactly as for the hooks
  (``cds_service.auth``: allowlisted issuer and key, ``aud`` = this endpoint's URL, ``exp``,
  ``iat``, ``jti`` not replayed);
- ``X-CRS-CDS-Subscription-Secret: <secret>``: the shared secret configured for the
  Subscription named by the notification (``CRS_CDS_WATCH_SUBSCRIPTION_SECRETS``), compared
  in constant time with every configured secret before the body is read.

Answers (each a FHIR OperationOutcome): 200 handshake, heartbeat or notification accepted
(its patients queued); 400 not a notification (says which element); 401 authentication
failed; 413 too large; 415 not JSON; 503 the database or queue failed: send it again. A
notification is never dropped silently: it is queued, or its sender is told it was not.
"""

from __future__ import annotations

import hmac
import logging
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, request

from cds_service.auth import endpoint_audience, get_verifier
from cds_service.config import AuthMode, Settings, get_settings
from cds_service.errors import BadRequest, ServiceUnavailable, Unauthorized, operation_outcome
from cds_service.validation import parse_json_body
from cds_service.watch.notifications import (
    NOTIFICATION_TYPES,
    BadNotification,
    Notification,
    parse_notification,
)
from cds_service.watch.runtime import WatchRuntime, get_watch
from cds_service.web.request_body import read_request_body
from cds_service.web.responses import json_response

__all__ = ["SECRET_HEADER", "bp", "receive_notification"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-CRS-CDS-Subscription-Secret"  # noqa: S105 - a header name
_RETRY_AFTER_S = 10

bp = Blueprint("watch", __name__, url_prefix="/fhir")


@bp.post("/subscription-notification")
def subscription_notification() -> Response:
    runtime = get_watch()
    settings = get_settings()
    allowed = _authenticate(settings)
    document = parse_json_body(request.mimetype, read_request_body())
    try:
        notification = parse_notification(document, runtime.watcher.fhir_base)
    except BadRequest:
        runtime.metrics.notifications.labels("unknown", "refused").inc()
        raise
    if allowed is not None and notification.subscription_id not in allowed:
        logger.info("notification refused: the secret is not this Subscription's")
        raise Unauthorized()
    message = receive_notification(runtime, notification)
    outcome = operation_outcome("informational", message)
    outcome["issue"][0]["severity"] = "information"
    return json_response(outcome)


def _authenticate(settings: Settings) -> frozenset[str] | None:
    """None when any Subscription may be named (JWT or no authentication); else the ids of
    the Subscriptions whose secret the request carries."""
    if settings.auth is AuthMode.NONE:
        return None
    secret = request.headers.get(SECRET_HEADER)
    if secret is not None and not request.headers.get("Authorization"):
        given = secret.encode()
        matches = frozenset(
            subscription
            for subscription, expected in settings.watch.subscription_secrets.items()
            # compare_digest for every configured secret, so timing tells nothing
            if hmac.compare_digest(expected.encode(), given)
        )
        if not matches:
            logger.info("notification refused: unknown subscription secret")
            raise Unauthorized()
        return matches
    audience = endpoint_audience(settings.public_url, request.base_url, request.path)
    get_verifier().verify(request.headers.get("Authorization"), audience)
    return None


def receive_notification(runtime: WatchRuntime, notification: Notification) -> str:
    """Record a notification and queue its work; the answer's diagnostics.

    Raises ``BadNotification`` for a ``query-*`` bundle and ``ServiceUnavailable`` (503, the
    sender retries) when the database or the queue cannot take it.
    """
    kind = notification.kind
    if kind not in NOTIFICATION_TYPES:
        raise BadNotification(
            f"a {kind} Bundle answers $status or $events; it is not a notification to post here"
        )
    metrics = runtime.metrics
    try:
        message = _record_and_queue(runtime, notification)
    except BadRequest:
        raise
    except Exception as error:  # the database, Redis or PostgreSQL under the queue
        metrics.notifications.labels(kind, "unavailable").inc()
        logger.error("notification not queued: %s", type(error).__name__)
        raise ServiceUnavailable(
            "the notification could not be queued; send it again", retry_after_s=_RETRY_AFTER_S
        ) from None
    metrics.notifications.labels(kind, "accepted").inc()
    logger.info(
        "subscription notification",
        extra={
            "fields": {
                "subscription": notification.subscription_id,
                "type": kind,
                "events": list(notification.event_numbers),
                "payload": notification.payload,
                "patients": sorted(notification.patients),
            }
        },
    )
    return message


def _record_and_queue(runtime: WatchRuntime, notification: Notification) -> str:
    store, watcher = runtime.store, runtime.watcher
    settings = runtime.settings.watch
    missing = store.record_notification(
        notification.subscription_id,
        kind=notification.kind,
        status=notification.status,
        topic=notification.topic,
        events_since_start=notification.events_since_start,
        event_numbers=notification.event_numbers,
        at=datetime.now(UTC),  # when it arrived (the grading clock is for asOf)
    )
    gap = ""
    if missing:
        # If this fails (503), the EHR's resend finds nothing new to schedule: the recovery
        # sweep schedules the catch-up instead, once the gap is older than the wait.
        watcher.queue.catch_up(notification.subscription_id, missing, settings.gap_wait_s)
        store.catch_up_scheduled(notification.subscription_id, time.time())
        gap = f"; {len(missing)} missed events: catch-up read in {settings.gap_wait_s} s"
        logger.warning(
            "subscription notifications missing",
            extra={
                "fields": {
                    "subscription": notification.subscription_id,
                    "missing": missing[:20],
                }
            },
        )
    if notification.kind != "event-notification":
        return f"{notification.kind} received{gap}"

    patients = set(notification.patients)
    if not patients and not notification.pending:
        # An empty payload: the patient is the Subscription's own, else anyone watched.
        own = store.subscription_patient(notification.subscription_id)
        patients = {own} if own else set(store.in_scope_patients()) | set(settings.poll_patients)
    queued = sum(watcher.request(patient_id, "notification") for patient_id in sorted(patients))
    for focus in notification.pending:
        watcher.queue.resolve(focus.reference)
    return (
        f"event-notification: {len(patients)} patients ({queued} newly queued), "
        f"{len(notification.pending)} references to read{gap}"
    )
