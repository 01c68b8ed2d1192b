"""The plan carries every reminder the cards show, each placed on one card (SPEC 2.3, 2.7 and
section 4: "each fact is said once across all cards of one answer"), and the colour of both
cards of a patient-view answer."""

from __future__ import annotations

import pytest

from crs_grading.criteria import ReminderCode, Severity
from crs_grading.treatment import CardRole, plan_treatment

from .conftest import H, assessment, tocilizumab_doses

A, INF = CardRole.ASSESSMENT, CardRole.INFECTION


def _placed(plan) -> list[tuple[ReminderCode, CardRole]]:
    return [(r.code, r.card) for r in plan.reminders]


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        pytest.param(
            {"grade": 2},
            [(ReminderCode.CULTURES_AND_ANTIBIOTICS, A)],
            id="SPEC 2.7: a febrile patient without infection signals: cultures on the CRS card",
        ),
        pytest.param(
            {"grade": 2, "warnings": ("elevated-lactate",)},
            [(ReminderCode.INFECTION_SIGNAL, INF), (ReminderCode.CULTURES_AND_ANTIBIOTICS, INF)],
            id="SPEC 2.7: with an infection signal the infection card says both, once",
        ),
        pytest.param(
            {"grade": 1, "warnings": ("neutropenia",)},
            [(ReminderCode.INFECTION_SIGNAL, INF)],
            id="SPEC 2.7: febrile neutropenia: the signal itself says cultures and antibiotics",
        ),
        pytest.param(
            {"grade": 3, "warnings": ("positive-blood-culture",)},
            [
                (ReminderCode.SEPSIS_CAUTION, A),
                (ReminderCode.INFECTION_SIGNAL, INF),
                (ReminderCode.CULTURES_AND_ANTIBIOTICS, INF),
            ],
            id="seed attribution: the caution on the card with the suggestion",
        ),
        pytest.param(
            {"grade": 3, "fever": False, "warnings": ("late-onset",)},
            [(ReminderCode.ATTRIBUTION_WARNING, A), (ReminderCode.NO_FEVER, A)],
            id="SPEC 2.3, 2.7: CRS without fever and a late-onset warning on the CRS card",
        ),
        pytest.param(
            {"grade": 0},
            [],
            id="grade 0 without fever: nothing to remind",
        ),
        pytest.param(
            {"grade": 5},
            [],
            id="grade 5 (death recorded): no cultures reminder",
        ),
    ],
)
def test_each_reminder_is_placed_on_one_card(chart, expected):
    assert _placed(plan_treatment(assessment(**chart))) == expected


def test_no_fever_says_fever_may_be_masked_once():
    """SPEC 2.3: "CRS without fever: consider other causes"; after tocilizumab fever may be
    masked, said by the masked-fever warning when there is one, else by the no-fever line."""
    given = tocilizumab_doses(H(30))
    alone = plan_treatment(assessment(grade=3, fever=False, given=given))
    (no_fever,) = [r for r in alone.reminders if r.code is ReminderCode.NO_FEVER]
    assert "Fever can be masked" in no_fever.text
    warned = plan_treatment(
        assessment(grade=3, fever=False, given=given, warnings=("masked-fever",))
    )
    texts = [r.text for r in warned.reminders]
    assert sum("masked" in t or "no longer track" in t for t in texts) == 1


@pytest.mark.parametrize(
    ("chart", "indicator"),
    [
        pytest.param({"grade": 3}, None, id="no infection signal: no infection card"),
        pytest.param(
            {"grade": 1, "warnings": ("neutropenia",)},
            Severity.WARNING,
            id="SPEC 2.7: a signal without a suggestion: warning",
        ),
        pytest.param(
            {"grade": 3, "warnings": ("neutropenia",)},
            Severity.CRITICAL,
            id="SPEC 2.7: a signal with a suggestion: critical (the sepsis caution applies)",
        ),
    ],
)
def test_the_plan_decides_the_infection_cards_colour(chart, indicator):
    assert plan_treatment(assessment(**chart)).infection_indicator is indicator


def test_every_long_reminder_has_a_short_form_for_a_long_card():
    """SPEC 4 (700 characters): a long card says a reminder in fewer words, never drops it."""
    plan = plan_treatment(
        assessment(
            grade=3,
            fever=False,
            warnings=("positive-blood-culture", "late-onset", "masked-fever"),
            given=tocilizumab_doses(H(30)),
        )
    )
    for reminder in plan.reminders:
        assert reminder.short is not None or len(reminder.text) < 80, reminder
