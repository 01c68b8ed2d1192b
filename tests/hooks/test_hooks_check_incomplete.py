"""SPEC 2.1 and 3: a therapy whose Medication cannot be read. A patient whose CAR T-cell
infusion names its drug only by a reference to a Medication that was neither sent nor readable
(no fhirServer, the read failed, the time budget was spent) looked out of scope and got no card.
Now the answer is one info card, "CRS check incomplete", saying that the therapy could not be
confirmed and which data could not be read; only with that evidence (an administration in the
scope window whose drug could not be identified), never for every out-of-scope patient.

The chart is the seed's Case 1 (a CD19 CAR T-cell infusion on day 0), its infusion's drug moved
into a Medication named by reference only.
"""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
import responses
from reliability.harness import schema_errors

from cds_service.cards import EXTENSION_KEY, INCOMPLETE_EXTENSION_KEY

from .support import (
    FHIR,
    SERVICE_OF_HOOK,
    draft_order,
    ehr_resources,
    hook_body,
    medications_by_reference,
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)

DAY0 = date(2026, 6, 1)
AS_OF = moment("case1", DAY0)  # day 2 after the infusion
INFUSION = "MedicationAdministration/crs-demo-case1-cell-infusion-1"
SUMMARY = "CRS check incomplete: a CAR T-cell or bispecific antibody therapy could not be confirmed"
UNREAD_LINE = "1 drug record named by a medication administration could not be read."


def _chart(only="cell-infusion"):
    inline = ehr_resources("case1", AS_OF, DAY0)
    return medications_by_reference(inline, only=only)


def _post(app, body, hook="patient-view"):
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _the_incomplete_card(answer):
    (card,) = answer["cards"]
    assert card["summary"] == SUMMARY
    assert card["indicator"] == "info"
    assert EXTENSION_KEY not in card.get("extension", {}), "no grade is claimed"
    return card, card["extension"][INCOMPLETE_EXTENSION_KEY]


def test_a_medication_read_that_fails_gives_the_incomplete_card_spec2_1(app_at, mocked_http):
    chart = _chart()
    serve_fhir(mocked_http, chart, fail={"Medication/": 404})
    body = hook_body(
        "patient-view",
        patient_id_of(chart),
        prefetch=prefetch_for(chart, includes=False),
        fhir_server=FHIR,
    )

    answer = _post(app_at(AS_OF), body)

    card, extension = _the_incomplete_card(answer)
    detail = card["detail"]
    assert detail.startswith(
        "Whether a CAR T-cell or bispecific antibody therapy was given could not be confirmed"
    )
    assert "the drug of 1 medication administration on 1 Jun 10:00 could not be identified" in (
        detail
    )
    assert "CRS was not graded." in detail
    assert "**Data not read:** " + UNREAD_LINE in detail
    assert "Medication/" not in detail and "crs-demo" not in detail, "no FHIR ids on the card"
    assert extension["possibleTherapies"] == [INFUSION]
    (gap,) = extension["dataGaps"]
    assert "1 could not be read (the FHIR server answered HTTP 404)" in gap
    assert card["source"]["label"].startswith("CRS CDS: patients are checked after a CAR T-cell")
    assert "links" not in card, "no SMART course for a patient who is not graded"
    assert schema_errors("CdsResponse", answer) == []


def test_without_fhir_server_the_unincluded_medication_gives_the_incomplete_card(app_at):
    chart = _chart()
    body = hook_body(
        "patient-view", patient_id_of(chart), prefetch=prefetch_for(chart, includes=False)
    )

    card, extension = _the_incomplete_card(_post(app_at(AS_OF), body))

    assert UNREAD_LINE in card["detail"]
    assert extension["possibleTherapies"] == [INFUSION]
    (gap,) = extension["dataGaps"]
    assert "were not included and no fhirServer was given" in gap


def test_a_medication_read_past_the_budget_gives_the_incomplete_card(app_at, mocked_http):
    release = threading.Event()

    def hang(request):
        release.wait(60)
        return 404, {}, "{}"

    chart = _chart()
    # Registered first, so it answers the Medication reads; the rest is the chart's server.
    mocked_http.add_callback(responses.GET, re.compile(re.escape(FHIR) + "/Medication/.*"), hang)
    serve_fhir(mocked_http, chart)
    body = hook_body(
        "patient-view",
        patient_id_of(chart),
        prefetch=prefetch_for(chart, includes=False),
        fhir_server=FHIR,
    )
    try:
        answer = _post(app_at(AS_OF, CRS_CDS_FHIR_TIMEOUT_S="0.5"), body)
    finally:
        release.set()

    card, extension = _the_incomplete_card(answer)
    # The read of the key ran out of time while reading its Medications.
    assert (
        "**Data not read:** Medication administrations were read only in part." in (card["detail"])
    )
    (gap,) = extension["dataGaps"]
    assert "timed out after 0.5 s" in gap


def test_every_unidentified_administration_in_the_window_is_a_possible_therapy(app_at):
    """Any drug that could not be read may have been the therapy: all eight administrations
    of the chart (conditioning, the infusion, antibiotics), the earliest and latest dated."""
    chart = _chart(only=None)
    body = hook_body(
        "patient-view", patient_id_of(chart), prefetch=prefetch_for(chart, includes=False)
    )

    card, extension = _the_incomplete_card(_post(app_at(AS_OF), body))

    assert len(extension["possibleTherapies"]) == 8
    assert INFUSION in extension["possibleTherapies"]
    assert (
        "the drug of 8 medication administrations from 28 May 09:00 to 3 Jun 07:00 could not "
        "be identified" in card["detail"]
    )


def test_a_patient_whose_drugs_are_all_identified_gets_no_card_spec2_1(app_at):
    """Out of scope with every drug read: no card at all (a CRS service that talks about every
    patient is switched off)."""
    chart = [r for r in ehr_resources("case1", AS_OF, DAY0) if "cell-infusion" not in r["id"]]
    body = hook_body("patient-view", patient_id_of(chart), prefetch=prefetch_for(chart))

    assert _post(app_at(AS_OF), body) == {"cards": []}


def test_an_unreadable_drug_given_before_the_scope_window_is_no_evidence(app_at):
    """Given 31 days ago, not 30 or fewer: it could not put the patient in scope either."""
    chart = _chart()
    body = hook_body(
        "patient-view", patient_id_of(chart), prefetch=prefetch_for(chart, includes=False)
    )
    later = AS_OF.replace(day=2, month=7)  # 31 days after the infusion ended

    assert _post(app_at(later), body) == {"cards": []}


@pytest.mark.parametrize("status", ["entered-in-error", "not-done"])
def test_an_unreadable_drug_that_was_not_given_is_no_evidence(app_at, status):
    chart = _chart()
    for resource in chart:
        if resource["id"] == INFUSION.split("/")[1]:
            resource["status"] = status
    body = hook_body(
        "patient-view", patient_id_of(chart), prefetch=prefetch_for(chart, includes=False)
    )

    assert _post(app_at(AS_OF), body) == {"cards": []}


def test_a_patient_in_scope_gets_the_assessment_card_not_the_incomplete_one(app_at):
    """Case 1 with its infusion inline and an antibiotic's drug unreadable: the therapy is
    confirmed, so the assessment card says which data could not be read, and nothing else."""
    chart = _chart(only="cefepime")
    body = hook_body(
        "patient-view", patient_id_of(chart), prefetch=prefetch_for(chart, includes=False)
    )

    answer = _post(app_at(AS_OF), body)

    assert all(card["summary"] != SUMMARY for card in answer["cards"])
    (main,) = [card for card in answer["cards"] if EXTENSION_KEY in card.get("extension", {})]
    assert (
        "3 drug records named by medication administrations could not be read"
        not in (main["detail"])
    ), "cefepime is one Medication, named by three administrations"
    assert (
        "1 drug record named by a medication administration could not be read" in (main["detail"])
    )


#: Case 1's protocol tocilizumab dose (8 mg/kg, age 11 y): an order of it has no dose finding.
PROTOCOL_DOSE = 306


def test_order_select_of_a_crs_drug_gets_the_incomplete_card(app_at):
    """A CRS-directed draft with nothing the grade-free checks find: the incomplete card."""
    chart = _chart()
    patient_id = patient_id_of(chart)
    body = hook_body(
        "order-select",
        patient_id,
        prefetch=prefetch_for(chart, includes=False),
        draft_orders=[draft_order("toci-1", patient_id, dose=PROTOCOL_DOSE)],
    )

    _the_incomplete_card(_post(app_at(AS_OF), body, "order-select"))


def test_order_select_of_another_drug_gets_no_card(app_at):
    chart = _chart()
    patient_id = patient_id_of(chart)
    order = draft_order("apap-1", patient_id, drug="acetaminophen", rxnorm="161", dose=650)
    body = hook_body(
        "order-select",
        patient_id,
        prefetch=prefetch_for(chart, includes=False),
        draft_orders=[order],
    )

    assert _post(app_at(AS_OF), body, "order-select") == {"cards": []}


def test_order_sign_shows_no_info_card(app_at):
    chart = _chart()
    patient_id = patient_id_of(chart)
    body = hook_body(
        "order-sign",
        patient_id,
        prefetch=prefetch_for(chart, includes=False),
        draft_orders=[draft_order("toci-1", patient_id, dose=PROTOCOL_DOSE)],
    )

    assert _post(app_at(AS_OF), body, "order-sign") == {"cards": []}


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_an_overdose_is_still_flagged_when_the_check_is_incomplete(app_at, hook):
    """The dose checks need no grade: 1000 mg of tocilizumab is above the 800 mg maximum
    whether or not the therapy is confirmed (review finding). The card says CRS was not
    graded, and claims no grade."""
    chart = _chart()
    patient_id = patient_id_of(chart)
    body = hook_body(
        hook,
        patient_id,
        prefetch=prefetch_for(chart, includes=False),
        draft_orders=[draft_order("toci-1", patient_id, dose=1000)],
    )

    (card,) = _post(app_at(AS_OF), body, hook)["cards"]

    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Tocilizumab 1000 mg is above the 800 mg maximum per dose")
    assert "**CRS now:** not graded" in card["detail"]
    assert UNREAD_LINE in card["detail"]
    assert EXTENSION_KEY not in card["extension"], "no grade is claimed"
    assert card["extension"][INCOMPLETE_EXTENSION_KEY]["possibleTherapies"] == [INFUSION]
    assert card["suggestions"][0]["actions"][0]["type"] == "update"  # to the protocol dose
