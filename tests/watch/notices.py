"""Subscription notification Bundles as EHRs send them (Subscriptions R5 Backport IG): R4
(Parameters status) and R4B/R5 (SubscriptionStatus), each payload form, handshake and heartbeat.
Written from the IG's profiles; the examples' shapes, not their text."""

from __future__ import annotations

from typing import Any

STATUS_PROFILE_R4 = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4"
TOPIC = "http://example.org/fhir/SubscriptionTopic/crs-observations"


def _status_entry_r4(
    base: str,
    subscription: str,
    kind: str,
    since: int | None,
    events: list[dict[str, Any]],
    status: str = "active",
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": "subscription",
            "valueReference": {"reference": f"{base}/Subscription/{subscription}"},
        },
        {"name": "topic", "valueCanonical": TOPIC},
        {"name": "status", "valueCode": status},
        {"name": "type", "valueCode": kind},
    ]
    if since is not None:
        parameters.append({"name": "events-since-subscription-start", "valueString": str(since)})
    for event in events:
        parts: list[dict[str, Any]] = [
            {"name": "event-number", "valueString": str(event["number"])},
            {"name": "timestamp", "valueInstant": "2026-01-10T20:00:00Z"},
        ]
        if event.get("focus"):
            parts.append({"name": "focus", "valueReference": {"reference": event["focus"]}})
        for context in event.get("context", ()):
            parts.append({"name": "additional-context", "valueReference": {"reference": context}})
        parameters.append({"name": "notification-event", "part": parts})
    return {
        "fullUrl": "urn:uuid:5b8f3f0a-1f5e-4f57-9d1e-2d0a3b4c5d6e",
        "resource": {
            "resourceType": "Parameters",
            "meta": {"profile": [STATUS_PROFILE_R4]},
            "parameter": parameters,
        },
        "request": {"method": "GET", "url": f"{base}/Subscription/{subscription}/$status"},
        "response": {"status": "200"},
    }


def r4_notification(
    base: str,
    subscription: str,
    *,
    kind: str = "event-notification",
    since: int | None = None,
    events: list[dict[str, Any]] | None = None,
    resources: list[dict[str, Any]] | None = None,
    id_only_entries: list[str] | None = None,
    status: str = "active",
) -> dict[str, Any]:
    """An R4 notification: ``events`` as {"number", "focus", "context"}; ``resources`` the
    full-resource entries; ``id_only_entries`` fullUrls of entries without a resource."""
    events = events or []
    if since is None and kind != "handshake":
        since = max((e["number"] for e in events), default=0)
    entries = [_status_entry_r4(base, subscription, kind, since, events, status)]
    for resource in resources or ():
        entries.append(
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
                "response": {"status": "200"},
            }
        )
    for full_url in id_only_entries or ():
        entries.append(
            {
                "fullUrl": full_url,
                "request": {"method": "POST", "url": full_url.rsplit("/", 2)[-2]},
                "response": {"status": "201"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": "2026-01-10T20:00:01Z",
        "entry": entries,
    }


def r4b_notification(
    base: str,
    subscription: str,
    *,
    kind: str = "event-notification",
    events: list[dict[str, Any]] | None = None,
    resources: list[dict[str, Any]] | None = None,
    bundle_type: str = "history",
) -> dict[str, Any]:
    """An R4B (Bundle history) or R5 (``subscription-notification``) notification."""
    events = events or []
    status: dict[str, Any] = {
        "resourceType": "SubscriptionStatus",
        "status": "active",
        "type": kind,
        "eventsSinceSubscriptionStart": str(max((e["number"] for e in events), default=0)),
        "subscription": {"reference": f"{base}/Subscription/{subscription}"},
        "topic": TOPIC,
        "notificationEvent": [
            {
                "eventNumber": str(e["number"]),
                **({"focus": {"reference": e["focus"]}} if e.get("focus") else {}),
                **(
                    {"additionalContext": [{"reference": c} for c in e["context"]]}
                    if e.get("context")
                    else {}
                ),
            }
            for e in events
        ],
    }
    entries = [{"fullUrl": "urn:uuid:0f0e0d0c-0b0a-4909-8807-060504030201", "resource": status}]
    entries += [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources or ()
    ]
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}
