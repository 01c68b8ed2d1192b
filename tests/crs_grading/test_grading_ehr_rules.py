"""Issue 10 grading rules, each named after its rule and source: oxygen as flowsheets chart it
(SPEC 2.3, 2.4, seed text), comparators (SPEC 3, CTCAE v4.03), continuous infusions (SPEC 2.1),
symptoms by onset (SPEC 2.3), refuted and resolved infections (SPEC 2.7), the stated weight."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crs_grading.assessment import GradingSystem
from crs_grading.inputs import Comparator, ConditionCategory, LabTest, OxygenDevice, TherapyKind

# --- oxygen (SPEC 2.3: a measured FiO2 always wins; device-inferred FiO2) ---------------------


def _lee(assessment):
    return assessment.grade


def _astct(assessment):
    return assessment.other_systems[GradingSystem.ASTCT_2019].grade


def test_spec_2_3_fio2_35_and_6_l_per_min_charted_apart_is_lee_2_not_3(chart, find_driver):
    """Issue 10: FiO2 35% and 6 L/min as two flowsheet rows graded Lee 3 from the flow estimate
    (45%). The measured FiO2 is the requirement: Lee 2."""
    chart.temp(chart.t(1, 1), 38.6)
    chart.oxygen(chart.t(1, 2), flow=6)
    chart.oxygen(chart.t(1, 2, 1), fio2=35)
    assessment = chart.assess(chart.t(1, 3))
    assert _lee(assessment) == 2
    assert find_driver(assessment, "oxygen-low-fio2").text == "FiO2 35%"
    assert find_driver(assessment, "oxygen-high-fio2") is None
    assert "FiO2 estimated from oxygen flow (21% + 4% per L/min)" not in assessment.data_gaps
    assert _astct(assessment) == 2  # 6 L/min is low-flow (ASTCT 2019)


@pytest.mark.parametrize("minutes", [-60, -30, 0, 30, 60])
def test_spec_2_3_an_fio2_within_an_hour_of_the_flow_is_the_requirement(chart, minutes):
    chart.oxygen(chart.t(1, 4), flow=8)
    chart.oxygen(chart.t(1, 4, minutes), fio2=30)
    assert _lee(chart.assess(chart.t(1, 6))) == 2


def test_spec_2_3_a_flow_more_than_an_hour_from_any_fio2_is_estimated(chart):
    chart.oxygen(chart.t(1, 1), fio2=30)
    chart.oxygen(chart.t(1, 3), flow=6)
    assessment = chart.assess(chart.t(1, 4))
    assert _lee(assessment) == 3
    assert "FiO2 estimated from oxygen flow (21% + 4% per L/min)" in assessment.data_gaps


@pytest.mark.parametrize(
    "device",
    [
        OxygenDevice.NON_REBREATHER,
        OxygenDevice.PARTIAL_REBREATHER,
        OxygenDevice.VENTURI_MASK,
        OxygenDevice.HIGH_FLOW_NASAL_CANNULA,
        OxygenDevice.HIGH_FLOW_FACE_TENT,
    ],
)
def test_spec_2_3_seed_a_high_flow_device_with_no_fio2_counts_as_fio2_40(
    chart, find_driver, device
):
    """Seed text: "patients who require more than low flow oxygen ... should be considered
    grade 3"; SPEC 2.3: the card says the FiO2 was inferred from the device."""
    chart.oxygen(chart.t(1, 2), device=device)
    assessment = chart.assess(chart.t(1, 3))
    assert _lee(assessment) == 3
    high = find_driver(assessment, "oxygen-high-fio2")
    assert "inferred from the device" in high.text
    assert any("inferred from the device" in gap for gap in assessment.data_gaps)


def test_spec_2_3_a_measured_fio2_wins_over_the_device(chart):
    chart.oxygen(chart.t(1, 2), device=OxygenDevice.NON_REBREATHER)
    chart.oxygen(chart.t(1, 2, 10), fio2=32)
    assert _lee(chart.assess(chart.t(1, 3))) == 2


def test_spec_2_3_the_flow_of_a_high_flow_device_charted_apart_is_not_a_100_percent_estimate(
    chart, find_driver
):
    chart.oxygen(chart.t(1, 2), device=OxygenDevice.HIGH_FLOW_NASAL_CANNULA)
    chart.oxygen(chart.t(1, 2), flow=40)
    assessment = chart.assess(chart.t(1, 3))
    assert _lee(assessment) == 3
    assert "inferred from the device" in find_driver(assessment, "oxygen-high-fio2").text


@pytest.mark.parametrize(
    "device", [OxygenDevice.SIMPLE_FACEMASK, OxygenDevice.FACE_TENT, OxygenDevice.NASAL_CANNULA]
)
def test_spec_2_3_a_low_flow_device_with_nothing_charted_is_fio2_below_40(chart, device):
    chart.oxygen(chart.t(1, 2), device=device)
    assert _lee(chart.assess(chart.t(1, 3))) == 2


def test_spec_2_3_a_face_tent_at_high_flow_charted_as_a_flow_is_estimated_grade_3(chart):
    chart.oxygen(chart.t(1, 2), device=OxygenDevice.FACE_TENT, flow=10)
    assert _lee(chart.assess(chart.t(1, 3))) == 3


ASTCT_DEVICES = [
    (dict(device=OxygenDevice.NASAL_CANNULA, flow=4), 2),
    (dict(device=OxygenDevice.NASAL_CANNULA, flow=6), 2),
    (dict(device=OxygenDevice.NASAL_CANNULA, flow=8), 3),
    (dict(device=OxygenDevice.BLOW_BY), 2),
    (dict(device=OxygenDevice.HIGH_FLOW_NASAL_CANNULA, flow=40, fio2=35), 3),
    (dict(device=OxygenDevice.SIMPLE_FACEMASK), 3),
    (dict(device=OxygenDevice.FACE_TENT), 3),
    (dict(device=OxygenDevice.PARTIAL_REBREATHER), 3),
    (dict(device=OxygenDevice.NON_REBREATHER, fio2=35), 3),
    (dict(device=OxygenDevice.VENTURI_MASK, fio2=28), 3),
    (dict(device=OxygenDevice.CPAP), 4),
    (dict(device=OxygenDevice.BIPAP), 4),
    (dict(fio2=35), 2),
    (dict(fio2=50), 3),
    (dict(flow=4), 2),
    (dict(flow=10), 3),
]


@pytest.mark.parametrize(
    ("reading", "grade"),
    ASTCT_DEVICES,
    ids=[f"ASTCT 2019: {reading} is grade {grade}" for reading, grade in ASTCT_DEVICES],
)
def test_astct_2019_device_rules_stay_right(chart, reading, grade):
    chart.temp(chart.t(1, 1), 38.5)
    chart.oxygen(chart.t(1, 2), **reading)
    assert _astct(chart.assess(chart.t(1, 3))) == grade


def test_astct_2019_fio2_charted_with_a_low_flow_cannula_grades_by_the_cannula(chart):
    """SPEC 2.4: FiO2 alone grades only "with FiO2 and no device or flow"."""
    chart.temp(chart.t(1, 1), 38.5)
    chart.oxygen(chart.t(1, 2), device=OxygenDevice.NASAL_CANNULA, flow=3)
    chart.oxygen(chart.t(1, 2, 5), fio2=45)
    assessment = chart.assess(chart.t(1, 3))
    assert _astct(assessment) == 2
    assert _lee(assessment) == 3  # Lee reads the measured FiO2 (>= 40%)


# --- comparators (SPEC 3; CTCAE v4.03) --------------------------------------------------------


def test_ctcae_fibrinogen_below_50_charted_as_a_bound_is_grade_4(chart, find_driver):
    """Issue 10: "<50 mg/dL" was read as 50 (grade 3); below a limit satisfies "< 50 mg/dL"."""
    chart.lab(LabTest.FIBRINOGEN, chart.t(1, 6), 50, comparator=Comparator.BELOW)
    assessment = chart.assess(chart.t(1, 8))
    assert _lee(assessment) == 4
    fibrinogen = find_driver(assessment, "organ-toxicity-fibrinogen-decreased-grade-4")
    assert fibrinogen.text.startswith("fibrinogen <50 mg/dL")


def test_ctcae_fibrinogen_exactly_50_is_not_below_50(chart):
    chart.lab(LabTest.FIBRINOGEN, chart.t(1, 6), 50)
    assert _lee(chart.assess(chart.t(1, 8))) == 3  # 0.25 x LLN of 200 is 50: grade 3


def test_spec_3_a_value_above_a_limit_never_satisfies_a_below_criterion(chart):
    chart.lab(LabTest.FIBRINOGEN, chart.t(1, 6), 40, comparator=Comparator.ABOVE)
    assert _lee(chart.assess(chart.t(1, 8))) == 0


def test_spec_3_a_value_below_a_limit_never_satisfies_an_above_criterion(chart):
    chart.lab(LabTest.AST, chart.t(1, 6), 5000, comparator=Comparator.BELOW)  # < 5000 U/L
    assert _lee(chart.assess(chart.t(1, 8))) == 0


def test_spec_3_an_above_bound_beyond_the_threshold_satisfies_it(chart, find_driver):
    chart.lab(LabTest.AST, chart.t(1, 6), 1000, comparator=Comparator.ABOVE)  # > 25 x ULN
    assessment = chart.assess(chart.t(1, 8))
    assert find_driver(assessment, "transaminitis-grade-4").text.startswith("AST >1000 U/L")


def test_spec_3_a_bound_is_no_baseline(chart):
    chart.lab(LabTest.CREATININE, chart.t(-2), 0.3, comparator=Comparator.BELOW)
    chart.lab(LabTest.CREATININE, chart.t(1, 6), 0.95)
    assessment = chart.assess(chart.t(1, 8))
    assert _lee(assessment) == 0  # not "> 3 x baseline" of a bound
    assert "no creatinine result before day 0: baseline criteria skipped" in assessment.data_gaps


def test_spec_2_7_neutropenia_charted_as_a_bound(chart):
    chart.lab(LabTest.ANC, chart.t(1, 6), 100, comparator=Comparator.BELOW)
    (warning,) = chart.assess(chart.t(1, 8)).attribution_warnings
    assert warning.code == "neutropenia" and "ANC <100 /uL" in warning.text


@pytest.mark.parametrize(
    ("value", "comparator", "warns"),
    [(10, Comparator.ABOVE, True), (2, Comparator.ABOVE, True), (1, Comparator.BELOW, False)],
)
def test_spec_2_7_lactate_charted_as_a_bound(chart, value, comparator, warns):
    chart.lab(LabTest.LACTATE, chart.t(1, 6), value, comparator=comparator)
    codes = {w.code for w in chart.assess(chart.t(1, 8)).attribution_warnings}
    assert ("elevated-lactate" in codes) is warns


@pytest.mark.parametrize(
    ("celsius", "comparator", "fever"),
    [
        (39.5, Comparator.ABOVE, True),
        (38.0, Comparator.AT_LEAST, True),
        (38.5, Comparator.BELOW, False),
    ],
)
def test_spec_3_a_temperature_bound_is_a_fever_only_when_every_value_beyond_it_is(
    chart, celsius, comparator, fever
):
    chart.temp(chart.t(1, 2), celsius, comparator)
    assessment = chart.assess(chart.t(1, 3))
    assert (_lee(assessment) == 1) is fever
    assert assessment.fever_in_window is fever


# --- scope (SPEC 2.1) -------------------------------------------------------------------------


def test_spec_2_1_blinatumomab_started_31_days_ago_ended_3_days_ago_is_in_scope(make_chart):
    chart = make_chart(therapy=None)
    now = chart.t(40)
    chart.therapy(
        "blinatumomab",
        TherapyKind.T_CELL_ENGAGER,
        now - timedelta(days=31),
        end=now - timedelta(days=3),
    )
    assessment = chart.assess(now)
    assert assessment.therapy is not None
    assert assessment.therapy.day == 31  # day 0 is the start of the infusion


def test_spec_2_1_a_continuous_infusion_is_out_of_scope_30_days_after_its_end(make_chart):
    chart = make_chart(therapy=None)
    now = chart.t(80)
    chart.therapy(
        "blinatumomab",
        TherapyKind.T_CELL_ENGAGER,
        now - timedelta(days=60),
        end=now - timedelta(days=31),
    )
    assert chart.assess(now).therapy is None


def test_spec_2_1_a_running_infusion_is_in_scope_while_it_runs(make_chart):
    chart = make_chart(therapy=None)
    now = chart.t(80)
    chart.therapy(
        "blinatumomab", TherapyKind.T_CELL_ENGAGER, now - timedelta(days=45), ongoing=True
    )
    assert chart.assess(now).therapy.day == 45


def test_spec_2_1_bags_of_one_infusion_are_one_course_dated_by_the_first_bag(make_chart):
    chart = make_chart(therapy=None)
    now = chart.t(40)
    start = now - timedelta(days=20)
    for bag in range(5):  # 4-day bags, changed with a short gap
        chart.therapy(
            "blinatumomab",
            TherapyKind.T_CELL_ENGAGER,
            start + timedelta(days=4 * bag, minutes=20),
            end=start + timedelta(days=4 * (bag + 1)),
        )
    assert chart.assess(now).therapy.day == 20


# --- symptoms by onset (SPEC 2.3) -------------------------------------------------------------


def test_spec_2_3_an_old_headache_on_the_problem_list_does_not_hold_grade_1(chart):
    chart.condition(ConditionCategory.CONSTITUTIONAL, "headache", onset=chart.t(-10))
    assert _lee(chart.assess(chart.t(3))) == 0


def test_spec_2_3_a_new_symptom_counts_in_the_window_of_its_onset(chart, find_driver):
    chart.condition(ConditionCategory.CONSTITUTIONAL, "myalgia", onset=chart.t(2, 20))
    assessment = chart.assess(chart.t(3))
    assert _lee(assessment) == 1
    assert find_driver(assessment, "constitutional-symptoms") is not None
    assert _lee(chart.assess(chart.t(4))) == 0  # onset more than 24 h ago
    assert chart.assess(chart.t(4)).peak_grade == 1


def test_spec_2_3_a_symptom_with_no_date_never_counts(chart):
    chart.condition(ConditionCategory.CONSTITUTIONAL, "nausea")
    assert _lee(chart.assess(chart.t(3))) == 0


# --- infection warnings (SPEC 2.7) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("active", "refuted", "abatement_h", "warns"),
    [
        (True, False, None, True),
        (False, False, -2, False),  # resolved 2 h ago
        (False, False, None, False),  # resolved, no date
        (False, True, None, False),  # refuted
        (False, False, 48, True),  # resolved only after the assessment time
    ],
    ids=["active", "resolved", "resolved-undated", "refuted", "resolved-later"],
)
def test_spec_2_7_refuted_or_resolved_diagnoses_never_warn(
    chart, active, refuted, abatement_h, warns
):
    now = chart.t(3)
    abatement = now + timedelta(hours=abatement_h) if abatement_h is not None else None
    chart.condition(
        ConditionCategory.INFECTION,
        "aspergillosis",
        active=active,
        onset=chart.t(1),
        abatement=abatement,
        refuted=refuted,
    )
    codes = {w.code for w in chart.assess(now).attribution_warnings}
    assert ("infection-diagnosis" in codes) is warns


# --- weight (SPEC 3) --------------------------------------------------------------------------


def test_spec_3_the_stated_weight_is_a_last_resort(chart):
    chart.weight(chart.t(-1), 80, stated=True)
    assessment = chart.assess(chart.t(1))
    assert assessment.weight.value == 80
    assert "no measured body weight: the weight stated by the patient is used" in (
        assessment.data_gaps
    )
    chart.weight(chart.t(-2), 76)
    assert chart.assess(chart.t(1)).weight.value == 76
