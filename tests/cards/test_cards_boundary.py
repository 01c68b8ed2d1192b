"""The boundary of issue 12: ``cds_service/cards`` is a renderer. It lays out what the clinical
core (``crs_grading``) says and adds no clinical number, code or sentence of its own.

The rules, checked on the source (AST):

- no number literal but 0, 1 and -1 (indices): doses, limits, windows and text lengths come from
  ``crs_grading.tables`` and ``crs_grading.wording``;
- no sentence: a string literal (or the literal part of an f-string) never holds two words in a
  row; JSON keys, CDS Hooks and FHIR values ("create", "at-most-one"), URLs and markdown are fine,
  docstrings and log messages (developers read those) are not counted;
- no code compared with a string: codes are enums end to end (``w.code == "neutropenia"`` is the
  bug this catches), here and in the clinical core;
- only the clinical core's public modules are imported (no ``crs_grading._private``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CARDS = sorted((ROOT / "cds_service" / "cards").glob("*.py"))
CORE = sorted((ROOT / "crs_grading").rglob("*.py"))

_SENTENCE = re.compile(r"[A-Za-z]{2,} +[A-Za-z]{2,}")
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _log_arguments(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _LOG_METHODS
        ):
            for argument in ast.walk(node):
                found.add(id(argument))
    return found


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _log_arguments(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.Constant):
            continue
        value = node.value
        where = f"{path.name}:{node.lineno}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value not in (0, 1, -1):
                found.append(f"{where} number {value!r}")
        elif isinstance(value, str) and _SENTENCE.search(value):
            found.append(f"{where} sentence {value!r}")
    return found


@pytest.mark.parametrize("path", CARDS, ids=lambda path: path.name)
def test_the_cards_package_adds_no_number_or_sentence_of_its_own(path):
    assert _violations(path) == []


def test_the_rule_catches_what_it_is_for(tmp_path):
    """The scan is not vacuous: a threshold and a sentence in a renderer are found."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Doc string of the module is fine."""\n'
        "MAX_DOSE = 800\n"
        'reminder = f"{name}: obtain blood cultures"\n'
        'logger.info("a log message is fine %s", 3)\n',
        encoding="utf-8",
    )
    assert _violations(bad) == [
        "bad.py:2 number 800",
        "bad.py:3 sentence ': obtain blood cultures'",
    ]


def _string_code_comparisons(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        names_a_code = any(
            isinstance(side, ast.Attribute) and side.attr in ("code", "criterion", "kind")
            for side in sides
        )
        literal = any(
            isinstance(side, ast.Constant) and isinstance(side.value, str)
            or isinstance(side, (ast.Set, ast.Tuple, ast.List))
            and any(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in side.elts)
            for side in sides
        )
        if names_a_code and literal:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_codes_are_compared_as_enums_never_as_strings():
    """Issue 12: no ``w.code == "neutropenia"``: a renamed or misspelt code must fail loudly."""
    found = [hit for path in (*CARDS, *CORE) for hit in _string_code_comparisons(path)]
    assert found == []


def test_the_cards_import_only_the_public_clinical_core():
    private = []
    for path in CARDS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "crs_grading" and any(p.startswith("_") for p in parts[1:]):
                    private.append(f"{path.name}: {node.module}")
    assert private == []
