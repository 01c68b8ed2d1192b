"""Data flows one way (DEVELOPERS.md, SPEC 5): request -> FHIR data (cds_service.fhir_io) ->
grading inputs (fhir_maps) -> assessment and plan (crs_grading) -> cards (cds_service.cards).

The clinical core is pure Python: no web, HTTP, FHIR or storage library, and no import of the
layers above it. fhir_maps reads FHIR into the core's types and knows nothing of the service.
Imports are read from the source (top-level and inside functions alike)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Packages that only a layer upstream of the clinical core may use.
_SERVICE_LIBRARIES = {
    "flask",
    "werkzeug",
    "requests",
    "httpx",
    "urllib3",
    "sqlalchemy",
    "alembic",
    "huey",
    "redis",
    "jwt",
    "prometheus_client",
    "gunicorn",
}
_FHIR_LIBRARIES = {"fhir", "pydantic", "orjson", "msgspec"}


def _imported_top_levels(package: str) -> dict[str, set[str]]:
    """Top-level module -> the files of ``package`` that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        pytest.param(
            "crs_grading",
            _SERVICE_LIBRARIES | _FHIR_LIBRARIES | {"fhir_maps", "cds_service", "benchmarks"},
            id="crs_grading: standard library and itself only",
        ),
        pytest.param(
            "fhir_maps",
            _SERVICE_LIBRARIES | {"cds_service", "benchmarks"},
            id="fhir_maps: FHIR to grading inputs, nothing of the service",
        ),
    ],
)
def test_nothing_downstream_reaches_back_upstream(package: str, forbidden: set[str]) -> None:
    imported = _imported_top_levels(package)
    assert {name: sorted(files) for name, files in imported.items() if name in forbidden} == {}


def test_the_clinical_core_uses_only_the_standard_library() -> None:
    """Stronger than the list above: any third-party import in crs_grading fails, so a new
    dependency of the core is a decision someone makes on purpose."""
    imported = set(_imported_top_levels("crs_grading")) - {"crs_grading", "__future__"}
    assert imported - set(sys.stdlib_module_names) == set()
