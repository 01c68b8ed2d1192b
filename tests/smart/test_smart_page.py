"""The CRS course page: FHIR reads with the SMART token, and what is drawn for the seed's Case 3.

Case 3 of the seed (Lee et al., Blood 2014): fever day 1 (S. mitis bacteremia) and day 4,
hypotension and oxygen on day 5, dopamine and norepinephrine, tocilizumab 8 mg/kg on day 5,
ferritin 130,000 ng/mL peaking on day 7, pressors off on day 10. The demo Bundle
(``cds_service.demo``, day 0 = 2026-01-05) tells that story; the page is drawn as of day 10.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cds_service.fhir_io import DataProblem
from cds_service.smart import InMemorySmartStore, SmartConfig, remember_view
from cds_service.smart.page import _incomplete
from cds_service.smart.store import LaunchSession
from crs_grading import assess
from crs_grading.inputs import GradingInputs, PatientFacts

from .conftest import ISS, Clock, build_app
from .fhir_fake import FakeFhir, demo_resources

TOKEN = "page-token-abc"
AS_OF_DAY_10 = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)


@pytest.fixture
def case3() -> FakeFhir:
    return FakeFhir(base=ISS, resources=demo_resources("case3"), token=TOKEN)


def serve(fake: FakeFhir) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback(
        responses.GET,
        re.compile(re.escape(ISS) + r"/.*"),
        callback=lambda request: fake.answer(request.url, request.headers),
    )
    return mock


@pytest.fixture
def fhir(case3):
    with serve(case3) as mock:
        yield mock


def open_page(client, store, clock, *, patient="crs-demo-case3", banner=True):
    clock.now = AS_OF_DAY_10
    with client.session_transaction() as session:
        remember_view(session, "ctx-1", "browser-under-test")
    store.save_session(
        "ctx-1",
        LaunchSession(
            iss=ISS,
            patient=patient,
            access_token=TOKEN,
            scope="launch patient/*.rs",
            need_patient_banner=banner,
            browser="browser-under-test",
            expires_at=(AS_OF_DAY_10 + timedelta(hours=1)).timestamp(),
        ),
    )
    return client.get("/smart/app", query_string={"ctx": "ctx-1"})


def embedded(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="crs-series">(.*?)</script>', html, re.S)
    assert match, "the page embeds its plotted series"
    return json.loads(match.group(1))


def svg_group(html: str, gid: str) -> str:
    """The SVG ``<g id=gid>`` element's text (matplotlib writes one group per tagged artist)."""
    start = html.index(f'<g id="{gid}"')
    depth, index = 0, start
    for match in re.finditer(r"<g\b|</g>", html[start:]):
        depth += 1 if match.group(0) == "<g" else -1
        if depth == 0:
            index = start + match.end()
            break
    return html[start:index]


@pytest.fixture(scope="module")
def drawn() -> tuple[str, FakeFhir]:
    """The Case 3 page drawn once for the tests that only look at it (drawing takes ~1 s)."""
    fake = FakeFhir(base=ISS, resources=demo_resources("case3"), token=TOKEN)
    store, clock = InMemorySmartStore(), Clock()
    client = build_app(SmartConfig(allowed_issuers=(ISS,)), store, clock).test_client()
    with serve(fake):
        response = open_page(client, store, clock)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True), fake


@pytest.fixture
def case3_page(drawn) -> str:
    return drawn[0]


# --- FHIR reads --------------------------------------------------------------------------------


def test_page_reads_the_record_from_iss_with_the_bearer_token(drawn):
    case3 = drawn[1]
    assert case3.requests, "the page read from the FHIR server"
    for url, headers in case3.requests:
        assert url.startswith(ISS + "/")
        assert headers["Authorization"] == f"Bearer {TOKEN}"
    paths = {urlsplit(url).path.rsplit("/fhir/", 1)[1] for url, _ in case3.requests}
    assert {
        "Patient/crs-demo-case3",
        "Observation",
        "MedicationAdministration",
        "Condition",
        "Procedure",
    } <= paths
    med = next(url for url, _ in case3.requests if "/MedicationAdministration?" in url)
    query = parse_qs(urlsplit(med).query)
    assert query["patient"] == ["crs-demo-case3"]
    assert query["_include"] == ["MedicationAdministration:medication"]


def test_page_follows_next_links_to_read_every_observation(drawn):
    case3 = drawn[1]
    observation_pages = [url for url, _ in case3.requests if "/Observation?" in url]
    assert len(observation_pages) >= 2  # 1,150 Observations at _count=1000
    assert any("_offset=" in url for url in observation_pages)


def test_fhir_server_down_shows_a_clear_page(client, store, clock, fhir, case3):
    case3.fail["Observation"] = 503
    response = open_page(client, store, clock)
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "could not be read" in page and "Traceback" not in page


def test_token_refused_by_the_fhir_server_asks_to_relaunch(client, store, clock, fhir, case3):
    case3.token = "another-token"  # the EHR revoked ours
    response = open_page(client, store, clock)
    assert response.status_code == 401
    assert "Open the app again" in response.get_data(as_text=True)


def test_a_lesser_search_failing_is_reported_and_the_page_still_drawn(
    client, store, clock, fhir, case3
):
    case3.fail["Condition"] = 500
    response = open_page(client, store, clock)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "What the data does not show" in page and "conditions" in page
    assert embedded(page)["grade"]["peak"] == 3  # graded and drawn with the rest
    assert 'id="series-temperature"' in page


# --- what Case 3 looks like --------------------------------------------------------------------


def test_case3_banner_shows_name_birth_date_and_sex(case3_page):
    banner = re.search(r'<header class="banner".*?</header>', case3_page, re.S).group(0)
    assert "Nora Whitfield" in banner and "2014-04-28" in banner and "Female" in banner
    assert "(11 y)" in banner


def test_banner_is_left_out_when_the_ehr_says_need_patient_banner_false(client, store, clock, fhir):
    page = open_page(client, store, clock, banner=False).get_data(as_text=True)
    assert 'class="banner"' not in page
    assert "Nora Whitfield" not in page


def test_case3_grades_now_and_at_peak_with_astct_beside(case3_page):
    data = embedded(case3_page)
    # Day 10 as of 18:00: norepinephrine alone until noon -> Lee 2 (seed Table 2, one low-dose
    # vasopressor), ASTCT 3 (one vasopressor); the peak is Lee 3 (two vasopressors, days 5-8).
    assert data["grade"] == {"system": "lee2014", "current": 2, "peak": 3, "astct2019": 3}
    assert 'id="grade-current"' in case3_page and "Grade 2" in case3_page
    assert "vasopressor-low-dose" in case3_page  # the driver's criterion is shown


def test_case3_tocilizumab_marker_is_drawn_on_day_5(case3_page):
    markers = embedded(case3_page)["markers"]
    assert [(m["kind"], m["dayNumber"]) for m in markers] == [("tocilizumab", 5)]
    assert 5.0 <= markers[0]["day"] < 6.0
    assert 'id="marker-tocilizumab-0"' in case3_page


def test_case3_grade_strip_reaches_3_on_days_5_to_8_with_astct_4(case3_page):
    daily = {d["day"]: (d["lee2014"], d["astct2019"]) for d in embedded(case3_page)["dailyGrades"]}
    assert max(lee for lee, _ in daily.values()) == 3
    assert [daily[d] for d in (5, 6, 7, 8)] == [(3, 4)] * 4  # seed Case 3; ASTCT 2019 grade 4
    assert daily[1] == (1, 1) and daily[9] == (2, 3)
    assert 'id="grade-lee2014-day-5"' in case3_page and 'id="grade-astct2019-day-5"' in case3_page


def test_case3_series_show_fever_pressors_and_the_day_7_ferritin_peak(case3_page):
    data = embedded(case3_page)
    series = {s["key"]: s for s in data["series"]}
    assert set(series) == {
        "temperature",
        "systolic-bp",
        "mean-arterial-pressure",
        "norepinephrine-equivalent",
        "fio2",
        "crp",
        "ferritin",
        "il6",
        "ice-score",
        "capd-score",
    }
    fevers = {int(day) for day, value, _ in series["temperature"]["points"] if value >= 38.0}
    assert {1, 4, 5, 7} <= fevers  # seed Case 3: fever on days 1, 4 and again on 7
    lowest_sbp = min(series["systolic-bp"]["points"], key=lambda p: p[1])
    assert int(lowest_sbp[0]) == 5 and lowest_sbp[1] <= 70  # 70/40 mmHg on day 5
    pressor_days = {
        int(day) for day, value, _ in series["norepinephrine-equivalent"]["points"] if value > 0
    }
    assert {5, 6, 7, 8, 9} <= pressor_days and max(pressor_days) <= 10
    ferritin_peak = max(series["ferritin"]["points"], key=lambda p: p[1])
    assert int(ferritin_peak[0]) == 7 and ferritin_peak[1] == pytest.approx(130_000)
    assert all(0 <= p[0] <= data["asOfDay"] for s in series.values() for p in s["points"])
    assert {"key": "temperature", "value": 38.0} in [
        {"key": t["key"], "value": t["value"]} for t in data["thresholds"]
    ]


def test_the_svg_draws_every_point_of_the_embedded_series(case3_page):
    data = embedded(case3_page)
    for series in data["series"]:
        if series["step"] or not series["points"]:
            continue
        group = svg_group(case3_page, f"series-{series['key']}")
        # matplotlib draws one marker (<use>) per data point of a line.
        assert group.count("<use ") == len(series["points"]), series["key"]
    assert 'id="threshold-temperature"' in case3_page
    assert case3_page.count('id="grade-lee2014-day-') == len(data["dailyGrades"])


def test_case3_infection_warning_is_shown_not_hidden(case3_page):
    warnings = re.search(r'<div class="warnings".*?</div>', case3_page, re.S).group(0)
    assert "infection-diagnosis" in warnings  # S. mitis bacteremia (seed Case 3), SPEC 2.7
    assert "masked-fever" in warnings  # tocilizumab given, SPEC 2.7


def test_page_is_self_contained_with_no_outside_host(case3_page):
    assert "<script src" not in case3_page
    assert re.findall(r'(?:src|href)="(https?:)?//', case3_page) == []
    assert 'href="/smart/static/smart.css"' in case3_page


def test_stylesheet_is_served_from_our_own_host(client):
    response = client.get("/smart/static/smart.css")
    assert response.status_code == 200
    assert "@media print" in response.get_data(as_text=True)
    response.close()


def test_a_patient_without_crs_therapy_gets_no_course(client, store, clock):
    resources = [
        r
        for r in demo_resources("case3")
        if r["resourceType"] not in ("Procedure", "MedicationAdministration")
    ]
    with serve(FakeFhir(base=ISS, resources=resources, token=TOKEN)):
        response = open_page(client, store, clock)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "no CRS course to show" in page
    assert "<svg" not in page
    assert embedded(page)["inScope"] is False


@pytest.mark.parametrize("status", [500, 403])
def test_a_patient_whose_therapy_records_could_not_be_read_gets_check_incomplete(
    client, store, clock, status
):
    """SPEC 2.1: scope never depends on what could not be read. Found in review: with the
    administrations and procedures unread, the page said "no CRS-associated therapy"; it says
    the check is incomplete, in the words of the "CRS check incomplete" card."""
    fake = FakeFhir(base=ISS, resources=demo_resources("case3"), token=TOKEN)
    fake.fail["MedicationAdministration"] = status
    fake.fail["Procedure"] = status
    with serve(fake):
        response = open_page(client, store, clock)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="check-incomplete"' in page
    assert "could not be read in full. CRS was not graded." in page
    assert "no CRS course to show" not in page


def test_case3_draws_her_capd_series_and_the_icans_strip(case3_page):
    """SPEC 2.9 on the SMART page: seed Case 3 (11 years old: CAPD, ASTCT 2019) turns
    encephalopathic on day 9; the page draws her CAPD, the ICANS row of the grade strip, and the
    ICANS grade now beside the CRS grade (as of day 10, 10:00 on her clock)."""
    data = embedded(case3_page)
    series = {s["key"]: s for s in data["series"]}
    capd = series["capd-score"]["points"]
    assert series["ice-score"]["points"] == []  # under 12: no ICE charted
    worst = max(capd, key=lambda p: p[1])
    assert int(worst[0]) == 9 and worst[1] == 21
    assert all(value == 0 for day, value, _ in capd if day < 9)
    daily = {d["day"]: d["icans"] for d in data["dailyGrades"]}
    assert daily[9] == 3 and daily[10] == 3 and max(daily[d] for d in range(9)) == 0
    assert case3_page.count('id="grade-icans-day-') == len(data["dailyGrades"])
    assert svg_group(case3_page, "series-capd-score").count("<use ") == len(capd)
    assert 'id="threshold-capd-score-9"' in case3_page  # CAPD >= 9: ICANS grade 3
    assert 'id="threshold-ice-score-' not in case3_page  # no ICE bands on a CAPD chart
    assert data["icans"] == {"current": 3, "peak": 3, "assessed": True}
    box = re.search(r'<div class="grade-box[^"]*" id="grade-icans">.*?</div>', case3_page, re.S)
    assert box is not None and "Grade 3" in box.group(0)
    drivers = re.search(r'<ul class="drivers icans-drivers">.*?</ul>', case3_page, re.S)
    assert drivers is not None
    assert "CAPD 21" in drivers.group(0) and "icans-depressed-consciousness" in drivers.group(0)


def test_the_page_shows_clinical_words_never_criterion_or_warning_codes(case3_page):
    """SPEC 4 (issue 12): no internal word in anything a clinician reads. The codes stay on the
    list items as data attributes for integrators, never as visible text."""
    from crs_grading.criteria import Criterion, WarningCode

    visible = re.sub(r"<(script|style)\b.*?</\1>", " ", case3_page, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)
    # Codes that are plain words ("fever") are clinical words too; the hyphenated ones are ids.
    codes = {c.value for c in (*Criterion, *WarningCode) if "-" in c.value}
    shown = sorted(
        code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", visible)
    )
    assert shown == []
    assert 'data-code="infection-diagnosis"' in case3_page
    assert re.search(r'<li data-criterion="[a-z0-9-]+"><span class="pill grade-3">', case3_page)


@pytest.mark.parametrize(
    ("rows_unread", "incomplete"),
    [
        pytest.param(True, True, id="the administrations themselves not read in full"),
        pytest.param(
            False,
            False,
            id="only a Medication they name not read (the hooks' rule: no incomplete card)",
        ),
    ],
)
def test_the_page_says_the_check_is_incomplete_on_the_hooks_rule(rows_unread, incomplete):
    """Final review: the page looked at any problem that hides data, the hooks at rows unread;
    a Medication read failing for an administration outside the scope window made the page say
    the check was incomplete while the hooks (rightly) said nothing."""
    out_of_scope = assess(
        GradingInputs(patient=PatientFacts("Patient/p1")), datetime(2026, 12, 1, tzinfo=UTC)
    )
    problem = DataProblem("medications", "medication administrations ...", rows_unread=rows_unread)
    assert bool(_incomplete(out_of_scope, (problem,))) is incomplete
