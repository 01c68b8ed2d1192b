"""Draft orders of the order hooks (CDS Hooks 2.0.1 order-select/order-sign draftOrders)."""

from __future__ import annotations

import pytest
from map_fixtures import RXNORM, load, quantity

from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant, SkippedResource
from fhir_maps import MappingOptions, ValidationMode, map_draft_orders


def _bundle(*requests: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in requests],
    }


def _request(
    medication: dict, dose: dict | None = None, route: dict | None = None, **fields
) -> dict:
    instruction: dict = {}
    if dose is not None:
        instruction["doseAndRate"] = [{"doseQuantity": dose}]
    if route is not None:
        instruction["route"] = route
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": medication,
        "subject": {"reference": "Patient/pat1"},
        "dosageInstruction": [instruction] if instruction else [],
    }
    request.update(fields)
    return request


def test_the_fixture_orders():
    orders, skipped = map_draft_orders(load("draft-orders.json"))
    assert orders == (
        DraftMedicationOrder(
            Immunosuppressant.TOCILIZUMAB,
            "MedicationRequest/toci-draft",
            8.0,
            DoseBasis.MG_PER_KG,
            "intravenous",
        ),
        DraftMedicationOrder(
            Immunosuppressant.DEXAMETHASONE,
            "MedicationRequest/dex-draft",
            10.0,
            DoseBasis.MG,
            "intravenous",
        ),
    )
    assert skipped == ()


def test_no_draft_orders():
    assert map_draft_orders(None) == ((), ())


def test_draft_orders_that_are_not_a_bundle_are_reported():
    assert map_draft_orders({"resourceType": "MedicationRequest"}) == (
        (),
        (SkippedResource("draftOrders", "is not a Bundle"),),
    )


DRUGS = [
    ({"text": "anakinra 100 mg SC"}, Immunosuppressant.ANAKINRA, "anakinra by name"),
    (
        {"text": "Sylvant (siltuximab) 11 mg/kg"},
        Immunosuppressant.SILTUXIMAB,
        "siltuximab by brand",
    ),
    (
        {"coding": [{"system": RXNORM, "code": "6902"}]},
        Immunosuppressant.METHYLPREDNISOLONE,
        "methylprednisolone by RxNorm 6902",
    ),
    (
        {"coding": [{"system": RXNORM, "code": "5492"}]},
        Immunosuppressant.HYDROCORTISONE,
        "hydrocortisone by RxNorm 5492",
    ),
    ({"text": "Actemra"}, Immunosuppressant.TOCILIZUMAB, "tocilizumab by brand"),
]


@pytest.mark.parametrize(
    ("medication", "agent"), [case[:2] for case in DRUGS], ids=[case[2] for case in DRUGS]
)
def test_drugs_of_the_order_checks(medication, agent):
    orders, _ = map_draft_orders(_bundle(_request(medication)))
    assert [order.agent for order in orders] == [agent]


@pytest.mark.parametrize(
    ("dose", "value", "basis"),
    [
        (quantity(400, "mg"), 400.0, DoseBasis.MG),
        (quantity(0.8, "g"), 800.0, DoseBasis.MG),
        (quantity(8, "mg/kg"), 8.0, DoseBasis.MG_PER_KG),
        (quantity(20, "mL"), None, None),
        (None, None, None),
    ],
    ids=["400 mg", "0.8 g is 800 mg", "8 mg/kg", "a dose in mL cannot be read", "no dose"],
)
def test_draft_order_doses(dose, value, basis):
    orders, _ = map_draft_orders(_bundle(_request({"text": "tocilizumab"}, dose)))
    assert (orders[0].dose_value, orders[0].dose_basis) == (value, basis)


def test_medication_reference_to_a_medication_in_the_bundle():
    request = _request({"text": "x"}, quantity(10, "mg"))
    del request["medicationCodeableConcept"]
    request["medicationReference"] = {"reference": "Medication/dex10"}
    medication = {
        "resourceType": "Medication",
        "id": "dex10",
        "code": {"text": "dexamethasone 10 mg/mL"},
    }
    orders, _ = map_draft_orders(_bundle(request, medication))
    assert orders[0].agent is Immunosuppressant.DEXAMETHASONE


@pytest.mark.parametrize(
    "status",
    ["cancelled", "entered-in-error"],
    ids=["a cancelled order is ignored", "an order entered in error is ignored"],
)
def test_ignored_order_statuses(status):
    assert map_draft_orders(_bundle(_request({"text": "tocilizumab"}, status=status))) == ((), ())


def test_eye_drops_are_not_a_crs_order():
    request = _request({"text": "dexamethasone 0.1% ophthalmic suspension"})
    assert map_draft_orders(_bundle(request)) == ((), ())


def test_a_free_text_route_is_kept():
    request = _request({"text": "tocilizumab"}, route={"text": "per protocol"})
    orders, _ = map_draft_orders(_bundle(request))
    assert orders[0].route == "per protocol"


def test_a_malformed_dose_is_skipped_and_reported():
    request = _request({"text": "tocilizumab"}, {"value": "eight", "unit": "mg/kg"})
    orders, skipped = map_draft_orders(_bundle(request, _request({"text": "Kineret"}, id="mr2")))
    assert [order.agent for order in orders] == [Immunosuppressant.ANAKINRA]
    assert skipped == (
        SkippedResource(
            "MedicationRequest/mr1",
            "dosageInstruction[0].doseAndRate[0].doseQuantity.value is not a number",
        ),
    )


def test_full_validation_maps_the_fixture_orders_identically():
    fast = map_draft_orders(load("draft-orders.json"))
    full = map_draft_orders(
        load("draft-orders.json"), MappingOptions(validation=ValidationMode.MODELS)
    )
    assert fast == full
