"""SPEC 2.1 and 4 (review finding): administrations or procedures that cannot be read in full.

The administrations are searched newest first, so day 0's CAR T-cell infusion is the oldest row,
on the last page. When the search is refused, a later page fails, the page limit or the time
budget stops it, that row is not read; nothing else puts the patient in scope, and the answer
was ``{"cards": []}`` with only a log line, for a patient on two vasopressors with a positive
blood culture. Now the CRS check is said to be incomplete: patient-view answers the "CRS check
incomplete" card, and the order hooks still make the draft-order checks that need no grade
(a 1000 mg tocilizumab order is above the 800 mg maximum whatever the grade).

The charts are the seed's Case 3 (grade 3 on two vasopressors, a positive blood culture, day 5)
with its CAR T-cell infusion charted as an administration (the demo charts it as a Procedure
only) and Case 2 (grade 3, day 14), their Procedures left out: the infusion is found only among
the administrations, and the chart read in full grades 3.
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
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)

DAY0 = date(2026, 6, 1)
SUMMARY = "CRS check incomplete: a CAR T-cell or bispecific antibody therapy could not be confirmed"
LEAD = (
    "Whether a CAR T-cell or bispecific antibody therapy was given could not be confirmed: the "
    "records that would show it could not be read in full. CRS was not graded."
)
UNREAD = "**Data not read:** Medication administrations could not be read."
PARTIAL = "**Data not read:** Medication administrations were read only in part."


INFUSION = "crs-demo-case3-cell-infusion-1"


def _as_administration(procedure):
    """A cell-infusion Procedure charted as a MedicationAdministration instead."""
    return {
        "resourceType": "MedicationAdministration",
        "id": procedure["id"],
        "status": procedure["status"],
        "medicationCodeableConcept": procedure["code"],
        "subject": procedure["subject"],
        "effectivePeriod": procedure["performedPeriod"],
    }


def _chart(case="case3"):
    """The case as the EHR holds it at its moment, its cell infusion an administration and no
    Procedures."""
    as_of = moment(case, DAY0)
    chart = [
        _as_administration(r) if r["id"] == INFUSION else r
        for r in ehr_resources(case, as_of, DAY0)
        if r["resourceType"] != "Procedure" or r["id"] == INFUSION
    ]
    return as_of, chart, patient_id_of(chart)


def _first_page_only(chart, page_size):
    """The prefetch of every key in full, but of the administrations the first page only, with
    a ``next`` link on ``FHIR`` (the infusion, the oldest, is not on it)."""
    prefetch = prefetch_for(chart)
    prefetch["medications"] = prefetch_for(chart, page_size=page_size)["medications"]
    first = [e["resource"]["id"] for e in prefetch["medications"]["entry"]]
    assert INFUSION not in first
    return prefetch


def _post(app, body, hook="patient-view"):
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert schema_errors("CdsResponse", answer) == []
    return answer


def _refused(mocked_http, chart, patient_id):
    serve_fhir(mocked_http, chart, fail={"MedicationAdministration": 400})
    prefetch = prefetch_for(chart)
    del prefetch["medications"]
    # Asked again without _sort and _include (the alternate search), refused too.
    return (
        {},
        prefetch,
        (
            "could not be read (the FHIR server answered HTTP 400; searched without _sort and "
            "_include: the FHIR server answered HTTP 400)"
        ),
    )


def _later_page_failed(mocked_http, chart, patient_id):
    serve_fhir(mocked_http, chart, page_size=10, fail={"MedicationAdministration": 500})
    return (
        {},
        _first_page_only(chart, 10),
        "were read only in part (the FHIR server answered HTTP 500)",
    )


def _page_limit(mocked_http, chart, patient_id):
    serve_fhir(mocked_http, chart, page_size=5)
    settings = {"CRS_CDS_FHIR_MAX_PAGES": "3"}
    return (
        settings,
        _first_page_only(chart, 5),
        ("were read only in part (read the first 3 pages only (page limit))"),
    )


#: Reading ``MedicationAdministration`` past the budget; set at the end of each test.
_RELEASE = threading.Event()


def _slow_server(mocked_http, chart, patient_id):
    def hang(request):
        _RELEASE.wait(60)
        return 500, {}, "{}"

    # Registered first, so it answers the next pages; the rest is the chart's server.
    mocked_http.add_callback(
        responses.GET, re.compile(re.escape(FHIR) + r"/MedicationAdministration\?.*"), hang
    )
    serve_fhir(mocked_http, chart, page_size=10)
    settings = {"CRS_CDS_FHIR_TIMEOUT_S": "0.5"}
    return settings, _first_page_only(chart, 10), "were read only in part (timed out after 0.5 s)"


WAYS = [
    (_refused, UNREAD, "the server refuses the search (400)"),
    (_later_page_failed, PARTIAL, "a later page fails (500)"),
    (_page_limit, PARTIAL, "the page limit is reached"),
    (_slow_server, PARTIAL, "the server is too slow for the budget"),
]


@pytest.fixture
def release_slow_server():
    _RELEASE.clear()
    yield
    _RELEASE.set()


@pytest.mark.parametrize(("serve", "line"), [w[:2] for w in WAYS], ids=[w[2] for w in WAYS])
def test_patient_view_says_the_check_is_incomplete_when_administrations_are_unread(
    app_at, mocked_http, release_slow_server, serve, line
):
    as_of, chart, patient_id = _chart()
    settings, prefetch, reason = serve(mocked_http, chart, patient_id)
    body = hook_body("patient-view", patient_id, prefetch=prefetch, fhir_server=FHIR)

    answer = _post(app_at(as_of, **settings), body)

    (card,) = answer["cards"]  # never silent
    assert card["summary"] == SUMMARY
    assert card["indicator"] == "info"
    assert card["detail"].startswith(LEAD)
    assert line in card["detail"]
    assert EXTENSION_KEY not in card["extension"], "no grade is claimed"
    extension = card["extension"][INCOMPLETE_EXTENSION_KEY]
    assert extension["possibleTherapies"] == []
    (gap,) = extension["dataGaps"]
    assert gap.startswith(f"medication administrations {reason}: the CRS therapy")


def test_the_chart_read_in_full_grades_3(app_at, mocked_http):
    """The control: the same first page, and a server that answers every next page."""
    as_of, chart, patient_id = _chart()
    serve_fhir(mocked_http, chart, page_size=10)
    body = hook_body(
        "patient-view", patient_id, prefetch=_first_page_only(chart, 10), fhir_server=FHIR
    )

    answer = _post(app_at(as_of), body)

    (card,) = [c for c in answer["cards"] if EXTENSION_KEY in c.get("extension", {})]
    assert card["extension"][EXTENSION_KEY]["grade"] == 3
    assert card["extension"][EXTENSION_KEY]["therapy"]["reference"] == (
        f"MedicationAdministration/{INFUSION}"
    )


def test_procedures_that_cannot_be_read_make_the_check_incomplete_too(app_at, mocked_http):
    """A cell infusion may be charted as a Procedure only (SPEC 2.1), as the demo's Case 3
    charts it: the Procedure search refused."""
    as_of = moment("case3", DAY0)
    chart = ehr_resources("case3", as_of, DAY0)
    patient_id = patient_id_of(chart)
    serve_fhir(mocked_http, chart, fail={"Procedure": 403})
    prefetch = prefetch_for(chart)
    del prefetch["procedures"]
    body = hook_body("patient-view", patient_id, prefetch=prefetch, fhir_server=FHIR)

    (card,) = _post(app_at(as_of), body)["cards"]

    assert card["summary"] == SUMMARY
    assert "**Data not read:** Procedures could not be read." in card["detail"]


def test_a_patient_whose_administrations_were_all_read_stays_without_cards(app_at, mocked_http):
    """The same chart read in full, its infusion removed: truly out of scope, no card."""
    as_of, chart, patient_id = _chart()
    chart = [r for r in chart if r["id"] != INFUSION]
    serve_fhir(mocked_http, chart, page_size=10)
    body = hook_body(
        "patient-view", patient_id, prefetch=_first_page_only(chart, 10), fhir_server=FHIR
    )

    assert _post(app_at(as_of), body) == {"cards": []}


# --- the order hooks ------------------------------------------------------------------------

#: Case 2's protocol tocilizumab dose (Lee 2014, 4 mg/kg for 55.6 kg, age >= 18 y).
PROTOCOL_DOSE = 222


def _order_body(mocked_http, hook, dose):
    as_of, chart, patient_id = _chart("case2")
    serve_fhir(mocked_http, chart, fail={"MedicationAdministration": 400})
    prefetch = prefetch_for(chart)
    del prefetch["medications"]
    orders = [draft_order("toci-1", patient_id, dose=dose)]
    return as_of, hook_body(
        hook, patient_id, prefetch=prefetch, fhir_server=FHIR, draft_orders=orders
    )


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_an_overdose_is_flagged_when_the_administrations_cannot_be_read(app_at, mocked_http, hook):
    """Review finding: order-sign answered nothing for 1000 mg of tocilizumab. The maximum
    needs no grade; the card says CRS was not graded and why, and claims no grade."""
    as_of, body = _order_body(mocked_http, hook, dose=1000)

    (card,) = _post(app_at(as_of), body, hook)["cards"]

    assert card["indicator"] == "critical"
    assert card["summary"] == (
        "Tocilizumab 1000 mg is above the 800 mg maximum per dose; protocol dose 222 mg"
    )
    detail = card["detail"]
    assert "**CRS now:** not graded: whether a CAR T-cell or bispecific antibody therapy" in (
        detail
    )
    assert "the indication and the tocilizumab interval were not checked" in detail
    assert UNREAD in detail
    assert "links" not in card, "no CRS course for a patient who is not graded"
    assert EXTENSION_KEY not in card["extension"]
    extension = card["extension"][INCOMPLETE_EXTENSION_KEY]
    assert extension["possibleTherapies"] == []
    assert extension["dataGaps"][0].startswith("medication administrations could not be read")
    (suggestion,) = card["suggestions"]
    assert suggestion["actions"][0]["resource"]["dosageInstruction"][0]["doseAndRate"][0][
        "doseQuantity"
    ]["value"] == (PROTOCOL_DOSE)


@pytest.mark.parametrize(
    ("hook", "summaries"),
    [("order-select", [SUMMARY]), ("order-sign", [])],
    ids=["order-select: the incomplete card", "order-sign: no info card"],
)
def test_a_protocol_dose_order_gets_the_incomplete_card_on_order_select_only(
    app_at, mocked_http, hook, summaries
):
    as_of, body = _order_body(mocked_http, hook, dose=PROTOCOL_DOSE)

    answer = _post(app_at(as_of), body, hook)

    assert [card["summary"] for card in answer["cards"]] == summaries
