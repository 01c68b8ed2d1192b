"""SPEC 4 and docs/integration.md: Oracle Health documents no Observation category ``survey``
and may refuse the ``assessments`` search. The service then asks once more with the key's
code-filtered search (GCS, RASS and neurologic-sign codes), grades on what it brings, and says
on the card that the neurologic assessments were read only in part (ICE and CAPD have no code
in wide use, so a code search cannot find them). The chart is the seed's Case 3 with its RASS
(SNOMED CT coded) and CAPD (a local code, read by name) rows under ``survey``; the refusal of
the code search too is tested on the reader (``tests/service/test_fhir_io.py``). A refused
``medications`` search is asked again without ``_sort`` and ``_include``, which finds the same
rows (the last test)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import responses

from cds_service.cards import EXTENSION_KEY

from .support import FHIR, ehr_resources, hook_body, moment, patient_id_of, serve_fhir

DAY0 = date(2026, 6, 1)
AS_OF = moment("case3", DAY0)
VIEW = "/cds-services/crs-patient-view"
NOTE = (
    "neurologic assessments were read only in part (the FHIR server refused the search (HTTP "
    "{status}); searched by code instead, so rows with other codes were not found): neurologic "
    "dysfunction and the ICANS grade (GCS, ICE, CAPD, RASS) may be missing, and they change "
    "the first-line treatment"
)


def _answer(app_at, mocked_http, refuse_with=None):
    chart = ehr_resources("case3", AS_OF, DAY0)
    if refuse_with is not None:  # registered first: it answers the survey search
        outcome = {"resourceType": "OperationOutcome", "issue": [{"code": "not-supported"}]}
        mocked_http.add(
            responses.GET,
            re.compile(re.escape(FHIR) + r"/Observation\?.*category=survey.*"),
            status=refuse_with,
            body=json.dumps(outcome),
        )
    requested = serve_fhir(mocked_http, chart)
    # A budget no loaded machine reaches: the whole chart is read from the server here.
    app = app_at(AS_OF, CRS_CDS_FHIR_TIMEOUT_S="60")
    body = hook_body("patient-view", patient_id_of(chart), fhir_server=FHIR)
    response = app.test_client().post(VIEW, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    (card,) = [c for c in response.get_json()["cards"] if EXTENSION_KEY in c.get("extension", {})]
    return card, card["extension"][EXTENSION_KEY], requested


@pytest.mark.parametrize("status", [400, 403, 422])
def test_a_refused_survey_search_is_read_by_code_and_said_on_the_card(app_at, mocked_http, status):
    card, extension, requested = _answer(app_at, mocked_http, refuse_with=status)

    by_code = [url for url in requested if "Observation?" in url and "9269-2" in url]
    assert len(by_code) == 1, "the alternate search, once"
    assert "457441000124102" in by_code[0]  # RASS, read by its SNOMED CT code
    assert extension["dataGaps"] == [NOTE.format(status=status)]
    # A long card names the data in its short words (SPEC 4: 700 characters); the extension's
    # dataGaps (above) says what it may hide.
    assert "**Data not read:** Neurologic assessments were read only in part" in card["detail"]
    assert len(card["detail"]) <= 700


def test_read_by_code_the_chart_grades_as_it_does_by_category(app_at, mocked_http):
    """What the code search brings (RASS) keeps the grades and the ICANS assessment the same
    as when the category search answers: only the data gap differs."""
    _, by_code, _ = _answer(app_at, mocked_http, refuse_with=400)
    mocked_http.reset()
    _, by_category, _ = _answer(app_at, mocked_http)

    assert by_category["dataGaps"] == []
    assert {**by_code, "dataGaps": []} == by_category


def test_a_refused_administration_search_is_asked_again_without_sort_and_include(
    app_at, mocked_http
):
    """Review finding: a server that refuses ``_sort`` or ``_include`` (Oracle Health documents
    neither on MedicationAdministration) left the administrations unread: Case 3's two
    vasopressors were lost (grade 2 instead of 3), and a CAR T-cell infusion charted as an
    administration would have been too. The service asks once more without them: the same
    rows in the server's order, so the grade is the chart's and nothing is said missing."""
    chart = ehr_resources("case3", AS_OF, DAY0)
    outcome = {"resourceType": "OperationOutcome", "issue": [{"code": "not-supported"}]}
    mocked_http.add(  # registered first: it answers the template's own search
        responses.GET,
        re.compile(re.escape(FHIR) + r"/MedicationAdministration\?.*_sort=.*"),
        status=400,
        body=json.dumps(outcome),
    )
    requested = serve_fhir(mocked_http, chart)
    app = app_at(AS_OF, CRS_CDS_FHIR_TIMEOUT_S="60")
    body = hook_body("patient-view", patient_id_of(chart), fhir_server=FHIR)

    response = app.test_client().post(VIEW, json=body)

    assert response.status_code == 200, response.get_data(as_text=True)
    (card,) = [c for c in response.get_json()["cards"] if EXTENSION_KEY in c.get("extension", {})]
    extension = card["extension"][EXTENSION_KEY]
    (alternate,) = [url for url in requested if "MedicationAdministration?" in url]
    assert "_sort" not in alternate and "_include" not in alternate
    assert extension["grade"] == 3
    assert extension["dataGaps"] == []
