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
            position=1,
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


def test_a_malformed_dose_loses_only_the_dose():
    """SPEC 3: one unreadable element loses only that element (found in review: a dose sent as
    a string skipped the whole order, and its critical redose finding with it)."""
    request = _request({"text": "tocilizumab"}, {"value": "eight", "unit": "mg/kg"})
    orders, skipped = map_draft_orders(_bundle(request, _request({"text": "Kineret"}, id="mr2")))
    assert [(o.agent, o.dose_value) for o in orders] == [
        (Immunosuppressant.TOCILIZUMAB, None),
        (Immunosuppressant.ANAKINRA, None),
    ]
    assert skipped == (
        SkippedResource(
            "MedicationRequest/mr1",
            "dosageInstruction[0].doseAndRate[0].doseQuantity.value is not a number: only this "
            "element was not used",
        ),
    )


def test_a_malformed_route_loses_only_the_route():
    request = _request({"text": "tocilizumab"}, quantity(400, "mg"), route="intravenous")
    (order,), (skipped,) = map_draft_orders(_bundle(request))
    assert (order.dose_value, order.route) == (400.0, None)
    assert skipped.reason.endswith("only this element was not used")


@pytest.mark.parametrize(
    ("medication", "reported"),
    [
        ({"text": "acetaminophen 650 mg"}, False),
        ({"text": "predniSONE 20 mg"}, False),
        ({"text": "tocilizumab"}, True),
    ],
    ids=[
        "another drug of another patient: not our business",
        "a prednisone taper of another patient: not a CRS order",
        "tocilizumab of another patient: reported, never checked (SPEC 3)",
    ],
)
def test_only_crs_drafts_of_another_patient_are_reported(medication, reported):
    """Found in review: an acetaminophen draft of another patient made a "not checked" card."""
    request = _request(medication, quantity(10, "mg"), subject={"reference": "Patient/other"})
    orders, skipped = map_draft_orders(_bundle(request), patient_id="pat1")
    assert orders == ()
    assert bool(skipped) is reported


def test_full_validation_maps_the_fixture_orders_identically():
    fast = map_draft_orders(load("draft-orders.json"))
    full = map_draft_orders(
        load("draft-orders.json"), MappingOptions(validation=ValidationMode.MODELS)
    )
    assert fast == full


# -- timing, dose ranges and units (found in review; SPEC 4 order checks) ----------------------

_GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def _timed(timing: dict) -> dict:
    request = _request({"text": "methylprednisolone"}, quantity(70, "mg"))
    request["dosageInstruction"][0]["timing"] = timing
    return request


@pytest.mark.parametrize(
    ("timing", "per_day", "hours", "count"),
    [
        ({"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}, 2.0, 12.0, None),
        ({"repeat": {"period": 8, "periodUnit": "h"}}, 3.0, 8.0, None),
        ({"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, 2.0, 12.0, None),
        ({"repeat": {"frequency": 4, "period": 1, "periodUnit": "d", "count": 8}}, 4.0, 6.0, 8),
        ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}, 1 / 7, 168.0, None),
        ({"repeat": {"count": 1}}, None, None, 1),
        ({"code": {"coding": [{"system": _GTS, "code": "BID"}]}}, 2.0, 12.0, None),
        ({"code": {"coding": [{"system": _GTS, "code": "Q6H"}]}}, 4.0, 6.0, None),
        ({"code": {"coding": [{"system": _GTS, "code": "QD"}]}}, 1.0, 24.0, None),
        ({"code": {"text": "q12h"}}, 2.0, 12.0, None),
        ({"code": {"text": "Q 8 HRS"}}, 3.0, 8.0, None),
        ({"code": {"text": "Daily"}}, 1.0, 24.0, None),
        ({"code": {"text": "Once"}}, None, None, 1),
        ({"code": {"text": "STAT"}}, None, None, 1),
        ({"code": {"text": "as directed by the oncologist"}}, None, None, None),
        ({}, None, None, None),
    ],
    ids=[
        "FHIR Timing: 1 per 12 h",
        "FHIR Timing: per 8 h, frequency 1 when absent",
        "FHIR Timing: 2 per day",
        "FHIR Timing: 4 per day, 8 doses in all",
        "FHIR Timing: weekly",
        "FHIR Timing: count 1",
        "timing-abbreviation BID",
        "timing-abbreviation Q6H",
        "timing-abbreviation QD",
        "local text q12h",
        "local text Q 8 HRS",
        "local text Daily",
        "local text Once",
        "local text STAT",
        "free text: not read",
        "empty timing",
    ],
)
def test_the_timing_of_a_draft_order_is_read(timing, per_day, hours, count):
    (order,), skipped = map_draft_orders(_bundle(_timed(timing)))
    assert skipped == ()
    assert order.doses_per_day == (pytest.approx(per_day) if per_day is not None else None)
    interval = order.dose_interval
    assert (None if interval is None else interval.total_seconds() / 3600) == (
        pytest.approx(hours) if hours is not None else None
    )
    assert order.dose_count == count


@pytest.mark.parametrize(
    ("timing", "reason"),
    [
        ({"repeat": {"period": 12, "periodUnit": "hours"}}, "periodUnit is not a FHIR unit"),
        ({"repeat": {"period": 0, "periodUnit": "h"}}, "period is not a positive period"),
        ({"repeat": {"count": 2.5}}, "count is not a positive integer"),
        ("every 12 h", "timing is not an object"),
    ],
    ids=["unknown period unit", "period 0", "count 2.5", "timing as a string"],
)
def test_an_unreadable_timing_loses_only_the_timing(timing, reason):
    """SPEC 3: one unreadable element loses only that element; the dose is still checked."""
    (order,), (skipped,) = map_draft_orders(_bundle(_timed(timing)))
    assert (order.dose_value, order.doses_per_day, order.dose_count) == (70.0, None, None)
    assert reason in skipped.reason
    assert skipped.reason.endswith("only this element was not used")


@pytest.mark.parametrize(
    ("dose_range", "high", "basis"),
    [
        ({"low": quantity(400, "mg"), "high": quantity(1200, "mg")}, 1200.0, DoseBasis.MG),
        ({"high": quantity(1.2, "g")}, 1200.0, DoseBasis.MG),
        ({"low": quantity(4, "mg/kg"), "high": quantity(12, "mg/kg")}, 12.0, DoseBasis.MG_PER_KG),
        ({"low": quantity(4, "mL")}, None, None),
    ],
    ids=["400-1200 mg", "up to 1.2 g", "4-12 mg/kg", "no upper end"],
)
def test_a_dose_range_keeps_its_upper_end(dose_range, high, basis):
    request = _request({"text": "tocilizumab"})
    request["dosageInstruction"] = [{"doseAndRate": [{"doseRange": dose_range}]}]
    (order,), _ = map_draft_orders(_bundle(request))
    assert (order.dose_value, order.dose_high, order.dose_basis) == (None, high, basis)


@pytest.mark.parametrize(
    ("dose", "value", "basis"),
    [
        ({"value": 12, "unit": "mg", "code": "mg/kg"}, None, None),
        ({"value": 12, "unit": "mg/kg", "code": "mg"}, None, None),
        ({"value": 12, "unit": "milligram", "code": "mg"}, 12.0, DoseBasis.MG),
        ({"value": 12, "unit": "mg/kg", "code": "mg/kg"}, 12.0, DoseBasis.MG_PER_KG),
    ],
    ids=[
        "code mg/kg, unit mg: cannot tell, unread",
        "code mg, unit mg/kg: cannot tell, unread",
        "code mg, an unknown unit text: mg",
        "both mg/kg",
    ],
)
def test_a_dose_whose_code_and_unit_disagree_is_not_read_as_either(dose, value, basis):
    """Found in review: "12" coded mg/kg and written mg was read as 12 mg (95% low) when 12
    mg/kg x 55.6 kg is 667 mg; which the prescriber meant cannot be told from the order."""
    (order,), _ = map_draft_orders(_bundle(_request({"text": "tocilizumab"}, dose)))
    assert (order.dose_value, order.dose_basis) == (value, basis)


def test_a_tocilizumab_auto_injector_order_is_checked():
    """Found in review: auto-injector names made the order 'not systemic' and it got no card;
    they mean epinephrine pens (anaphylaxis), not a tocilizumab product."""
    request = _request(
        {"text": "tocilizumab 162 MG in 0.9 ML Auto-Injector [Actemra]"},
        quantity(162, "mg"),
        route={"text": "subcutaneous"},
    )
    (order,), _ = map_draft_orders(_bundle(request))
    assert (order.agent, order.dose_value) == (Immunosuppressant.TOCILIZUMAB, 162.0)


def test_drafts_sharing_an_id_keep_their_places():
    toci = _request({"text": "tocilizumab"}, quantity(400, "mg"), id="x")
    dex = _request({"text": "dexamethasone"}, quantity(20, "mg"), id="x")
    orders, _ = map_draft_orders(_bundle(toci, dex))
    assert [(o.agent, o.position) for o in orders] == [
        (Immunosuppressant.TOCILIZUMAB, 0),
        (Immunosuppressant.DEXAMETHASONE, 1),
    ]


@pytest.mark.parametrize("text", ["predniSONE 20 mg tablet", "prednisolone 15 mg/5 mL"])
def test_an_oral_corticosteroid_taper_is_not_a_crs_order(text):
    """Prednisone masks a fever (SPEC 2.7) but is no CRS treatment order to check (SPEC 4)."""
    assert map_draft_orders(_bundle(_request({"text": text}, quantity(20, "mg")))) == ((), ())
