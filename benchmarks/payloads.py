"""``crs-patient-view`` request bodies built from the demo cases, at three sizes.

Each body is what an EHR would POST on chart open: ``context.patientId`` and the prefetch of
``cds_service.services.PREFETCH_TEMPLATES``, the Patient as a resource and every search key
answered by ``prefetch_from_store`` over the whole chart at once (newest first, as the templates
ask). Day 0 is placed so that the whole course lies before the moment the body is built (the
service grades "as of now").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from cds_service.call_command import prefetch_from_store
from cds_service.demo import DEFAULT_DAY0, generate_bundle
from cds_service.demo.fhir_store import FhirStore
from cds_service.services import PREFETCH_TEMPLATES

__all__ = ["SIZES", "Payload", "PayloadSize", "build_payload", "hook_request", "resource_time"]

JSON = dict[str, Any]

#: The newest data ends at least this long before "now" (and at most a day more).
_MARGIN = timedelta(minutes=30)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PayloadSize:
    """One payload size of issue 6: a demo case at a vitals and lab cadence over some days."""

    name: str
    description: str
    case_id: str
    days: int
    vitals_every: timedelta
    labs_every: timedelta | None = None


SIZES: tuple[PayloadSize, ...] = (
    PayloadSize("S", "1 day, vitals hourly", "case3", 1, timedelta(hours=1)),
    PayloadSize(
        "M",
        "7 days, vitals every 15 min, labs every 6 h, drips with rate changes",
        "case3",
        7,
        timedelta(minutes=15),
        timedelta(hours=6),
    ),
    PayloadSize("L", "14 days, vitals every 5 min", "case3", 14, timedelta(minutes=5)),
)


@dataclass(frozen=True, slots=True)
class Payload:
    """A request body ready to POST, and what it holds."""

    size: PayloadSize
    body: bytes
    patient_id: str
    resources: int
    day0: date
    newest: datetime  # the latest clinical time in the data (UTC)

    @property
    def megabytes(self) -> float:
        return len(self.body) / 1_000_000


#: The time elements of the demo resources: (element, sub-element of a Period or None).
_TIME_ELEMENTS: tuple[tuple[str, str | None], ...] = (
    ("effectiveDateTime", None),
    ("performedDateTime", None),
    ("onsetDateTime", None),
    ("recordedDate", None),
    ("abatementDateTime", None),
    ("issued", None),
    ("effectivePeriod", "start"),
    ("effectivePeriod", "end"),
    ("performedPeriod", "start"),
    ("performedPeriod", "end"),
)


def _times(resource: Mapping[str, Any]) -> list[datetime]:
    found: list[datetime] = []
    for element, part in _TIME_ELEMENTS:
        value = resource.get(element)
        if part is not None:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and "T" in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                found.append(moment.astimezone(UTC))
    return found


def resource_time(resource: Mapping[str, Any]) -> datetime:
    """The clinical time of a demo resource (the earliest time it states), for sorting."""
    return min(_times(resource), default=_EARLIEST)


def _latest_time(resource: Mapping[str, Any]) -> datetime:
    """The latest time a demo resource states (period ends included)."""
    return max(_times(resource), default=_EARLIEST)


def _resources(size: PayloadSize, day0: date) -> list[JSON]:
    bundle = generate_bundle(
        size.case_id,
        day0,
        vitals_every=size.vitals_every,
        days=size.days,
        labs_every=size.labs_every,
    )
    return [entry["resource"] for entry in bundle["entry"]]


def hook_request(patient: JSON, others: list[JSON], hook_instance: str | None = None) -> JSON:
    """A patient-view call with every prefetch key of the service: each search answered over
    the whole chart at once (no first-page cut), newest first."""
    store = FhirStore([patient, *others])
    tokens = {"context.patientId": patient["id"]}
    prefetch = prefetch_from_store(PREFETCH_TEMPLATES, tokens, store)
    return {
        "hook": "patient-view",
        "hookInstance": hook_instance or str(uuid.uuid4()),
        "context": {"userId": "Practitioner/benchmark", "patientId": patient["id"]},
        "prefetch": prefetch,
    }


def build_payload(size: PayloadSize, now: datetime | None = None) -> Payload:
    """The request body of ``size``, its whole course ending 30 min to a day before ``now``."""
    now = now or datetime.now(UTC)
    probe = _resources(size, DEFAULT_DAY0)
    newest = max(_latest_time(r) for r in probe)
    shift_days = (now - _MARGIN - newest) // timedelta(days=1)
    day0 = DEFAULT_DAY0 + timedelta(days=shift_days)
    resources = _resources(size, day0)
    newest = max(_latest_time(r) for r in resources)
    assert newest <= now - _MARGIN, "the course must end before the service clock"
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    others = [r for r in resources if r["resourceType"] != "Patient"]
    body = orjson.dumps(hook_request(patient, others))
    return Payload(size, body, patient["id"], len(resources), day0, newest)
