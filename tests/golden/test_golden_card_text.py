"""SPEC section 4, "card text is for a clinician with five seconds", on every golden answer.

Each rule is checked on what the EHR shows: summaries, details, suggestion labels, action
descriptions and the dosage text of every suggested order. The golden scenarios are the seed
cases charted in their own local offsets (Case 1 -05:00, Case 2 -06:00, Case 3 -08:00, the
Figure 3 patient +01:00), so no time may read as UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .scenarios import SCENARIOS, path_of

#: A FHIR reference of any resource type the service reads or writes.
FHIR_ID = re.compile(
    r"\b(?:Observation|MedicationAdministration|MedicationRequest|Medication|Procedure|"
    r"Condition|Patient)/[A-Za-z0-9.\-]+"
)

#: Words of the specification, the code or the seed paper's layout that mean nothing at the
#: bedside (issue 12: "seed", "Table 3", "lee2014", protocol ids).
INTERNAL_WORDS = (
    "seed",
    "Table 2",
    "Table 3",
    "lee2014",
    "fda-label",
    "astct2019",
    "SPEC",
    "USPI",
    "[Lee 2014",
    "Mahadeo",
    "Not used",
    "resources)",
)

_ANSWERS = {s.name: json.loads(path_of(s).read_text(encoding="utf-8")) for s in SCENARIOS}


def _texts(card: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of everything a clinician reads on ``card``."""
    yield "summary", card["summary"]
    yield "detail", card.get("detail", "")
    for suggestion in card.get("suggestions", ()):
        yield "suggestion label", suggestion["label"]
        for action in suggestion.get("actions", ()):
            yield "action description", action.get("description", "")
            resource = action.get("resource") or {}
            for dosage in resource.get("dosageInstruction", ()):
                yield "dosageInstruction.text", dosage.get("text", "")
    for link in card.get("links", ()):
        yield "link label", link["label"]


def _every_text(name: str) -> list[tuple[str, str]]:
    return [(where, text) for card in _ANSWERS[name]["cards"] for where, text in _texts(card)]


NAMES = [s.name for s in SCENARIOS]


@pytest.mark.parametrize("name", NAMES)
def test_every_detail_is_under_700_characters(name):
    """SPEC 4: "The detail is at most 700 characters of markdown"."""
    lengths = [len(card["detail"]) for card in _ANSWERS[name]["cards"]]
    assert all(length < 700 for length in lengths), lengths


@pytest.mark.parametrize("name", NAMES)
def test_every_summary_is_under_140_characters(name):
    assert all(len(card["summary"]) < 140 for card in _ANSWERS[name]["cards"])


@pytest.mark.parametrize("name", NAMES)
def test_no_fhir_id_reaches_the_clinician(name):
    """SPEC 4: "no FHIR ids, no resource lists": evidence lives in the extension."""
    found = [(where, FHIR_ID.findall(text)) for where, text in _every_text(name)]
    assert [hit for hit in found if hit[1]] == []


@pytest.mark.parametrize("name", NAMES)
def test_no_internal_word_reaches_the_clinician(name):
    found = [
        (where, word)
        for where, text in _every_text(name)
        for word in INTERNAL_WORDS
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE)
    ]
    assert found == []


@pytest.mark.parametrize("name", NAMES)
def test_times_are_on_the_local_clock_of_the_patients_data(name):
    """SPEC 4: times in the local offset of the patient's own data; none of these is UTC."""
    for where, text in _every_text(name):
        assert "UTC" not in text, (where, text)
        assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text), (where, text)


def test_the_figure3_times_are_its_local_times():
    """Tocilizumab at 12:30 UTC is 13:30 on the +01:00 ward clock; 8 h and 24 h later too."""
    detail = _ANSWERS["patient-view-figure3"]["cards"][0]["detail"]
    assert "at 11 Jan 13:30 (7 h 30 min ago)" in detail
    assert "No tocilizumab before 11 Jan 21:30" in detail
    assert "Reassess at 12 Jan 13:30" in detail


@pytest.mark.parametrize("name", NAMES)
def test_each_fact_is_said_once_across_the_cards_of_an_answer(name):
    """SPEC 4: "Each fact is said once across all cards of one answer"."""
    cards = [f"{card['summary']}\n{card['detail']}" for card in _ANSWERS[name]["cards"]]
    for fact in (
        "obtain blood cultures",
        "Hypotension from sepsis would not call for",
        "no longer track CRS",
        "Given so far",
        "Reassess at",
        "CRS mimics infection",
    ):
        assert sum(fact in card for card in cards) <= 1, fact
        for card in cards:
            assert card.split("\n", 1)[1].count(fact) <= 1, fact
    sentences = [
        [s.strip(" -*") for s in re.split(r"(?<=[.:])\s+|\n", card["detail"]) if len(s) > 25]
        for card in _ANSWERS[name]["cards"]
    ]
    for index, mine in enumerate(sentences):
        for other in sentences[index + 1 :]:
            assert set(mine).isdisjoint(other), set(mine) & set(other)


def test_drivers_are_in_clinical_words():
    """Issue 12: "norepinephrine 25 ug/min for 5 h", not criterion names or table rows."""
    detail = _ANSWERS["patient-view-case3"]["cards"][0]["detail"]
    assert "dopamine 5 ug/kg/min and norepinephrine" in detail
    assert "multiple-vasopressors" not in detail
    assert "BP 70/40 mmHg (systolic < 90 mmHg)" in detail
