"""Suggested MedicationRequests: the exact shape of SPEC section 4, validated with
fhir.resources R4B before they leave, and the corrected draft order of an ``update``."""

from __future__ import annotations

import ast
import copy
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.cards import corrected_order, proposed_order
from crs_grading.inputs import Immunosuppressant
from crs_grading.treatment import Protocol, compute_dose

from .builders import PATIENT_ID, assessment, plan


def _recommendation(**facts):
    return plan(assessment(**facts)).recommendations[0]


def test_a_tocilizumab_suggestion_is_exactly_the_order_of_spec_section_4():
    """SPEC section 4 suggested orders; seed Tocilizumab 4 mg/kg in adults (70 kg -> 280 mg)."""
    order = proposed_order(_recommendation(grade=3), PATIENT_ID)

    assert order == {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": "Patient/pt-7"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "612865",
                    "display": "tocilizumab",
                }
            ],
            "text": "tocilizumab",
        },
        "reasonCode": [{"text": "cytokine release syndrome"}],
        "dosageInstruction": [
            {
                "text": "tocilizumab 4 mg/kg IV over 1 h (Lee 2014, age >= 18 y) = 280 mg for "
                "70 kg (max 800 mg per dose)",
                "route": {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "47625008",
                            "display": "Intravenous route",
                        }
                    ],
                    "text": "intravenous",
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 280,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    MedicationRequest.model_validate(order)


@pytest.mark.parametrize(
    ("facts", "drug", "code", "mg"),
    [
        ({"grade": 3, "neuro": True}, "dexamethasone", "3264", 10),
        ({"grade": 3, "weight_kg": 120.0, "age_years": 12}, "tocilizumab", "612865", 800),
    ],
    ids=[
        "dexamethasone capped at 10 mg per dose (seed Corticosteroids)",
        "tocilizumab capped at 800 mg (label)",
    ],
)
def test_every_suggested_order_is_valid_fhir_r4_with_its_rxnorm_code(facts, drug, code, mg):
    order = proposed_order(_recommendation(**facts), PATIENT_ID)

    model = MedicationRequest.model_validate(order)
    assert model.medicationCodeableConcept.coding[0].code == code
    assert order["medicationCodeableConcept"]["text"] == drug
    assert order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == mg


def test_a_daily_dose_is_written_once_a_day_and_says_per_day():
    """Seed Corticosteroids: methylprednisolone 2 mg/kg/day (70 kg -> 140 mg per day)."""
    second_agent = plan(assessment(grade=3, tocilizumab_hours_ago=(30,))).recommendations[1]
    order = proposed_order(second_agent, PATIENT_ID)

    dosage = order["dosageInstruction"][0]
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    assert "2 mg/kg/day" in dosage["text"] and "140 mg per day" in dosage["text"]
    MedicationRequest.model_validate(order)


@pytest.mark.parametrize(
    "facts", [{"weight_kg": None}, {"age_years": None}], ids=["no weight", "no age"]
)
def test_no_order_is_built_without_an_absolute_dose(facts):
    """SPEC 2.6: no order with an absolute dose without the weight (or the age that chooses
    the mg/kg rate under lee2014)."""
    assert proposed_order(_recommendation(grade=3, **facts), PATIENT_ID) is None


def test_an_invalid_order_is_logged_and_never_sent(caplog):
    """SPEC section 4: valid per fhir.resources; a failure is a bug: logged, suggestion dropped."""
    broken = replace(_recommendation(grade=3), rxnorm_code=" 612865")  # FHIR code: no spaces
    with caplog.at_level(logging.ERROR, logger="cds_service.cards.orders"):
        assert proposed_order(broken, PATIENT_ID) is None
    assert "not valid FHIR R4" in caplog.text


def _draft():
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-9",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "tocilizumab"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "note": [{"text": "keep me"}],
        "dosageInstruction": [
            {
                "text": "tocilizumab 400 mg",
                "doseAndRate": [{"doseRange": {"low": {"value": 300}, "high": {"value": 500}}}],
            }
        ],
    }


def test_a_corrected_order_is_the_whole_draft_with_the_protocol_dose():
    """CDS Hooks Action update: "the updated resource in its entirety"; same id."""
    draft = _draft()
    original = copy.deepcopy(draft)
    dose = compute_dose(
        Immunosuppressant.TOCILIZUMAB, Protocol.LEE_2014, weight=None, age_years=40.0
    )

    corrected = corrected_order(draft, 280, dose)

    assert draft == original  # the request's draft is not modified
    assert corrected["id"] == "draft-9" and corrected["note"] == [{"text": "keep me"}]
    (rate,) = corrected["dosageInstruction"][0]["doseAndRate"]
    assert rate == {
        "doseQuantity": {
            "value": 280,
            "unit": "mg",
            "system": "http://unitsofmeasure.org",
            "code": "mg",
        }
    }
    assert corrected["dosageInstruction"][0]["text"] == dose.text
    MedicationRequest.model_validate(corrected)


def test_a_corrected_order_is_intravenous_whatever_the_draft_said():
    """Found in review: a subcutaneous tocilizumab draft corrected to the CRS dose stayed
    subcutaneous while the update's text said "IV over 1 h" (label: IV only for CRS)."""
    draft = _draft()
    draft["dosageInstruction"][0]["route"] = {"text": "subcutaneous"}
    dose = compute_dose(
        Immunosuppressant.TOCILIZUMAB, Protocol.LEE_2014, weight=None, age_years=40.0
    )
    corrected = corrected_order(draft, 280, dose)
    assert corrected["dosageInstruction"][0]["route"]["coding"][0]["code"] == "47625008"
    assert corrected["dosageInstruction"][0]["route"]["text"] == "intravenous"


def test_a_corrected_daily_dose_is_written_once_a_day():
    """seed Corticosteroids 2 mg/kg/day; found in review: a draft every 12 h corrected to the
    daily total (111 mg) kept every 12 h and ordered 222 mg a day."""
    draft = _draft()
    draft["medicationCodeableConcept"] = {"text": "methylprednisolone"}
    draft["dosageInstruction"][0]["timing"] = {
        "repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}
    }
    dose = compute_dose(
        Immunosuppressant.METHYLPREDNISOLONE, Protocol.LEE_2014, weight=None, age_years=40.0
    )
    assert dose.per_day
    corrected = corrected_order(draft, 111, dose)
    assert corrected["dosageInstruction"][0]["timing"] == {
        "repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}
    }
    MedicationRequest.model_validate(corrected)


def test_a_draft_without_an_id_cannot_be_updated():
    draft = _draft()
    del draft["id"]
    assert corrected_order(draft, 280) is None


_FIRST_ORDER = """
import sys
from cds_service.cards import orders
if sys.argv[1] == "prepared":
    orders.prepare_order_models()
before = set(sys.modules)
order = {
    "resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
    "subject": {"reference": "Patient/p-1"},
    "medicationCodeableConcept": {"coding": [{"system": orders.RXNORM_SYSTEM,
        "code": "6902", "display": "methylprednisolone"}], "text": "methylprednisolone"},
    "reasonCode": [{"text": "cytokine release syndrome"}],
    "dosageInstruction": [{"text": "2 mg/kg per day", "timing": {"repeat": {"frequency": 1,
        "period": 1, "periodUnit": "d"}}, "route": orders.INTRAVENOUS_ROUTE,
        "doseAndRate": [{"doseQuantity": orders.mg_quantity(140)}]}],
}
assert orders.is_valid_medication_request(order)
print(sorted(m for m in set(sys.modules) - before if m.startswith("fhir")))
"""


@pytest.mark.parametrize(("mode", "built_on_first_order"), [("cold", True), ("prepared", False)])
def test_a_worker_builds_the_order_models_before_its_first_order_card(mode, built_on_first_order):
    """Issue 13: fhir.resources builds Dosage, Timing, Quantity... the first time an order uses
    them: 25 ms and memory kept on a worker's first order card. prepare_order_models (run by
    gunicorn's post_worker_init) builds every model a proposed order uses, a per-day dose's
    timing included (a fresh interpreter: these tests' own imports would hide it)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _FIRST_ORDER, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    imported_by_the_order = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert bool(imported_by_the_order) is built_on_first_order, imported_by_the_order
