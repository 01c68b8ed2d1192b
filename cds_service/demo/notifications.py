"""What the demo EHR sends the watch: an R4 topic-based Subscription notification
(Subscriptions R5 Backport IG: a ``history`` Bundle whose first entry is the
``backport-subscription-status-r4`` Parameters), id-only, its focus the patient whose chart
changed."""

from __future__ import annotations

from cds_service.demo._model import JSON

__all__ = ["DEMO_SUBSCRIPTION", "DEMO_TOPIC", "event_notification"]

DEMO_SUBSCRIPTION = "crs-demo-watch"
DEMO_TOPIC = "http://example.org/fhir/SubscriptionTopic/crs-demo-new-data"
_STATUS_PROFILE = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
    "backport-subscription-status-r4"
)


def event_notification(fhir_base: str, event_number: int, patient_id: str, at: str) -> JSON:
    """Notification number ``event_number`` of the demo Subscription: new data for a patient."""
    subscription = f"{fhir_base}/Subscription/{DEMO_SUBSCRIPTION}"
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": at,
        "entry": [
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{event_number:012d}",
                "resource": {
                    "resourceType": "Parameters",
                    "meta": {"profile": [_STATUS_PROFILE]},
                    "parameter": [
                        {"name": "subscription", "valueReference": {"reference": subscription}},
                        {"name": "topic", "valueCanonical": DEMO_TOPIC},
                        {"name": "status", "valueCode": "active"},
                        {"name": "type", "valueCode": "event-notification"},
                        {
                            "name": "events-since-subscription-start",
                            "valueString": str(event_number),
                        },
                        {
                            "name": "notification-event",
                            "part": [
                                {"name": "event-number", "valueString": str(event_number)},
                                {"name": "timestamp", "valueInstant": at},
                                {
                                    "name": "focus",
                                    "valueReference": {"reference": f"Patient/{patient_id}"},
                                },
                            ],
                        },
                    ],
                },
                "request": {"method": "GET", "url": f"{subscription}/$status"},
                "response": {"status": "200"},
            }
        ],
    }
