"""Small builders for the FHIR R4 resources of the demo Bundles (plain JSON dicts)."""

from __future__ import annotations

from cds_service.demo._codes import (
    ACT_REASON,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    FULL_URL_BASE,
    INTERPRETATION,
    MRN_SYSTEM,
    OBSERVATION_CATEGORY,
    ROUTES,
    SNOMED,
    UCUM,
    coding,
    concept,
)
from cds_service.demo._model import JSON

_CATEGORY_DISPLAY = {
    "vital-signs": "Vital Signs",
    "laboratory": "Laboratory",
    "survey": "Survey",
}
_INTERPRETATION_DISPLAY = {
    "H": "High",
    "L": "Low",
    "POS": "Positive",
    "NEG": "Negative",
}
_CONDITION_CATEGORY_DISPLAY = {
    "problem-list-item": "Problem List Item",
    "encounter-diagnosis": "Encounter Diagnosis",
}


def quantity(value: float, unit: str, code: str) -> JSON:
    """A UCUM Quantity; ``unit`` is what a clinician reads, ``code`` the UCUM code."""
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def reference(resource_type: str, resource_id: str) -> JSON:
    return {"reference": f"{resource_type}/{resource_id}"}


def route(key: str) -> JSON:
    code, display = ROUTES[key]
    return concept(display, coding(SNOMED, code, display))


def patient(
    resource_id: str,
    *,
    mrn: str,
    given: str,
    family: str,
    gender: str,
    birth_date: str,
) -> JSON:
    return {
        "resourceType": "Patient",
        "id": resource_id,
        # Synthetic data: tagged as test health data so that no one mistakes it for a patient.
        "meta": {"tag": [coding(ACT_REASON, "HTEST", "test health data")]},
        "identifier": [{"system": MRN_SYSTEM, "value": mrn}],
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": gender,
        "birthDate": birth_date,
    }


def observation(
    resource_id: str,
    subject: JSON,
    category: str,
    code: JSON,
    effective: str,
    *,
    value_quantity: JSON | None = None,
    value_concept: JSON | None = None,
    components: list[JSON] | None = None,
    reference_range: JSON | None = None,
    interpretation: str | None = None,
    issued: str | None = None,
    status: str = "final",
) -> JSON:
    resource: JSON = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": status,
        "category": [
            {"coding": [coding(OBSERVATION_CATEGORY, category, _CATEGORY_DISPLAY[category])]}
        ],
        "code": code,
        "subject": subject,
        "effectiveDateTime": effective,
    }
    if issued is not None:
        resource["issued"] = issued
    if value_quantity is not None:
        resource["valueQuantity"] = value_quantity
    if value_concept is not None:
        resource["valueCodeableConcept"] = value_concept
    if interpretation is not None:
        display = _INTERPRETATION_DISPLAY[interpretation]
        resource["interpretation"] = [
            concept(display, coding(INTERPRETATION, interpretation, display))
        ]
    if reference_range is not None:
        resource["referenceRange"] = [reference_range]
    if components:
        resource["component"] = components
    return resource


def component(code: JSON, value: JSON) -> JSON:
    return {"code": code, "valueQuantity": value}


def medication_administration(
    resource_id: str,
    subject: JSON,
    *,
    status: str,
    start: str,
    end: str | None,
    dosage: JSON,
    medication: JSON | None = None,
    contained_medication: JSON | None = None,
    reason: str | None = None,
    instant: bool = False,
) -> JSON:
    """A MedicationAdministration; ``end`` None with a period means it is still running."""
    resource: JSON = {"resourceType": "MedicationAdministration", "id": resource_id}
    if contained_medication is not None:
        resource["contained"] = [contained_medication]
    resource["status"] = status
    if contained_medication is not None:
        resource["medicationReference"] = {"reference": f"#{contained_medication['id']}"}
    elif medication is not None:
        resource["medicationCodeableConcept"] = medication
    else:
        raise ValueError("a MedicationAdministration needs a medication")
    resource["subject"] = subject
    if instant:
        resource["effectiveDateTime"] = start
    else:
        period: JSON = {"start": start}
        if end is not None:
            period["end"] = end
        resource["effectivePeriod"] = period
    if reason is not None:
        resource["reasonCode"] = [concept(reason)]
    resource["dosage"] = dosage
    return resource


def condition(
    resource_id: str,
    subject: JSON,
    *,
    code: JSON,
    category: str,
    clinical_status: str,
    onset: str,
    abatement: str | None,
) -> JSON:
    resource: JSON = {
        "resourceType": "Condition",
        "id": resource_id,
        "clinicalStatus": concept(
            clinical_status, coding(CONDITION_CLINICAL, clinical_status, clinical_status.title())
        ),
        "verificationStatus": concept(
            "confirmed", coding(CONDITION_VERIFICATION, "confirmed", "Confirmed")
        ),
        "category": [
            concept(
                _CONDITION_CATEGORY_DISPLAY[category],
                coding(CONDITION_CATEGORY, category, _CONDITION_CATEGORY_DISPLAY[category]),
            )
        ],
        "code": code,
        "subject": subject,
        "onsetDateTime": onset,
    }
    if abatement is not None:
        resource["abatementDateTime"] = abatement
    resource["recordedDate"] = onset
    return resource


def procedure(
    resource_id: str,
    subject: JSON,
    *,
    code: JSON,
    start: str,
    end: str | None,
    note: str,
) -> JSON:
    resource: JSON = {
        "resourceType": "Procedure",
        "id": resource_id,
        "status": "completed",
        "code": code,
        "subject": subject,
    }
    if end is None:
        resource["performedDateTime"] = start
    else:
        resource["performedPeriod"] = {"start": start, "end": end}
    resource["note"] = [{"text": note}]
    return resource


def transaction_entry(resource: JSON) -> JSON:
    """A transaction entry that creates or replaces the resource under its own id (PUT)."""
    path = f"{resource['resourceType']}/{resource['id']}"
    return {
        "fullUrl": f"{FULL_URL_BASE}/{path}",
        "resource": resource,
        "request": {"method": "PUT", "url": path},
    }
