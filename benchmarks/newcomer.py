"""``python -m benchmarks.newcomer``: time the README's first command from a fresh clone.

    .venv/bin/python -m benchmarks.newcomer [--repo PATH_OR_URL]

Clones the repository (default: this checkout) into a temporary folder, runs the README's first
command there (``python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/crs-cds
demo``, on a free port), and reports the seconds from the start of the clone to: the clone
done, the install done, the first grade 3 card of Case 3 on the terminal, and the Case 3 SMART
page drawn in Chromium after a click on its launch link (Playwright from the running
interpreter). With a warm package cache the issue 14 target is 60 s to the first card.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_CASE3_CARD = re.compile(r"Assessment: CRS grade 3 \(Lee 2014\)")
_CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(_ROOT), help="what to clone (default: this checkout)")
    args = parser.parse_args()
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="crs-cds-newcomer-") as folder:
        clone = Path(folder) / "crs-cds"
        start = time.perf_counter()
        subprocess.run(["git", "clone", "-q", args.repo, str(clone)], check=True)
        marks["clone"] = time.perf_counter() - start
        subprocess.run(  # the README's own command line
            ["bash", "-c", "python3 -m venv .venv && .venv/bin/pip install -q -e ."],
            cwd=clone,
            check=True,
        )
        marks["install"] = time.perf_counter() - start
        port = _free_port()
        demo = subprocess.Popen(
            [str(clone / ".venv/bin/crs-cds"), "demo", "--port", str(port)],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert demo.stdout is not None
            section = ""
            for line in demo.stdout:
                lines.append(line)
                if line.startswith("== crs-patient-view for Patient/"):
                    section = line
                if "crs-demo-case3" in section and _CASE3_CARD.search(line):
                    marks.setdefault("first grade 3 card of Case 3", time.perf_counter() - start)
                if line.startswith("Press Ctrl+C"):
                    ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not ready.wait(300):
                sys.exit("the demo did not get ready:\n" + "".join(lines)[-3000:])
            marks["demo ready (all cards, URLs)"] = time.perf_counter() - start
            marks["SMART page of Case 3 drawn"] = _open_smart_page(port) - start
        finally:
            demo.terminate()
            demo.wait(30)
    for name, seconds in marks.items():
        sys.stdout.write(f"{name:<32} {seconds:6.1f} s\n")


def _open_smart_page(port: int) -> float:
    """Open the demo's patient list, click Case 3's launch, wait for the drawn course; return
    the clock (perf_counter) when it is drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_CHROMIUM, args=["--headless", "--no-sandbox", "--no-proxy-server"]
        )
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/demo/")
            page.click("#crs-demo-case3 a.launch")
            page.wait_for_selector("#crs-series", state="attached", timeout=120_000)
            return time.perf_counter()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
