"""A full SMART EHR launch in a real Chromium, against a test-only EHR on loopback.

The test starts two servers on 127.0.0.1 in threads: a fake EHR (SMART configuration, an
authorization server that auto-approves, and a FHIR server holding the seed's Case 3 demo
Bundle) and our app. Chromium opens the launch URL as an EHR would; the browser follows
authorize -> callback -> the page, and the test checks what the page drew and saves
screenshots to ``test-artifacts/`` (``CRS_CDS_DOCS_SCREENSHOT=1`` also refreshes
``docs/img/smart-case3.png``).

A second launch runs inside the fake EHR's chart page, in an iframe of another site (the app
over https as ``localhost``, the EHR as ``127.0.0.1``), the way Epic and most EHRs embed SMART
apps: the session cookie must survive there (issue 11).

Skipped when Chromium (``/usr/bin/chromium``) or Playwright is missing, except under CI
(``CI`` set), where it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from flask import Flask, Response, request
from markupsafe import escape
from werkzeug.serving import BaseWSGIServer, make_server

from cds_service.smart import InMemorySmartStore, SmartConfig, init_smart

from .fhir_fake import FakeAuthorizationServer, FakeFhir, demo_resources, smart_configuration

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--no-proxy-server",  # loopback only, whatever the environment's proxy says
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS_IMAGE = ROOT / "docs" / "img" / "smart-case3.png"
AS_OF = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # day 10 of the Case 3 demo (day 0 2026-01-05)
TIMEOUT_MS = 20_000
# Read at import: the suite's autouse fixture clears CRS_CDS_* variables before each test.
REFRESH_DOCS_IMAGE = bool(os.environ.get("CRS_CDS_DOCS_SCREENSHOT"))
PATIENT = "crs-demo-case3"


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install playwright)"
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(reason)


@dataclass
class Served:
    base: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _serve(app: Flask) -> Served:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{app.name}", daemon=True)
    thread.start()
    return Served(f"http://127.0.0.1:{server.server_port}", server, thread)


def _ehr_app(fhir: FakeFhir, auth: FakeAuthorizationServer, ehr_base: str) -> Flask:
    """The fake EHR over HTTP: discovery, authorize, token, FHIR reads."""
    app = Flask("fake_ehr")

    def answer(result: tuple[int, dict[str, str], str]) -> Response:
        status, headers, body = result
        return Response(body, status=status, headers=headers)

    @app.get("/fhir/.well-known/smart-configuration")
    def configuration() -> Response:
        return Response(json.dumps(smart_configuration(ehr_base)), mimetype="application/json")

    @app.get("/fhir/<path:_rest>")
    def fhir_read(_rest: str) -> Response:
        return answer(fhir.answer(request.url, dict(request.headers)))

    @app.get("/auth/authorize")
    def authorize() -> Response:
        return answer(auth.authorize(dict(request.args)))

    @app.post("/auth/token")
    def token() -> Response:
        return answer(auth.token(dict(request.form)))

    @app.get("/ehr/chart")
    def chart() -> Response:
        """The EHR's chart page showing the SMART app in an iframe, as Epic and most EHRs do."""
        source = escape(request.args["app"])
        return Response(
            f"<!doctype html><title>EHR chart</title><h1>Chart</h1>"
            f'<iframe id="smart" src="{source}" width="1000" height="900"></iframe>',
            mimetype="text/html",
        )

    return app


@dataclass
class Launch:
    app_base: str
    iss: str
    fhir: FakeFhir
    auth: FakeAuthorizationServer


@pytest.fixture(scope="module")
def launch_env() -> Iterator[Launch]:
    _require_browser()
    auth = FakeAuthorizationServer(client_id="crs-cds", patient=PATIENT, access_token="tok-e2e")
    fhir = FakeFhir(base="", resources=demo_resources("case3"), token="tok-e2e")
    ehr = _serve(Flask("placeholder"))  # bind first to learn the port, then swap the app
    ehr.server.app = _ehr_app(fhir, auth, ehr.base)
    fhir.base = f"{ehr.base}/fhir"
    http = requests.Session()
    http.trust_env = False  # loopback only
    app = Flask("crs_smart_e2e")
    app.secret_key = "e2e-secret-key"
    init_smart(
        app,
        SmartConfig(allowed_issuers=(fhir.base,)),
        store=InMemorySmartStore(),
        http=http,
        clock=lambda: AS_OF,
    )
    ours = _serve(app)
    try:
        yield Launch(ours.base, fhir.base, fhir, auth)
    finally:
        ours.stop()
        ehr.stop()
        http.close()


@pytest.fixture(scope="module")
def browser(launch_env):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _launch_url(env: Launch) -> str:
    return f"{env.app_base}/smart/launch?" + urlencode({"iss": env.iss, "launch": env.auth.launch})


def _open(browser, env: Launch, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(_launch_url(env), wait_until="load")
    page.wait_for_selector("#crs-series", state="attached")
    return context, page


def test_ehr_launch_ends_on_the_case3_page_with_the_course_drawn(browser, launch_env):
    context, page = _open(browser, launch_env, width=1000)
    try:
        url = urlsplit(page.url)
        assert url.path == "/smart/app" and "ctx" in dict(parse_qsl(url.query))
        # The authorization request the browser carried (SMART App Launch 2.2, step 4).
        sent = launch_env.auth.authorize_requests[-1]
        assert sent["aud"] == launch_env.iss and sent["launch"] == launch_env.auth.launch
        assert sent["code_challenge_method"] == "S256"
        # The FHIR reads carried the token the fake authorization server issued.
        assert launch_env.fhir.requests
        assert all(h.get("Authorization") == "Bearer tok-e2e" for _, h in launch_env.fhir.requests)

        data = json.loads(page.locator("#crs-series").text_content() or "{}")
        assert data["grade"]["current"] == 2 and data["grade"]["peak"] == 3
        assert [(m["kind"], m["dayNumber"]) for m in data["markers"]] == [("tocilizumab", 5)]
        daily = {d["day"]: d["lee2014"] for d in data["dailyGrades"]}
        assert max(daily.values()) == 3 and daily[5] == 3

        # What the SVG shows in the DOM matches the embedded series.
        temperature = next(s for s in data["series"] if s["key"] == "temperature")
        assert page.locator("#series-temperature use").count() == len(temperature["points"])
        assert page.locator("#series-norepinephrine-equivalent path").count() >= 1
        marker = page.locator("#marker-tocilizumab-0 path").bounding_box()
        assert marker is not None and marker["height"] > 50  # a vertical rule through the panel
        assert page.locator('[id^="grade-lee2014-day-"]').count() == len(data["dailyGrades"])
        assert page.locator("header.banner").inner_text().startswith("Nora Whitfield")
        assert "active infection diagnosis" in page.locator(".warnings").inner_text()
        assert page.locator('.warnings li[data-code="infection-diagnosis"]').count() == 1

        # The chart uses the page's width on a desktop (issue 12: it filled about half).
        content = page.locator("main.crs").bounding_box()
        chart = page.locator("svg.crs-chart").bounding_box()
        assert content is not None and chart is not None
        assert chart["width"] >= 0.9 * (content["width"] - 24)

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "smart-case3.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        if REFRESH_DOCS_IMAGE:
            DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, DOCS_IMAGE)
    finally:
        context.close()


def test_the_case3_page_draws_her_encephalopathy_screen_and_the_icans_strip(browser, launch_env):
    """SPEC 2.9 in the browser: seed Case 3's day 9 encephalopathy, charted as CAPD (she is 11:
    ASTCT 2019) and RASS, is drawn as its own series with the ICANS grade 2 and 3 bands, and the
    grade strip has an ICANS row beside the CRS rows, one cell per day."""
    context, page = _open(browser, launch_env, width=1000)
    try:
        data = json.loads(page.locator("#crs-series").text_content() or "{}")
        capd = next(s for s in data["series"] if s["key"] == "capd-score")
        assert capd["points"] and max(value for _, value, _ in capd["points"]) >= 9
        assert page.locator("#series-capd-score use").count() == len(capd["points"])
        assert page.locator("#threshold-capd-score-9").count() == 1
        cells = page.locator('[id^="grade-icans-day-"]')
        assert cells.count() == len(data["dailyGrades"])
        day9 = page.locator("#grade-icans-day-9 path").bounding_box()
        lee9 = page.locator("#grade-lee2014-day-9 path").bounding_box()
        assert day9 is not None and lee9 is not None
        assert day9["y"] > lee9["y"] and abs(day9["x"] - lee9["x"]) < 1  # a row below, same day
        assert {d["day"]: d["icans"] for d in data["dailyGrades"]}[9] == 3
        assert page.locator("#grade-icans").inner_text().splitlines()[-1].strip() == "Grade 3"
        assert "CAPD 21" in page.locator("ul.icans-drivers").inner_text()
    finally:
        context.close()


def test_the_page_fits_a_400_px_ehr_side_panel_and_prints(browser, launch_env):
    context, page = _open(browser, launch_env, width=400)
    try:
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 0, "no horizontal scrolling in a 400 px panel"
        frame = page.locator("section.chart").bounding_box()
        chart = page.locator("svg.crs-chart").bounding_box()
        assert frame is not None and 340 <= frame["width"] <= 400  # the frame fits the panel
        assert chart is not None and chart["width"] >= 600  # the chart keeps a legible width
        scrolls = page.evaluate(
            "(() => { const c = document.querySelector('section.chart');"
            " return c.scrollWidth > c.clientWidth; })()"
        )
        assert scrolls, "the chart scrolls sideways in its own frame"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "smart-case3-400px.png"), full_page=True)

        page.emulate_media(media="print")
        assert page.locator("svg.crs-chart").is_visible()
        background = page.evaluate(
            "getComputedStyle(document.querySelector('header.banner')).backgroundColor"
        )
        assert background in ("rgba(0, 0, 0, 0)", "transparent")  # no dark band on paper
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    finally:
        context.close()


def test_a_launch_from_an_unknown_ehr_is_refused_in_the_browser(browser, launch_env):
    context = browser.new_context()
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        query = urlencode({"iss": "http://127.0.0.1:9/fhir", "launch": "x"})
        response = page.goto(f"{launch_env.app_base}/smart/launch?{query}")
        assert response is not None and response.status == 400
        assert "Launch refused" in page.locator("h1").inner_text()
    finally:
        context.close()


# --- inside the EHR: a cross-site iframe over https -----------------------------------------


def _self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate for localhost and 127.0.0.1 (the browser is told to accept it)."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture(scope="module")
def https_app(launch_env, tmp_path_factory) -> Iterator[str]:
    """Our SMART app with its default cookie policy, over https as ``localhost``: another
    site than the EHR's ``127.0.0.1`` (same-site ignores ports, not host names)."""
    http = requests.Session()
    http.trust_env = False
    app = Flask("crs_smart_iframe")
    app.secret_key = "iframe-secret-key"
    init_smart(
        app,
        SmartConfig(allowed_issuers=(launch_env.iss,)),
        store=InMemorySmartStore(),
        http=http,
        clock=lambda: AS_OF,
    )
    cert, key = _self_signed_certificate(tmp_path_factory.mktemp("tls"))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key))
    thread = threading.Thread(target=server.serve_forever, name="serve-https", daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        http.close()


def test_the_app_launches_inside_a_cross_site_ehr_iframe_over_https(browser, launch_env, https_app):
    """Issue 11: without SameSite=None; Secure the browser stores no cookie in the EHR's
    iframe, and the callback is refused as "started in another browser session"."""
    ehr_base = launch_env.iss.removesuffix("/fhir")
    launch_url = f"{https_app}/smart/launch?" + urlencode(
        {"iss": launch_env.iss, "launch": launch_env.auth.launch}
    )
    context = browser.new_context(
        ignore_https_errors=True, viewport={"width": 1100, "height": 1000}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{ehr_base}/ehr/chart?" + urlencode({"app": launch_url}), wait_until="load")
        frame = page.frame_locator("#smart")
        frame.locator("#crs-series, .error-page").first.wait_for(state="attached")
        if frame.locator("#crs-series").count() == 0:
            pytest.fail(f"the iframe shows: {frame.locator('.error-page').inner_text()}")
        data = json.loads(frame.locator("#crs-series").text_content() or "{}")
        assert data["grade"]["peak"] == 3
        (cookie,) = [c for c in context.cookies(https_app) if c["name"] == "session"]
        assert cookie["sameSite"] == "None" and cookie["secure"] is True
        # Partitioned (CHIPS): kept under the embedding EHR's site, not shared with other sites.
        assert cookie["partitionKey"] == "http://127.0.0.1"
        assert urlsplit(page.url).hostname == "127.0.0.1", "the EHR stays the top-level page"
    finally:
        context.close()
