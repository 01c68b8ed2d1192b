"""The demo EHR of ``crs-cds demo`` (issue 14): its FHIR endpoint answers the prefetch templates
with paging, its authorization server runs the SMART EHR launch with PKCE, the SMART app opens
the launched patient's course, and none of it exists in the production app."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from cds_service.call_command import HookCall, RemoteService, build_request, prefetch_from_server
from cds_service.demo import CASES, TELLING_MOMENTS, demo_patient_id
from cds_service.demo_command import ListenError, RunningDemo, build_demo_app
from cds_service.fhir_io import render_template
from cds_service.services import PREFETCH_TEMPLATES

NOW = datetime(2026, 12, 4, 19, 22, tzinfo=UTC)
FHIR = "http://localhost/demo/fhir"
CASE3 = "crs-demo-case3"


@pytest.fixture
def demo_client(tmp_path):
    app, _ = build_demo_app(
        NOW,
        {},
        origins=["http://localhost"],
        database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    return app.test_client()


@pytest.fixture(scope="module")
def running_demo():
    # Placed now, as `crs-cds demo` places it: the service it runs grades on the real clock, so
    # a fixed date would put every fever out of the 24 h window a day after it was written.
    demo = RunningDemo("127.0.0.1", 0, {})
    try:
        yield demo
    finally:
        demo.stop()


def _all_pages(client, url):
    """Every entry of a search, following next links; the pages and the total."""
    entries, pages = [], 0
    while url:
        bundle = client.get(url).get_json()
        pages += 1
        entries += bundle["entry"]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return entries, pages, bundle["total"]


# --- the FHIR endpoint ------------------------------------------------------------------------


def test_metadata_and_a_read(demo_client):
    assert demo_client.get("/demo/fhir/metadata").get_json()["fhirVersion"] == "4.0.1"
    response = demo_client.get(f"/demo/fhir/Patient/{CASE3}")
    assert response.mimetype == "application/fhir+json"
    assert response.get_json()["id"] == CASE3
    missing = demo_client.get("/demo/fhir/Patient/nobody")
    assert missing.status_code == 404
    assert missing.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("key", sorted(PREFETCH_TEMPLATES))
def test_every_prefetch_template_pages_through_next_links_to_its_total(demo_client, key):
    """Small pages (_count=7) so that every key needs several; each match once, none lost."""
    patient = demo_patient_id("figure3") if key == "assessments" else CASE3  # GCS: Figure 3
    rendered = render_template(PREFETCH_TEMPLATES[key], {"context.patientId": patient})
    if "?" not in rendered:
        assert demo_client.get(f"/demo/fhir/{rendered}").status_code == 200
        return
    path, _, query = rendered.partition("?")
    parameters = [(k, v) for k, v in parse_qsl(query) if k != "_count"] + [("_count", "7")]
    entries, pages, total = _all_pages(demo_client, f"/demo/fhir/{path}?{urlencode(parameters)}")
    matches = [e for e in entries if e["search"]["mode"] == "match"]
    assert len(matches) == total > 0
    assert len({e["fullUrl"] for e in matches}) == total
    assert pages == -(-total // 7)
    assert not [e for e in entries if e["search"]["mode"] == "outcome"], "nothing ignored"


def test_post_search_as_the_sandbox_sends_it(demo_client):
    body = {"patient": CASE3, "category": "laboratory", "_count": "5"}
    response = demo_client.post(
        "/demo/fhir/Observation/_search",
        data=urlencode(body),
        content_type="application/x-www-form-urlencoded",
    )
    bundle = response.get_json()
    assert response.status_code == 200 and bundle["type"] == "searchset"
    assert len(bundle["entry"]) == 5 and bundle["total"] > 5
    assert all(
        e["resource"]["category"][0]["coding"][0]["code"] == "laboratory" for e in bundle["entry"]
    )


def test_the_sandbox_checks_pass_and_cors_is_open(demo_client):
    """The CDS Hooks sandbox reads /metadata and /Patient from the browser (no token)."""
    response = demo_client.get("/demo/fhir/Patient", headers={"Origin": "https://sandbox.x"})
    assert response.status_code == 200
    assert response.get_json()["total"] == len(CASES)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unsupported_parameters_are_reported_in_an_outcome_entry(demo_client):
    bundle = demo_client.get(f"/demo/fhir/Observation?patient={CASE3}&_elements=id").get_json()
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert "_elements" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert demo_client.get("/demo/fhir/Observation?_count=lots").status_code == 400


def test_medications_come_with_their_included_medication(demo_client):
    figure3 = demo_patient_id("figure3")
    entries, _, _ = _all_pages(
        demo_client,
        f"/demo/fhir/MedicationAdministration?patient={figure3}"
        "&_include=MedicationAdministration:medication",
    )
    assert any(e["resource"]["resourceType"] == "MedicationAdministration" for e in entries)


# --- the SMART authorization server -----------------------------------------------------------


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(client, launch_id, **overrides):
    params = {
        "response_type": "code",
        "client_id": "crs-cds",
        "redirect_uri": "http://localhost/smart/callback",
        "launch": launch_id,
        "scope": "launch openid fhirUser patient/Observation.rs",
        "state": "st-1",
        "aud": FHIR,
        "code_challenge": _challenge("v" * 43),
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.get("/demo/auth/authorize?" + urlencode(params))


def _launch_id(client, patient=CASE3):
    response = client.get(f"/demo/launch/{patient}")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/smart/launch"
    query = dict(parse_qsl(target.query))
    assert query["iss"] == FHIR
    return query["launch"]


def _code(response):
    assert response.status_code == 302
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def test_smart_configuration_offers_ehr_launch_with_pkce_s256(demo_client):
    document = demo_client.get("/demo/fhir/.well-known/smart-configuration").get_json()
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "launch-ehr" in document["capabilities"]
    assert document["authorization_endpoint"] == "http://localhost/demo/auth/authorize"


def test_ehr_launch_code_and_token_for_the_launched_patient(demo_client):
    answer = _code(_authorize(demo_client, _launch_id(demo_client)))
    assert answer["state"] == "st-1"
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": "http://localhost/smart/callback",
        "code_verifier": "v" * 43,
        "client_id": "crs-cds",
    }
    token = demo_client.post("/demo/auth/token", data=form)
    assert token.headers["Cache-Control"] == "no-store"
    body = token.get_json()
    assert body["patient"] == CASE3 and body["token_type"] == "Bearer"
    again = demo_client.post("/demo/auth/token", data=form)
    assert again.get_json() == {"error": "invalid_grant"}, "a code is used once"

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert demo_client.get(f"/demo/fhir/Patient/{CASE3}", headers=bearer).status_code == 200
    own = demo_client.get(f"/demo/fhir/Observation?patient={CASE3}", headers=bearer)
    assert own.status_code == 200
    other = demo_client.get("/demo/fhir/Observation?patient=crs-demo-case1", headers=bearer)
    assert other.status_code == 403
    bogus = demo_client.get(f"/demo/fhir/Patient/{CASE3}", headers={"Authorization": "Bearer x"})
    assert bogus.status_code == 401


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"aud": "https://elsewhere.example/fhir"}, "invalid_request"),
        ({"launch": "unknown"}, "invalid_request"),
    ],
    ids=["plain PKCE", "implicit flow", "another audience", "unknown launch"],
)
def test_authorize_refusals_go_back_to_the_app_with_an_error(demo_client, override, error):
    answer = _code(_authorize(demo_client, _launch_id(demo_client), **override))
    assert answer == {"error": error, "state": "st-1"}


@pytest.mark.parametrize(
    "override",
    [{"client_id": "another-app"}, {"redirect_uri": "https://evil.example/cb"}],
    ids=["unknown client", "redirect elsewhere"],
)
def test_authorize_never_redirects_to_an_unknown_client_or_uri(demo_client, override):
    response = _authorize(demo_client, _launch_id(demo_client), **override)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_a_wrong_pkce_verifier_gets_no_token(demo_client):
    answer = _code(_authorize(demo_client, _launch_id(demo_client)))
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": "http://localhost/smart/callback",
        "code_verifier": "w" * 43,
        "client_id": "crs-cds",
    }
    assert demo_client.post("/demo/auth/token", data=form).get_json() == {"error": "invalid_grant"}


def test_the_launch_page_lists_every_patient_with_its_launch(demo_client):
    page = demo_client.get("/demo/").get_data(as_text=True)
    for case_id in CASES:
        assert f'href="/demo/launch/{demo_patient_id(case_id)}"' in page
        assert TELLING_MOMENTS[case_id].shows.split(":")[0] in page
    assert "sandbox.cds-hooks.org/?serviceDiscoveryURL=" in page
    assert demo_client.get("/demo/launch/nobody").status_code == 404


# --- over HTTP: the whole path an EHR takes ---------------------------------------------------


def test_the_service_grades_every_patient_from_the_demo_fhir_endpoint(running_demo):
    """Prefetch read from the demo EHR over HTTP, the hook called over HTTP, as in the demo."""
    with requests.Session() as session:
        service = RemoteService(running_demo.base, session)
        discovery = service.discovery()
        fhir = f"{running_demo.base}/demo/fhir"
        for case_id in CASES:
            call = HookCall("crs-patient-view", demo_patient_id(case_id), fhir_server=fhir)
            body = build_request(
                call, discovery, lambda t, k: prefetch_from_server(t, k, fhir, session)
            )
            status, answer = service.call("crs-patient-view", body)
            assert status == 200
            grades = [
                c["extension"]["org.crscds.assessment"]["grade"]
                for c in answer["cards"]
                if "org.crscds.assessment" in c.get("extension", {})
            ]
            # The real clock runs: the case was placed at start-up, the grade holds for hours.
            assert grades == [TELLING_MOMENTS[case_id].lee2014], case_id


def test_the_smart_launch_opens_the_course_of_the_launched_patient(running_demo):
    """The launch link of the demo page, followed as a browser would (cookies kept)."""
    with requests.Session() as browser:
        page = browser.get(f"{running_demo.base}/demo/launch/{CASE3}", timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert urlsplit(page.url).path == "/smart/app"
        assert "Nora Whitfield" in page.text
        assert "Grade 3" in page.text


def test_the_demo_binds_to_loopback_only():
    with pytest.raises(ListenError, match="loopback only"):
        RunningDemo("0.0.0.0", 0, {})  # noqa: S104 - the refusal is the point


# --- production mode --------------------------------------------------------------------------


def test_the_production_app_has_no_demo_ehr(make_app):
    app = make_app(CRS_CDS_AUTH="jwt")
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/demo")]
    client = app.test_client()
    for path in ("/demo/", f"/demo/fhir/Patient/{CASE3}", "/demo/fhir/metadata"):
        assert client.get(path).status_code == 404, path
    assert client.post("/demo/auth/token", data={}).status_code == 404


def test_building_the_production_app_never_imports_the_demo_ehr(tmp_path):
    code = (
        "import sys; from cds_service import create_app; "
        f"create_app({{'CRS_CDS_AUTH': 'none', 'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', "
        "'CRS_CDS_LOG_LEVEL': 'ERROR'}); "
        "import gunicorn; "
        "print(sorted(m for m in sys.modules if m.startswith('cds_service.demo')))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "cds_service.demo.server" not in out
    assert "cds_service.demo.fhir_store" not in out
