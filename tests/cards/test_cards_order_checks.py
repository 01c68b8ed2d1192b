"""Order-hook cards for every order-check code (docs/treatment.md), from the real checks.

Issue 4: dose against the protocol and the cap, indication against the grade, the tocilizumab
interval and dose count, and the attribution warnings, each as a card whose indicator is the
finding's severity and whose summary says it in under 140 characters.
"""

from __future__ import annotations

import pytest

from cds_service.cards import EXTENSION_KEY, CheckedOrder, order_check_cards
from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant
from crs_grading.treatment import TreatmentOptions, check_draft_order

from .builders import PATIENT_ID, assessment, context

OPTIONS = TreatmentOptions()


def _order(drug="tocilizumab", dose=280.0, basis="mg", route="intravenous", order_id="d1"):
    return DraftMedicationOrder(
        agent=Immunosuppressant(drug),
        reference=f"MedicationRequest/{order_id}",
        dose_value=dose,
        dose_basis=None if basis is None else DoseBasis(basis),
        route=route,
    )


def _resource(order_id="d1", drug="tocilizumab", dose=400):
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": dose, "unit": "mg"}}]}],
    }


def _cards(value, orders, *, include_info=True, resources=None):
    checked = [
        CheckedOrder(
            order=order,
            resource=(resources or {}).get(order.reference),
            findings=check_draft_order(order, value, OPTIONS),
        )
        for order in orders
    ]
    return order_check_cards(value, checked, context(), OPTIONS, include_info=include_info)


CODES = [
    (
        "dose-above-maximum",
        {"grade": 3},
        {"dose": 1000.0},
        "critical",
        "Tocilizumab 1000 mg is above the 800 mg maximum per dose; protocol dose 280 mg",
    ),
    (
        "dose-off-protocol",
        {"grade": 3},
        {"dose": 400.0},
        "warning",
        "Tocilizumab 400 mg is 43% above the protocol dose (280 mg)",
    ),
    (
        "dose-off-protocol in mg/kg",
        {"grade": 3},
        {"dose": 8.0, "basis": "mg/kg"},
        "warning",
        "Tocilizumab 8 mg/kg is 100% above the protocol dose (280 mg)",
    ),
    (
        "dose-unchecked-no-weight",
        {"grade": 3, "weight_kg": None},
        {},
        "warning",
        "Tocilizumab dose not checked: no recent body weight",
    ),
    (
        "dose-unchecked-no-age",
        {"grade": 3, "age_years": None},
        {},
        "warning",
        "Tocilizumab dose not checked: age unknown",
    ),
    (
        "dose-unreadable",
        {"grade": 3},
        {"dose": None, "basis": None},
        "warning",
        "Tocilizumab order: the dose could not be read: protocol dose 280 mg",
    ),
    (
        "dose-no-protocol",
        {"grade": 3},
        {"drug": "anakinra", "dose": 100.0},
        "info",
        "No CRS protocol dose for anakinra: dose not checked",
    ),
    (
        "route-not-intravenous",
        {"grade": 3},
        {"route": "subcutaneous"},
        "warning",
        "Tocilizumab for CRS is given intravenously over 1 h",
    ),
    (
        "indication-grade-too-low",
        {"grade": 1},
        {},
        "warning",
        "Tocilizumab at CRS grade 1: symptomatic treatment only",
    ),
    (
        "indication-grade-too-low at grade 0",
        {"grade": 0},
        {},
        "warning",
        "Tocilizumab: no CRS criteria met now (grade 0)",
    ),
    (
        "indication-grade-2-without-risk",
        {"grade": 2},
        {},
        "info",
        "Tocilizumab at CRS grade 2 without older age or a significant comorbidity",
    ),
    (
        "corticosteroid-second-line",
        {"grade": 3},
        {"drug": "dexamethasone", "dose": 10.0},
        "info",
        "Dexamethasone: corticosteroids are second line for CRS",
    ),
    (
        "other-agent-not-routine",
        {"grade": 3},
        {"drug": "siltuximab", "dose": 770.0},
        "info",
        "Siltuximab is not a routine CRS treatment (Lee 2014)",
    ),
    (
        "too-many-doses",
        {"grade": 3, "tocilizumab_hours_ago": (96, 72, 48, 30)},
        {},
        "critical",
        "Tocilizumab dose limit reached: at most 4 doses",
    ),
    (
        "redose-too-soon",
        {"grade": 3, "tocilizumab_hours_ago": (6,)},
        {},
        "critical",
        "Tocilizumab less than 8 h after the last dose",
    ),
    (
        "redose-before-reassessment",
        {"grade": 3, "tocilizumab_hours_ago": (12,)},
        {},
        "warning",
        "Tocilizumab again before the 24 h reassessment",
    ),
    (
        "redose-below-grade-3",
        {"grade": 2, "age_years": 70, "tocilizumab_hours_ago": (30,)},
        {},
        "info",
        "Second tocilizumab dose at CRS grade 2",
    ),
    (
        "infection-could-explain",
        {"grade": 3, "warnings": ("elevated-lactate",)},
        {},
        "critical",
        "Infection could explain this picture: confirm CRS before immunosuppression",
    ),
    (
        "late-onset",
        {"grade": 3, "warnings": ("late-onset",)},
        {},
        "warning",
        "First fever more than 14 days after day 0: CRS is uncommon this late",
    ),
    (
        "masked-fever",
        {"grade": 3, "warnings": ("masked-fever",)},
        {},
        "info",
        "Tocilizumab or a corticosteroid given: fever and CRP no longer track CRS",
    ),
    (
        "iec-hs",
        {"grade": 3, "warnings": ("iec-hs",)},
        {},
        "warning",
        "Possible IEC-HS (HLH-like syndrome): ferritin high or rising",
    ),
    (
        "tocilizumab-for-icans-without-crs",
        {"grade": 0, "icans": 3},
        {},
        "warning",
        "Tocilizumab at ICANS grade 3, CRS grade 0: a corticosteroid treats ICANS",
    ),
]


@pytest.mark.parametrize(
    ("code", "facts", "order", "indicator", "summary"),
    CODES,
    ids=[f"{row[0]} is {row[3]} (docs/treatment.md)" for row in CODES],
)
def test_each_order_check_becomes_a_card_with_its_severity(code, facts, order, indicator, summary):
    cards = _cards(assessment(**facts), [_order(**order)])

    matching = [card for card in cards if card["summary"] == summary]
    assert len(matching) == 1, [card["summary"] for card in cards]
    assert matching[0]["indicator"] == indicator
    assert all(len(card["summary"]) < 140 for card in cards)


def test_order_sign_drops_info_findings_only():
    value = assessment(grade=3, warnings=("masked-fever",))
    orders = [_order("dexamethasone", 20.0)]

    select = _cards(value, orders, include_info=True)
    sign = _cards(value, orders, include_info=False)

    assert {card["indicator"] for card in sign} == {"critical"}
    assert sorted(card["summary"] for card in select if card["indicator"] != "info") == sorted(
        card["summary"] for card in sign
    )
    assert any(card["indicator"] == "info" for card in select)


def test_the_dose_card_offers_the_corrected_draft_as_an_update():
    cards = _cards(
        assessment(grade=3), [_order(dose=400.0)], resources={"MedicationRequest/d1": _resource()}
    )

    (card,) = cards
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Change to tocilizumab 280 mg (protocol dose)"
    assert suggestion["isRecommended"] is True
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == "d1"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] == {
        "value": 280,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }


def test_a_correction_is_not_preselected_when_infection_could_explain_the_picture():
    """SPEC 2.7: no immunosuppression suggestion is preselected with an infection signal."""
    cards = _cards(
        assessment(grade=3, warnings=("neutropenia",)),
        [_order(dose=400.0)],
        resources={"MedicationRequest/d1": _resource()},
    )
    (dose_card,) = [card for card in cards if "suggestions" in card]
    assert dose_card["suggestions"][0]["isRecommended"] is False


def test_the_most_severe_card_alone_carries_the_extension_and_links():
    """SPEC section 4: at most one card carries the assessment extension on the order hooks."""
    cards = _cards(
        assessment(grade=3, warnings=("positive-blood-culture",)),
        [_order(dose=400.0, order_id="d1"), _order("dexamethasone", 20.0, order_id="d2")],
    )

    carriers = [card for card in cards if EXTENSION_KEY in card.get("extension", {})]
    assert carriers == [cards[0]]
    assert cards[0]["indicator"] == "critical"
    assert "**CRS now:** grade 3 (Lee 2014)" in cards[0]["detail"]
    assert [link["type"] for link in cards[0]["links"]] == ["smart", "absolute"]
    assert all("links" not in card for card in cards[1:])
    ranks = {"critical": 2, "warning": 1, "info": 0}
    assert [ranks[c["indicator"]] for c in cards] == sorted(
        (ranks[c["indicator"]] for c in cards), reverse=True
    )


def test_an_attribution_finding_shows_once_for_several_orders():
    cards = _cards(
        assessment(grade=3, warnings=("positive-blood-culture",)),
        [_order(order_id="d1"), _order(order_id="d2")],
    )
    infection = [card for card in cards if card["summary"].startswith("Infection could explain")]
    assert len(infection) == 1


def test_no_cards_out_of_scope_or_without_findings():
    """SPEC 2.1; an order at the protocol dose for grade 3 needs no card."""
    assert _cards(assessment(grade=3, in_scope=False), [_order(dose=1000.0)]) == []
    assert _cards(assessment(grade=3), [_order(dose=280.0)]) == []
