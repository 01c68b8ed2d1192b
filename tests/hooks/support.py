"""Builders for the hook tests: a demo patient as the EHR holds it at one moment, sent as
prefetch or served by a mocked FHIR server, and CDS Hooks request bodies.

``moment(case, day0)`` is the instant of a case's interesting moment; ``ehr_resources(case,
day0, as_of)`` is what the EHR would hold then (the demo course cut at ``as_of``: later results,
doses and diagnoses are not there yet, a drip running through ``as_of`` is ``in-progress``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ehr_pages import ehr_prefetch, serve
from service.support import fhir_authorization

from cds_service.demo import DEFAULT_DAY0, generate_bundle

FHIR = "https://ehr.example.org/fhir"
TOKEN = "fhir-access-token-xyz"

#: The moment each seed case is looked at, from midnight UTC of day 0 (SPEC 2.2: day 0 is the
#: infusion date). Chosen where the card says something a clinician acts on.
MOMENTS: dict[str, timedelta] = {
    # Case 3, day 5: second vasopressor started (grade 3), blood culture positive for
    # S. mitis and bacteremia on the chart, tocilizumab not yet given: the sepsis caution.
    "case3": timedelta(days=5, hours=22, minutes=25),
    # Figure 3, day 6 evening: grade 3, tocilizumab given at 12:30 UTC; reassess at 24 h.
    "figure3": timedelta(days=6, hours=20),
    # Case 1, day 2: fever and myalgia (grade 1) with neutropenia: febrile neutropenia.
    "case1": timedelta(days=2, hours=15),
    # Case 2, day 14: grade 3 on two vasopressors after methylprednisolone.
    "case2": timedelta(days=14, hours=21),
}


def moment(case: str, day0: date = DEFAULT_DAY0) -> datetime:
    """The instant of ``case``'s moment for a course starting on ``day0``."""
    return datetime.combine(day0, time(0), UTC) + MOMENTS[case]


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _start(resource: Mapping[str, Any]) -> datetime | None:
    """When the resource's finding or action began, as the grader dates it."""
    for name in ("effective", "onset", "performed"):
        for suffix in ("DateTime", "Instant"):
            found = _instant(resource.get(name + suffix))
            if found is not None:
                return found
        period = resource.get(name + "Period")
        if isinstance(period, dict):
            found = _instant(period.get("start"))
            if found is not None:
                return found
    return _instant(resource.get("recordedDate")) or _instant(resource.get("issued"))


def _as_held_at(resource: dict[str, Any], as_of: datetime) -> dict[str, Any] | None:
    """``resource`` as the EHR shows it at ``as_of``, or None when it does not exist yet."""
    start = _start(resource)
    if start is not None and start > as_of:
        return None
    issued = _instant(resource.get("issued"))
    if issued is not None and issued > as_of:
        return None  # the result is not reported yet
    held = copy.deepcopy(resource)
    period = held.get("effectivePeriod")
    if resource.get("resourceType") == "MedicationAdministration" and isinstance(period, dict):
        end = _instant(period.get("end"))
        if end is not None and end > as_of:
            period.pop("end")
            held["status"] = "in-progress"
    abatement = _instant(held.get("abatementDateTime"))
    if abatement is not None and abatement > as_of:
        held.pop("abatementDateTime")
        held["clinicalStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        }
    return held


def ehr_resources(case: str, as_of: datetime, day0: date = DEFAULT_DAY0) -> list[dict[str, Any]]:
    """Every resource of the demo ``case`` (course from ``day0``) as held at ``as_of``."""
    days = max(1, math.ceil((as_of - datetime.combine(day0, time(0), UTC)) / timedelta(days=1)))
    bundle = generate_bundle(case, day0, days=days + 1)
    held = (_as_held_at(entry["resource"], as_of) for entry in bundle["entry"])
    return [resource for resource in held if resource is not None]


def patient_id_of(resources: Iterable[Mapping[str, Any]]) -> str:
    return next(str(r["id"]) for r in resources if r["resourceType"] == "Patient")


def prefetch_for(
    resources: Iterable[Mapping[str, Any]], *, page_size: int | None = None, includes: bool = True
) -> dict[str, Any]:
    """The prefetch an EHR would send for the discovery templates: the Patient, and the first
    page of each search, newest first (``tests/ehr_pages``). The demo charts fit each
    template's first page; ``page_size`` makes every page that small, with a ``next`` link on
    ``FHIR`` when more follow (EHRs send the first page only); without ``includes`` the
    Medications that ``_include`` would add are left out."""
    pool = list(resources)
    return ehr_prefetch(
        pool, patient_id_of(pool), page_size=page_size, base=FHIR, includes=includes
    )


def serve_fhir(mock: Any, resources: Iterable[Mapping[str, Any]], **options: Any) -> list[str]:
    """Serve ``resources`` from the mocked FHIR server ``FHIR``: every read and search of the
    templates, and the ``next`` pages they link, answered as a FHIR server would (options of
    ``ehr_pages.serve``). Returns the URLs requested."""
    return serve(mock, resources, base=FHIR, **options)


def medications_by_reference(
    resources: Iterable[Mapping[str, Any]], only: str | None = None
) -> list[dict[str, Any]]:
    """The same chart with every administration's drug (or only those whose id contains one of
    the ``|``-separated words of ``only``) moved into a Medication resource that the
    administration names by ``medicationReference`` only (no display), one Medication per
    distinct drug, as Epic and other EHRs chart formulary items."""
    chart = [copy.deepcopy(dict(r)) for r in resources]
    medications: dict[str, dict[str, Any]] = {}
    words = only.split("|") if only else None
    for resource in chart:
        concept = resource.get("medicationCodeableConcept")
        if resource["resourceType"] != "MedicationAdministration" or concept is None:
            continue
        if words is not None and not any(word in resource["id"] for word in words):
            continue
        key = json.dumps(concept, sort_keys=True)
        if key not in medications:
            medications[key] = {
                "resourceType": "Medication",
                "id": f"med-{len(medications) + 1}",
                "code": concept,
            }
        del resource["medicationCodeableConcept"]
        resource["medicationReference"] = {"reference": f"Medication/{medications[key]['id']}"}
    return chart + list(medications.values())


def draft_order(
    order_id: str,
    patient_id: str,
    *,
    drug: str = "tocilizumab",
    rxnorm: str | None = "612865",
    dose: float | None = 400,
    unit: str = "mg",
    route_text: str = "intravenous",
) -> dict[str, Any]:
    """A draft MedicationRequest as an EHR sends it in ``draftOrders``."""
    concept: dict[str, Any] = {"text": drug}
    if rxnorm is not None:
        concept["coding"] = [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": rxnorm,
                "display": drug,
            }
        ]
    dosage: dict[str, Any] = {
        "text": f"{drug} {dose} {unit} IV",
        "route": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "47625008",
                    "display": "Intravenous route",
                }
            ],
            "text": route_text,
        },
    }
    if dose is not None:
        dosage["doseAndRate"] = [
            {
                "doseQuantity": {
                    "value": dose,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                }
            }
        ]
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": f"Patient/{patient_id}"},
        "dosageInstruction": [dosage],
    }


def hook_body(
    hook: str,
    patient_id: str,
    *,
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    draft_orders: list[dict[str, Any]] | None = None,
    selections: list[str] | None = None,
    hook_instance: str = "5f1a9d3e-7c2b-4f60-9a1e-2b9c0d4e8f11",
) -> dict[str, Any]:
    """A valid CDS Hooks call of ``hook`` for ``patient_id``."""
    context: dict[str, Any] = {"userId": "Practitioner/dr-1", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in draft_orders or []],
        }
    if hook == "order-select":
        context["selections"] = selections or [
            f"MedicationRequest/{order['id']}" for order in draft_orders or []
        ]
    body: dict[str, Any] = {"hook": hook, "hookInstance": hook_instance, "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = fhir_authorization(TOKEN)
    return body


SERVICE_OF_HOOK = {
    "patient-view": "crs-patient-view",
    "order-select": "crs-order-select",
    "order-sign": "crs-order-sign",
}
