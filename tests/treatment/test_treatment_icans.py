"""ICANS beside CRS in the treatment algorithm and the order checks (SPEC 2.9 with SPEC 2.6).

The rules, each named in the test ids with its source:
- SPEC 2.9 / ASTCT 2019: any ICANS grade >= 1 is neurologic dysfunction for SPEC 2.6 (seed text:
  dexamethasone first line in grade 3-4 CRS without vasopressors);
- SPEC 2.9: ICANS grade >= 2 with CRS grade <= 1 gets a recommended dexamethasone suggestion (seed
  Corticosteroids: 0.5 mg/kg, at most 10 mg) and no tocilizumab suggestion (seed text: it does not
  cross the blood-brain barrier);
- SPEC 2.9: a tocilizumab order for ICANS without CRS (grade <= 1) is flagged
  (``tocilizumab-for-icans-without-crs``); a corticosteroid order for ICANS >= 2 is not flagged for
  its indication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from crs_grading.criteria import AdviceCode, OrderFindingCode, ReminderCode
from crs_grading.tables.sources import RuleSource
from crs_grading.tables.treatment import ORDER_FINDINGS
from crs_grading.treatment import (
    RecommendationRole,
    Severity,
    card_indicator,
    check_draft_order,
    plan_treatment,
)

from .conftest import H, assessment, order, tocilizumab_doses

FIRST = RecommendationRole.FIRST_LINE
ALSO = RecommendationRole.ALSO_OFFERED
CONSIDER = RecommendationRole.CONSIDER
FOR_ICANS = RecommendationRole.FOR_ICANS
_F = OrderFindingCode


@dataclass
class Case:
    """A chart and what the plan must say: suggestions as (drug, role, isRecommended, mg)."""

    chart: dict[str, Any]
    suggestions: list[tuple[str, RecommendationRole, bool, int | None]]
    indicator: Severity
    advice: set[str] = field(default_factory=set)


PLAN_CASES = [
    pytest.param(
        Case({"grade": 0, "icans": 3}, [("dexamethasone", FOR_ICANS, True, 10)], Severity.CRITICAL),
        id="SPEC 2.9 (ASTCT 2019 grade; seed text): ICANS 3 with CRS 0 -> dexamethasone 10 mg, "
        "never tocilizumab",
    ),
    pytest.param(
        Case({"grade": 1, "icans": 2}, [("dexamethasone", FOR_ICANS, True, 10)], Severity.WARNING),
        id="SPEC 2.9: ICANS 2 with CRS 1 -> dexamethasone, no tocilizumab; indicator by ICANS 2",
    ),
    pytest.param(
        Case({"grade": 0, "icans": 4}, [("dexamethasone", FOR_ICANS, True, 10)], Severity.CRITICAL),
        id="SPEC 2.9: ICANS 4 with CRS 0 -> dexamethasone, never tocilizumab",
    ),
    pytest.param(
        Case(
            {"grade": 0, "icans": 2, "weight_kg": 12, "age_years": 3},
            [("dexamethasone", FOR_ICANS, True, 6)],
            Severity.WARNING,
        ),
        id="seed Corticosteroids: ICANS 2 with CRS 0 in a 12 kg child -> dexamethasone 0.5 mg/kg "
        "= 6 mg",
    ),
    pytest.param(
        Case({"grade": 0, "icans": 1}, [], Severity.INFO, {"monitoring"}),
        id="SPEC 2.9: ICANS 1 with CRS 0 -> no corticosteroid (the rule starts at ICANS 2)",
    ),
    pytest.param(
        Case({"grade": 1, "icans": 1}, [], Severity.INFO, {"symptomatic-treatment"}),
        id="SPEC 2.9: ICANS 1 with CRS 1 -> symptomatic treatment only",
    ),
    pytest.param(
        Case(
            {"grade": 1, "icans": 3, "given": tocilizumab_doses(H(30))},
            [("dexamethasone", FOR_ICANS, True, 10)],
            Severity.CRITICAL,
            {"already-given"},
        ),
        id="SPEC 2.9: ICANS 3 with CRS 1 after tocilizumab -> dexamethasone, no tocilizumab again",
    ),
    pytest.param(
        Case(
            {"grade": 3, "icans": 3},
            [("dexamethasone", FIRST, True, 10), ("tocilizumab", ALSO, False, 280)],
            Severity.CRITICAL,
        ),
        id="SPEC 2.9 feeds SPEC 2.6 (seed neurologic dysfunction): CRS 3 with ICANS 3, no "
        "vasopressor -> dexamethasone first, tocilizumab also offered",
    ),
    pytest.param(
        Case(
            {"grade": 4, "icans": 1},
            [("dexamethasone", FIRST, True, 10), ("tocilizumab", ALSO, False, 280)],
            Severity.CRITICAL,
        ),
        id="SPEC 2.9: any ICANS grade >= 1 is neurologic dysfunction: CRS 4 with ICANS 1, no "
        "vasopressor -> dexamethasone first",
    ),
    pytest.param(
        Case(
            {"grade": 3, "icans": 3, "vasopressor": True},
            [("tocilizumab", FIRST, True, 280)],
            Severity.CRITICAL,
        ),
        id="seed neurologic dysfunction: CRS 3 with ICANS 3 on a vasopressor -> tocilizumab first",
    ),
    pytest.param(
        Case(
            {"grade": 2, "icans": 3, "age_years": 70},
            [("tocilizumab", CONSIDER, False, 280)],
            Severity.CRITICAL,
            {"icans-beside-grade-2-crs", "close-monitoring"},
        ),
        id="SPEC 2.6 grade 2 (no SPEC 2.9 rule at CRS 2): ICANS 3 beside CRS 2 -> the grade 2 "
        "plan, and advice that corticosteroids treat ICANS",
    ),
    pytest.param(
        Case(
            {"grade": 2, "icans": 2},
            [],
            Severity.WARNING,
            {"icans-beside-grade-2-crs", "no-immunosuppression-grade-2"},
        ),
        id="SPEC 2.6 grade 2: ICANS 2 beside CRS 2, not older -> no suggestion, ICANS advice",
    ),
    pytest.param(
        Case({"grade": 5, "icans": 4}, [], Severity.CRITICAL, {"death-recorded"}),
        id="seed Table 2 grade 5: death recorded -> no suggestion for ICANS either",
    ),
]


@pytest.mark.parametrize("case", PLAN_CASES)
def test_icans_in_the_plan(case: Case) -> None:
    plan = plan_treatment(assessment(**case.chart))
    got = [(str(r.drug), r.role, r.is_recommended, r.dose.dose_mg) for r in plan.recommendations]
    assert got == case.suggestions
    assert plan.indicator is case.indicator
    assert case.advice <= {str(a.code) for a in plan.advice}


@pytest.mark.parametrize(
    "chart",
    [
        pytest.param({"grade": 0, "icans": 3}, id="ICANS 3, CRS 0"),
        pytest.param({"grade": 1, "icans": 2}, id="ICANS 2, CRS 1"),
        pytest.param({"grade": 0, "icans": 3, "weight_kg": None}, id="ICANS 3, CRS 0, no weight"),
        pytest.param(
            {"grade": 0, "icans": 3, "warnings": ("neutropenia",)}, id="ICANS 3, CRS 0, neutropenia"
        ),
        pytest.param(
            {"grade": 1, "icans": 4, "given": tocilizumab_doses(H(40))},
            id="ICANS 4, CRS 1, tocilizumab 40 h ago",
        ),
    ],
)
def test_icans_without_crs_never_gets_tocilizumab(chart: dict[str, Any]) -> None:
    """SPEC 2.9 (seed text: tocilizumab does not cross the blood-brain barrier): ICANS >= 2 with
    CRS <= 1 gets dexamethasone and never a tocilizumab suggestion, whatever else is charted."""
    plan = plan_treatment(assessment(**chart))
    drugs = [str(r.drug) for r in plan.recommendations]
    assert drugs == ["dexamethasone"]
    assert "tocilizumab" not in plan.next_step


def test_the_icans_dexamethasone_names_its_rule_and_source() -> None:
    """SPEC 2.9: the suggestion cites ASTCT 2019 (the ICANS grade) and the seed's reason."""
    plan = plan_treatment(assessment(grade=0, icans=3, weight_kg=62.6))
    (dexamethasone,) = plan.recommendations
    assert dexamethasone.source is RuleSource.ICANS_CORTICOSTEROID
    assert dexamethasone.source.citation.url == "https://doi.org/10.1016/j.bbmt.2018.12.758"
    assert dexamethasone.dose.source is RuleSource.SEED_CORTICOSTEROIDS  # the dosing table's row
    assert dexamethasone.dose.capped and dexamethasone.dose.dose_mg == 10  # 31.3 mg -> max 10 mg
    assert dexamethasone.rxnorm_code == "3264"
    assert "ICANS grade 3 (ICE score 2/10) with no CRS criteria met" in dexamethasone.reason
    assert "does not cross the blood-brain barrier" in dexamethasone.reason
    assert plan.next_step == "dexamethasone 10 mg IV"
    assert plan.recommended is dexamethasone


def test_crs_advice_beside_icans_speaks_of_crs_only() -> None:
    """The CRS advice must not contradict the ICANS suggestion: "no immunosuppression" is about
    CRS when a corticosteroid is suggested for ICANS (SPEC 2.9)."""
    grade_0 = {a.code: a.text for a in plan_treatment(assessment(grade=0, icans=3)).advice}
    assert grade_0[AdviceCode.MONITORING] == (
        "No CRS criteria met: no CRS-directed treatment; the corticosteroid suggested is for ICANS."
    )
    grade_1 = {a.code: a.text for a in plan_treatment(assessment(grade=1, icans=2)).advice}
    assert "no immunosuppression" not in grade_1[AdviceCode.SYMPTOMATIC_TREATMENT]
    assert "for ICANS" in grade_1[AdviceCode.SYMPTOMATIC_TREATMENT]
    grade_2 = {a.code: a.text for a in plan_treatment(assessment(grade=2, icans=2)).advice}
    assert grade_2[AdviceCode.NO_IMMUNOSUPPRESSION_GRADE_2].startswith(
        "No immunosuppression for CRS at grade 2"
    )
    without = {a.code: a.text for a in plan_treatment(assessment(grade=1)).advice}
    assert "no immunosuppression" in without[AdviceCode.SYMPTOMATIC_TREATMENT]


def test_icans_with_an_infection_signal_is_not_preselected_and_says_why() -> None:
    """SPEC 2.7 over SPEC 2.9: an infection signal unselects the dexamethasone; the caution
    speaks of encephalopathy (there is no hypotension to attribute) and the next step of ICANS."""
    plan = plan_treatment(assessment(grade=0, icans=3, warnings=("positive-blood-culture",)))
    (dexamethasone,) = plan.recommendations
    assert not dexamethasone.is_recommended
    assert plan.indicator is Severity.CRITICAL
    assert plan.next_step == "if ICANS rather than infection, dexamethasone 10 mg IV"
    assert plan.attribution_caution is not None
    assert "encephalopathy" in plan.attribution_caution
    assert "hypotension" not in plan.attribution_caution
    (caution,) = [r for r in plan.reminders if r.code is ReminderCode.SEPSIS_CAUTION]
    assert "encephalopathy" in caution.text and "hypotension" not in caution.text


@pytest.mark.parametrize(
    ("grade", "icans", "indicator"),
    [
        pytest.param(0, 0, Severity.INFO, id="CRS 0, ICANS 0 -> info"),
        pytest.param(0, 1, Severity.INFO, id="CRS 0, ICANS 1 -> info"),
        pytest.param(1, 2, Severity.WARNING, id="CRS 1, ICANS 2 -> warning"),
        pytest.param(0, 3, Severity.CRITICAL, id="CRS 0, ICANS 3 -> critical"),
        pytest.param(2, 4, Severity.CRITICAL, id="CRS 2, ICANS 4 -> critical"),
        pytest.param(3, 0, Severity.CRITICAL, id="CRS 3, ICANS 0 -> critical"),
    ],
)
def test_the_indicator_follows_the_worse_of_crs_and_icans(grade, icans, indicator) -> None:
    """SPEC 4 colours by grade; with ICANS named beside CRS (SPEC 2.9), by the worse of the two."""
    assert card_indicator(grade, (), (), icans_grade=icans) is indicator


# -- order checks ---------------------------------------------------------------------------------


def _codes(findings) -> list[OrderFindingCode]:
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("chart", "text"),
    [
        pytest.param(
            {"grade": 0, "icans": 3},
            "ICANS of grade 2 or more is treated with a corticosteroid (dexamethasone)",
            id="SPEC 2.9: tocilizumab ordered for ICANS 3 with CRS 0 -> warning",
        ),
        pytest.param(
            {"grade": 1, "icans": 2},
            "ICANS of grade 2 or more is treated with a corticosteroid (dexamethasone)",
            id="SPEC 2.9: tocilizumab ordered for ICANS 2 with CRS 1 -> warning",
        ),
        pytest.param(
            {"grade": 0, "icans": 1},
            "a corticosteroid (dexamethasone) is suggested from ICANS grade 2",
            id="SPEC 2.9: tocilizumab ordered at ICANS 1 with CRS 0 -> warning",
        ),
    ],
)
def test_tocilizumab_ordered_for_icans_without_crs_is_flagged(chart, text) -> None:
    findings = check_draft_order(order("tocilizumab", 280), assessment(**chart))
    codes = _codes(findings)
    assert _F.TOCILIZUMAB_FOR_ICANS in codes
    assert _F.INDICATION_GRADE_TOO_LOW not in codes  # one finding says it, with the ICANS reason
    (finding,) = [f for f in findings if f.code is _F.TOCILIZUMAB_FOR_ICANS]
    assert finding.severity is Severity.WARNING is ORDER_FINDINGS[_F.TOCILIZUMAB_FOR_ICANS]
    assert finding.source is RuleSource.ICANS_CORTICOSTEROID
    assert "does not cross the blood-brain barrier" in finding.text and text in finding.text
    assert finding.evidence == ("Observation/ice",)
    assert finding.summary.startswith(f"Tocilizumab at ICANS grade {chart['icans']}, CRS grade")
    assert len(finding.summary) < 140


@pytest.mark.parametrize(
    "chart",
    [
        pytest.param({"grade": 2, "icans": 3, "age_years": 70}, id="CRS 2 with ICANS 3"),
        pytest.param({"grade": 3, "icans": 3, "vasopressor": True}, id="CRS 3 with ICANS 3"),
        pytest.param({"grade": 0}, id="CRS 0 without ICANS"),
    ],
)
def test_tocilizumab_for_crs_is_not_the_icans_finding(chart) -> None:
    """SPEC 2.9: the finding is for ICANS *without* CRS; with CRS grade >= 2 the seed's rules
    decide, and without ICANS the grade 0 finding stays."""
    codes = _codes(check_draft_order(order("tocilizumab", 280), assessment(**chart)))
    assert _F.TOCILIZUMAB_FOR_ICANS not in codes
    assert (_F.INDICATION_GRADE_TOO_LOW in codes) is (chart["grade"] == 0)


@pytest.mark.parametrize(
    ("drug", "dose", "chart"),
    [
        pytest.param("dexamethasone", 10, {"grade": 0, "icans": 3}, id="dexamethasone, CRS 0"),
        pytest.param("dexamethasone", 10, {"grade": 1, "icans": 2}, id="dexamethasone, CRS 1"),
        pytest.param(
            "methylprednisolone", 140, {"grade": 2, "icans": 2}, id="methylprednisolone, CRS 2"
        ),
        pytest.param(
            "dexamethasone", 10, {"grade": 3, "icans": 2}, id="dexamethasone, CRS 3, no pressor"
        ),
    ],
)
def test_a_corticosteroid_for_icans_2_or_more_is_not_flagged_for_its_indication(drug, dose, chart):
    """SPEC 2.9: a corticosteroid is the ICANS treatment; no "grade too low", "grade 2 without
    risk" or "second line" finding (SPEC 2.6 at grade 3-4: ICANS is neurologic dysfunction)."""
    codes = _codes(check_draft_order(order(drug, dose), assessment(**chart)))
    assert codes == []


def test_a_corticosteroid_at_icans_1_without_crs_is_still_too_low() -> None:
    """SPEC 2.9 starts the corticosteroid at ICANS 2: at ICANS 1 and CRS 0 the seed's grade
    rule still flags it."""
    codes = _codes(check_draft_order(order("dexamethasone", 10), assessment(grade=0, icans=1)))
    assert codes == [_F.INDICATION_GRADE_TOO_LOW]


@pytest.mark.parametrize(
    ("drug", "dose", "chart", "encephalopathy"),
    [
        pytest.param("dexamethasone", 10, {"grade": 0, "icans": 3}, True, id="ICANS 3, CRS 0"),
        pytest.param("tocilizumab", 280, {"grade": 1, "icans": 2}, True, id="ICANS 2, CRS 1"),
        pytest.param(
            "dexamethasone",
            10,
            {"grade": 3, "icans": 3, "vasopressor": True},
            False,
            id="ICANS 3, CRS 3: the seed's sepsis caution",
        ),
        pytest.param("tocilizumab", 280, {"grade": 3, "vasopressor": True}, False, id="CRS 3"),
    ],
)
def test_the_order_caution_speaks_of_encephalopathy_when_icans_stands_alone(
    drug, dose, chart, encephalopathy
) -> None:
    """SPEC 2.7 on the order hooks with SPEC 2.9: an infection signal gives the critical
    infection-could-explain finding; for ICANS >= 2 with CRS <= 1 there is no hypotension to
    attribute, so its caution speaks of encephalopathy [seed attribution text, ASTCT 2019]."""
    findings = check_draft_order(
        order(drug, dose), assessment(**chart, warnings=("positive-blood-culture",))
    )
    (caution,) = [f for f in findings if f.code is _F.INFECTION_COULD_EXPLAIN]
    assert caution.severity is Severity.CRITICAL
    assert ("encephalopathy" in caution.text) is encephalopathy
    assert ("Hypotension from sepsis" in caution.text) is not encephalopathy
