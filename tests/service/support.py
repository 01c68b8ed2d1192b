"""Builders of CDS Hooks requests and FHIR JSON for the service tests (synthetic data only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "service"

FHIR = "https://ehr.example.org/fhir"
PATIENT_ID = "pt-1"
TOKEN = "fhir-access-token-123"


def fixture(name: str) -> Any:
    """A JSON file of tests/fixtures/service."""
    return json.loads((FIXTURES / name).read_text())


def patient(patient_id: str = PATIENT_ID) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": patient_id, "birthDate": "1960-01-01"}


def observation(obs_id: str, patient_id: str = PATIENT_ID, code: str = "8310-5") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2026-11-23T08:00:00Z",
        "valueQuantity": {"value": 38.5, "unit": "Cel", "system": "http://unitsofmeasure.org"},
    }


def administration(admin_id: str, patient_id: str = PATIENT_ID) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": admin_id,
        "status": "completed",
        "medicationCodeableConcept": {"text": "tisagenlecleucel"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2026-11-18T09:00:00Z",
    }


def searchset(
    resources: list[dict[str, Any]],
    next_url: str | None = None,
    modes: list[str | None] | None = None,
) -> dict[str, Any]:
    """A searchset Bundle of ``resources`` (search mode ``match`` unless ``modes`` says)."""
    entries = []
    for index, resource in enumerate(resources):
        mode = modes[index] if modes is not None else "match"
        entry: dict[str, Any] = {"resource": resource}
        if mode is not None:
            entry["search"] = {"mode": mode}
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def outcome(code: str = "not-found") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": "could not prefetch"}],
    }


def full_prefetch(**overrides: Any) -> dict[str, Any]:
    """A prefetch with every key of the templates satisfied; ``overrides`` replace keys."""
    prefetch: dict[str, Any] = {
        "patient": patient(),
        "vitals": searchset([observation("obs-1")]),
        "labs": searchset([]),
        "cultures": searchset([]),
        "baselines": searchset([]),
        "assessments": searchset([]),
        "medications": searchset([administration("ma-1")]),
        "conditions": searchset([]),
        "procedures": searchset([]),
    }
    prefetch.update(overrides)
    return {k: v for k, v in prefetch.items() if v is not _ABSENT}


_ABSENT = object()
ABSENT: Any = _ABSENT  # pass as an override to leave the key out of the prefetch


def hook_body(
    hook: str = "patient-view",
    *,
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
    context: dict[str, Any] | None = None,
    hook_instance: str = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
) -> dict[str, Any]:
    """A valid CDS Hooks request body for ``hook``."""
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": hook_instance,
        "context": context if context is not None else hook_context(hook),
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if token is not None:
        body["fhirAuthorization"] = fhir_authorization(token)
    return body


def fhir_authorization(token: str) -> dict[str, Any]:
    """The ``fhirAuthorization`` of a call that carries the bearer token ``token``."""
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "crs-cds",
    }


def hook_context(
    hook: str, patient_id: str = PATIENT_ID, draft_id: str = "mr-1"
) -> dict[str, Any]:
    """The ``context`` of ``hook``; the order hooks get one draft tocilizumab order."""
    context: dict[str, Any] = {"userId": "Practitioner/dr-1", "patientId": patient_id}
    draft_orders = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": draft_id,
                    "status": "draft",
                    "intent": "order",
                    "medicationCodeableConcept": {"text": "tocilizumab"},
                    "subject": {"reference": f"Patient/{patient_id}"},
                }
            }
        ],
    }
    if hook == "order-select":
        context["selections"] = [f"MedicationRequest/{draft_id}"]
        context["draftOrders"] = draft_orders
    elif hook == "order-sign":
        context["draftOrders"] = draft_orders
    return context
