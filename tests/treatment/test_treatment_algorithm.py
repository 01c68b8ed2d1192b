"""The treatment algorithm (seed Figure 2, SPEC 2.6) and the attribution rule (SPEC 2.7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from crs_grading.treatment import (
    Protocol,
    RecommendationRole,
    Severity,
    TreatmentOptions,
    plan_treatment,
)

from .conftest import AS_OF, H, assessment, tocilizumab_doses

FIRST = RecommendationRole.FIRST_LINE
ALSO = RecommendationRole.ALSO_OFFERED
CONSIDER = RecommendationRole.CONSIDER
SECOND_DOSE = RecommendationRole.SECOND_DOSE
SECOND_AGENT = RecommendationRole.SECOND_AGENT


@dataclass
class Case:
    """A chart and what the plan must say: suggestions as (drug, role, isRecommended, mg)."""

    chart: dict[str, Any]
    suggestions: list[tuple[str, RecommendationRole, bool, int | None]]
    indicator: Severity
    advice: set[str] = field(default_factory=set)
    withheld: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


CASES = [
    pytest.param(
        Case({"grade": 0}, [], Severity.INFO, {"monitoring"}),
        id="seed Figure 2: grade 0 -> nothing beyond monitoring",
    ),
    pytest.param(
        Case(
            {"grade": 1},
            [],
            Severity.INFO,
            {
                "supportive-care",
                "consider-infection",
                "symptomatic-treatment",
                "cultures-and-antibiotics",
            },
        ),
        id="seed Figure 2: grade 1 -> symptomatic treatment only, no immunosuppression",
    ),
    pytest.param(
        Case({"grade": 1, "warnings": ("neutropenia",)}, [], Severity.INFO, {"consider-infection"}),
        id="SPEC 2.7: an infection signal without a suggestion does not make grade 1 critical",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 40},
            [],
            Severity.WARNING,
            {"close-monitoring", "cardiac-monitoring", "no-immunosuppression-grade-2"},
        ),
        id="seed Figure 2: grade 2, not older, no comorbidity -> supportive care only",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 70},
            [("tocilizumab", CONSIDER, False, 280)],
            Severity.WARNING,
            {"cardiac-monitoring"},
        ),
        id="seed Figure 2: grade 2 at 70 y -> tocilizumab to consider, not preselected",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 65.0},
            [("tocilizumab", CONSIDER, False, 280)],
            Severity.WARNING,
        ),
        id="SPEC 2.6: grade 2 at exactly 65 y counts as older",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 64.9}, [], Severity.WARNING, {"no-immunosuppression-grade-2"}
        ),
        id="SPEC 2.6: grade 2 at 64.9 y is not older",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 70},
            [],
            Severity.WARNING,
            {"no-immunosuppression-grade-2"},
            options={"older_age_years": 75},
        ),
        id="SPEC 2.6: the older-age threshold is configurable (75 y: 70 y is not older)",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 40, "comorbidities": ("heart failure",)},
            [("tocilizumab", CONSIDER, False, 280)],
            Severity.WARNING,
        ),
        id="seed Figure 2: grade 2 with a significant comorbidity -> tocilizumab to consider",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 40, "inactive_comorbidities": ("heart failure",)},
            [],
            Severity.WARNING,
            {"no-immunosuppression-grade-2"},
        ),
        id="SPEC 2.6: an inactive comorbidity does not count at grade 2",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": None}, [], Severity.WARNING, {"no-immunosuppression-grade-2"}
        ),
        id="seed Figure 2: grade 2 with unknown age and no comorbidity -> no suggestion",
    ),
    pytest.param(
        Case(
            {"grade": 3},
            [("tocilizumab", FIRST, True, 280)],
            Severity.CRITICAL,
            {"icu-monitoring", "cardiac-monitoring", "immunosuppression-for-all"},
        ),
        id="seed Figure 2: grade 3 -> tocilizumab first line, ICU monitoring, cardiac function",
    ),
    pytest.param(
        Case(
            {"grade": 4},
            [("tocilizumab", FIRST, True, 280)],
            Severity.CRITICAL,
            {"icu-monitoring", "cardiac-monitoring", "life-threatening"},
        ),
        id="seed Figure 2: grade 4 -> tocilizumab first line, life-threatening",
    ),
    pytest.param(
        Case(
            {"grade": 3, "age_years": 10, "weight_kg": 29},
            [("tocilizumab", FIRST, True, 232)],
            Severity.CRITICAL,
        ),
        id="seed Tocilizumab: grade 3 in a 29 kg child -> 8 mg/kg = 232 mg",
    ),
    pytest.param(
        Case(
            {"grade": 3},
            [("tocilizumab", FIRST, True, 560)],
            Severity.CRITICAL,
            options={"protocol": Protocol.FDA_LABEL},
        ),
        id="tocilizumab USPI: grade 3 under fda-label, 70 kg -> 8 mg/kg = 560 mg",
    ),
    pytest.param(
        Case(
            {"grade": 3, "neuro": True, "vasopressor": False},
            [("dexamethasone", FIRST, True, 10), ("tocilizumab", ALSO, False, 280)],
            Severity.CRITICAL,
        ),
        id="seed text: grade 3 neuro without vasopressor -> dexamethasone first, tocilizumab too",
    ),
    pytest.param(
        Case(
            {"grade": 4, "neuro": True, "vasopressor": False, "weight_kg": 12, "age_years": 3},
            [("dexamethasone", FIRST, True, 6), ("tocilizumab", ALSO, False, 96)],
            Severity.CRITICAL,
        ),
        id="seed text: grade 4 neuro without vasopressor in a 12 kg child -> dexamethasone 6 mg",
    ),
    pytest.param(
        Case(
            {"grade": 3, "neuro": True, "vasopressor": True},
            [("tocilizumab", FIRST, True, 280)],
            Severity.CRITICAL,
        ),
        id="seed text: grade 3 neuro WITH a vasopressor -> tocilizumab first line",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(23, 59))},
            [],
            Severity.CRITICAL,
            {"reassess-after-tocilizumab", "already-given"},
            ["redose-before-reassessment"],
        ),
        id="seed Tocilizumab: 23 h 59 min after a dose -> no new tocilizumab, reassess",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(24))},
            [
                ("tocilizumab", SECOND_DOSE, True, 280),
                ("methylprednisolone", SECOND_AGENT, False, 140),
            ],
            Severity.CRITICAL,
            {"already-given"},
        ),
        id="seed Tocilizumab: grade 3 still at 24 h -> second dose and/or methylprednisolone",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(7, 59))},
            [],
            Severity.CRITICAL,
            {"reassess-after-tocilizumab"},
            ["redose-too-soon"],
        ),
        id="tocilizumab USPI: 7 h 59 min after a dose -> withheld, under 8 h",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(8))},
            [],
            Severity.CRITICAL,
            withheld=["redose-before-reassessment"],
        ),
        id="seed Tocilizumab: 8 h after a dose the interval is met but reassessment is not",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(7, 59))},
            [("methylprednisolone", SECOND_AGENT, True, 140)],
            Severity.CRITICAL,
            withheld=["redose-too-soon"],
            options={"reassess_after": H(6)},
        ),
        id="tocilizumab USPI: the 8 h interval holds even with a shorter reassessment time",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(8))},
            [
                ("tocilizumab", SECOND_DOSE, True, 280),
                ("methylprednisolone", SECOND_AGENT, False, 140),
            ],
            Severity.CRITICAL,
            options={"reassess_after": H(6)},
        ),
        id="tocilizumab USPI: exactly 8 h after a dose a redose is allowed (reassess at 6 h)",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(96), H(72), H(48))},
            [
                ("tocilizumab", SECOND_DOSE, True, 280),
                ("methylprednisolone", SECOND_AGENT, False, 140),
            ],
            Severity.CRITICAL,
        ),
        id="tocilizumab USPI: after 3 doses a fourth may be suggested",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(120), H(96), H(72), H(48))},
            [("methylprednisolone", SECOND_AGENT, True, 140)],
            Severity.CRITICAL,
            withheld=["too-many-doses"],
        ),
        id="tocilizumab USPI: a fifth dose is withheld; methylprednisolone becomes the choice",
    ),
    pytest.param(
        Case(
            {"grade": 3, "given": tocilizumab_doses(H(80), H(60), H(40), H(2))},
            [],
            Severity.CRITICAL,
            {"reassess-after-tocilizumab"},
            ["too-many-doses"],
        ),
        id="tocilizumab USPI: a fifth dose is withheld whatever the interval",
    ),
    pytest.param(
        Case(
            {"grade": 3, "neuro": True, "given": tocilizumab_doses(H(30))},
            [("dexamethasone", FIRST, True, 10), ("tocilizumab", SECOND_DOSE, False, 280)],
            Severity.CRITICAL,
        ),
        id="seed text: neuro after tocilizumab at 30 h -> dexamethasone first, no second steroid",
    ),
    pytest.param(
        Case(
            {"grade": 3, "neuro": True, "given": tocilizumab_doses(H(3))},
            [("dexamethasone", FIRST, True, 10)],
            Severity.CRITICAL,
            withheld=["redose-too-soon"],
        ),
        id="seed text: neuro 3 h after tocilizumab -> dexamethasone still first line",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 70, "given": tocilizumab_doses(H(30))},
            [],
            Severity.WARNING,
            withheld=["redose-not-indicated"],
        ),
        id="seed Tocilizumab: grade 2 at 30 h after a dose -> no second dose (grade < 3)",
    ),
    pytest.param(
        Case(
            {"grade": 2, "age_years": 70, "given": tocilizumab_doses(H(5))},
            [],
            Severity.WARNING,
            {"reassess-after-tocilizumab"},
            ["redose-too-soon"],
        ),
        id="seed Tocilizumab: grade 2 older 5 h after a dose -> reassess, no new suggestion",
    ),
    pytest.param(
        Case({"grade": 5}, [], Severity.CRITICAL, {"death-recorded"}),
        id="seed Table 2: grade 5 (death) -> no treatment suggestion",
    ),
    pytest.param(
        Case(
            {"grade": 3, "weight_kg": None}, [("tocilizumab", FIRST, True, None)], Severity.CRITICAL
        ),
        id="SPEC 2.6: grade 3 without a weight -> tocilizumab in mg/kg, no dose",
    ),
    pytest.param(
        Case(
            {"grade": 3, "age_years": None}, [("tocilizumab", FIRST, True, None)], Severity.CRITICAL
        ),
        id="SPEC 2.6: grade 3 with unknown age under lee2014 -> no dose",
    ),
    pytest.param(
        Case(
            {"grade": 3, "age_years": None},
            [("tocilizumab", FIRST, True, 560)],
            Severity.CRITICAL,
            options={"protocol": Protocol.FDA_LABEL},
        ),
        id="tocilizumab USPI: unknown age does not matter under fda-label",
    ),
    pytest.param(
        Case(
            {"grade": 3, "warnings": ("late-onset", "masked-fever")},
            [("tocilizumab", FIRST, True, 280)],
            Severity.CRITICAL,
        ),
        id="SPEC 2.7: late-onset and masked-fever are not infection signals: still preselected",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_treatment_algorithm(case: Case) -> None:
    plan = plan_treatment(assessment(**case.chart), TreatmentOptions(**case.options))
    got = [(str(r.drug), r.role, r.is_recommended, r.dose.dose_mg) for r in plan.recommendations]
    assert got == case.suggestions
    assert plan.indicator is case.indicator
    assert case.advice <= {a.code for a in plan.advice}
    assert [w.code for w in plan.withheld] == case.withheld
    assert sum(r.is_recommended for r in plan.recommendations) <= 1
    for recommendation in plan.recommendations:
        assert recommendation.reason
        assert recommendation.source
        assert recommendation.route == "intravenous"


INFECTION_SIGNALS = [
    "positive-blood-culture",
    "neutropenia",
    "elevated-lactate",
    "infection-diagnosis",
]


@pytest.mark.parametrize("signal", INFECTION_SIGNALS)
@pytest.mark.parametrize(
    "chart",
    [
        pytest.param({"grade": 3}, id="grade 3"),
        pytest.param({"grade": 4, "neuro": True}, id="grade 4 neuro"),
        pytest.param({"grade": 2, "age_years": 70}, id="grade 2 older"),
        pytest.param({"grade": 3, "given": tocilizumab_doses(H(30))}, id="grade 3 after 30 h"),
    ],
)
def test_seed_attribution_infection_signal_makes_every_suggestion_unselected_and_critical(
    signal: str, chart: dict[str, Any]
) -> None:
    """SPEC 2.7 / seed text on attribution: infection signal + suggestion -> critical, none
    preselected, the sepsis caution said, and the warnings kept."""
    chart_assessment = assessment(**chart, warnings=(signal, "late-onset"))
    plan = plan_treatment(chart_assessment)
    assert plan.recommendations
    assert plan.critical
    assert plan.indicator is Severity.CRITICAL
    assert not any(r.is_recommended for r in plan.recommendations)
    assert plan.recommended is None
    caution = plan.attribution_caution or ""
    assert "sepsis would not call for tocilizumab or corticosteroids" in caution
    assert "Attribution is the clinician's call" in caution
    assert signal.replace("-", " ") in caution
    assert plan.attribution_warnings == chart_assessment.attribution_warnings
    assert [w.code for w in plan.infection_signals] == [signal]
    for recommendation in plan.recommendations:
        assert "sepsis would not call for" in recommendation.reason
    assert plan.next_step.startswith("if CRS rather than sepsis, ")


def test_seed_attribution_no_caution_without_infection_signal() -> None:
    """SPEC 2.7: without an infection signal there is no sepsis caution."""
    plan = plan_treatment(assessment(grade=3))
    assert plan.attribution_caution is None
    assert plan.recommended is not None


@pytest.mark.parametrize(
    ("grade", "indicator"),
    [
        pytest.param(0, Severity.INFO, id="SPEC 4 indicator: grade 0 info"),
        pytest.param(1, Severity.INFO, id="SPEC 4 indicator: grade 1 info"),
        pytest.param(2, Severity.WARNING, id="SPEC 4 indicator: grade 2 warning"),
        pytest.param(3, Severity.CRITICAL, id="SPEC 4 indicator: grade 3 critical"),
        pytest.param(4, Severity.CRITICAL, id="SPEC 4 indicator: grade 4 critical"),
        pytest.param(5, Severity.CRITICAL, id="SPEC 4 indicator: grade 5 critical"),
    ],
)
def test_indicator_by_grade(grade: int, indicator: Severity) -> None:
    assert plan_treatment(assessment(grade=grade)).indicator is indicator


def test_spec_4_any_attribution_warning_with_a_suggestion_makes_the_card_critical() -> None:
    """SPEC section 4: "any attribution warning with a suggestion makes it critical"; the plan
    is the one owner of the card's colour, late onset and masked fever included (they do not
    unselect the suggestion: SPEC 2.7)."""
    plan = plan_treatment(assessment(grade=2, age_years=70, warnings=("late-onset",)))
    assert plan.indicator is Severity.CRITICAL
    assert plan.recommendations and plan.attribution_caution is None
    assert plan_treatment(assessment(grade=1, warnings=("late-onset",))).indicator is (
        Severity.INFO
    )


def test_grade_2_infection_signal_with_suggestion_is_critical() -> None:
    """SPEC 2.7: a grade 2 warning card turns critical when it suggests immunosuppression."""
    assert plan_treatment(assessment(grade=2, age_years=70)).indicator is Severity.WARNING
    plan = plan_treatment(assessment(grade=2, age_years=70, warnings=("neutropenia",)))
    assert plan.indicator is Severity.CRITICAL


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        pytest.param(
            {"grade": 1},
            "Fever: obtain blood cultures; start empiric antibiotics if neutropenic.",
            id="seed text: a febrile patient -> obtain cultures, antibiotics if neutropenic",
        ),
        pytest.param(
            {"grade": 3, "warnings": ("neutropenia",)},
            "Fever with neutropenia: obtain blood cultures and start empiric antibiotics.",
            id="seed text: febrile neutropenia -> cultures and empiric antibiotics",
        ),
    ],
)
def test_fever_reminder(chart: dict[str, Any], expected: str) -> None:
    advice = {a.code: a.text for a in plan_treatment(assessment(**chart)).advice}
    assert advice["cultures-and-antibiotics"] == expected


def test_no_fever_reminder_without_fever() -> None:
    """seed text: the culture reminder is for febrile patients (SPEC 2.7)."""
    plan = plan_treatment(assessment(grade=3, fever=False))
    assert "cultures-and-antibiotics" not in {a.code for a in plan.advice}


def test_grade_2_reason_names_the_age_and_the_comorbidity() -> None:
    """seed Figure 2: the reason says why a grade 2 patient is offered tocilizumab."""
    plan = plan_treatment(
        assessment(grade=2, age_years=71.5, comorbidities=("heart failure", "COPD"))
    )
    reason = plan.recommendations[0].reason
    assert "older age (71 y)" in reason
    assert "a significant comorbidity (heart failure, COPD)" in reason
    assert plan.next_step == "consider tocilizumab 280 mg IV over 1 h"


def test_grade_2_unknown_age_is_said() -> None:
    """seed Figure 2: with the age unknown, the older-age criterion could not be checked."""
    plan = plan_treatment(assessment(grade=2, age_years=None))
    advice = {a.code: a.text for a in plan.advice}
    assert "the age is unknown" in advice["no-immunosuppression-grade-2"]


def test_within_24_h_the_plan_says_when_given_and_when_to_reassess() -> None:
    """seed Tocilizumab: within 24 h no new dose; the plan says when and when to reassess."""
    plan = plan_treatment(assessment(grade=3, given=tocilizumab_doses(H(10))))
    given_at = AS_OF - H(10)
    assert plan.reassess_at == given_at + H(24)
    advice = {a.code: a.text for a in plan.advice}
    # Each fact once (issue 12): when given in the "already-given" advice, when to reassess in
    # the reassessment advice; the withheld entry says why, without repeating either.
    assert "tocilizumab at 23 Nov 00:00 UTC (10 h ago)" in advice["already-given"]
    assert "Reassess at 24 Nov 00:00 UTC" in advice["reassess-after-tocilizumab"]
    assert "23 Nov 00:00" not in advice["reassess-after-tocilizumab"]
    assert plan.next_step == "reassess at 24 Nov 00:00 UTC, after tocilizumab"
    assert plan.withheld[0].code == "redose-before-reassessment"
    assert "not improved 24 h after the dose" in plan.withheld[0].reason


def test_withheld_fifth_dose_says_why() -> None:
    """tocilizumab USPI: up to 3 additional doses; the withheld entry says so."""
    plan = plan_treatment(assessment(grade=3, given=tocilizumab_doses(H(120), H(96), H(72), H(48))))
    withheld = plan.withheld[0]
    assert withheld.code == "too-many-doses"
    assert "4 doses given, at most 4 in all" in withheld.reason
    assert "No further tocilizumab: 4 doses have been given." in plan.recommendations[0].reason


def test_neuro_with_vasopressor_reason_explains_why_tocilizumab_stays_first() -> None:
    """seed text: corticosteroids first only without significant hemodynamic instability."""
    plan = plan_treatment(assessment(grade=3, neuro=True, vasopressor=True))
    assert "hemodynamic instability" in plan.recommendations[0].reason


def test_dexamethasone_first_reason_names_the_neurologic_finding() -> None:
    """seed text: the dexamethasone-first reason names the finding and the blood-brain barrier."""
    plan = plan_treatment(assessment(grade=3, neuro=True))
    reason = plan.recommendations[0].reason
    assert "encephalopathy" in reason
    assert "blood-brain barrier" in reason
    assert plan.next_step == "dexamethasone 10 mg IV"


def test_missing_weight_is_said_in_the_reason_and_nothing_is_orderable() -> None:
    """SPEC 2.6: no weight -> mg/kg and the gap, no absolute dose, no order."""
    plan = plan_treatment(assessment(grade=3, weight_kg=None))
    recommendation = plan.recommendations[0]
    assert not recommendation.orderable
    assert "no recent body weight recorded" in recommendation.reason
    assert recommendation.label == "tocilizumab 4 mg/kg IV over 1 h"


def test_recommendation_carries_rxnorm_and_the_dose_calculation() -> None:
    """SPEC 3 RxNorm ingredient codes; SPEC 4 suggested orders need code, dose and text."""
    plan = plan_treatment(assessment(grade=3, neuro=True, weight_kg=62.625))
    by_drug = {str(r.drug): r for r in plan.recommendations}
    assert (by_drug["tocilizumab"].rxnorm_code, by_drug["tocilizumab"].rxnorm_display) == (
        "612865",
        "tocilizumab",
    )
    assert by_drug["dexamethasone"].rxnorm_code == "3264"
    toci = by_drug["tocilizumab"].dose
    assert toci.dose_mg == 251
    assert toci.weight_reference == "Observation/weight"
    assert toci.text.startswith(
        "tocilizumab 4 mg/kg IV over 1 h (Lee 2014, age >= 18 y) = 251 mg for 62.625 kg"
    )
    methylprednisolone = plan_treatment(
        assessment(grade=3, given=tocilizumab_doses(H(25)))
    ).recommendations[1]
    assert methylprednisolone.rxnorm_code == "6902"


def test_now_defaults_to_as_of_and_can_be_given() -> None:
    """seed Tocilizumab: the 24 h reassessment is measured from now (default: as_of)."""
    chart = assessment(grade=3, given=tocilizumab_doses(H(20)))
    assert plan_treatment(chart).withheld[0].code == "redose-before-reassessment"
    later = plan_treatment(chart, now=AS_OF + timedelta(hours=4))
    assert later.withheld == ()
    assert later.recommendations[0].role is SECOND_DOSE


def test_every_grade_has_supportive_care_and_infection_advice() -> None:
    """seed Figure 2: vigilant supportive care and infection considered at every CRS grade."""
    for grade in (1, 2, 3, 4):
        codes = {a.code for a in plan_treatment(assessment(grade=grade)).advice}
        assert {"supportive-care", "consider-infection"} <= codes, grade


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"older_age_years": 0}, id="older age must be positive"),
        pytest.param({"min_redose_interval": H(-1)}, id="interval must not be negative"),
        pytest.param({"reassess_after": H(0)}, id="reassessment time must be positive"),
        pytest.param({"max_tocilizumab_doses": 0}, id="at least one dose"),
        pytest.param({"protocol": "lee2015"}, id="an unknown protocol"),
    ],
)
def test_bad_options_fail_loudly(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TreatmentOptions(**options)
