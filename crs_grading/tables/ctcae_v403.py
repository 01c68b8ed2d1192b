"""CTCAE v4.03 organ toxicity rows that Lee 2014 grades (SPEC 2.3, seed Table 2 "organ toxicity").

One row per threshold; a result's CTCAE grade is the highest grade whose row fires. Rows compare
a *measure* of the result:

- ``ULN_MULTIPLE``: value / ULN (``LabResult.high``)
- ``LLN_MULTIPLE``: value / LLN (``LabResult.low``)
- ``BASELINE_MULTIPLE``: value / baseline value
- ``FALL_FROM_BASELINE_PERCENT``: (baseline - value) / baseline x 100
- ``FALL_FROM_BASELINE_POINTS``: baseline - value, in the result's own unit (LVEF percentage points)
- ``VALUE``: the value itself, in ``LAB_UNITS``

Baseline = the last result before day 0; without one, baseline rows are skipped. Grade 1 rows are
left out: grade 1 organ toxicity does not change the CRS grade.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crs_grading.inputs import LabTest
from crs_grading.tables.common import Comparison


class OrganTerm(enum.StrEnum):
    """CTCAE v4.03 terms; the value is the slug used in criterion names."""

    AST_INCREASED = "ast-increased"
    ALT_INCREASED = "alt-increased"
    BILIRUBIN_INCREASED = "bilirubin-increased"
    CREATININE_INCREASED = "creatinine-increased"
    FIBRINOGEN_DECREASED = "fibrinogen-decreased"
    EJECTION_FRACTION_DECREASED = "ejection-fraction-decreased"

    @property
    def ctcae_name(self) -> str:
        return _NAMES[self]


_NAMES = {
    OrganTerm.AST_INCREASED: "Aspartate aminotransferase increased",
    OrganTerm.ALT_INCREASED: "Alanine aminotransferase increased",
    OrganTerm.BILIRUBIN_INCREASED: "Blood bilirubin increased",
    OrganTerm.CREATININE_INCREASED: "Creatinine increased",
    OrganTerm.FIBRINOGEN_DECREASED: "Fibrinogen decreased",
    OrganTerm.EJECTION_FRACTION_DECREASED: "Ejection fraction decreased",
}

#: The lab each term is graded from.
TERM_TEST: dict[OrganTerm, LabTest] = {
    OrganTerm.AST_INCREASED: LabTest.AST,
    OrganTerm.ALT_INCREASED: LabTest.ALT,
    OrganTerm.BILIRUBIN_INCREASED: LabTest.BILIRUBIN,
    OrganTerm.CREATININE_INCREASED: LabTest.CREATININE,
    OrganTerm.FIBRINOGEN_DECREASED: LabTest.FIBRINOGEN,
    OrganTerm.EJECTION_FRACTION_DECREASED: LabTest.LVEF,
}


class Measure(enum.StrEnum):
    ULN_MULTIPLE = "x ULN"
    LLN_MULTIPLE = "x LLN"
    BASELINE_MULTIPLE = "x baseline"
    FALL_FROM_BASELINE_PERCENT = "% fall from baseline"
    FALL_FROM_BASELINE_POINTS = "points fall from baseline"
    VALUE = "value"

    @property
    def needs_baseline(self) -> bool:
        return self in _BASELINE_MEASURES


_BASELINE_MEASURES = frozenset(
    {
        Measure.BASELINE_MULTIPLE,
        Measure.FALL_FROM_BASELINE_PERCENT,
        Measure.FALL_FROM_BASELINE_POINTS,
    }
)


@dataclass(frozen=True, slots=True)
class OrganToxicityRow:
    """``measure comparison threshold`` makes ``term`` CTCAE grade ``grade``."""

    term: OrganTerm
    grade: int
    measure: Measure
    comparison: Comparison
    threshold: float
    source: str


_A, _B, _M = Comparison.ABOVE, Comparison.BELOW, Measure
_GE, _LE = Comparison.AT_LEAST, Comparison.AT_MOST
_T = OrganTerm

ROWS: tuple[OrganToxicityRow, ...] = (
    # Aspartate / Alanine aminotransferase increased: G2 >3.0-5.0 x ULN, G3 >5.0-20.0, G4 >20.0.
    OrganToxicityRow(_T.AST_INCREASED, 2, _M.ULN_MULTIPLE, _A, 3.0, "CTCAE v4.03 AST increased G2"),
    OrganToxicityRow(_T.AST_INCREASED, 3, _M.ULN_MULTIPLE, _A, 5.0, "CTCAE v4.03 AST increased G3"),
    OrganToxicityRow(
        _T.AST_INCREASED, 4, _M.ULN_MULTIPLE, _A, 20.0, "CTCAE v4.03 AST increased G4"
    ),
    OrganToxicityRow(_T.ALT_INCREASED, 2, _M.ULN_MULTIPLE, _A, 3.0, "CTCAE v4.03 ALT increased G2"),
    OrganToxicityRow(_T.ALT_INCREASED, 3, _M.ULN_MULTIPLE, _A, 5.0, "CTCAE v4.03 ALT increased G3"),
    OrganToxicityRow(
        _T.ALT_INCREASED, 4, _M.ULN_MULTIPLE, _A, 20.0, "CTCAE v4.03 ALT increased G4"
    ),
    # Blood bilirubin increased: G2 >1.5-3.0 x ULN, G3 >3.0-10.0, G4 >10.0.
    OrganToxicityRow(
        _T.BILIRUBIN_INCREASED, 2, _M.ULN_MULTIPLE, _A, 1.5, "CTCAE v4.03 Blood bilirubin G2"
    ),
    OrganToxicityRow(
        _T.BILIRUBIN_INCREASED, 3, _M.ULN_MULTIPLE, _A, 3.0, "CTCAE v4.03 Blood bilirubin G3"
    ),
    OrganToxicityRow(
        _T.BILIRUBIN_INCREASED, 4, _M.ULN_MULTIPLE, _A, 10.0, "CTCAE v4.03 Blood bilirubin G4"
    ),
    # Creatinine increased: G2 >1.5-3.0 x baseline or >1.5-3.0 x ULN; G3 >3.0 x baseline or
    # >3.0-6.0 x ULN; G4 >6.0 x ULN.
    OrganToxicityRow(
        _T.CREATININE_INCREASED, 2, _M.BASELINE_MULTIPLE, _A, 1.5, "CTCAE v4.03 Creatinine G2"
    ),
    OrganToxicityRow(
        _T.CREATININE_INCREASED, 2, _M.ULN_MULTIPLE, _A, 1.5, "CTCAE v4.03 Creatinine G2"
    ),
    OrganToxicityRow(
        _T.CREATININE_INCREASED, 3, _M.BASELINE_MULTIPLE, _A, 3.0, "CTCAE v4.03 Creatinine G3"
    ),
    OrganToxicityRow(
        _T.CREATININE_INCREASED, 3, _M.ULN_MULTIPLE, _A, 3.0, "CTCAE v4.03 Creatinine G3"
    ),
    OrganToxicityRow(
        _T.CREATININE_INCREASED, 4, _M.ULN_MULTIPLE, _A, 6.0, "CTCAE v4.03 Creatinine G4"
    ),
    # Fibrinogen decreased: G2 <0.75-0.5 x LLN or 25-<50% fall; G3 <0.5-0.25 x LLN or 50-<75%
    # fall; G4 <0.25 x LLN, >= 75% fall, or < 50 mg/dL.
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED, 2, _M.LLN_MULTIPLE, _B, 0.75, "CTCAE v4.03 Fibrinogen G2"
    ),
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED,
        2,
        _M.FALL_FROM_BASELINE_PERCENT,
        _GE,
        25.0,
        "CTCAE v4.03 Fibrinogen G2",
    ),
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED, 3, _M.LLN_MULTIPLE, _B, 0.5, "CTCAE v4.03 Fibrinogen G3"
    ),
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED,
        3,
        _M.FALL_FROM_BASELINE_PERCENT,
        _GE,
        50.0,
        "CTCAE v4.03 Fibrinogen G3",
    ),
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED, 4, _M.LLN_MULTIPLE, _B, 0.25, "CTCAE v4.03 Fibrinogen G4"
    ),
    OrganToxicityRow(
        _T.FIBRINOGEN_DECREASED,
        4,
        _M.FALL_FROM_BASELINE_PERCENT,
        _GE,
        75.0,
        "CTCAE v4.03 Fibrinogen G4",
    ),
    OrganToxicityRow(_T.FIBRINOGEN_DECREASED, 4, _M.VALUE, _B, 50.0, "CTCAE v4.03 Fibrinogen G4"),
    # Ejection fraction decreased: G2 resting EF 50-40% or 10-19 points fall; G3 EF 39-20% or
    # >= 20 points fall; G4 EF < 20%.
    OrganToxicityRow(
        _T.EJECTION_FRACTION_DECREASED, 2, _M.VALUE, _LE, 50.0, "CTCAE v4.03 Ejection fraction G2"
    ),
    OrganToxicityRow(
        _T.EJECTION_FRACTION_DECREASED,
        2,
        _M.FALL_FROM_BASELINE_POINTS,
        _GE,
        10.0,
        "CTCAE v4.03 Ejection fraction G2",
    ),
    OrganToxicityRow(
        _T.EJECTION_FRACTION_DECREASED, 3, _M.VALUE, _B, 40.0, "CTCAE v4.03 Ejection fraction G3"
    ),
    OrganToxicityRow(
        _T.EJECTION_FRACTION_DECREASED,
        3,
        _M.FALL_FROM_BASELINE_POINTS,
        _GE,
        20.0,
        "CTCAE v4.03 Ejection fraction G3",
    ),
    OrganToxicityRow(
        _T.EJECTION_FRACTION_DECREASED, 4, _M.VALUE, _B, 20.0, "CTCAE v4.03 Ejection fraction G4"
    ),
)
