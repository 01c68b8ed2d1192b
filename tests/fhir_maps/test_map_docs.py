"""docs/fhir-mapping.md lists every code the value sets use (one concept, one place: the code
is the source of truth, and this test keeps the documentation from drifting away from it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crs_grading.inputs import LabTest, RateBasis, Vasopressor
from fhir_maps.plausible_ranges import (
    PLAUSIBLE_VASOPRESSOR_MAXIMA,
    PLAUSIBLE_WEIGHT_KG,
    lab_range_text,
    number_text,
    range_text,
)
from fhir_maps.valuesets.blood_culture import CULTURE_SNOMED
from fhir_maps.valuesets.conditions import ICD10_CONDITIONS, SNOMED_CONDITIONS
from fhir_maps.valuesets.medications import RXNORM_MEDICATIONS, SNOMED_ROUTES
from fhir_maps.valuesets.observations import FAMILIES, LOINC_OBSERVATIONS
from fhir_maps.valuesets.procedures import SNOMED_RESPIRATORY_SUPPORT
from fhir_maps.valuesets.therapies import THERAPY_PRODUCT_NAMES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "fhir-mapping.md").read_text(encoding="utf-8")

TABLE_CODES = [
    *(("LOINC", code) for code in LOINC_OBSERVATIONS),
    *(("RxNorm", code) for code in RXNORM_MEDICATIONS),
    *(("SNOMED CT condition", code) for code in SNOMED_CONDITIONS),
    *(("ICD-10-CM", code) for code in ICD10_CONDITIONS),
    *(("SNOMED CT procedure", code) for code in SNOMED_RESPIRATORY_SUPPORT),
]


@pytest.mark.parametrize(
    ("system", "code"), TABLE_CODES, ids=[f"{s} {c} is documented" for s, c in TABLE_CODES]
)
def test_every_value_set_code_is_in_a_documentation_table(system, code):
    assert f"| {code} |" in DOC


@pytest.mark.parametrize(
    "code", [*CULTURE_SNOMED, *SNOMED_ROUTES], ids=lambda code: f"SNOMED CT {code} is documented"
)
def test_culture_and_route_codes_are_documented(code):
    assert code in DOC


def test_every_named_therapy_is_documented():
    names = {row.value.name for row in THERAPY_PRODUCT_NAMES._rows}
    missing = sorted(name for name in names if name not in DOC)
    assert missing == []


@pytest.mark.parametrize(
    "test", list(LabTest), ids=lambda t: f"the plausible {t} range is documented"
)
def test_every_plausible_lab_range_is_documented(test):
    assert f" | {lab_range_text(test)} | " in DOC


def test_the_plausible_weight_range_is_documented():
    assert f"| body weight | {range_text(PLAUSIBLE_WEIGHT_KG, 'kg')} |" in DOC


@pytest.mark.parametrize(
    "agent", list(Vasopressor), ids=lambda a: f"the plausible {a} maxima are documented"
)
def test_every_plausible_vasopressor_maximum_is_documented(agent):
    limits = PLAUSIBLE_VASOPRESSOR_MAXIMA[agent]
    cells = [
        number_text(limits[basis]) if basis in limits else "-"
        for basis in (
            RateBasis.MICROGRAMS_PER_KG_PER_MIN,
            RateBasis.MICROGRAMS_PER_MIN,
            RateBasis.UNITS_PER_MIN,
        )
    ]
    assert f"| {agent} | {' | '.join(cells)} |" in DOC


@pytest.mark.parametrize(
    "family",
    [family for family in FAMILIES if family.names or family.acronyms],
    ids=lambda family: f"the names and vetoes of {family.concept} are documented",
)
def test_every_family_name_and_veto_is_documented(family):
    """docs/fhir-mapping.md must list every code family and name pattern (issue 10)."""
    row = (
        f"| {family.concept} | {', '.join(family.names)} | {', '.join(family.acronyms) or '-'} | "
        f"{', '.join(family.vetoes) or '-'} |"
    )
    assert row in DOC


#: How docs/fhir-mapping.md shows the separators of item rows (``ItemRows.separators``).
_SEPARATOR_SHOWN = {" ": "space or hyphen"}


@pytest.mark.parametrize(
    "family",
    [family for family in FAMILIES if family.item_rows is not None],
    ids=lambda family: f"the item rows of {family.concept} are documented",
)
def test_every_item_row_family_is_documented(family):
    """Item rows are built from prefixes, separators and the item phrases (review finding): the
    documentation lists the parts, one row per family, in the "Item rows" table."""
    rows = family.item_rows
    separators = "; ".join(_SEPARATOR_SHOWN.get(s, f'"{s}"') for s in rows.separators)
    row = (
        f"| {family.concept} | {', '.join(rows.prefixes)} | {separators} | "
        f"{', '.join(rows.items)} | {', '.join(family.vetoes) or '-'} |"
    )
    assert row in DOC


@pytest.mark.parametrize(
    "family", FAMILIES, ids=lambda family: f"the codes of {family.concept} are documented"
)
def test_every_family_code_is_documented_with_its_source(family):
    for code in family.codes:
        assert f"| {family.concept} |" in DOC and f"| {code.code} | {code.display} |" in DOC
        assert f"| {code.display} | {code.source} |" in DOC


def test_every_infection_name_and_veto_is_documented():
    from fhir_maps.valuesets.infections import INFECTION_NAMES

    flat = " ".join(DOC.split())
    missing = [phrase.text for phrase in INFECTION_NAMES if phrase.text not in flat]
    assert missing == []
