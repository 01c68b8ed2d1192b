"""Every command the README shows is run here (issue 14: examples that drift are bugs).

Each ```sh block of README.md must be one this test knows; a block added or changed without a
test here fails. The blocks run as written, in a temporary folder, with ``.venv/bin/`` meaning
this interpreter's bin folder and port 8080 replaced by a free one. The first block (clone to
demo) is checked here for its text and its demo run in ``test_demo_command``; the second must be
what ``.ci/run`` runs last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cds_service.demo_command import RunningDemo

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
README = (ROOT / "README.md").read_text()

DEMO = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/crs-cds demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"


def _blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def _run(command: str, cwd: Path, port: int | None = None) -> str:
    command = command.replace(".venv/bin/", f"{BIN}/")
    if port is not None:
        command = command.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    result = subprocess.run(  # noqa: S603 - the README's own commands
        ["bash", "-c", command],  # noqa: S607
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def _block(prefix: str) -> str:
    found = [block for block in _blocks() if block.startswith(prefix)]
    assert len(found) == 1, f"one README block starts with {prefix!r}: {found}"
    return found[0]


KNOWN_PREFIXES = (
    DEMO,
    TESTS,
    ".venv/bin/crs-cds demo-data demo\n",
    ".venv/bin/crs-cds call http://127.0.0.1:8080/",
    ".venv/bin/crs-cds demo-data demo-2026",
    "gunicorn 'cds_service:create_app()'",
)


def test_every_readme_block_is_one_this_test_runs():
    blocks = _blocks()
    for block in blocks:
        assert any(block.startswith(prefix) for prefix in KNOWN_PREFIXES), (
            f"README block without a test in test_readme.py:\n{block}"
        )
    assert len(blocks) == len(KNOWN_PREFIXES)


def test_the_first_command_is_the_demo_and_the_second_runs_the_tests():
    blocks = _blocks()
    assert blocks[0] == DEMO  # its demo runs in test_demo_command.py
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert blocks[1] == TESTS == ci[-1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


def test_demo_data_call_and_request(workdir):
    outputs = [_run(command, workdir) for command in _commands(_block(KNOWN_PREFIXES[2]))]
    assert (workdir / "demo" / "case3.json").exists()
    assert "Assessment: CRS grade 3 (Lee 2014)" in outputs[1]  # Case 3 at its grade 3
    answer = json.loads(outputs[2])
    grades = [
        card["extension"]["org.crscds.assessment"]["grade"]
        for card in answer["cards"]
        if "org.crscds.assessment" in card.get("extension", {})
    ]
    assert grades == [3]  # Figure 3 on its second vasopressor
    request = json.loads((workdir / "request.json").read_text())
    assert request["hook"] == "patient-view"
    assert request["context"]["patientId"] == "crs-demo-case1"


def test_calls_against_a_running_demo(workdir):
    if not (workdir / "request.json").exists():
        _run(_commands(_block(KNOWN_PREFIXES[2]))[0], workdir)
        _run(_commands(_block(KNOWN_PREFIXES[2]))[3], workdir)
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the README's curl example")
    demo = RunningDemo("127.0.0.1", 0, {})
    try:
        port = int(demo.base.rsplit(":", 1)[1])
        call, curl = _commands(_block(KNOWN_PREFIXES[3]))
        assert "Assessment: CRS grade 3 (Lee 2014)" in _run(call, workdir, port)
        answer = json.loads(_run(curl, workdir, port))
        assert answer["cards"][0]["extension"]["org.crscds.assessment"]["grade"] == 1
    finally:
        demo.stop()


def test_grade_of_the_shipped_case3_at_its_first_grade_3(workdir):
    outputs = [_run(command, workdir) for command in _commands(_block(KNOWN_PREFIXES[4]))]
    assert "Grade (Lee 2014): 3" in outputs[1]
    assert "multiple-vasopressors" in outputs[1]
    # seed Case 3 on day 9 (16:00 on her -08:00 clock): encephalopathy, SPEC 2.9
    assert "Grade (Lee 2014): 2" in outputs[2]
    assert "ICANS (ASTCT 2019): 3   peak: 3" in outputs[2]
    assert "icans-capd-score" in outputs[2]


def test_the_production_gunicorn_command(workdir):
    (command,) = _commands(_block(KNOWN_PREFIXES[5]))
    port = _free_port()
    command = command.replace("0.0.0.0:8080", f"127.0.0.1:{port}")
    assert command.startswith("gunicorn ")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    env.update({"CRS_CDS_AUTH": "none", "DATABASE_URL": f"sqlite:///{workdir / 'g.sqlite3'}"})
    log = (workdir / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - the README's own command
        ["bash", "-c", f"exec {BIN}/{command}"],  # noqa: S607
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (workdir / "gunicorn.log").read_text()[-2000:]
            time.sleep(0.2)
        assert requests.get(f"http://127.0.0.1:{port}/cds-services", timeout=30).ok
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()
