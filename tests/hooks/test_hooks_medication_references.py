"""SPEC 2.1 and 3, Medications by reference (issue 10): whether a patient is in scope, and how
a drip grades, never depends on how the EHR sent the medication. A ``medicationReference`` to a
Medication that is neither contained nor included is read with ``GET Medication/{id}`` from
``fhirServer`` within the call's budget, each id once, a bounded count, the token only to
``fhirServer``; when the read fails the card says what may be missing.

The charts are the seed cases with every administration's drug moved into a Medication resource
named by reference only (``medications_by_reference``): Case 1's CAR T-cell infusion (only the
"CRS check incomplete" card when missed) and Case 2's norepinephrine and dopamine drips (grade
3 read as 2 when missed).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
import responses

from cds_service.cards import EXTENSION_KEY

from .support import (
    FHIR,
    ehr_resources,
    hook_body,
    medications_by_reference,
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)

DAY0 = date(2026, 6, 1)
VIEW = "/cds-services/crs-patient-view"
DRIPS = "norepinephrine|dopamine"  # Case 2's vasopressors; its cell infusion stays inline


def _answer(app, body):
    response = app.test_client().post(VIEW, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _extension(answer):
    (card,) = [c for c in answer["cards"] if EXTENSION_KEY in c.get("extension", {})]
    return card, card["extension"][EXTENSION_KEY]


def _inline_answer(app, resources):
    patient_id = patient_id_of(resources)
    return _answer(app, hook_body("patient-view", patient_id, prefetch=prefetch_for(resources)))


CASES = [
    ("case1", 1, "CAR T-cell infusion by reference (no card at all when missed)"),
    ("case2", 3, "norepinephrine and dopamine drips by reference (grade 2 when missed)"),
]


@pytest.mark.parametrize(("case", "grade"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_a_medication_by_reference_not_included_is_read_in_prefetch_mode_spec3(
    app_at, mocked_http, case, grade
):
    as_of = moment(case, DAY0)
    app = app_at(as_of)
    inline = ehr_resources(case, as_of, DAY0)
    by_reference = medications_by_reference(inline)
    patient_id = patient_id_of(inline)
    requested = serve_fhir(mocked_http, by_reference)
    prefetch = prefetch_for(by_reference, includes=False)  # the EHR did not _include them
    assert not any(
        e["resource"]["resourceType"] == "Medication" for e in prefetch["medications"]["entry"]
    )

    answer = _answer(
        app, hook_body("patient-view", patient_id, prefetch=prefetch, fhir_server=FHIR)
    )

    card, extension = _extension(answer)
    expected_card, expected = _extension(_inline_answer(app, inline))
    assert extension["grade"] == expected["grade"] == grade
    assert extension == expected
    assert card["summary"] == expected_card["summary"]
    paths = [urlsplit(url).path for url in requested]
    assert all(path.startswith("/fhir/Medication/") for path in paths)
    assert len(paths) == len(set(paths)), "each Medication is read once per call"
    assert all(
        call.request.headers["Authorization"] == "Bearer fhir-access-token-xyz"
        for call in mocked_http.calls
    )


@pytest.mark.parametrize(("case", "grade"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_a_medication_by_reference_is_read_in_fetch_mode_too_spec3(
    app_at, mocked_http, case, grade
):
    """No prefetch at all, and a server that ignores ``_include`` (Oracle Health documents no
    ``_include`` on MedicationAdministration): the same card as the drug sent inline."""
    as_of = moment(case, DAY0)
    app = app_at(as_of)
    inline = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(inline)
    requested = serve_fhir(mocked_http, medications_by_reference(inline), includes=False)

    answer = _answer(app, hook_body("patient-view", patient_id, fhir_server=FHIR))

    _, extension = _extension(answer)
    _, expected = _extension(_inline_answer(app, inline))
    assert extension["grade"] == grade
    assert extension == expected
    reads = [urlsplit(url).path for url in requested if "/Medication/" in url]
    assert reads and len(reads) == len(set(reads))


def test_a_failed_medication_read_degrades_and_says_what_may_be_missing_spec3(app_at, mocked_http):
    """Case 2 with the Medication server down: the drips cannot be identified, the grade falls
    to what the rest shows, and the card says why the grade may be too low."""
    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    by_reference = medications_by_reference(inline, only=DRIPS)
    serve_fhir(mocked_http, by_reference, fail={"Medication/": 503})
    body = hook_body(
        "patient-view",
        patient_id_of(inline),
        prefetch=prefetch_for(by_reference, includes=False),
        fhir_server=FHIR,
    )

    answer = _answer(app_at(as_of), body)

    card, extension = _extension(answer)
    assert extension["grade"] < 3
    gap = next(g for g in extension["dataGaps"] if g.startswith("medication administrations"))
    assert "were read only in part" in gap
    assert "could not be read (the FHIR server answered HTTP 503)" in gap
    assert gap.endswith("so the grade may be too low")
    # The card says which data: the drug records of the two drips (norepinephrine, dopamine).
    assert (
        "2 drug records named by medication administrations could not be read: a CRS therapy, "
        "vasopressor, tocilizumab or corticosteroid among them is not recognised." in card["detail"]
    )


def test_a_car_t_infusion_whose_medication_cannot_be_read_is_logged_as_a_possible_miss(
    app_at, mocked_http, caplog
):
    """Case 1 with the Medication read failing: nothing confirms a therapy, so no grade; the
    answer is the "CRS check incomplete" card (``test_hooks_check_incomplete``), and the log
    says that scope may have been missed, and why (no patient data)."""
    as_of = moment("case1", DAY0)
    inline = ehr_resources("case1", as_of, DAY0)
    by_reference = medications_by_reference(inline)
    serve_fhir(mocked_http, by_reference, fail={"Medication/": 404})
    body = hook_body(
        "patient-view",
        patient_id_of(inline),
        prefetch=prefetch_for(by_reference, includes=False),
        fhir_server=FHIR,
    )
    with caplog.at_level(logging.INFO, logger="cds_service"):
        answer = _answer(app_at(as_of), body)

    (card,) = answer["cards"]
    assert card["summary"].startswith("CRS check incomplete")
    (line,) = [r for r in caplog.records if "may have been missed" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert line.fields["unreadKeys"] == ["medications"]
    assert patient_id_of(inline) not in caplog.text


def test_without_fhir_server_an_unincluded_medication_is_reported_spec3(app_at):
    """Prefetch only, nobody to ask: Case 2's drips cannot be identified; the data gap says
    the Medications were neither included nor readable."""
    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    by_reference = medications_by_reference(inline, only=DRIPS)
    body = hook_body(
        "patient-view", patient_id_of(inline), prefetch=prefetch_for(by_reference, includes=False)
    )

    _, extension = _extension(_answer(app_at(as_of), body))

    gap = next(g for g in extension["dataGaps"] if g.startswith("medication administrations"))
    assert "were not included and no fhirServer was given" in gap
    # found in review: the count said "of 0 Medications named by reference, 2 were not ..."
    match = re.search(r"of (\d+) Medications named by reference, (\d+) were not included", gap)
    assert match is not None and match.group(1) == match.group(2) != "0", gap


def test_medications_included_by_the_ehr_are_not_read_again_spec3(app_at, mocked_http):
    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    by_reference = medications_by_reference(inline)
    requested = serve_fhir(mocked_http, by_reference)
    body = hook_body(
        "patient-view", patient_id_of(inline), prefetch=prefetch_for(by_reference), fhir_server=FHIR
    )

    _, extension = _extension(_answer(app_at(as_of), body))

    assert extension["grade"] == 3
    assert requested == []


def test_a_medication_on_another_server_is_never_fetched_with_the_token_spec3(app_at, mocked_http):
    """The bearer token is for ``fhirServer`` only: a reference to another host is reported,
    never read (``responses`` would refuse an unregistered host; none is requested)."""
    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    by_reference = medications_by_reference(inline, only=DRIPS)
    for resource in by_reference:
        reference = resource.get("medicationReference")
        if reference is not None:
            reference["reference"] = "https://other.example.net/fhir/" + reference["reference"]
    requested = serve_fhir(mocked_http, by_reference)
    body = hook_body(
        "patient-view",
        patient_id_of(inline),
        prefetch=prefetch_for(by_reference, includes=False),
        fhir_server=FHIR,
    )

    _, extension = _extension(_answer(app_at(as_of), body))

    assert requested == []
    assert all(urlsplit(c.request.url).hostname == "ehr.example.org" for c in mocked_http.calls)
    gap = next(g for g in extension["dataGaps"] if g.startswith("medication administrations"))
    assert "are on another server than fhirServer" in gap


def test_medication_reads_are_bounded_per_call_spec3(make_app, mocked_http):
    """At most ``max_medication_reads`` GETs per call, newest administrations first; the rest
    are reported, never silently dropped."""
    import requests

    from cds_service.fhir_io import FhirEndpoint, FhirReader
    from cds_service.services import PREFETCH_TEMPLATES

    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    by_reference = medications_by_reference(inline)
    distinct = {r["id"] for r in by_reference if r["resourceType"] == "Medication"}
    assert len(distinct) > 2
    requested = serve_fhir(mocked_http, by_reference)
    patient_id = patient_id_of(inline)
    reader = FhirReader(requests.Session(), budget_s=5, max_pages=5, max_medication_reads=2)

    data = reader.read(
        templates=PREFETCH_TEMPLATES,
        tokens={"context.patientId": patient_id},
        patient_id=patient_id,
        prefetch=prefetch_for(by_reference, includes=False),
        endpoint=FhirEndpoint(FHIR, "tok"),
    )

    assert len(requested) == 2
    (problem,) = [p for p in data.problems if p.key == "medications"]
    assert f"{len(distinct) - 2} were not read (limit per call or no time left)" in problem.reason
    assert len(data.of_type("Medication")) == 2


def test_another_patients_administration_never_causes_a_medication_read_spec3(mocked_http):
    import requests

    from cds_service.fhir_io import FhirEndpoint, FhirReader
    from cds_service.services import PREFETCH_TEMPLATES

    as_of = moment("case2", DAY0)
    inline = ehr_resources("case2", as_of, DAY0)
    patient_id = patient_id_of(inline)
    prefetch = prefetch_for(inline)
    prefetch["medications"]["entry"].append(
        {
            "resource": {
                "resourceType": "MedicationAdministration",
                "id": "theirs",
                "status": "completed",
                "subject": {"reference": "Patient/someone-else"},
                "medicationReference": {"reference": "Medication/their-drug"},
                "effectiveDateTime": "2026-06-10T10:00:00Z",
            }
        }
    )
    mocked_http.add(responses.GET, f"{FHIR}/Medication/their-drug", status=500)
    reader = FhirReader(requests.Session(), budget_s=5, max_pages=5)

    data = reader.read(
        templates=PREFETCH_TEMPLATES,
        tokens={"context.patientId": patient_id},
        patient_id=patient_id,
        prefetch=prefetch,
        endpoint=FhirEndpoint(FHIR, "tok"),
    )

    assert len(mocked_http.calls) == 0
    assert [p.reason for p in data.problems] == ["1 resources of another patient ignored"]


def _case3_first_page_then_failure(mocked_http, medication_status=None):
    """Case 3 (grade 3 on norepinephrine and dopamine) with its drips' drugs by reference and
    administrations served 8 to a page: page 1 (the prefetch) holds both drips, the server
    answers 500 to page 2, and ``medication_status`` (when given) to the Medication reads."""
    as_of = moment("case3", DAY0)
    inline = ehr_resources("case3", as_of, DAY0)
    by_reference = medications_by_reference(inline, only=DRIPS)
    prefetch = prefetch_for(by_reference, includes=False)
    prefetch["medications"] = prefetch_for(by_reference, page_size=8, includes=False)["medications"]
    first_page = {e["resource"]["id"] for e in prefetch["medications"]["entry"]}
    assert {"crs-demo-case3-norepinephrine-1", "crs-demo-case3-dopamine-1"} <= first_page
    fail = {"MedicationAdministration": 500}
    if medication_status is not None:
        fail["Medication/"] = medication_status
    requested = serve_fhir(mocked_http, by_reference, page_size=8, includes=False, fail=fail)
    body = hook_body("patient-view", patient_id_of(inline), prefetch=prefetch, fhir_server=FHIR)
    return as_of, body, requested


def test_medications_named_on_pages_read_are_read_when_a_later_page_fails_spec3(
    app_at, mocked_http
):
    """Review finding: the failed page 2 ended the key's job before its Medication reads, so
    page 1's drips were never identified and grade 3 read as 2. The pages read are graded in
    full, and the card says only that the administrations were read in part."""
    as_of, body, requested = _case3_first_page_then_failure(mocked_http)

    card, extension = _extension(_answer(app_at(as_of), body))

    assert extension["grade"] == 3
    reads = sorted(urlsplit(url).path for url in requested if "/Medication/" in url)
    assert reads == ["/fhir/Medication/med-1", "/fhir/Medication/med-2"]
    assert any(d["criterion"] == "multiple-vasopressors" for d in extension["drivers"])
    (gap,) = extension["dataGaps"]
    assert gap.startswith(
        "medication administrations were read only in part (the FHIR server answered HTTP 500)"
    )
    assert "drug record" not in card["detail"], "every drug of the pages read was identified"


def test_medications_that_cannot_be_read_are_counted_when_a_later_page_fails_spec3(
    app_at, mocked_http
):
    """The same, with the Medication reads failing too: the card says both that the
    administrations were read in part and that the drips' two drug records could not be read."""
    as_of, body, requested = _case3_first_page_then_failure(mocked_http, medication_status=503)

    card, extension = _extension(_answer(app_at(as_of), body))

    assert len([url for url in requested if "/Medication/" in url]) == 2
    assert any("answered HTTP 500" in gap for gap in extension["dataGaps"])
    assert any(
        "could not be read (the FHIR server answered HTTP 503)" in gap
        for gap in (extension["dataGaps"])
    )
    assert (
        "2 drug records named by medication administrations could not be read" in (card["detail"])
    )
