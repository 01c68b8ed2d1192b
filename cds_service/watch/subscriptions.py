"""Creating the watch's Subscription on the EHR's FHIR server (``crs-cds watch subscribe``).

An R4 topic-based Subscription of the Subscriptions R5 Backport IG (profile
``backport-subscription``): ``criteria`` is the topic's canonical URL
(``CRS_CDS_WATCH_TOPIC``) with each ``CRS_CDS_WATCH_FILTERS`` entry as a
``backport-filter-criteria`` extension; ``channel`` is a ``rest-hook`` to our notification
endpoint with ``payload`` ``application/fhir+json`` and its ``backport-payload-content``
(``CRS_CDS_WATCH_PAYLOAD``), a heartbeat period, a timeout and a max count. With ``--id`` the
Subscription is PUT under that id and carries, in ``channel.header``, the shared secret
configured for that id; the server's handshake is then already authenticated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cds_service.validation import FHIR_ID_PATTERN, is_fhir_id
from cds_service.watch.backend_auth import TokenError
from cds_service.watch.routes import SECRET_HEADER
from cds_service.watch.runtime import WatchRuntime
from cds_service.watch.transport import OutboundError, call

__all__ = [
    "CreatedSubscription",
    "SubscriptionError",
    "create_subscription",
    "subscription_resource",
]

_IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
NOTIFICATION_PATH = "/fhir/subscription-notification"
_TIMEOUT_S = 30  # how long the server should try to deliver one notification
_MAX_COUNT = 20  # most triggering resources per notification
_BUDGET_S = 15.0
_PATIENT_FILTER = re.compile(
    rf"(?:^|[?&])(?:patient|subject)=(?:Patient/)?({FHIR_ID_PATTERN})(?:&|$)"
)


class SubscriptionError(Exception):
    """The Subscription could not be created; the message says why (no secret in it)."""


@dataclass(frozen=True, slots=True)
class CreatedSubscription:
    subscription_id: str
    topic: str
    endpoint: str
    secret_header: bool


def subscription_resource(
    *,
    topic: str,
    filters: tuple[str, ...],
    endpoint: str,
    payload: str,
    heartbeat_s: int,
    secret: str | None,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """The R4 Subscription resource (Backport IG profile ``backport-subscription``)."""
    channel: dict[str, Any] = {
        "extension": [
            {"url": f"{_IG}/backport-timeout", "valueUnsignedInt": _TIMEOUT_S},
            {"url": f"{_IG}/backport-max-count", "valuePositiveInt": _MAX_COUNT},
        ],
        "type": "rest-hook",
        "endpoint": endpoint,
        "payload": "application/fhir+json",
        "_payload": {
            "extension": [{"url": f"{_IG}/backport-payload-content", "valueCode": payload}]
        },
    }
    if heartbeat_s:
        channel["extension"].insert(
            0, {"url": f"{_IG}/backport-heartbeat-period", "valueUnsignedInt": heartbeat_s}
        )
    if secret is not None:
        channel["header"] = [f"{SECRET_HEADER}: {secret}"]
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "meta": {"profile": [f"{_IG}/backport-subscription"]},
        "status": "requested",
        "reason": "CRS CDS watch: re-grade cytokine release syndrome when new data is filed",
        "criteria": topic,
        "channel": channel,
    }
    if filters:
        resource["_criteria"] = {
            "extension": [
                {"url": f"{_IG}/backport-filter-criteria", "valueString": criterion}
                for criterion in filters
            ]
        }
    if subscription_id is not None:
        resource["id"] = subscription_id
    return resource


def filter_patient(filters: tuple[str, ...]) -> str | None:
    """The one patient the filters name (``patient=`` or ``subject=``), if exactly one."""
    found = {m.group(1) for f in filters for m in [_PATIENT_FILTER.search(f)] if m}
    return found.pop() if len(found) == 1 else None


def create_subscription(
    runtime: WatchRuntime, *, endpoint: str | None, subscription_id: str | None
) -> CreatedSubscription:
    """Create the Subscription; POST (server-assigned id) or PUT (``subscription_id``)."""
    settings = runtime.settings
    watch = settings.watch
    if watch.topic is None:
        raise SubscriptionError("CRS_CDS_WATCH_TOPIC is not set: which topic to subscribe to?")
    if endpoint is None:
        if settings.public_url is None:
            raise SubscriptionError("give --endpoint, or set CRS_CDS_PUBLIC_URL")
        endpoint = settings.public_url + NOTIFICATION_PATH
    secret = None
    if subscription_id is not None:
        if not is_fhir_id(subscription_id):
            raise SubscriptionError("--id is not a FHIR id")
        secret = watch.subscription_secrets.get(subscription_id)
    resource = subscription_resource(
        topic=watch.topic,
        filters=watch.filters,
        endpoint=endpoint,
        payload=watch.payload.value,
        heartbeat_s=watch.heartbeat_s,
        secret=secret,
        subscription_id=subscription_id,
    )
    base = runtime.watcher.fhir_base
    headers = {"Accept": "application/fhir+json"}
    try:
        if runtime.watcher.context.auth is not None:
            headers["Authorization"] = f"Bearer {runtime.watcher.context.auth.token()}"
        method, url = ("POST", f"{base}/Subscription")
        if subscription_id is not None:
            method, url = ("PUT", f"{base}/Subscription/{subscription_id}")
        reply = call(
            runtime.watcher.context.session,
            method,
            url,
            budget_s=_BUDGET_S,
            json_body=resource,
            headers=headers,
        )
    except (OutboundError, TokenError) as error:
        raise SubscriptionError(f"the Subscription could not be sent: {error}") from None
    if reply.status not in (200, 201):
        raise SubscriptionError(f"the FHIR server answered HTTP {reply.status}")
    created_id = subscription_id or _created_id(reply.headers.get("Location"), reply.body)
    if created_id is None:
        raise SubscriptionError("the FHIR server did not say the new Subscription's id")
    runtime.store.save_subscription(
        created_id, watch.topic, filter_patient(watch.filters), datetime.now(UTC)
    )
    return CreatedSubscription(created_id, watch.topic, endpoint, secret is not None)


def _created_id(location: str | None, body: bytes) -> str | None:
    if location:
        parts = [p for p in location.split("?")[0].split("/") if p]
        if "Subscription" in parts:
            index = parts.index("Subscription")
            if index + 1 < len(parts) and is_fhir_id(parts[index + 1]):
                return parts[index + 1]
    try:
        import orjson

        document = orjson.loads(body)
    except ValueError:
        return None
    identifier = document.get("id") if isinstance(document, dict) else None
    return identifier if isinstance(identifier, str) and is_fhir_id(identifier) else None
