"""crs-patient-view through the service: the seed cases, prefetch and FHIR server alike.

Issue 3: "Through the service, crs-patient-view returns the assessment extension of SPEC
section 4 ... on one card, with the prefetch and with the data fetched from the FHIR server
alike." The expected extension is the grader's own answer on the same resources at the frozen
clock, and its grade is also checked against the seed case's expected grade of that day.
"""

from __future__ import annotations

import dataclasses
import weakref
from datetime import date, timedelta

import pytest
import responses
from sqlalchemy import select

from cds_service.cards import EXTENSION_KEY, assessment_extension
from cds_service.demo import CASES, expected_grades
from cds_service.services import PREFETCH_TEMPLATES
from cds_service.storage import audit_table, get_storage
from cds_service.web import cds as cds_views
from crs_grading import assess
from fhir_maps import map_patient_record

from .support import (
    FHIR,
    MOMENTS,
    SERVICE_OF_HOOK,
    draft_order,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)

#: Day 0 of the courses in these tests: any date works, the clock is frozen relative to it.
DAY0 = date(2026, 3, 2)

#: What each seed case shows at its moment (seed cases; SPEC 2.7 warning codes).
CASE_FACTS = {
    "case3": (3, 3, 4, {"positive-blood-culture", "elevated-lactate", "infection-diagnosis"}),
    "figure3": (3, 3, 4, {"masked-fever"}),
    "case1": (1, 1, 1, {"neutropenia"}),
    "case2": (3, 3, 4, {"masked-fever"}),
}


def _call(client, hook, body):
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _extension_cards(answer):
    return [card for card in answer["cards"] if EXTENSION_KEY in card.get("extension", {})]


def _graded(resources, patient_id, as_of):
    return assessment_extension(assess(map_patient_record(resources, patient_id), as_of))


@pytest.mark.parametrize("case", CASES)
def test_patient_view_returns_the_graders_extension_on_exactly_one_card(app_at, case):
    """Issue 3, SPEC section 4: one card carries org.crscds.assessment, equal to the grader's."""
    as_of = moment(case, DAY0)
    resources = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(resources)
    client = app_at(as_of).test_client()

    answer = _call(
        client,
        "patient-view",
        hook_body("patient-view", patient_id, prefetch=prefetch_for(resources)),
    )

    (card,) = _extension_cards(answer)
    extension = card["extension"][EXTENSION_KEY]
    assert extension == _graded(resources, patient_id, as_of)
    grade, peak, astct, warnings = CASE_FACTS[case]
    assert (extension["grade"], extension["peakGrade"]) == (grade, peak)
    assert extension["otherSystems"] == {"astct2019": astct}
    assert {w["code"] for w in extension["attributionWarnings"]} == warnings
    assert extension["asOf"] == as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    day = MOMENTS[case].days
    assert extension["therapy"]["day"] == day
    # The seed storyline's expected worst grade of that day (cds_service.demo).
    assert extension["grade"] == expected_grades(case)[day].lee2014
    assert answer["cards"][0] is not None and answer["cards"][0]["uuid"] == card["uuid"]


@pytest.mark.parametrize("case", CASES)
def test_fetching_from_the_fhir_server_gives_the_same_extension_as_the_prefetch(
    app_at, mocked_http, case
):
    """Issue 3: prefetch and FHIR server alike (CDS Hooks 2.0.1 FHIR Resource Access)."""
    as_of = moment(case, DAY0)
    resources = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(resources)
    client = app_at(as_of).test_client()
    prefetched = _call(
        client,
        "patient-view",
        hook_body("patient-view", patient_id, prefetch=prefetch_for(resources)),
    )
    serve_fhir(mocked_http, resources)

    fetched = _call(client, "patient-view", hook_body("patient-view", patient_id, fhir_server=FHIR))

    assert len(mocked_http.calls) == len(PREFETCH_TEMPLATES)  # one read or search per key
    assert all(
        call.request.headers["Authorization"].startswith("Bearer ") for call in mocked_http.calls
    )
    (from_prefetch,) = _extension_cards(prefetched)
    (from_server,) = _extension_cards(fetched)
    assert from_server["extension"] == from_prefetch["extension"]
    assert from_server["summary"] == from_prefetch["summary"]


def _without_therapy(resources):
    """The same chart with the CRS therapy (cell infusion) removed: out of scope."""
    return [r for r in resources if "cell-infusion" not in str(r.get("id"))]


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_a_patient_out_of_scope_gets_no_cards_on_any_hook(app_at, hook):
    """SPEC 2.1: no CRS-associated therapy in 30 days -> no cards, even at grade-3 physiology."""
    as_of = moment("case3", DAY0)
    resources = _without_therapy(ehr_resources("case3", as_of, DAY0))
    patient_id = patient_id_of(resources)
    body = hook_body(
        hook,
        patient_id,
        prefetch=prefetch_for(resources),
        draft_orders=[draft_order("toci-1", patient_id, dose=1000)],
    )
    assert _call(app_at(as_of).test_client(), hook, body) == {"cards": []}


def test_a_therapy_more_than_30_days_ago_is_out_of_scope(app_at):
    """SPEC 2.1: in scope for 30 days after the therapy (configurable)."""
    as_of = moment("case1", DAY0) + timedelta(days=40)
    resources = ehr_resources("case1", moment("case1", DAY0), DAY0)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))
    assert _call(app_at(as_of).test_client(), "patient-view", body) == {"cards": []}


def test_an_in_scope_patient_at_grade_0_gets_the_assessment_card(app_at):
    """SPEC 2.1: "a patient in scope always gets the assessment card ... grade 0 included"."""
    as_of = moment("figure3", DAY0) - timedelta(days=4, hours=8)  # day 2 noon: no findings yet
    resources = ehr_resources("figure3", as_of, DAY0)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))

    answer = _call(app_at(as_of).test_client(), "patient-view", body)

    (card,) = answer["cards"]
    assert card["summary"] == "No CRS criteria met, day 2 after tisagenlecleucel"
    assert card["indicator"] == "info"
    assert card["extension"][EXTENSION_KEY]["grade"] == 0
    assert "suggestions" not in card


def test_a_failed_fhir_search_is_shown_on_the_card_as_a_data_gap(app_at, mocked_http):
    """SPEC section 4: "If a lesser part fails, grade with the rest and say so on the card"."""
    as_of = moment("case3", DAY0)
    resources = ehr_resources("case3", as_of, DAY0)
    patient_id = patient_id_of(resources)
    prefetch = prefetch_for(resources)
    del prefetch["medications"]
    mocked_http.add(responses.GET, f"{FHIR}/MedicationAdministration", status=500)

    answer = _call(
        app_at(as_of).test_client(),
        "patient-view",
        hook_body("patient-view", patient_id, prefetch=prefetch, fhir_server=FHIR),
    )

    (card,) = _extension_cards(answer)
    extension = card["extension"][EXTENSION_KEY]
    assert extension["dataGaps"][0] == (
        "medication administrations could not be read (the FHIR server answered HTTP 500): the "
        "CRS therapy, vasopressors, tocilizumab or corticosteroids may be missing, so the grade "
        "may be too low"
    )
    # Without the drips the grade falls to 2: the card must say the grade may be too low.
    assert extension["grade"] == 2
    assert (
        "Medication administrations could not be read: the CRS therapy, vasopressors, "
        "tocilizumab or corticosteroids may be missing, so the grade may be too low."
        in card["detail"]
    )


def test_every_answered_hook_leaves_one_audit_row(app_at):
    """Issue 4: an audit record per answered hook (hookInstance, service, grade, card uuids)."""
    as_of = moment("case2", DAY0)
    resources = ehr_resources("case2", as_of, DAY0)
    patient_id = patient_id_of(resources)
    app = app_at(as_of)
    body = hook_body("patient-view", patient_id, prefetch=prefetch_for(resources))
    body["hookInstance"] = "audit-check-1"

    answer = _call(app.test_client(), "patient-view", body)

    with get_storage(app).engine.connect() as connection:
        rows = connection.execute(
            select(audit_table).where(audit_table.c.hook_instance == "audit-check-1")
        ).all()
    (row,) = rows
    assert row.service_id == "crs-patient-view"
    assert row.patient_ref == patient_id
    assert (row.grade, row.peak_grade) == (3, 3)
    assert row.card_uuids == '["' + '","'.join(c["uuid"] for c in answer["cards"]) + '"]'
    suggestions = [s["uuid"] for c in answer["cards"] for s in c.get("suggestions", [])]
    assert suggestions and row.suggestion_uuids == '["' + '","'.join(suggestions) + '"]'
    assert row.duration_ms > 0


def test_an_out_of_scope_answer_is_audited_without_a_grade(app_at):
    as_of = moment("case3", DAY0)
    resources = _without_therapy(ehr_resources("case3", as_of, DAY0))
    app = app_at(as_of)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))
    body["hookInstance"] = "audit-check-2"

    _call(app.test_client(), "patient-view", body)

    with get_storage(app).engine.connect() as connection:
        (row,) = connection.execute(
            select(audit_table).where(audit_table.c.hook_instance == "audit-check-2")
        ).all()
    assert (row.grade, row.peak_grade, row.card_uuids) == (None, None, "[]")


class _WatchedPatient(dict):  # a dict that a weak reference can follow
    pass


def test_the_audit_row_is_written_once_the_call_s_fhir_data_are_let_go(app_at, monkeypatch):
    """Issue 13: written while the call's data were alive, the database driver's small objects
    (sqlite3 keeps a weak reference per cursor) landed among them and kept their memory after
    the call: an XL worker grew 1 MB per call. The row is now written once they are freed."""
    as_of = moment("case2", DAY0)
    resources = ehr_resources("case2", as_of, DAY0)
    app = app_at(as_of)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))
    body["hookInstance"] = "audit-check-3"
    watched: list[weakref.ref[_WatchedPatient]] = []
    read_data = cds_views._patient_data

    def patient_data(*args, **kwargs):
        data = read_data(*args, **kwargs)
        patient = _WatchedPatient(data.patient)
        watched.append(weakref.ref(patient))
        return dataclasses.replace(data, patient=patient)

    alive_at_write: list[bool] = []
    store = cds_views.store_audit

    def store_audit(record):
        alive_at_write.append(watched[0]() is not None)
        store(record)

    monkeypatch.setattr(cds_views, "_patient_data", patient_data)
    monkeypatch.setattr(cds_views, "store_audit", store_audit)

    answer = _call(app.test_client(), "patient-view", body)

    assert answer["cards"]
    assert alive_at_write == [False]
    with get_storage(app).engine.connect() as connection:
        (row,) = connection.execute(
            select(audit_table).where(audit_table.c.hook_instance == "audit-check-3")
        ).all()
    assert (row.grade, row.peak_grade) == (3, 3)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "http://localhost/smart/launch"),
        (
            {"CRS_CDS_PUBLIC_URL": "https://cds.example.org/crs/"},
            "https://cds.example.org/crs/smart/launch",
        ),
    ],
    ids=["the request's host when no public URL", "CRS_CDS_PUBLIC_URL behind a proxy"],
)
def test_the_smart_link_points_at_our_launch_endpoint(app_at, variables, expected):
    """SPEC section 4: the card links the SMART app (type smart) at /smart/launch."""
    as_of = moment("case1", DAY0)
    resources = ehr_resources("case1", as_of, DAY0)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))

    answer = _call(app_at(as_of, **variables).test_client(), "patient-view", body)

    (card,) = _extension_cards(answer)
    assert {"label": "CRS course over time (SMART app)", "url": expected, "type": "smart"} in card[
        "links"
    ]


def test_the_fda_label_protocol_setting_changes_the_suggested_dose(app_at):
    """SPEC 2.6: CRS_CDS_TOCILIZUMAB_PROTOCOL=fda-label: 8 mg/kg from 30 kg (label)."""
    as_of = moment("case2", DAY0)
    resources = ehr_resources("case2", as_of, DAY0)
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch_for(resources))

    default = _call(app_at(as_of).test_client(), "patient-view", body)
    label = _call(
        app_at(as_of, CRS_CDS_TOCILIZUMAB_PROTOCOL="fda-label").test_client(), "patient-view", body
    )

    def dose(answer):
        (suggestion,) = answer["cards"][0]["suggestions"]
        resource = suggestion["actions"][0]["resource"]
        return resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]

    # Case 2 weighs 55.6 kg at 19 y: 4 mg/kg (seed, adult) = 222 mg; 8 mg/kg (label) = 445 mg.
    assert (dose(default), dose(label)) == (222, 445)
