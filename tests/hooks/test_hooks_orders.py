"""crs-order-select and crs-order-sign through the service, on the seed cases.

Issue 4: draft tocilizumab, corticosteroid, anakinra and siltuximab orders are checked against
the protocol dose and the 800 mg cap (critical above the cap, warning when more than 10% off,
with an ``update`` suggestion carrying the corrected order), the indication against the grade,
the tocilizumab interval and the attribution warnings; order-sign shows warnings and critical
findings only; a patient out of scope gets no cards.
"""

from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.cards import EXTENSION_KEY

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


def _answer(app_at, case, hook, orders, selections=None):
    as_of = moment(case, DAY0)
    resources = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(resources)
    body = hook_body(
        hook,
        patient_id,
        prefetch=prefetch_for(resources),
        draft_orders=[order(patient_id) for order in orders],
        selections=selections,
    )
    response = app_at(as_of).test_client().post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"], patient_id


def _toci(dose, order_id="toci-1", unit="mg"):
    return lambda patient_id: draft_order(order_id, patient_id, dose=dose, unit=unit)


def _dexamethasone(dose, order_id="dex-1"):
    return lambda patient_id: draft_order(
        order_id, patient_id, drug="dexamethasone", rxnorm="3264", dose=dose
    )


def _by_summary(cards, start):
    matches = [card for card in cards if card["summary"].startswith(start)]
    assert len(matches) == 1, [card["summary"] for card in cards]
    return matches[0]


def _only_extension_card(cards):
    carriers = [card for card in cards if EXTENSION_KEY in card.get("extension", {})]
    assert len(carriers) == 1  # SPEC section 4: at most one on the order hooks
    return carriers[0]


def test_an_order_more_than_10_percent_off_gets_a_warning_with_the_corrected_order(app_at):
    """Issue 4: warning above 10% off the protocol dose, with an update suggestion (seed
    Tocilizumab: 8 mg/kg in children; Case 3 weighs 36.4 kg -> 291 mg)."""
    cards, patient_id = _answer(app_at, "case3", "order-sign", [_toci(400)])

    card = _by_summary(cards, "Tocilizumab 400 mg is 37% above the protocol dose (291 mg)")
    assert card["indicator"] == "warning"
    (suggestion,) = card["suggestions"]
    assert card["selectionBehavior"] == "at-most-one"
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["id"] == "toci-1"
    assert resource["intent"] == "order" and resource["status"] == "draft"  # the draft, kept
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] == {
        "value": 291,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    MedicationRequest.model_validate(resource)
    # SPEC 2.7: infection signals -> no immunosuppression preselected, not even a correction.
    assert suggestion["isRecommended"] is False


def test_infection_signals_make_a_critical_card_on_the_order_and_carry_the_extension(app_at):
    """SPEC 2.7 [seed attribution]: hypotension from sepsis would not call for tocilizumab."""
    cards, _ = _answer(app_at, "case3", "order-sign", [_toci(291)])

    card = _by_summary(cards, "Infection could explain this picture")
    assert card["indicator"] == "critical"
    assert "Hypotension from sepsis would not call for tocilizumab" in card["detail"]
    assert _only_extension_card(cards) is card  # the most severe card carries it
    assert card["extension"][EXTENSION_KEY]["grade"] == 3
    assert [link["type"] for link in card["links"]] == ["smart", "absolute"]
    assert cards[0] is card


def test_an_order_above_the_maximum_is_critical_with_the_protocol_dose(app_at):
    """Seed Corticosteroids: dexamethasone maximum 10 mg per dose (Case 2, 55.6 kg)."""
    cards, _ = _answer(app_at, "case2", "order-sign", [_dexamethasone(20)])

    card = _by_summary(
        cards, "Dexamethasone 20 mg is above the 10 mg maximum per dose; protocol dose 10 mg"
    )
    assert card["indicator"] == "critical"
    (suggestion,) = card["suggestions"]
    assert suggestion["isRecommended"] is True  # no infection signal in Case 2 on day 14
    resource = suggestion["actions"][0]["resource"]
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 10


def test_tocilizumab_above_800_mg_is_critical(app_at):
    """Label: no more than 800 mg per infusion."""
    cards, _ = _answer(app_at, "case2", "order-sign", [_toci(1000)])

    card = _by_summary(cards, "Tocilizumab 1000 mg is above the 800 mg maximum per dose")
    assert card["indicator"] == "critical"


def test_a_redose_within_8_hours_is_critical(app_at):
    """Label: at least 8 h between tocilizumab doses (Figure 3: dose at 12:30, now 20:00)."""
    cards, _ = _answer(app_at, "figure3", "order-sign", [_toci(328)])

    card = _by_summary(cards, "Tocilizumab less than 8 h after the last dose")
    assert card["indicator"] == "critical"
    assert "not before" in card["detail"]


def test_order_sign_shows_no_info_cards_and_order_select_does(app_at):
    """SPEC section 4: crs-order-sign shows warnings and critical findings only."""
    sign, _ = _answer(app_at, "figure3", "order-sign", [_toci(328)])
    select, _ = _answer(app_at, "figure3", "order-select", [_toci(328)])

    assert {card["indicator"] for card in sign} == {"critical"}
    assert "info" in {card["indicator"] for card in select}
    masked = _by_summary(select, "Tocilizumab or a corticosteroid given")
    assert masked["indicator"] == "info"
    assert len(select) == len(sign) + 1


def test_tocilizumab_at_grade_1_is_a_warning(app_at):
    """Seed Figure 2: grade 1 calls for symptomatic treatment only (Case 1, day 2)."""
    cards, _ = _answer(app_at, "case1", "order-sign", [_toci(306)])

    card = _by_summary(cards, "Tocilizumab at CRS grade 1: symptomatic treatment only")
    assert card["indicator"] == "warning"


def test_order_select_checks_only_the_selected_orders(app_at):
    """CDS Hooks order-select: context.selections names the orders just selected."""
    cards, _ = _answer(
        app_at,
        "case2",
        "order-select",
        [_toci(1000), _dexamethasone(20)],
        selections=["MedicationRequest/dex-1"],
    )

    summaries = [card["summary"] for card in cards]
    assert any(summary.startswith("Dexamethasone 20 mg") for summary in summaries)
    assert not any("Tocilizumab 1000 mg" in summary for summary in summaries)


def test_order_sign_checks_every_draft_and_shows_each_attribution_finding_once(app_at):
    cards, _ = _answer(app_at, "case3", "order-sign", [_toci(400), _dexamethasone(20)])

    summaries = [card["summary"] for card in cards]
    assert sum(s.startswith("Infection could explain") for s in summaries) == 1
    assert any(s.startswith("Tocilizumab 400 mg") for s in summaries)
    assert any(s.startswith("Dexamethasone 20 mg") for s in summaries)
    _only_extension_card(cards)


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_no_cards_without_a_crs_directed_draft_order(app_at, hook):
    """Issue 4: only tocilizumab, corticosteroid, anakinra and siltuximab orders are checked."""
    acetaminophen = lambda patient_id: draft_order(  # noqa: E731
        "apap-1", patient_id, drug="acetaminophen", rxnorm="161", dose=500
    )
    cards, _ = _answer(app_at, "case3", hook, [acetaminophen])
    assert cards == []


def test_a_draft_order_at_the_protocol_dose_in_a_clean_case_has_no_cards_at_signing(app_at):
    """Case 2, day 14: grade 3, tocilizumab first line, 222 mg is the protocol dose."""
    cards, _ = _answer(app_at, "case2", "order-sign", [_toci(222)])
    assert cards == []


def _unreadable_toci(order_id="toci-bad"):
    """A draft whose drug cannot be identified: its Medication is neither sent nor readable."""

    def build(patient_id):
        order = draft_order(order_id, patient_id, dose=290)
        del order["medicationCodeableConcept"]
        order["medicationReference"] = {"reference": "Medication/not-sent"}
        return order

    return build


def _toci_dose_as_text(order_id="toci-text"):
    def build(patient_id):
        order = draft_order(order_id, patient_id, dose=290)
        order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "lots"
        return order

    return build


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_draft_order_that_cannot_be_read_is_reported_not_silently_passed(app_at, hook):
    """Standards: one malformed FHIR resource is skipped AND reported. A draft order whose drug
    cannot be identified gets a warning card naming why; it is never answered with silence,
    which would look like a checked order."""
    cards, _ = _answer(
        app_at,
        "case3",
        hook,
        [_unreadable_toci()],
        selections=["MedicationRequest/toci-bad"] if hook == "order-select" else None,
    )
    unread = _by_summary(cards, "Draft order not checked")
    assert unread["indicator"] == "warning"
    assert "MedicationRequest/" not in unread["detail"]  # SPEC 4: ids live in the extension
    with_extension = [card for card in cards if EXTENSION_KEY in card.get("extension", {})]
    assert len(with_extension) == 1
    skipped = with_extension[0]["extension"][EXTENSION_KEY]["skipped"]
    assert "MedicationRequest/toci-bad" in {item["reference"] for item in skipped}


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_dose_that_cannot_be_read_loses_only_the_dose(app_at, hook):
    """SPEC 3: one unreadable element loses only that element (found in review: a dose sent as
    a string skipped the whole order, and the critical findings on it were lost). The order is
    checked: its dose is called unreadable with the protocol dose, and the extension lists the
    element; no "not checked" card."""
    cards, _ = _answer(
        app_at,
        "case3",
        hook,
        [_toci_dose_as_text()],
        selections=["MedicationRequest/toci-text"] if hook == "order-select" else None,
    )
    summaries = [card["summary"] for card in cards]
    assert not [s for s in summaries if s.startswith("Draft order not checked")], summaries
    assert any("could not be read" in s or "dose" in s.lower() for s in summaries), summaries
    with_extension = [card for card in cards if EXTENSION_KEY in card.get("extension", {})]
    skipped = with_extension[0]["extension"][EXTENSION_KEY]["skipped"]
    (element,) = [item for item in skipped if item["reference"] == "MedicationRequest/toci-text"]
    assert element["reason"].endswith("only this element was not used")


def test_a_patient_out_of_scope_gets_no_card_for_an_unreadable_order(app_at):
    """SPEC 2.1: out of scope, no cards on any hook, unreadable orders included."""
    as_of = moment("case1", DAY0).replace(year=2027)
    resources = ehr_resources("case1", as_of, DAY0)
    patient_id = patient_id_of(resources)
    body = hook_body(
        "order-sign",
        patient_id,
        prefetch=prefetch_for(resources),
        draft_orders=[_unreadable_toci()(patient_id)],
    )
    response = app_at(as_of).test_client().post("/cds-services/crs-order-sign", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def _toci_with_subject(subject, order_id="toci-other"):
    """Case 3 weighs 36.4 kg: 400 mg would be 37% above the protocol dose if it were checked."""

    def build(patient_id):
        order = draft_order(order_id, patient_id, dose=400)
        if subject is None:
            del order["subject"]
        else:
            order["subject"] = {"reference": subject.format(patient_id=patient_id)}
        return order

    return build


FOREIGN_SUBJECTS = [
    ("Patient/someone-else", "is for another patient"),
    ("Patient/someone-else?_x=/Patient/{patient_id}", "names no patient"),
    ("Patient/someone-else/x/Patient/{patient_id}", "names no patient"),
    ("https://elsewhere.example/fhir/Patient/{patient_id}", "names no patient"),
    (None, "names no patient"),
]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize(
    ("subject", "reason"),
    FOREIGN_SUBJECTS,
    ids=["another patient", "a query string", "extra segments", "another host", "no subject"],
)
def test_a_draft_order_of_another_patient_is_never_checked_and_says_so_spec3(
    app_at, hook, subject, reason
):
    """SPEC 3, References: draft orders for another patient are never checked against this
    patient. The order gets no dose check (no silent check) and a "not checked" card names it;
    the extension's ``skipped`` list carries the reason for the integrator."""
    cards, _ = _answer(app_at, "case3", hook, [_toci_with_subject(subject)])

    assert not any("above the protocol dose" in card["summary"] for card in cards)
    unread = _by_summary(cards, "Draft order not checked")
    assert reason in unread["detail"]
    assert "MedicationRequest/" not in unread["detail"]  # SPEC 4: ids live in the extension
    skipped = _only_extension_card(cards)["extension"][EXTENSION_KEY]["skipped"]
    reasons = {item["reference"]: item["reason"] for item in skipped}
    assert reason in reasons["MedicationRequest/toci-other"]


def test_this_patients_order_is_still_checked_beside_another_patients_spec3(app_at):
    cards, _ = _answer(
        app_at, "case3", "order-sign", [_toci(400), _toci_with_subject("Patient/someone-else")]
    )
    assert _by_summary(cards, "Tocilizumab 400 mg is 37% above the protocol dose")
    assert _by_summary(cards, "Draft order not checked")


def test_a_redose_too_soon_is_critical_even_when_the_dose_is_sent_as_text(app_at):
    """The review's call: figure 3 at 20:00, tocilizumab given at 12:30, a draft with
    doseQuantity.value "400": before, one "not checked" warning; now the critical redose."""
    cards, _ = _answer(app_at, "figure3", "order-sign", [_toci_dose_as_text()])
    card = _by_summary(cards, "Tocilizumab less than 8 h after the last dose")
    assert card["indicator"] == "critical"


def test_order_select_reports_only_the_selected_drafts_that_could_not_be_read(app_at):
    """An unselected draft that cannot be read makes no "not checked" card on order-select
    (final review: the filter had no test); selected, it does."""
    drafts = [_toci(291, order_id="toci-ok"), _unreadable_toci()]
    cards, _ = _answer(
        app_at, "case3", "order-select", drafts, selections=["MedicationRequest/toci-ok"]
    )
    assert not [c for c in cards if c["summary"].startswith("Draft order not checked")]
    cards, _ = _answer(
        app_at, "case3", "order-select", drafts, selections=["MedicationRequest/toci-bad"]
    )
    assert [c for c in cards if c["summary"].startswith("Draft order not checked")]


def test_a_skipped_draft_sharing_an_id_with_a_checked_one_still_gets_its_card(app_at):
    """Final review: another patient's tocilizumab draft with the same id as this patient's was
    filed as an element report of the checked one, and its "not checked" card was lost."""
    other = _toci_with_subject("Patient/someone-else", order_id="x")
    cards, _ = _answer(app_at, "case3", "order-sign", [_toci(400, order_id="x"), other])
    assert [c for c in cards if c["summary"].startswith("Draft order not checked")]
