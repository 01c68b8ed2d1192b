"""docs/cards.md names every public code the cards and the extension carry (SPEC section 4:
"Criterion names are stable kebab-case strings documented in docs/")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.cards import OVERRIDE_REASONS, OVERRIDE_SYSTEM
from crs_grading import Criterion, WarningCode

from .test_cards_order_checks import CODES

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "cards.md").read_text(encoding="utf-8")

_NAMES = sorted(
    {f"criterion {c}" for c in Criterion}
    | {f"warning {w}" for w in WarningCode}
    | {f"override {o}" for o in OVERRIDE_REASONS}
    | {f"order-check {row[0].split()[0]}" for row in CODES}
)


@pytest.mark.parametrize("name", _NAMES)
def test_every_public_code_is_documented(name):
    code = name.split(" ", 1)[1]
    assert f"`{code}`" in DOCS


def test_the_override_system_and_displays_are_documented():
    assert OVERRIDE_SYSTEM in DOCS
    for code, display in OVERRIDE_REASONS.items():
        assert f"| `{code}` | {display} |" in DOCS
