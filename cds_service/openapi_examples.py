"""Example hook requests of the OpenAPI document, one per hook (synthetic data).

A 58-year-old man on day 6 after tisagenlecleucel, febrile, with norepinephrine and
phenylephrine running (revised Lee 2014 grade 3 by two vasopressors, seed Table 2). The order
hooks carry a draft tocilizumab order of 656 mg (8 mg/kg for 82 kg: above the 4 mg/kg the Lee
2014 protocol gives adults). The prefetch has every key of the discovery templates, so the
examples stay callable when keys are added; a test posts each one to the app with the clock at
``EXAMPLE_AS_OF`` and checks the grade.
"""

from __future__ import annotations

from typing import Any

from cds_service.services import PATIENT_KEY, PREFETCH_TEMPLATES

__all__ = ["EXAMPLE_AS_OF", "EXAMPLE_PATIENT_ID", "hook_request_examples"]

#: The time the examples describe (day 6 after the infusion).
EXAMPLE_AS_OF = "2026-11-23T10:00:00Z"
EXAMPLE_PATIENT_ID = "example-crs-1"

_LOINC = "http://loinc.org"
_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_UCUM = "http://unitsofmeasure.org"
_SUBJECT = {"reference": f"Patient/{EXAMPLE_PATIENT_ID}"}
_VITAL_SIGNS = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs",
            }
        ]
    }
]


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": _UCUM, "code": code}


def _vital(obs_id: str, code: str, when: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": _VITAL_SIGNS,
        "code": {"coding": [{"system": _LOINC, "code": code}]},
        "subject": _SUBJECT,
        "effectiveDateTime": when,
        **value,
    }


def _drip(ma_id: str, rxnorm: str, name: str, start: str, rate: float) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": ma_id,
        "status": "in-progress",
        "medicationCodeableConcept": {
            "coding": [{"system": _RXNORM, "code": rxnorm, "display": name}],
            "text": name,
        },
        "subject": _SUBJECT,
        "effectivePeriod": {"start": start},
        "dosage": {"rateQuantity": _quantity(rate, "ug/min", "ug/min")},
    }


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }


_PATIENT = {
    "resourceType": "Patient",
    "id": EXAMPLE_PATIENT_ID,
    "gender": "male",
    "birthDate": "1968-03-02",
}
_VITALS = [
    _vital(
        "ex-temp-1", "8310-5", "2026-11-23T08:30:00Z", valueQuantity=_quantity(39.2, "C", "Cel")
    ),
    _vital(
        "ex-bp-1",
        "85354-9",
        "2026-11-23T08:30:00Z",
        component=[
            {
                "code": {"coding": [{"system": _LOINC, "code": "8480-6"}]},
                "valueQuantity": _quantity(84, "mmHg", "mm[Hg]"),
            },
            {
                "code": {"coding": [{"system": _LOINC, "code": "8462-4"}]},
                "valueQuantity": _quantity(46, "mmHg", "mm[Hg]"),
            },
        ],
    ),
    _vital(
        "ex-weight-1", "29463-7", "2026-11-20T07:00:00Z", valueQuantity=_quantity(82, "kg", "kg")
    ),
]
_MEDICATIONS = [
    {
        "resourceType": "MedicationAdministration",
        "id": "ex-cart-1",
        "status": "completed",
        "medicationCodeableConcept": {"text": "tisagenlecleucel"},
        "subject": _SUBJECT,
        "effectiveDateTime": "2026-11-17T10:00:00Z",
    },
    _drip("ex-ne-1", "7512", "norepinephrine", "2026-11-23T06:00:00Z", 8),
    _drip("ex-pe-1", "8163", "phenylephrine", "2026-11-23T08:00:00Z", 60),
]
#: What each prefetch key holds in the example; keys not named here hold an empty searchset.
_BY_KEY = {"vitals": _VITALS, "medications": _MEDICATIONS}

_DRAFT_ORDERS = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "ex-toci-1",
                "status": "draft",
                "intent": "order",
                "subject": _SUBJECT,
                "medicationCodeableConcept": {
                    "coding": [{"system": _RXNORM, "code": "612865", "display": "tocilizumab"}],
                    "text": "tocilizumab",
                },
                "dosageInstruction": [
                    {
                        "route": {"text": "intravenous"},
                        "doseAndRate": [{"doseQuantity": _quantity(656, "mg", "mg")}],
                    }
                ],
            }
        }
    ],
}


def _prefetch() -> dict[str, Any]:
    return {
        key: _PATIENT if key == PATIENT_KEY else _searchset(_BY_KEY.get(key, []))
        for key in PREFETCH_TEMPLATES
    }


def hook_request_examples() -> dict[str, dict[str, Any]]:
    """OpenAPI ``examples`` of the hook request body: one per hook."""
    context = {"userId": "Practitioner/example-1", "patientId": EXAMPLE_PATIENT_ID}
    orders = {**context, "draftOrders": _DRAFT_ORDERS}

    def example(hook: str, summary: str, hook_context: dict[str, Any]) -> dict[str, Any]:
        return {
            "summary": summary,
            "value": {
                "hook": hook,
                "hookInstance": f"d1577c69-dfbe-44ad-ba6d-3e05e953b2{len(hook):02d}",
                "context": hook_context,
                "prefetch": _prefetch(),
            },
        }

    return {
        "patient-view": example(
            "patient-view",
            "crs-patient-view: day 6 after tisagenlecleucel on two vasopressors (grade 3)",
            context,
        ),
        "order-select": example(
            "order-select",
            "crs-order-select: a tocilizumab draft of 656 mg for 82 kg (protocol: 328 mg)",
            {**orders, "selections": ["MedicationRequest/ex-toci-1"]},
        ),
        "order-sign": example(
            "order-sign", "crs-order-sign: the same draft order at signing", orders
        ),
    }
