"""The tables and names themselves: every row has its source, every name is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crs_grading import Criterion, NeurologicKind, WarningCode
from crs_grading.assessment import INFECTION_SIGNAL_CODES
from crs_grading.inputs import LAB_NAMES, LAB_UNITS, LabTest
from crs_grading.tables import astct2019, ctcae_v403, hypotension, icans, iec_hs, lee2014
from crs_grading.tables.ctcae_v403 import OrganTerm

DOCS = Path(__file__).resolve().parents[2] / "docs" / "grading.md"


def test_every_criterion_and_code_is_documented():
    """SPEC 4: criterion names are stable kebab-case strings documented in docs/."""
    text = DOCS.read_text(encoding="utf-8")
    for name in [*Criterion, *WarningCode, *NeurologicKind]:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert f"`{name}`" in text, f"{name} is not documented in docs/grading.md"


def test_warning_codes_match_the_assessment_contract():
    """SPEC 2.7: the first four codes are the infection signals of the assessment module."""
    assert set(INFECTION_SIGNAL_CODES) < {str(code) for code in WarningCode}


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(ctcae_v403.ROWS, id="CTCAE v4.03 rows"),
        pytest.param(hypotension.ROWS, id="Mahadeo 2019 rows"),
        pytest.param(lee2014.TABLE_3, id="seed Table 3 rows"),
        pytest.param(lee2014.OXYGEN_ROWS, id="seed Table 2 oxygen rows"),
        pytest.param(tuple(lee2014.ORGAN_TOXICITY.values()), id="seed Table 2 organ rows"),
        pytest.param(icans.SCREEN_ROWS, id="ASTCT 2019 ICE and CAPD rows"),
        pytest.param(tuple(icans.UNABLE_ROWS.values()), id="ASTCT 2019 unable-to-perform rows"),
        pytest.param(icans.CONSCIOUSNESS_ROWS, id="ASTCT 2019 consciousness (RASS) rows"),
        pytest.param(tuple(icans.SIGN_ROWS.values()), id="ASTCT 2019 sign rows"),
        pytest.param(tuple(iec_hs.FERRITIN_ROWS.values()), id="SPEC 2.10 ferritin rows"),
        pytest.param(iec_hs.FEATURE_ROWS, id="SPEC 2.10 feature rows"),
    ],
)
def test_every_row_names_its_source(rows):
    for row in rows:
        assert row.source.strip(), row


def test_every_criterion_has_a_grade_in_one_system():
    organ = {g.criterion for g in lee2014.ORGAN_TOXICITY.values()}
    graded = set(lee2014.GRADES) | set(astct2019.GRADES) | organ | set(icans.CRITERION_GRADES)
    assert graded == set(Criterion)
    for grades in icans.CRITERION_GRADES.values():
        assert grades and grades <= {1, 2, 3, 4}
    for grade, source in (*lee2014.GRADES.values(), *astct2019.GRADES.values()):
        assert 1 <= grade <= 5 and source


def test_every_organ_term_and_grade_maps_to_a_crs_grade():
    """seed Table 2: CTCAE grades 2 to 4 map to CRS grades; grade 4 transaminitis is CRS 3."""
    for row in ctcae_v403.ROWS:
        assert (row.term, row.grade) in lee2014.ORGAN_TOXICITY
    for term in (OrganTerm.AST_INCREASED, OrganTerm.ALT_INCREASED):
        mapped = lee2014.ORGAN_TOXICITY[(term, 4)]
        assert (mapped.criterion, mapped.crs_grade) == (Criterion.TRANSAMINITIS_GRADE_4, 3)


def test_every_lab_has_one_unit_and_one_clinician_name():
    """SPEC 2.3 units: every LabTest is normalised to one unit and named in one place
    (crs_grading.inputs), shared by the grader's texts and fhir_maps' skip reasons."""
    assert set(LAB_UNITS) == set(LabTest)
    assert set(LAB_NAMES) == set(LabTest)


def test_icans_rows_cover_every_sign_rass_and_score():
    """SPEC 2.9: every sign has a row; RASS -5 to -1 each grade once; the ICE bands cover 0 to
    under 10 without overlap, CAPD 1 and up."""
    from crs_grading.inputs import EncephalopathyTool, NeurologicSign
    from crs_grading.tables.common import meets_all

    assert set(icans.SIGN_ROWS) == set(NeurologicSign)
    rass = [value for row in icans.CONSCIOUSNESS_ROWS for value in row.rass]
    assert sorted(rass) == [-5, -4, -3, -2, -1]
    for tool, values in (
        (EncephalopathyTool.ICE, [x / 2 for x in range(0, 20)]),
        (EncephalopathyTool.CAPD, [x / 2 for x in range(1, 65)]),
    ):
        for value in values:
            rows = [
                r for r in icans.SCREEN_ROWS if r.tool is tool and meets_all(value, r.conditions)
            ]
            assert len(rows) == 1, (tool, value)
    assert icans.TOTAL_RANGE == {
        EncephalopathyTool.ICE: (0.0, 10.0),
        EncephalopathyTool.CAPD: (0.0, 32.0),
    }
