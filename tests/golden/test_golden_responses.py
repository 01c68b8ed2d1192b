"""Golden responses: the seed cases through the service, compared exactly (uuids normalised).

Issue 4: "Golden responses for the seed cases (stable apart from uuids and times)". The clock
is frozen at each case's moment, so times are stable too. After an intended change of the
cards, regenerate and review the diff::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden
    git diff tests/golden
"""

from __future__ import annotations

import json
import os

import pytest

from .scenarios import (
    DOCS,
    REGENERATE_VARIABLE,
    SCENARIOS,
    dump,
    path_of,
    run,
    with_golden_examples,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_response_matches_its_golden_file(make_app, scenario):
    answer = run(scenario, make_app)
    path = path_of(scenario)
    if os.environ.get(REGENERATE_VARIABLE) == "1":
        path.write_text(dump(answer), encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with {REGENERATE_VARIABLE}=1"
    assert answer == json.loads(path.read_text(encoding="utf-8")), (
        f"{path.name} differs; if the change is intended, run with {REGENERATE_VARIABLE}=1 and "
        "review the diff"
    )


def test_every_golden_file_belongs_to_a_scenario():
    names = {f"{scenario.name}.json" for scenario in SCENARIOS}
    files = {path.name for path in path_of(SCENARIOS[0]).parent.glob("*.json")}
    assert files == names


def test_the_examples_in_docs_cards_md_are_the_golden_files():
    """docs/cards.md shows golden responses; they must not drift from what the service says."""
    document = DOCS.read_text(encoding="utf-8")
    expected = with_golden_examples(document)
    if os.environ.get(REGENERATE_VARIABLE) == "1":
        DOCS.write_text(expected, encoding="utf-8")
        document = expected
    assert "<!-- golden:patient-view-case3 -->\n```json\n{" in document
    assert document == expected, f"run with {REGENERATE_VARIABLE}=1 to refresh docs/cards.md"
