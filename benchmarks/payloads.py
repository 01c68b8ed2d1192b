"""``crs-patient-view`` request bodies built from the demo cases, at four sizes.

Each body is what an EHR would POST on chart open: ``context.patientId`` and the prefetch of
``cds_service.services.PREFETCH_TEMPLATES`` (whatever keys discovery defines), the Patient as a
resource and every search key answered by ``prefetch_from_store`` over the whole chart at once
(newest first, as the templates ask; no first-page cut). Day 0 is placed so that the whole
course lies before the moment the body is built (the service grades "as of now").

As an EHR's FHIR server sends them (SPEC 3, Volume: a month of vitals every 5 minutes is about
45,000 resources and 40 MB): every searchset entry has its ``fullUrl`` and every Bundle a
``self`` link; every resource has ``meta.lastUpdated``; Observations and administrations name
the ICU ``encounter``, and Observations their ``issued`` time.
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
from cds_service.fhir_io import render_template
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
    PayloadSize(
        "L",
        "14 days, vitals every 5 min, labs every 6 h",
        "case3",
        14,
        timedelta(minutes=5),
        timedelta(hours=6),
    ),
    PayloadSize(  # day 29: a month of charting, and the patient still in scope (SPEC 2.1)
        "XL",
        "29 days after the infusion, vitals every 5 min, labs every 6 h",
        "case3",
        29,
        timedelta(minutes=5),
        timedelta(hours=6),
    ),
)

#: The FHIR server the EHR's prefetch comes from (fullUrl, links); nothing is fetched from it.
FHIR_BASE = "https://ehr.example.org/fhir/R4"
#: The ICU stay the charted data belongs to.
_ENCOUNTER = {"reference": "Encounter/crs-demo-icu-1", "display": "Inpatient ICU stay"}
_ENCOUNTER_TYPES = frozenset({"Observation", "MedicationAdministration", "Procedure"})


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


def _as_the_ehr_sends_it(resource: JSON) -> None:
    """Add what an EHR's FHIR server puts on every resource (in place; idempotent)."""
    moment = _latest_time(resource)
    stamp = (moment if moment > _EARLIEST else datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
    resource.setdefault("meta", {}).setdefault("lastUpdated", stamp)
    kind = resource.get("resourceType")
    if kind in _ENCOUNTER_TYPES:  # R4: MedicationAdministration.context, else .encounter
        element = "context" if kind == "MedicationAdministration" else "encounter"
        resource.setdefault(element, dict(_ENCOUNTER))
    if kind == "Observation" and "effectiveDateTime" in resource:
        resource.setdefault("issued", resource["effectiveDateTime"])


def _as_searchset_page(key: str, value: Any, tokens: Mapping[str, str]) -> Any:
    """A searchset Bundle as a FHIR server sends it: ``self`` link, ``fullUrl`` per entry."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return value
    search = render_template(PREFETCH_TEMPLATES[key], tokens)
    value["link"] = [{"relation": "self", "url": f"{FHIR_BASE}/{search}"}]
    entries = []
    for entry in value.get("entry", []):
        resource = entry["resource"]
        _as_the_ehr_sends_it(resource)
        full_url = f"{FHIR_BASE}/{resource['resourceType']}/{resource['id']}"
        entries.append({"fullUrl": full_url, **entry})
    value["entry"] = entries
    order = ("resourceType", "type", "total", "link", "entry")
    return {name: value[name] for name in order if name in value}


def hook_request(patient: JSON, others: list[JSON], hook_instance: str | None = None) -> JSON:
    """A patient-view call with every prefetch key of the service: each search answered over
    the whole chart at once (no first-page cut), newest first, as an EHR's server sends it."""
    store = FhirStore([patient, *others])
    tokens = {"context.patientId": patient["id"]}
    prefetch = prefetch_from_store(PREFETCH_TEMPLATES, tokens, store)
    for key, value in prefetch.items():
        if isinstance(value, dict) and value.get("resourceType") != "Bundle":
            _as_the_ehr_sends_it(value)
        prefetch[key] = _as_searchset_page(key, value, tokens)
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
