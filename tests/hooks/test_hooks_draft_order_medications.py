"""SPEC 3, Medications by reference, on the order hooks: a draft MedicationRequest that names
its drug by ``medicationReference`` only, to a Medication that ``draftOrders`` does not carry,
is still checked. The Medication is looked up in the patient's data (an administration of the
same formulary item brought it, included or read), else read with ``GET Medication/{id}`` from
``fhirServer`` within the call's budget. Found in a review: such an order was only "not
checked", and a 1,000 mg tocilizumab order went to signing without its critical card.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import responses

from .support import (
    FHIR,
    draft_order,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
)

DAY0 = date(2026, 6, 1)
SIGN = "/cds-services/crs-order-sign"
FORMULARY = "toci-formulary"
TOCILIZUMAB: dict[str, Any] = {
    "resourceType": "Medication",
    "id": FORMULARY,
    "code": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "612865",
                "display": "tocilizumab",
            }
        ],
        "text": "tocilizumab 20 mg/mL injection",
    },
}


def _order_by_reference(patient_id: str, dose: float) -> dict[str, Any]:
    order = draft_order("toci-ref", patient_id, dose=dose)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": f"Medication/{FORMULARY}"}
    return order


def _sign(
    app_at,
    *,
    with_medication: bool,
    fhir_server: str | None,
    dose: float = 1000,
    given_by_reference: bool = False,
):
    as_of = moment("case2", DAY0)
    resources = ehr_resources("case2", as_of, DAY0)
    patient_id = patient_id_of(resources)
    prefetch = prefetch_for(resources)
    if with_medication:  # the medications key brought it (an administration named it)
        prefetch["medications"]["entry"].append(
            {"resource": TOCILIZUMAB, "search": {"mode": "include"}}
        )
    if given_by_reference:  # an administration names the same Medication, not included
        given = {
            "resourceType": "MedicationAdministration",
            "id": "toci-given",
            "status": "completed",
            "medicationReference": {"reference": f"Medication/{FORMULARY}"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": (as_of - timedelta(days=2)).isoformat(),
        }
        prefetch["medications"]["entry"].append({"resource": given, "search": {"mode": "match"}})
    body = hook_body(
        "order-sign",
        patient_id,
        prefetch=prefetch,
        fhir_server=fhir_server,
        draft_orders=[_order_by_reference(patient_id, dose)],
    )
    response = app_at(as_of).test_client().post(SIGN, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


def _summaries(cards: list[dict[str, Any]]) -> list[str]:
    return [card["summary"] for card in cards]


def test_label_the_medication_is_read_from_the_fhir_server_and_the_order_checked(
    app_at, mocked_http
):
    """Tocilizumab label: no more than 800 mg per infusion; the drug known only by reference."""
    mocked_http.add(responses.GET, f"{FHIR}/Medication/{FORMULARY}", json=TOCILIZUMAB)
    cards = _sign(app_at, with_medication=False, fhir_server=FHIR)
    critical = [c for c in cards if c["summary"].startswith("Tocilizumab 1000 mg is above")]
    assert [c["indicator"] for c in critical] == ["critical"], _summaries(cards)
    assert not any(s.startswith("Draft order not checked") for s in _summaries(cards))
    reads = [urlsplit(call.request.url).path for call in mocked_http.calls]
    assert reads == [f"/fhir/Medication/{FORMULARY}"]  # read once, from fhirServer only
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer fhir-access-token-xyz"


def test_the_medication_in_the_patients_data_resolves_the_order_without_a_read(app_at):
    cards = _sign(app_at, with_medication=True, fhir_server=None)
    assert any(s.startswith("Tocilizumab 1000 mg is above") for s in _summaries(cards))


def test_an_unreadable_medication_leaves_the_order_not_checked_and_says_so(app_at, mocked_http):
    """Standards: a FHIR server that is down degrades; the order is reported, never passed."""
    mocked_http.add(responses.GET, f"{FHIR}/Medication/{FORMULARY}", status=503)
    cards = _sign(app_at, with_medication=False, fhir_server=FHIR)
    assert any(s.startswith("Draft order not checked") for s in _summaries(cards))
    assert not any(s.startswith("Tocilizumab 1000 mg") for s in _summaries(cards))
    reads = [urlsplit(call.request.url).path for call in mocked_http.calls]
    assert reads == [f"/fhir/Medication/{FORMULARY}"]  # it was tried, once


def test_a_medication_an_administration_could_not_read_is_not_read_again(app_at, mocked_http):
    """SPEC 3 / docs/integration.md: each Medication id is read once per call."""
    mocked_http.add(responses.GET, f"{FHIR}/Medication/{FORMULARY}", status=503)
    cards = _sign(app_at, with_medication=False, fhir_server=FHIR, given_by_reference=True)
    assert any(s.startswith("Draft order not checked") for s in _summaries(cards))
    reads = [urlsplit(call.request.url).path for call in mocked_http.calls]
    assert reads == [f"/fhir/Medication/{FORMULARY}"]
