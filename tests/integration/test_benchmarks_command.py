"""The README's ``python -m benchmarks`` runs and prints every issue 13 target (a smoke run:
nothing here measures time; the numbers live in docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_benchmark_command_prints_every_target_without_writing(tmp_path):
    before = (REPO / "docs" / "performance.md").read_text()
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks", "--quick", "--sizes", "S", "--no-http"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    assert "### Targets of issue 13" in out
    for target in (
        "the floor is fair",
        "XL within 500 ms in process on one core",
        "growth exponent M -> XL <= 1.1",
        "HTTP at concurrency 4",
    ):
        assert target in out
    assert "| 100000, 50, 100 |" in out  # the production GC thresholds, in process
    # The rounds run gunicorn's post_request after each call, as a worker does, timed apart.
    assert "| after the answer, not in the call: gunicorn's post_request" in out
    # The hook slows orjson.loads: the ratio to it alone is printed too, and judged on.
    assert "x it alone" in out
    assert (REPO / "docs" / "performance.md").read_text() == before  # --quick writes nothing
