"""Draft-order checks (issue 4, SPEC 2.6, 2.7): dose, maximum, route, indication, redosing,
attribution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from crs_grading.treatment import Protocol, Severity, TreatmentOptions, check_draft_order

from .conftest import AS_OF, H, assessment, order, tocilizumab_doses

CRIT, WARN, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO


@dataclass
class Check:
    """A draft order on a chart and the findings expected, as (severity, code, corrected mg)."""

    draft: dict[str, Any]
    chart: dict[str, Any]
    findings: list[tuple[Severity, str, int | None]]
    options: dict[str, Any] = field(default_factory=dict)


def toci(
    dose: float | None, basis: str | None = "mg", route: str | None = "intravenous"
) -> dict[str, Any]:
    return {"agent": "tocilizumab", "dose": dose, "basis": basis, "route": route}


def drug(agent: str, dose: float | None, basis: str | None = "mg") -> dict[str, Any]:
    return {"agent": agent, "dose": dose, "basis": basis}


GRADE_3 = {"grade": 3}

CHECKS = [
    # -- dose against the protocol and the maximum --------------------------------------------
    pytest.param(
        Check(toci(280), GRADE_3, []),
        id="seed Tocilizumab: 280 mg for a 70 kg adult at grade 3 -> no finding",
    ),
    pytest.param(
        Check(toci(308), GRADE_3, []),
        id="issue 4 tolerance: exactly 10% above the protocol dose is not flagged",
    ),
    pytest.param(
        Check(toci(309), GRADE_3, [(WARN, "dose-off-protocol", 280)]),
        id="issue 4 tolerance: more than 10% above the protocol dose -> warning, corrected 280",
    ),
    pytest.param(
        Check(toci(240), GRADE_3, [(WARN, "dose-off-protocol", 280)]),
        id="issue 4 tolerance: more than 10% below the protocol dose -> warning, corrected 280",
    ),
    pytest.param(
        Check(toci(801), GRADE_3, [(CRIT, "dose-above-maximum", 280)]),
        id="tocilizumab USPI: 801 mg is above the 800 mg maximum -> critical",
    ),
    pytest.param(
        Check(toci(800), {"grade": 3, "weight_kg": 120}, [], {"protocol": Protocol.FDA_LABEL}),
        id="tocilizumab USPI: 800 mg for 120 kg under fda-label is the capped protocol dose",
    ),
    pytest.param(
        Check(
            toci(8, "mg/kg"),
            {"grade": 3, "weight_kg": 120},
            [(CRIT, "dose-above-maximum", 800)],
            {"protocol": Protocol.FDA_LABEL},
        ),
        id="tocilizumab USPI: 8 mg/kg x 120 kg = 960 mg -> critical, corrected 800",
    ),
    pytest.param(
        Check(toci(4, "mg/kg"), GRADE_3, []),
        id="seed Tocilizumab: a 4 mg/kg order for a 70 kg adult matches",
    ),
    pytest.param(
        Check(toci(8, "mg/kg"), GRADE_3, [(WARN, "dose-off-protocol", 280)]),
        id="seed Tocilizumab: 8 mg/kg for an adult under lee2014 -> warning, corrected 280",
    ),
    pytest.param(
        Check(
            toci(12, "mg/kg"), {"grade": 3, "weight_kg": 29.9}, [], {"protocol": Protocol.FDA_LABEL}
        ),
        id="tocilizumab USPI: 12 mg/kg at 29.9 kg matches fda-label",
    ),
    pytest.param(
        Check(
            toci(12, "mg/kg"),
            {"grade": 3, "weight_kg": 30},
            [(WARN, "dose-off-protocol", 240)],
            {"protocol": Protocol.FDA_LABEL},
        ),
        id="tocilizumab USPI: 12 mg/kg at 30 kg is off fda-label (8 mg/kg = 240 mg)",
    ),
    pytest.param(
        Check(
            toci(280), {"grade": 3, "weight_kg": None}, [(WARN, "dose-unchecked-no-weight", None)]
        ),
        id="SPEC 2.6: no weight -> the dose cannot be checked (warning)",
    ),
    pytest.param(
        Check(
            toci(8, "mg/kg"),
            {"grade": 3, "weight_kg": None},
            [(WARN, "dose-unchecked-no-weight", None), (WARN, "dose-off-protocol", None)],
        ),
        id="seed Tocilizumab: no weight, 8 mg/kg for an adult -> unchecked and off protocol",
    ),
    pytest.param(
        Check(toci(1000), {"grade": 3, "weight_kg": None}, [(CRIT, "dose-above-maximum", None)]),
        id="tocilizumab USPI: 1000 mg is above 800 mg even without a weight",
    ),
    pytest.param(
        Check(toci(280), {"grade": 3, "age_years": None}, [(WARN, "dose-unchecked-no-age", None)]),
        id="seed Tocilizumab: unknown age under lee2014 -> the dose cannot be checked",
    ),
    pytest.param(
        Check(toci(None), GRADE_3, [(WARN, "dose-unreadable", 280)]),
        id="issue 4: an unreadable dose -> warning with the protocol dose",
    ),
    pytest.param(
        Check(toci(0), GRADE_3, [(WARN, "dose-unreadable", 280)]),
        id="issue 4: a zero dose is unreadable",
    ),
    pytest.param(
        Check(drug("dexamethasone", 10), {"grade": 3, "neuro": True}, []),
        id="seed Corticosteroids: dexamethasone 10 mg for 70 kg with neuro findings -> fine",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 12),
            {"grade": 3, "neuro": True},
            [(CRIT, "dose-above-maximum", 10)],
        ),
        id="seed Corticosteroids: dexamethasone 12 mg is above 10 mg per dose -> critical",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 0.5, "mg/kg"),
            {"grade": 3, "neuro": True},
            [(CRIT, "dose-above-maximum", 10)],
        ),
        id="seed Corticosteroids: dexamethasone 0.5 mg/kg x 70 kg = 35 mg -> critical, 10 mg",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 12),
            {"grade": 3, "neuro": True, "weight_kg": None},
            [(CRIT, "dose-above-maximum", None)],
        ),
        id="seed Corticosteroids: dexamethasone 12 mg is above 10 mg even without a weight",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 5),
            {"grade": 3, "neuro": True, "weight_kg": 10, "age_years": 2},
            [],
        ),
        id="seed Corticosteroids: dexamethasone 5 mg for a 10 kg child is 0.5 mg/kg",
    ),
    pytest.param(
        Check(drug("methylprednisolone", 140), {"grade": 3, "given": tocilizumab_doses(H(30))}, []),
        id="seed Corticosteroids: methylprednisolone 140 mg/day for 70 kg after tocilizumab",
    ),
    pytest.param(
        Check(
            drug("methylprednisolone", 70),
            {"grade": 3, "given": tocilizumab_doses(H(30))},
            [(WARN, "dose-off-protocol", 140)],
        ),
        id="seed Corticosteroids: methylprednisolone 70 mg is 50% below 2 mg/kg/day",
    ),
    pytest.param(
        Check(drug("hydrocortisone", 100), GRADE_3, [(INFO, "dose-no-protocol", None)]),
        id="seed Corticosteroids: hydrocortisone has no protocol dose -> info",
    ),
    # -- route ----------------------------------------------------------------------------------
    pytest.param(
        Check(toci(280, route="subcutaneous"), GRADE_3, [(WARN, "route-not-intravenous", None)]),
        id="tocilizumab USPI: tocilizumab for CRS is intravenous; subcutaneous -> warning",
    ),
    pytest.param(
        Check(toci(280, route="IV"), GRADE_3, []),
        id="tocilizumab USPI: 'IV' is intravenous",
    ),
    pytest.param(
        Check(toci(280, route=None), GRADE_3, []),
        id="tocilizumab USPI: no route on the draft is not flagged",
    ),
    # -- indication against the grade ------------------------------------------------------------
    pytest.param(
        Check(toci(280), {"grade": 0}, [(WARN, "indication-grade-too-low", None)]),
        id="seed Figure 2: tocilizumab at grade 0 -> warning",
    ),
    pytest.param(
        Check(toci(280), {"grade": 1}, [(WARN, "indication-grade-too-low", None)]),
        id="seed Figure 2: tocilizumab at grade 1 -> warning, symptomatic treatment only",
    ),
    pytest.param(
        Check(drug("dexamethasone", 10), {"grade": 1}, [(WARN, "indication-grade-too-low", None)]),
        id="seed Figure 2: dexamethasone at grade 1 -> warning",
    ),
    pytest.param(
        Check(
            drug("hydrocortisone", 50),
            {"grade": 1},
            [(INFO, "dose-no-protocol", None), (INFO, "indication-grade-too-low", None)],
        ),
        id="seed Corticosteroids: hydrocortisone at grade 1 is info (stress dosing exists)",
    ),
    pytest.param(
        Check(
            toci(280),
            {"grade": 2, "age_years": 40},
            [(INFO, "indication-grade-2-without-risk", None)],
        ),
        id="seed Figure 2: tocilizumab at grade 2, not older, no comorbidity -> info",
    ),
    pytest.param(
        Check(toci(280), {"grade": 2, "age_years": 70}, []),
        id="seed Figure 2: tocilizumab at grade 2 at 70 y -> no finding",
    ),
    pytest.param(
        Check(toci(280), {"grade": 2, "comorbidities": ("cirrhosis",)}, []),
        id="seed Figure 2: tocilizumab at grade 2 with a comorbidity -> no finding",
    ),
    pytest.param(
        Check(drug("dexamethasone", 10), GRADE_3, [(INFO, "corticosteroid-second-line", None)]),
        id="seed Corticosteroids: dexamethasone first at grade 3 without neuro -> info",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 10),
            {"grade": 3, "neuro": True, "vasopressor": True},
            [(INFO, "corticosteroid-second-line", None)],
        ),
        id="seed text: dexamethasone first with neuro AND a vasopressor -> info second line",
    ),
    pytest.param(
        Check(
            drug("anakinra", 100),
            GRADE_3,
            [(INFO, "dose-no-protocol", None), (INFO, "other-agent-not-routine", None)],
        ),
        id="seed other agents: anakinra at grade 3 -> not routinely used, dose unchecked",
    ),
    pytest.param(
        Check(
            drug("siltuximab", 770),
            {"grade": 1},
            [
                (WARN, "indication-grade-too-low", None),
                (INFO, "dose-no-protocol", None),
                (INFO, "other-agent-not-routine", None),
            ],
        ),
        id="seed Figure 2: siltuximab at grade 1 -> warning; no interval check",
    ),
    # -- tocilizumab interval and count ------------------------------------------------------
    pytest.param(
        Check(
            toci(280),
            {"grade": 3, "given": tocilizumab_doses(H(7, 59))},
            [(CRIT, "redose-too-soon", None)],
        ),
        id="tocilizumab USPI: a dose 7 h 59 min after the last -> critical",
    ),
    pytest.param(
        Check(
            toci(280),
            {"grade": 3, "given": tocilizumab_doses(H(8))},
            [(WARN, "redose-before-reassessment", None)],
        ),
        id="seed Tocilizumab: a dose 8 h after the last -> warning, reassess at 24 h first",
    ),
    pytest.param(
        Check(
            toci(280),
            {"grade": 3, "given": tocilizumab_doses(H(23, 59))},
            [(WARN, "redose-before-reassessment", None)],
        ),
        id="seed Tocilizumab: a dose 23 h 59 min after the last -> warning",
    ),
    pytest.param(
        Check(toci(280), {"grade": 3, "given": tocilizumab_doses(H(24))}, []),
        id="seed Tocilizumab: a second dose 24 h after the first at grade 3 -> no finding",
    ),
    pytest.param(
        Check(
            toci(280),
            {"grade": 3, "given": tocilizumab_doses(H(120), H(96), H(72), H(48))},
            [(CRIT, "too-many-doses", None)],
        ),
        id="tocilizumab USPI: a fifth dose -> critical",
    ),
    pytest.param(
        Check(
            toci(280),
            {"grade": 2, "age_years": 70, "given": tocilizumab_doses(H(30))},
            [(INFO, "redose-below-grade-3", None)],
        ),
        id="seed Tocilizumab: a second dose at grade 2 -> info, redose is for grade >= 3",
    ),
    pytest.param(
        Check(
            drug("anakinra", 100),
            {"grade": 3, "given": tocilizumab_doses(H(1))},
            [(INFO, "dose-no-protocol", None), (INFO, "other-agent-not-routine", None)],
        ),
        id="tocilizumab USPI: the tocilizumab interval does not apply to anakinra",
    ),
    pytest.param(
        Check(drug("dexamethasone", 10), {"grade": 3, "given": tocilizumab_doses(H(30))}, []),
        id="seed Tocilizumab: a corticosteroid 30 h after tocilizumab at grade 3 -> no finding",
    ),
    # -- attribution ------------------------------------------------------------------------
    pytest.param(
        Check(
            toci(280),
            {"grade": 3, "warnings": ("positive-blood-culture",)},
            [(CRIT, "infection-could-explain", None)],
        ),
        id="seed text attribution: a positive blood culture -> critical, sepsis could explain",
    ),
    pytest.param(
        Check(
            drug("dexamethasone", 10),
            {"grade": 3, "neuro": True, "warnings": ("elevated-lactate", "neutropenia")},
            [(CRIT, "infection-could-explain", None)],
        ),
        id="seed text attribution: lactate and neutropenia -> one critical finding",
    ),
    pytest.param(
        Check(toci(280), {"grade": 3, "warnings": ("late-onset",)}, [(WARN, "late-onset", None)]),
        id="SPEC 2.7: late-onset fever is shown on the order as a warning",
    ),
    pytest.param(
        Check(
            toci(280), {"grade": 3, "warnings": ("masked-fever",)}, [(INFO, "masked-fever", None)]
        ),
        id="SPEC 2.7: masked fever is shown on the order as info",
    ),
]


@pytest.mark.parametrize("check", CHECKS)
def test_order_check(check: Check) -> None:
    draft = order(**check.draft)
    findings = check_draft_order(
        draft, assessment(**check.chart), TreatmentOptions(**check.options)
    )
    got = [(f.severity, f.code, f.corrected_dose_mg) for f in findings]
    assert sorted(got, key=str) == sorted(check.findings, key=str)
    for finding in findings:
        assert finding.text
        assert finding.source
        assert finding.order_reference == "MedicationRequest/draft1"
        assert finding.drug == draft.agent


def test_findings_come_most_severe_first() -> None:
    """issue 4: order-sign shows warnings and critical only; the most severe leads."""
    findings = check_draft_order(
        order("tocilizumab", 1000),
        assessment(
            grade=1, warnings=("neutropenia", "masked-fever"), given=tocilizumab_doses(H(2))
        ),
    )
    severities = [f.severity.rank for f in findings]
    assert severities == sorted(severities, reverse=True)
    assert {f.code for f in findings} == {
        "dose-above-maximum",
        "indication-grade-too-low",
        "redose-too-soon",
        "infection-could-explain",
        "masked-fever",
    }


def test_without_a_grade_only_the_dose_and_route_are_checked() -> None:
    """Review finding: a patient whose CRS could not be graded (the therapy may be in data
    that could not be read) still has the dose and route of a draft order checked; the
    indication, the tocilizumab history and the attribution warnings need the grade."""
    chart = assessment(
        grade=0, warnings=("neutropenia", "masked-fever"), given=tocilizumab_doses(H(2))
    )
    draft = order("tocilizumab", 1000, route="subcutaneous")

    findings = check_draft_order(draft, chart, crs_graded=False)

    assert {f.code for f in findings} == {"dose-above-maximum", "route-not-intravenous"}
    assert {f.code for f in check_draft_order(draft, chart)} > {
        "dose-above-maximum",
        "route-not-intravenous",
        "indication-grade-too-low",
        "redose-too-soon",
    }


def test_infection_finding_cites_the_evidence_and_the_seed() -> None:
    """seed text attribution: sepsis would not call for tocilizumab or corticosteroids."""
    (finding,) = check_draft_order(
        order("tocilizumab", 280),
        assessment(grade=3, warnings=("positive-blood-culture", "infection-diagnosis")),
    )
    assert finding.evidence == (
        "Observation/positive-blood-culture",
        "Observation/infection-diagnosis",
    )
    assert "sepsis would not call for tocilizumab or corticosteroids" in finding.text
    assert "Attribution is the clinician's call" in finding.text
    assert "positive blood culture found" in finding.text


def test_off_protocol_text_gives_both_doses_and_the_rule() -> None:
    """issue 4: the warning says by how much, and what the protocol dose is."""
    (finding,) = check_draft_order(order("tocilizumab", 400), assessment(grade=3))
    assert finding.text.startswith("tocilizumab 400 mg is 43% above the protocol dose (280 mg")
    assert "tocilizumab 4 mg/kg IV over 1 h (Lee 2014, age >= 18 y) = 280 mg for 70 kg" in (
        finding.text
    )
    assert finding.evidence == ("Observation/weight",)


def test_methylprednisolone_off_protocol_text_explains_the_daily_total() -> None:
    """seed Corticosteroids: 2 mg/kg/day is a daily dose; a divided order is compared whole."""
    (finding,) = check_draft_order(
        order("methylprednisolone", 70),
        assessment(grade=3, given=tocilizumab_doses(H(30))),
    )
    assert "compare the daily total" in finding.text


def test_redose_findings_say_when() -> None:
    """tocilizumab USPI 8 h interval: the finding names the earliest time."""
    (finding,) = check_draft_order(
        order("tocilizumab", 280), assessment(grade=3, given=tocilizumab_doses(H(2)))
    )
    assert "This would be tocilizumab dose 2" in finding.text
    assert "not before 23 Nov 16:00 UTC" in finding.text
    assert "at most 4" not in finding.text and "up to 3 additional doses" not in finding.text
    assert finding.evidence == ("MedicationAdministration/is0",)


def test_siltuximab_note_is_accurate_about_the_seed() -> None:
    """seed other agents: the seed names anakinra, not siltuximab."""
    notes = {
        agent: next(
            f.text
            for f in check_draft_order(order(agent, 100), assessment(grade=3))
            if f.code == "other-agent-not-routine"
        )
        for agent in ("anakinra", "siltuximab")
    }
    assert "anakinra" in notes["anakinra"]
    assert "does not name siltuximab" in notes["siltuximab"]


def test_now_defaults_to_as_of() -> None:
    """seed Tocilizumab: the interval is measured from now (default: the assessment time)."""
    chart = assessment(grade=3, given=tocilizumab_doses(H(20)))
    assert [f.code for f in check_draft_order(order("tocilizumab", 280), chart)] == [
        "redose-before-reassessment"
    ]
    later = check_draft_order(order("tocilizumab", 280), chart, now=AS_OF + H(4))
    assert later == ()


def test_an_order_for_a_patient_whose_protocol_dose_rounds_to_0_mg_is_checked() -> None:
    """SPEC 2.6 and seed Corticosteroids: dexamethasone 0.5 mg/kg x 0.9 kg = 0.45 mg (rounds to
    0 mg). An order of 1 mg is compared with 0.45 mg; the check never divides by a 0 mg dose."""
    findings = check_draft_order(
        order("dexamethasone", 1),
        assessment(grade=3, weight_kg=0.9, age_years=0.1, neuro=True),
    )
    off = next(f for f in findings if f.code == "dose-off-protocol")
    assert "122% above the protocol dose (0.45 mg" in off.text
    assert off.corrected_dose_mg is None


@pytest.mark.parametrize(
    ("grade", "icans", "summary"),
    [
        pytest.param(
            0,
            2,
            "Infection could explain this picture: look for infection before immunosuppression",
            id="SPEC 2.9: ICANS 2 with CRS 0: no CRS to confirm (found in review)",
        ),
        pytest.param(
            3,
            None,
            "Infection could explain this picture: confirm CRS before immunosuppression",
            id="SPEC 2.7: CRS grade 3: confirm CRS",
        ),
    ],
)
def test_the_infection_finding_speaks_of_what_the_order_treats(grade, icans, summary) -> None:
    findings = check_draft_order(
        order("dexamethasone", 10),
        assessment(grade=grade, icans=icans, warnings=("infection-diagnosis",)),
    )
    (finding,) = [f for f in findings if f.code == "infection-could-explain"]
    assert finding.summary == summary
    if icans is not None:
        assert "encephalopathy too" in finding.text and "confirm CRS" not in finding.text
