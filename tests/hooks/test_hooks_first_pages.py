"""Issue 10, "Done when": a chart sent as first pages only (``next`` links and ``fhirServer``)
grades the same as the whole chart sent at once (SPEC 4: "where a page is missing, the service
reads on from fhirServer"); and when data that could hold an infection signal or a baseline
could not be read, the card says exactly that, not only "grade may be too low" (issue 10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from ehr_pages import EhrChart

from cds_service.cards import EXTENSION_KEY
from cds_service.demo import generate_bundle

from .support import (
    FHIR,
    MOMENTS,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)

DAY0 = date(2026, 6, 1)
VIEW = "/cds-services/crs-patient-view"


def _answer(app, body):
    response = app.test_client().post(VIEW, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _extension(answer):
    (card,) = [c for c in answer["cards"] if EXTENSION_KEY in c.get("extension", {})]
    return card, card["extension"][EXTENSION_KEY]


@pytest.mark.parametrize("case", sorted(MOMENTS))
def test_first_pages_with_next_links_grade_as_the_whole_chart_seed_cases(app_at, mocked_http, case):
    """Every search answered 25 per page: the EHR sends page 1 of each, the service reads the
    rest from fhirServer and gives the very same assessment as with the whole chart."""
    as_of = moment(case, DAY0)
    app = app_at(as_of, CRS_CDS_FHIR_MAX_PAGES="50", CRS_CDS_FHIR_TIMEOUT_S="30")
    resources = ehr_resources(case, as_of, DAY0)
    patient_id = patient_id_of(resources)
    whole = _answer(app, hook_body("patient-view", patient_id, prefetch=prefetch_for(resources)))

    requested = serve_fhir(mocked_http, resources, page_size=25)
    first_pages = prefetch_for(resources, page_size=25)
    assert "next" in {link["relation"] for link in first_pages["vitals"]["link"]}
    paged = _answer(
        app, hook_body("patient-view", patient_id, prefetch=first_pages, fhir_server=FHIR)
    )

    assert requested, "the rest of the chart must have been read from fhirServer"
    assert all("_offset=" in urlsplit(url).query for url in requested)
    card, extension = _extension(paged)
    whole_card, whole_extension = _extension(whole)
    assert extension == whole_extension
    assert card["summary"] == whole_card["summary"]
    assert extension["dataGaps"] == whole_extension["dataGaps"]


def _month_of_monitor_vitals(as_of_days=28):
    """Case 3 over a month with a vital-sign set every 5 minutes (~45,000 resources, SPEC 3
    Volume), cut at day ``as_of_days``."""
    day0 = DAY0
    bundle = generate_bundle("case3", day0, vitals_every=timedelta(minutes=5), days=as_of_days)
    resources = [entry["resource"] for entry in bundle["entry"]]
    as_of = datetime.combine(day0, time(0), UTC) + timedelta(days=as_of_days, hours=1)
    return resources, as_of


@pytest.mark.slow
def test_a_month_of_monitor_rate_vitals_sent_as_first_pages_grades_as_the_whole_chart(
    app_at, mocked_http
):
    """SPEC 3 Volume and SPEC 4: the first page of vitals is about 16 hours; the blood culture,
    the labs and the baselines have their own keys, and the rest of the vitals is read on."""
    resources, as_of = _month_of_monitor_vitals()
    assert len(resources) > 40_000
    patient_id = patient_id_of(resources)
    app = app_at(
        as_of,
        CRS_CDS_FHIR_MAX_PAGES="100",
        CRS_CDS_FHIR_TIMEOUT_S="60",
        CRS_CDS_MAX_RESOURCES="200000",
        CRS_CDS_MAX_REQUEST_BYTES=str(256 * 2**20),
    )
    chart = EhrChart(resources, FHIR)  # one search per template for both ways of sending
    whole = _answer(
        app, hook_body("patient-view", patient_id, prefetch=chart.prefetch(patient_id, page_size=0))
    )

    requested = chart.serve(mocked_http)
    first_pages = chart.prefetch(patient_id)  # the templates' own _count: 1,000 vitals
    assert len(first_pages["vitals"]["entry"]) == 1000
    assert first_pages["cultures"]["entry"], "the blood culture is on its own first page"
    paged = _answer(
        app, hook_body("patient-view", patient_id, prefetch=first_pages, fhir_server=FHIR)
    )

    assert len(requested) > 30
    _, extension = _extension(paged)
    _, whole_extension = _extension(whole)
    assert extension == whole_extension


GAPS = [
    (
        "cultures",
        "Observation",
        "Blood cultures could not be read: an infection warning may be missing.",
    ),
    (
        "labs",
        "Observation",
        "Laboratory results could not be read: an infection warning (lactate, neutrophils) may "
        "be missing and organ toxicity may be missing, so the grade may be too low.",
    ),
    (
        "conditions",
        "Condition",
        "Diagnoses could not be read: an infection warning may be missing, and neurologic "
        "conditions and comorbidities too.",
    ),
    (
        "baselines",
        "Observation",
        "Pre-infusion baselines could not be read: criteria against baseline (creatinine, "
        "fibrinogen, ejection fraction) and fold changes of CRP and ferritin may be missing.",
    ),
]


@pytest.mark.parametrize(
    ("key", "path", "line"), GAPS, ids=[f"{key} not prefetched, fetch fails" for key, *_ in GAPS]
)
def test_unread_infection_or_baseline_data_is_named_on_the_card_issue_10(
    app_at, mocked_http, key, path, line
):
    """Issue 10: "blood cultures could not be read: an infection warning may be missing", not
    only "grade may be too low"."""
    as_of = moment("case3", DAY0)
    resources = ehr_resources("case3", as_of, DAY0)
    prefetch = prefetch_for(resources)
    del prefetch[key]
    serve_fhir(mocked_http, resources, fail={path: 500})
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch, fhir_server=FHIR)

    card, extension = _extension(_answer(app_at(as_of), body))

    assert line in card["detail"]
    assert any(
        gap.startswith(line[0].lower() + line[1:].split(":")[0])
        and "(the FHIR server answered HTTP 500)" in gap
        for gap in extension["dataGaps"]
    )


@pytest.mark.parametrize("key", ["cultures", "labs", "baselines"])
def test_pages_left_unread_are_named_on_the_card_issue_10(app_at, key):
    """The EHR sent the first page and no fhirServer: the rest cannot be read, and the card
    says which data and what it may hide."""
    as_of = moment("case3", DAY0)
    resources = ehr_resources("case3", as_of, DAY0)
    prefetch = prefetch_for(resources, page_size=1)
    whole = prefetch_for(resources)
    for other in prefetch:
        if other != key:
            prefetch[other] = whole[other]
    body = hook_body("patient-view", patient_id_of(resources), prefetch=prefetch)

    card, extension = _extension(_answer(app_at(as_of), body))

    (gap,) = [g for g in extension["dataGaps"] if "were read only in part" in g]
    assert "(the prefetch has more pages but no fhirServer was given)" in gap
    holds = gap.split(" were read only in part")[0]
    assert f"{holds[0].upper()}{holds[1:]} were read only in part: " in card["detail"]
