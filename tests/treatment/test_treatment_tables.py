"""One place per clinical number of the treatment algorithm (issue 12): the dose table, the
maxima and the redosing limits live in ``crs_grading.tables.treatment`` and nowhere else, and
the options take their defaults from there."""

from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crs_grading.criteria import AdviceCode, OrderFindingCode, RedoseRule, ReminderCode
from crs_grading.inputs import Immunosuppressant, Measurement
from crs_grading.tables import treatment as table
from crs_grading.treatment import TreatmentOptions, compute_dose
from crs_grading.treatment.dosing import Protocol

from .conftest import AS_OF

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crs_grading", "cds_service", "fhir_maps")


def _literals(path: Path) -> list[tuple[int, object]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool)
    ]


def _sources(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def test_the_800_mg_tocilizumab_cap_is_written_once():
    """label: "Doses exceeding 800 mg per infusion are not recommended"; one place says it."""
    where = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources(*PACKAGES)
        if "demo" not in path.parts
        for line, value in _literals(path)
        if value in (800, 800.0, "800")
    ]
    assert len(where) == 1 and where[0].startswith("crs_grading/tables/treatment.py:"), where


def test_every_tocilizumab_row_is_capped_by_the_one_constant():
    rows = [row for row in table.DOSE_TABLE if row.drug is Immunosuppressant.TOCILIZUMAB]
    assert rows and {row.maximum_mg for row in rows} == {table.TOCILIZUMAB_MAX_MG}


def test_the_treatment_package_holds_no_interval_or_dose_of_its_own():
    """No ``timedelta(...)`` or dose-like literal in crs_grading/treatment: the 8 h interval, the
    24 h reassessment, the 4 doses, 65 y and the 10% tolerance come from the tables."""
    found = []
    for path in _sources("crs_grading/treatment"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "timedelta":
                if ast.unparse(node) != "timedelta(0)":
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
            if isinstance(node, ast.Constant) and node.value in (8, 24, 65, 800, "0.10", 0.1):
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert found == []


def test_treatment_options_take_their_defaults_from_the_table():
    options = TreatmentOptions()
    assert options.protocol is Protocol.LEE_2014
    assert options.older_age_years == table.OLDER_AGE_YEARS == 65
    assert options.min_redose_interval == table.MIN_REDOSE_INTERVAL == timedelta(hours=8)
    assert options.reassess_after == table.REASSESS_AFTER == timedelta(hours=24)
    assert options.max_tocilizumab_doses == table.MAX_TOCILIZUMAB_DOSES == 4
    assert options.dose_tolerance == table.DOSE_TOLERANCE == Decimal("0.10")


@pytest.mark.parametrize("code", list(OrderFindingCode), ids=str)
def test_every_order_finding_code_has_a_severity_in_the_table(code):
    assert code in table.ORDER_FINDINGS


def test_a_changed_cap_changes_every_tocilizumab_dose(monkeypatch):
    """The cap is applied from the row, so the constant is the only thing to change."""
    rows = tuple(
        row.__class__(**{**{f: getattr(row, f) for f in row.__slots__}, "maximum_mg": 500})
        if row.drug is Immunosuppressant.TOCILIZUMAB
        else row
        for row in table.DOSE_TABLE
    )
    monkeypatch.setattr("crs_grading.treatment.dosing.DOSE_TABLE", rows)
    dose = compute_dose(
        Immunosuppressant.TOCILIZUMAB,
        Protocol.FDA_LABEL,
        weight=Measurement(AS_OF, 100.0, "Observation/w"),
        age_years=40,
    )
    assert dose.dose_mg == 500 and dose.capped


DOCS = (ROOT / "docs" / "treatment.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "code",
    [*AdviceCode, *ReminderCode, *RedoseRule, *OrderFindingCode],
    ids=str,
)
def test_every_treatment_code_is_documented(code):
    assert f"`{code}`" in DOCS
