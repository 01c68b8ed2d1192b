"""ASTCT 2019 consensus grading, rule by rule (SPEC 2.4), reported in other_systems."""

from __future__ import annotations

import pytest

from crs_grading import GradingSystem
from crs_grading.inputs import (
    Immunosuppressant,
    LabTest,
    OxygenDevice,
    RateBasis,
    Vasopressor,
    VentilationKind,
)

D = OxygenDevice
NE, DOPA, VASO = Vasopressor.NOREPINEPHRINE, Vasopressor.DOPAMINE, Vasopressor.VASOPRESSIN


def astct(assessment):
    return assessment.other_systems[GradingSystem.ASTCT_2019]


def criteria(grade):
    return {d.criterion for d in grade.drivers}


def case(id, setup, grade, criterion=None):
    return pytest.param(setup, grade, criterion, id=id)


# Each case also has a fever of 38.5 C at day 1 08:00, except where it says "without fever".
WITH_FEVER = [
    case("ASTCT 2019: fever alone is grade 1", lambda c: None, 1, "astct-fever"),
    case(
        "ASTCT 2019: hypotension without vasopressors is grade 2",
        lambda c: c.bp(c.t(1), 85, 50),
        2,
        "astct-hypotension-no-vasopressor",
    ),
    case(
        "ASTCT 2019: nasal cannula at exactly 6 L/min is low-flow, grade 2",
        lambda c: c.oxygen(c.t(1), flow=6, device=D.NASAL_CANNULA),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019: nasal cannula above 6 L/min is high-flow, grade 3",
        lambda c: c.oxygen(c.t(1), flow=6.5, device=D.NASAL_CANNULA),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: nasal cannula without a flow is low-flow, grade 2",
        lambda c: c.oxygen(c.t(1), device=D.NASAL_CANNULA),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019: blow-by is grade 2",
        lambda c: c.oxygen(c.t(1), device=D.BLOW_BY),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019: high-flow nasal cannula is grade 3",
        lambda c: c.oxygen(c.t(1), flow=40, fio2=40, device=D.HIGH_FLOW_NASAL_CANNULA),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: a simple facemask is grade 3",
        lambda c: c.oxygen(c.t(1), device=D.SIMPLE_FACEMASK),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: a non-rebreather mask is grade 3",
        lambda c: c.oxygen(c.t(1), device=D.NON_REBREATHER),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: a Venturi mask is grade 3",
        lambda c: c.oxygen(c.t(1), fio2=35, device=D.VENTURI_MASK),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: CPAP is positive pressure, grade 4",
        lambda c: c.oxygen(c.t(1), device=D.CPAP),
        4,
        "astct-positive-pressure",
    ),
    case(
        "ASTCT 2019: BiPAP is positive pressure, grade 4",
        lambda c: c.oxygen(c.t(1), device=D.BIPAP),
        4,
        "astct-positive-pressure",
    ),
    case(
        "ASTCT 2019: intubation (a ventilation period) is grade 4",
        lambda c: c.vent(c.t(1), c.t(1, 4), VentilationKind.INVASIVE),
        4,
        "astct-positive-pressure",
    ),
    case(
        "ASTCT 2019: FiO2 39% with no device or flow counts as low-flow, grade 2",
        lambda c: c.oxygen(c.t(1), fio2=39),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019: FiO2 exactly 40% with no device or flow is grade 3",
        lambda c: c.oxygen(c.t(1), fio2=40),
        3,
        "astct-high-flow-oxygen",
    ),
    case(
        "ASTCT 2019: oxygen flow 4 L/min with no device is low-flow, grade 2",
        lambda c: c.oxygen(c.t(1), flow=4),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019 and SPEC 3: oxygen therapy (SNOMED 57485005) without device, flow or FiO2 "
        "is at least low-flow oxygen, grade 2",
        lambda c: c.oxygen(c.t(1)),
        2,
        "astct-low-flow-oxygen",
    ),
    case(
        "ASTCT 2019: room air is no oxygen requirement",
        lambda c: c.oxygen(c.t(1), fio2=21, device=D.ROOM_AIR),
        1,
    ),
    case(
        "ASTCT 2019: one vasopressor is grade 3",
        lambda c: c.drip(NE, c.t(1), c.t(1, 1), 5),
        3,
        "astct-one-vasopressor",
    ),
    case(
        "ASTCT 2019: one vasopressor with vasopressin is still grade 3",
        lambda c: (
            c.drip(NE, c.t(1), c.t(1, 2), 5),
            c.drip(VASO, c.t(1), c.t(1, 2), 0.03, RateBasis.UNITS_PER_MIN),
        ),
        3,
        "astct-one-vasopressor",
    ),
    case(
        "ASTCT 2019: two vasopressors (not vasopressin) at once are grade 4",
        lambda c: (
            c.drip(NE, c.t(1), c.t(1, 2), 5),
            c.drip(DOPA, c.t(1, 1), c.t(1, 3), 5, RateBasis.MICROGRAMS_PER_KG_PER_MIN),
        ),
        4,
        "astct-multiple-vasopressors",
    ),
    case(
        "ASTCT 2019: organ toxicity does not change the grade (AST 25 x ULN)",
        lambda c: c.lab(LabTest.AST, c.t(1), 1000),
        1,
    ),
]


@pytest.mark.parametrize(("setup", "grade", "criterion"), WITH_FEVER)
def test_astct_grade_with_fever(chart, setup, grade, criterion):
    chart.temp(chart.t(1, -2), 38.5)
    setup(chart)
    grade_now = astct(chart.assess(chart.t(1, 6)))
    assert grade_now.system == GradingSystem.ASTCT_2019
    assert grade_now.grade == grade
    if criterion is not None:
        assert criterion in criteria(grade_now)


@pytest.mark.parametrize(
    ("setup", "id_"),
    [
        pytest.param(
            lambda c: c.bp(c.t(1), 80, 45),
            "hypotension",
            id="ASTCT 2019: hypotension without fever is not CRS",
        ),
        pytest.param(
            lambda c: c.oxygen(c.t(1), fio2=60),
            "hypoxia",
            id="ASTCT 2019: hypoxia without fever is not CRS",
        ),
        pytest.param(
            lambda c: c.drip(NE, c.t(1), c.t(1, 4), 30),
            "pressor",
            id="ASTCT 2019: a vasopressor without fever is not CRS",
        ),
    ],
)
def test_fever_is_required(chart, setup, id_):
    setup(chart)
    assessment = chart.assess(chart.t(1, 6))
    assert astct(assessment).grade == 0
    assert assessment.grade >= 2  # Lee 2014 does not require fever


@pytest.mark.parametrize(
    ("agent", "lifted"),
    [
        pytest.param(
            Immunosuppressant.TOCILIZUMAB,
            True,
            id="ASTCT 2019: after tocilizumab, hypotension grades without fever",
        ),
        pytest.param(
            Immunosuppressant.DEXAMETHASONE,
            True,
            id="ASTCT 2019: after a corticosteroid, hypotension grades without fever",
        ),
        pytest.param(
            Immunosuppressant.ANAKINRA,
            False,
            id="ASTCT 2019: anakinra does not lift the fever requirement",
        ),
    ],
)
def test_fever_requirement_lifted_by_tocilizumab_or_steroid(chart, agent, lifted):
    chart.immuno(agent, chart.t(1))
    chart.bp(chart.t(1, 2), 80, 45)
    assert astct(chart.assess(chart.t(1, 6))).grade == (2 if lifted else 0)


def test_fever_requirement_is_not_lifted_before_the_drug(chart):
    """ASTCT 2019: only findings after tocilizumab grade without fever."""
    chart.bp(chart.t(1), 80, 45)
    chart.immuno(Immunosuppressant.TOCILIZUMAB, chart.t(1, 2))
    assessment = chart.assess(chart.t(1, 6))
    assert astct(assessment).grade == 0


@pytest.mark.parametrize(
    ("fever_hours_before", "grade"),
    [
        pytest.param(20, 2, id="ASTCT 2019: fever 20 h before hypotension is the same 24 h window"),
        pytest.param(30, 1, id="ASTCT 2019: fever 30 h before hypotension is not the same window"),
    ],
)
def test_fever_must_share_a_24_h_window_for_the_peak(chart, fever_hours_before, grade):
    chart.temp(chart.t(3, -fever_hours_before), 38.6)
    chart.bp(chart.t(3), 80, 45)
    assessment = chart.assess(chart.t(6))
    assert assessment.other_systems[GradingSystem.ASTCT_2019].grade == 0  # current: nothing
    assessment_astct = chart.assess(chart.t(6), system=GradingSystem.ASTCT_2019)
    assert assessment_astct.peak_grade == grade
    if grade == 2:
        names = criteria(assessment_astct.peak)
        assert names == {"astct-fever", "astct-hypotension-no-vasopressor"}


def test_astct_as_the_primary_system_puts_lee_in_other_systems(chart):
    """SPEC 2.4: either system can be primary; the other is reported beside it."""
    chart.temp(chart.t(1), 39)
    chart.oxygen(chart.t(1), flow=8, device=D.NASAL_CANNULA)
    assessment = chart.assess(chart.t(1, 2), system=GradingSystem.ASTCT_2019)
    assert assessment.system == GradingSystem.ASTCT_2019
    assert assessment.grade == 3  # high-flow cannula > 6 L/min
    assert assessment.other_systems[GradingSystem.LEE_2014].grade == 3  # FiO2 ~53% estimated
    assert set(assessment.other_systems) == {GradingSystem.LEE_2014}
