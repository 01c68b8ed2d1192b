"""``crs-cds demo`` as a newcomer runs it (issue 14): a grade 3 card for Case 3 on the terminal,
the URLs to open, and the printed SMART launch link showing Case 3's course in Chromium.

The command runs as a subprocess on a free port (``--port 0``); the browser part is skipped when
Chromium or Playwright is missing, except under CI. How long the newcomer path takes is measured
by ``python -m benchmarks.newcomer``, not here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from benchmarks.newcomer import _CASE3_CARD as NEWCOMER_WAITS_FOR
from cds_service.demo import CASES, TELLING_MOMENTS, demo_patient_id

CRS_CDS = Path(sys.executable).with_name("crs-cds")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server"]
READY = "Press Ctrl+C to stop."
#: Generous bound on the wait only (not a performance check): a loaded CI machine is slow.
WAIT_S = 180


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def url(self, label: str) -> str:
        match = re.search(rf"^  {re.escape(label)}:\s+(\S+)$", self.text, re.MULTILINE)
        assert match, f"no {label!r} line in:\n{self.text[-2000:]}"
        return match.group(1)


def _start(*arguments: str) -> DemoProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(CRS_CDS), "demo", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    demo = DemoProcess(process)

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                demo.lines.append(line)

    demo.reader = threading.Thread(target=read, daemon=True)
    demo.reader.start()
    return demo


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProcess]:
    started = _start("--port", "0")
    deadline = time.monotonic() + WAIT_S
    while READY not in started.text and started.process.poll() is None:
        assert time.monotonic() < deadline, started.text[-3000:]
        time.sleep(0.1)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.process.send_signal(signal.SIGINT)
            started.process.wait(20)
        if started.reader is not None:
            started.reader.join(10)


def test_the_demo_prints_a_grade_3_card_for_case_3(demo):
    text = demo.text
    assert READY in text, text[-3000:]
    case3 = text.split("== crs-patient-view for Patient/crs-demo-case3 ==")[1]
    assert case3.lstrip().startswith("[CRITICAL]")
    assert "Assessment: CRS grade 3 (Lee 2014)" in case3.split("== crs-patient-view")[0]
    # The newcomer benchmark (issue 14) clocks the first card by this line: keep them in step.
    assert NEWCOMER_WAITS_FOR.search(case3.split("== crs-patient-view")[0])


def test_the_demo_prints_each_patients_expected_grade(demo):
    for case_id in CASES:
        section = demo.text.split(f"== crs-patient-view for Patient/{demo_patient_id(case_id)} ==")
        grade = TELLING_MOMENTS[case_id].lee2014
        assert f"Assessment: CRS grade {grade} (Lee 2014)" in section[1].split("== ")[0], case_id


def test_the_demo_shows_the_watch_alert_arriving_when_case_3_reaches_day_5_noon(demo):
    """Issue 16: the watch, no chart open, alerts the EHR once when Case 3's grade rises."""
    text = demo.text
    assert "Day 4 12:00, data filed, the EHR notifies the watch: CRS grade 1, no alert." in text
    assert re.search(
        r"ALERT received by the EHR as Communication/alert-1 \(urgent\): CRS grade rose from 1 "
        r"to 2\. CRS grade 2 \(Lee 2014\), day 5 after CAR T-cell therapy",
        text,
    ), text[-3000:]
    assert text.count("ALERT received") == 1


def test_the_printed_urls_answer(demo):
    discovery = requests.get(demo.url("CDS Hooks discovery"), timeout=30).json()
    assert {s["id"] for s in discovery["services"]} == {
        "crs-patient-view",
        "crs-order-select",
        "crs-order-sign",
    }
    fhir = demo.url("FHIR base of the demo EHR")
    assert requests.get(f"{fhir}/metadata", timeout=30).json()["fhirVersion"] == "4.0.1"
    page = requests.get(demo.url("Demo EHR: patients, SMART launch"), timeout=30)
    assert "Open CRS course" in page.text
    assert "sandbox.cds-hooks.org/?serviceDiscoveryURL=" in demo.url("Public CDS Hooks sandbox")


def test_the_printed_call_command_prints_the_grade(demo):
    command = re.search(r"Call a service as an EHR would:\s+crs-cds (call .+)$", demo.text, re.M)
    assert command
    out = subprocess.run(  # noqa: S603 - our own console script
        [str(CRS_CDS), *command.group(1).split()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Assessment: CRS grade 3 (Lee 2014)" in out


@pytest.mark.browser
def test_the_printed_smart_link_shows_case_3s_course_in_chromium(demo, tmp_path):
    if not CHROMIUM.exists() or not _has_playwright():
        if os.environ.get("CI"):
            pytest.fail("Chromium and Playwright are required under CI")
        pytest.skip("Chromium or Playwright missing")
    from playwright.sync_api import sync_playwright

    launch = demo.url("SMART launch of crs-demo-case3")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(demo.url("Demo EHR: patients, SMART launch"))
            page.click("#crs-demo-case3 a.launch")
            page.wait_for_selector("#crs-series", state="attached")
            assert page.url.startswith(launch.split("/demo/")[0] + "/smart/app?ctx=")
            body = page.inner_text("body")
            assert "Nora Whitfield" in body
            assert "Grade 3" in body
            assert page.locator("svg").count() >= 1, "the course is drawn"
            page.screenshot(path=str(tmp_path / "demo-case3.png"), full_page=True)
            # The printed link itself works too (a second launch in the same browser).
            page.goto(launch)
            page.wait_for_selector("#crs-series", state="attached")
        finally:
            browser.close()


def test_ctrl_c_stops_the_demo(demo):
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(20) == 0
    if demo.reader is not None:
        demo.reader.join(10)
    assert "Stopped." in demo.text


def test_the_demo_refuses_to_listen_beyond_loopback():
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(CRS_CDS), "demo", "--host", "0.0.0.0"],  # noqa: S104 - refused, the point
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True
