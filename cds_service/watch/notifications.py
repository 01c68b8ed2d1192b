"""Reading topic-based Subscription notifications (Subscriptions R5 Backport IG, FHIR R4).

A notification is a Bundle of type ``history`` (R4 and R4B; ``subscription-notification`` in
R5) whose first entry is the subscription status: a ``Parameters`` resource of the profile
``backport-subscription-status-r4`` in R4, a ``SubscriptionStatus`` resource in R4B and R5.
The status says which Subscription sent it, its ``type`` (``handshake``, ``heartbeat``,
``event-notification``; ``query-status`` and ``query-event`` answer ``$status`` and
``$events`` and are only read from those), ``events-since-subscription-start`` and, per
event, ``event-number``, ``timestamp``, ``focus`` and ``additional-context``.

Payload content decides what else the Bundle holds: ``empty`` (nothing: the events carry no
focus), ``id-only`` (the focus as a reference, and possibly entries with a ``fullUrl`` but no
``resource``), ``full-resource`` (the focus resources themselves). The watch needs only the
patient of each event: a Patient focus or context names it; a full resource names it in
``subject`` or ``patient``; an id-only focus of another type is read from the FHIR server
later (``PendingFocus``). Event numbers are strings in R4 (int64 does not fit an R4 integer).

Anything malformed raises ``BadNotification`` naming the element (HTTP 400). A focus on
another server than the watched one is refused: the watch reads only from its own EHR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cds_service.errors import BadRequest
from cds_service.validation import is_fhir_id
from fhir_maps import parse_reference
from fhir_maps.references import patient_element

__all__ = [
    "NOTIFICATION_TYPES",
    "BadNotification",
    "Notification",
    "NotificationEvent",
    "PendingFocus",
    "parse_notification",
    "patient_of",
    "relative_reference",
]

#: Subscription notification types (FHIR R5 subscription-notification-type) a client receives.
NOTIFICATION_TYPES = frozenset({"handshake", "heartbeat", "event-notification"})
_QUERY_TYPES = frozenset({"query-status", "query-event"})
_BUNDLE_TYPES = frozenset({"history", "subscription-notification"})


class BadNotification(BadRequest):
    """400: the notification is not a Backport IG notification Bundle; says which element."""


@dataclass(frozen=True, slots=True)
class PendingFocus:
    """An id-only focus whose patient is known only after reading it: ``Type/id``."""

    resource_type: str
    resource_id: str

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"


@dataclass(frozen=True, slots=True)
class NotificationEvent:
    """One ``notification-event`` of the status."""

    number: int | None
    focus: str | None  # relative reference Type/id, when given
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """What the watch takes from one notification."""

    subscription_id: str
    kind: str  # handshake | heartbeat | event-notification (| query-* from $events)
    status: str | None
    topic: str | None
    events_since_start: int | None
    events: tuple[NotificationEvent, ...]
    patients: frozenset[str] = frozenset()  # patient ids named by the notification
    pending: tuple[PendingFocus, ...] = ()  # id-only foci of other types: read to find them
    payload: str = "empty"  # what the Bundle carried: empty | id-only | full-resource
    trigger_types: frozenset[str] = field(default_factory=frozenset)

    @property
    def event_numbers(self) -> tuple[int, ...]:
        return tuple(e.number for e in self.events if e.number is not None)


def relative_reference(reference: str, fhir_base: str) -> str | None:
    """``Type/id`` of a reference on ``fhir_base`` (relative or absolute, SPEC 3 References:
    the strict ``fhir_maps`` parser); None for anything else."""
    target = parse_reference(reference, fhir_base)
    return target.relative if target is not None else None


def patient_of(resource: object, fhir_base: str) -> str | None:
    """The id of the patient ``resource`` is (a Patient) or names (``subject``/``patient``)."""
    if not isinstance(resource, Mapping):
        return None
    kind = resource.get("resourceType")
    if kind == "Patient":
        identifier = resource.get("id")
        return identifier if isinstance(identifier, str) and is_fhir_id(identifier) else None
    value = resource.get(patient_element(kind))
    target = parse_reference(
        value.get("reference") if isinstance(value, Mapping) else None, fhir_base
    )
    return target.id if target is not None and target.resource_type == "Patient" else None


def parse_notification(document: object, fhir_base: str) -> Notification:
    """Read a notification Bundle (parsed JSON) sent by the FHIR server at ``fhir_base``."""
    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        raise BadNotification("the body must be a FHIR Bundle (Subscription notification)")
    bundle_type = document.get("type")
    if bundle_type not in _BUNDLE_TYPES:
        raise BadNotification(
            "Bundle.type must be history (R4/R4B Backport IG) or subscription-notification (R5), "
            f"not {str(bundle_type)[:40]!r}"
        )
    entries = document.get("entry")
    if not isinstance(entries, list) or not entries:
        raise BadNotification("Bundle.entry[0] must hold the subscription status")
    first = entries[0].get("resource") if isinstance(entries[0], Mapping) else None
    if not isinstance(first, Mapping):
        raise BadNotification("Bundle.entry[0].resource must be the subscription status")
    if first.get("resourceType") == "Parameters":
        status = _from_parameters(first)
    elif first.get("resourceType") == "SubscriptionStatus":
        status = _from_subscription_status(first)
    else:
        raise BadNotification(
            "Bundle.entry[0].resource must be a Parameters (R4 backport-subscription-status-r4) "
            "or a SubscriptionStatus (R4B/R5)"
        )
    return _assemble(status, entries[1:], fhir_base)


@dataclass(slots=True)
class _Status:
    subscription: str
    kind: str
    status: str | None
    topic: str | None
    events_since_start: int | None
    events: list[tuple[int | None, str | None, list[str]]]  # number, focus, context


def _subscription_id(reference: object, where: str) -> str:
    if not isinstance(reference, Mapping) or not isinstance(reference.get("reference"), str):
        raise BadNotification(f"{where} must be a Reference to the Subscription")
    text = str(reference["reference"]).split("/_history/", 1)[0].rstrip("/")
    parts = text.rsplit("/", 2)
    if len(parts) < 2 or parts[-2] != "Subscription" or not is_fhir_id(parts[-1]):
        raise BadNotification(f"{where} must reference a Subscription (Subscription/<id>)")
    return parts[-1]


def _count(value: object, where: str) -> int:
    """An event number or count: a string (R4, R4B) or an integer (R5) of 0 or more."""
    if isinstance(value, bool):
        raise BadNotification(f"{where} must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise BadNotification(f"{where} must be a whole number (a string in R4)")
    if number < 0 or number > 2**63 - 1:
        raise BadNotification(f"{where} is out of range")
    return number


def _kind(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in NOTIFICATION_TYPES | _QUERY_TYPES:
        raise BadNotification(
            f"{where} must be handshake, heartbeat, event-notification, query-status or query-event"
        )
    return value


def _reference(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadNotification(f"{where} must be a Reference")
    reference = value.get("reference")
    if reference is None:
        return None  # a logical reference (identifier only): nothing to read
    if not isinstance(reference, str) or not reference:
        raise BadNotification(f"{where}.reference must be a string")
    return reference


def _from_parameters(parameters: Mapping[str, Any]) -> _Status:
    """R4: Parameters of the backport-subscription-status-r4 profile."""
    items = parameters.get("parameter")
    if not isinstance(items, list):
        raise BadNotification("Parameters.parameter is missing")
    found: dict[str, Any] = {}
    events: list[tuple[int | None, str | None, list[str]]] = []
    for index, item in enumerate(items):
        where = f"Parameters.parameter[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise BadNotification(f"{where}.name is missing")
        name = item["name"]
        if name == "notification-event":
            events.append(_parameters_event(item, where))
        elif name in ("subscription", "topic", "status", "type", "events-since-subscription-start"):
            found[name] = (item, where)
    if "subscription" not in found:
        raise BadNotification("Parameters has no 'subscription' parameter")
    if "type" not in found:
        raise BadNotification("Parameters has no 'type' parameter")
    item, where = found["subscription"]
    subscription = _subscription_id(item.get("valueReference"), f"{where}.valueReference")
    item, where = found["type"]
    kind = _kind(item.get("valueCode"), f"{where}.valueCode")
    status = topic = None
    since = None
    if "status" in found:
        item, _ = found["status"]
        status = item.get("valueCode") if isinstance(item.get("valueCode"), str) else None
    if "topic" in found:
        item, _ = found["topic"]
        topic = item.get("valueCanonical") if isinstance(item.get("valueCanonical"), str) else None
    if "events-since-subscription-start" in found:
        item, where = found["events-since-subscription-start"]
        raw = item.get("valueString", item.get("valueInteger64", item.get("valueInteger")))
        since = _count(raw, f"{where}.valueString (events-since-subscription-start)")
    return _Status(subscription, kind, status, topic, since, events)


def _parameters_event(
    item: Mapping[str, Any], where: str
) -> tuple[int | None, str | None, list[str]]:
    parts = item.get("part")
    if not isinstance(parts, list):
        raise BadNotification(f"{where}.part is missing (notification-event)")
    number: int | None = None
    focus: str | None = None
    context: list[str] = []
    for index, part in enumerate(parts):
        at = f"{where}.part[{index}]"
        if not isinstance(part, Mapping):
            raise BadNotification(f"{at} must be an object")
        name = part.get("name")
        if name == "event-number":
            raw = part.get("valueString", part.get("valueInteger64", part.get("valueInteger")))
            number = _count(raw, f"{at}.valueString (event-number)")
        elif name == "focus":
            focus = _reference(part.get("valueReference"), f"{at}.valueReference")
        elif name == "additional-context":
            reference = _reference(part.get("valueReference"), f"{at}.valueReference")
            if reference is not None:
                context.append(reference)
    if number is None:
        raise BadNotification(f"{where} has no event-number")
    return number, focus, context


def _from_subscription_status(status: Mapping[str, Any]) -> _Status:
    """R4B and R5: a SubscriptionStatus resource."""
    subscription = _subscription_id(status.get("subscription"), "SubscriptionStatus.subscription")
    kind = _kind(status.get("type"), "SubscriptionStatus.type")
    since = None
    if status.get("eventsSinceSubscriptionStart") is not None:
        since = _count(
            status["eventsSinceSubscriptionStart"],
            "SubscriptionStatus.eventsSinceSubscriptionStart",
        )
    events: list[tuple[int | None, str | None, list[str]]] = []
    raw_events = status.get("notificationEvent") or []
    if not isinstance(raw_events, list):
        raise BadNotification("SubscriptionStatus.notificationEvent must be a list")
    for index, event in enumerate(raw_events):
        where = f"SubscriptionStatus.notificationEvent[{index}]"
        if not isinstance(event, Mapping):
            raise BadNotification(f"{where} must be an object")
        if event.get("eventNumber") is None:
            raise BadNotification(f"{where}.eventNumber is missing")
        number = _count(event["eventNumber"], f"{where}.eventNumber")
        focus = _reference(event.get("focus"), f"{where}.focus")
        context_refs = event.get("additionalContext") or []
        if not isinstance(context_refs, list):
            raise BadNotification(f"{where}.additionalContext must be a list")
        context = [
            r
            for i, c in enumerate(context_refs)
            if (r := _reference(c, f"{where}.additionalContext[{i}]")) is not None
        ]
        events.append((number, focus, context))
    state = status.get("status")
    topic = status.get("topic")
    return _Status(
        subscription,
        kind,
        state if isinstance(state, str) else None,
        topic if isinstance(topic, str) else None,
        since,
        events,
    )


def _assemble(status: _Status, entries: Sequence[object], fhir_base: str) -> Notification:
    """Find each event's patient: a Patient reference, a full resource, or a pending read."""
    resources: dict[str, Mapping[str, Any]] = {}
    id_only = False
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise BadNotification(f"Bundle.entry[{index}] must be an object")
        resource = entry.get("resource")
        full_url = entry.get("fullUrl")
        if isinstance(resource, Mapping):
            kind, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(kind, str) and isinstance(rid, str):
                resources[f"{kind}/{rid}"] = resource
        elif resource is not None:
            raise BadNotification(f"Bundle.entry[{index}].resource must be a resource")
        elif isinstance(full_url, str):
            id_only = True

    patients: set[str] = set()
    pending: dict[str, PendingFocus] = {}
    events: list[NotificationEvent] = []
    triggers: set[str] = set()
    for index, (number, focus, context) in enumerate(status.events):
        focus_ref = _on_server(focus, fhir_base, f"notification-event[{index}].focus")
        context_refs = [
            ref
            for ref in (
                _on_server(c, fhir_base, f"notification-event[{index}].additional-context")
                for c in context
            )
            if ref is not None
        ]
        events.append(NotificationEvent(number, focus_ref, tuple(context_refs)))
        named = [r for r in (focus_ref, *context_refs) if r is not None]
        event_patients = {r.split("/", 1)[1] for r in named if r.startswith("Patient/")}
        for reference in named:
            resource = resources.get(reference)
            if resource is not None and not reference.startswith("Patient/"):
                owner = patient_of(resource, fhir_base)
                if owner is not None:
                    event_patients.add(owner)
        if focus_ref is not None:
            triggers.add(focus_ref.split("/", 1)[0])
            if not event_patients:
                kind, rid = focus_ref.split("/", 1)
                pending.setdefault(focus_ref, PendingFocus(kind, rid))
            if focus_ref not in resources:
                id_only = True
        patients |= event_patients
    payload = "full-resource" if resources else ("id-only" if id_only else "empty")
    return Notification(
        subscription_id=status.subscription,
        kind=status.kind,
        status=status.status,
        topic=status.topic,
        events_since_start=status.events_since_start,
        events=tuple(events),
        patients=frozenset(patients),
        pending=tuple(pending.values()),
        payload=payload,
        trigger_types=frozenset(triggers),
    )


def _on_server(reference: str | None, fhir_base: str, where: str) -> str | None:
    if reference is None:
        return None
    relative = relative_reference(reference, fhir_base)
    if relative is None:
        raise BadNotification(
            f"{where} is not a reference to a resource on the watched FHIR server"
        )
    return relative
