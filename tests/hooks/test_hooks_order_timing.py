"""Order hooks: a draft's timing, route and place in draftOrders reach the check and the
correction (found in review; seed Corticosteroids 2 mg/kg/day, seed Tocilizumab, tocilizumab
USPI). Case 2 weighs 55.6 kg: methylprednisolone 2 mg/kg/day is 111 mg a day."""

from __future__ import annotations

from datetime import date

from .support import (
    SERVICE_OF_HOOK,
    draft_order,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
)

DAY0 = date(2026, 6, 1)
EVERY_12_H = {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}


def _answer(app_at, case, drafts):
    as_of = moment(case, DAY0)
    resources = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(resources)
    body = hook_body(
        "order-sign",
        patient_id,
        prefetch=prefetch_for(resources),
        draft_orders=[make(patient_id) for make in drafts],
    )
    url = f"/cds-services/{SERVICE_OF_HOOK['order-sign']}"
    response = app_at(as_of).test_client().post(url, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


def _draft(order_id, drug, rxnorm, dose, *, timing=None, route=None, text=None):
    def make(patient_id):
        resource = draft_order(order_id, patient_id, drug=drug, rxnorm=rxnorm, dose=dose)
        if timing is not None:
            resource["dosageInstruction"][0]["timing"] = timing
        if route is not None:
            resource["dosageInstruction"][0]["route"] = {"text": route}
        if text is not None:
            resource["medicationCodeableConcept"] = {"text": text}
        return resource

    return make


def _methylprednisolone(dose, timing=EVERY_12_H):
    return _draft("mp-1", "methylprednisolone", "6902", dose, timing=timing)


def _summaries(cards):
    return [card["summary"] for card in cards]


def test_a_split_methylprednisolone_order_on_protocol_gets_no_dose_card(app_at):
    """55 mg every 12 h is 110 mg a day: within 10% of 111 mg (before: "50% below")."""
    cards = _answer(app_at, "case2", [_methylprednisolone(55)])
    assert not [s for s in _summaries(cards) if "protocol dose" in s], _summaries(cards)


def test_the_correction_of_a_split_methylprednisolone_order_is_the_daily_dose_once_a_day(
    app_at,
):
    """30 mg every 12 h (60 mg a day) -> update to 111 mg once a day, never 111 mg every 12 h."""
    cards = _answer(app_at, "case2", [_methylprednisolone(30)])
    (card,) = [c for c in cards if "protocol dose" in c["summary"]]
    assert card["summary"].startswith("Methylprednisolone 30 mg x 2 a day is 46% below")
    dosage = card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 111
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}


def test_a_correction_updates_the_draft_it_was_worked_out_for_when_ids_repeat(app_at):
    """Two drafts with the same id: the dexamethasone correction carries the dexamethasone
    draft (before: the tocilizumab draft set to 10 mg)."""
    cards = _answer(
        app_at,
        "case2",
        [
            _draft("x", "tocilizumab", "612865", 1000),
            _draft("x", "dexamethasone", "3264", 20),
        ],
    )
    (dexamethasone,) = [c for c in cards if c["summary"].startswith("Dexamethasone 20 mg")]
    resource = dexamethasone["suggestions"][0]["actions"][0]["resource"]
    assert resource["medicationCodeableConcept"]["text"] == "dexamethasone"
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 10
    (tocilizumab,) = [c for c in cards if c["summary"].startswith("Tocilizumab 1000 mg")]
    resource = tocilizumab["suggestions"][0]["actions"][0]["resource"]
    assert resource["medicationCodeableConcept"]["text"] == "tocilizumab"


def test_a_subcutaneous_tocilizumab_auto_injector_order_is_checked_and_corrected_to_iv(app_at):
    """Label: IV only for CRS. Before: an auto-injector order got no card at all."""
    auto_injector = _draft(
        "toci-sc",
        "tocilizumab",
        None,
        162,
        route="subcutaneous",
        text="tocilizumab 162 MG in 0.9 ML Auto-Injector [Actemra]",
    )
    cards = _answer(app_at, "case2", [auto_injector])
    summaries = _summaries(cards)
    assert any("intravenous" in s.lower() or "IV" in s for s in summaries), summaries
    (dose_card,) = [c for c in cards if "protocol dose" in c["summary"]]
    dosage = dose_card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]
    assert dosage["route"]["text"] == "intravenous"


def test_two_tocilizumab_drafts_signed_together_are_critical(app_at):
    """Label: at least 8 h between doses; two drafts at once are two doses at once."""
    cards = _answer(
        app_at,
        "case2",
        [_draft("t-1", "tocilizumab", "612865", 222), _draft("t-2", "tocilizumab", "612865", 222)],
    )
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert any("signed together with another tocilizumab order" in c["detail"] for c in critical)
