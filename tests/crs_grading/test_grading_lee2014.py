"""Lee 2014 revised grading, rule by rule (seed Table 2, seed Table 3, Mahadeo 2019, SPEC 2.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crs_grading import Criterion
from crs_grading.inputs import (
    ConditionCategory,
    OxygenDevice,
    RateBasis,
    Vasopressor,
    VentilationKind,
)

NE, DOPA, EPI, PHENYL, VASO = (
    Vasopressor.NOREPINEPHRINE,
    Vasopressor.DOPAMINE,
    Vasopressor.EPINEPHRINE,
    Vasopressor.PHENYLEPHRINE,
    Vasopressor.VASOPRESSIN,
)
PER_KG = RateBasis.MICROGRAMS_PER_KG_PER_MIN
UG_MIN = RateBasis.MICROGRAMS_PER_MIN
UNITS = RateBasis.UNITS_PER_MIN

Setup = Callable[[Any], None]


def case(id: str, setup: Setup, grade: int, criterion: str | None = None) -> Any:
    return pytest.param(setup, grade, criterion, id=id)


# Every chart is assessed 2 days after the infusion; findings sit on day 1 from 10:00.
def _at(c: Any, h: float = 0, m: float = 0) -> Any:
    return c.t(1, h, m)


FEVER_CASES = [
    case(
        "seed Table 2: 38.0 C exactly is fever, grade 1", lambda c: c.temp(_at(c), 38.0), 1, "fever"
    ),
    case("seed Table 2: 37.9 C is not fever, grade 0", lambda c: c.temp(_at(c), 37.9), 0),
    case(
        "seed Table 2: 100.4 degF converted to Celsius is fever, grade 1",
        lambda c: c.temp(_at(c), (100.4 - 32) * 5 / 9),
        1,
        "fever",
    ),
    case(
        "seed Table 2: an active constitutional-symptom condition is grade 1",
        lambda c: c.condition(ConditionCategory.CONSTITUTIONAL, "myalgia", onset=_at(c)),
        1,
        "constitutional-symptoms",
    ),
    case(
        "seed Table 2: a resolved constitutional symptom with no abatement date is not graded",
        lambda c: c.condition(
            ConditionCategory.CONSTITUTIONAL, "fatigue", active=False, onset=_at(c)
        ),
        0,
    ),
]

OXYGEN_CASES = [
    case(
        "seed Table 2: FiO2 21% is room air, no oxygen requirement",
        lambda c: c.oxygen(_at(c), fio2=21),
        0,
    ),
    case(
        "seed Table 2: FiO2 22% is an oxygen requirement < 40%, grade 2",
        lambda c: c.oxygen(_at(c), fio2=22),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "seed Table 2: FiO2 39.9% is < 40%, grade 2",
        lambda c: c.oxygen(_at(c), fio2=39.9),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "seed Table 2: FiO2 exactly 40% is >= 40%, grade 3",
        lambda c: c.oxygen(_at(c), fio2=40),
        3,
        "oxygen-high-fio2",
    ),
    case(
        "SPEC 2.3: flow 4 L/min estimates FiO2 37%, grade 2",
        lambda c: c.oxygen(_at(c), flow=4),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "SPEC 2.3: flow 5 L/min estimates FiO2 41%, grade 3",
        lambda c: c.oxygen(_at(c), flow=5),
        3,
        "oxygen-high-fio2",
    ),
    case(
        "SPEC 2.3: flow 0 L/min estimates room air, grade 0", lambda c: c.oxygen(_at(c), flow=0), 0
    ),
    case(
        "SPEC 2.3: a room-air device is no oxygen requirement",
        lambda c: c.oxygen(_at(c), device=OxygenDevice.ROOM_AIR),
        0,
    ),
    case(
        "SPEC 2.3: a low-flow oxygen device without FiO2 or flow counts as FiO2 < 40%, grade 2",
        lambda c: c.oxygen(_at(c), device=OxygenDevice.SIMPLE_FACEMASK),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "SPEC 2.3 and 3: oxygen therapy (SNOMED 57485005) without FiO2, flow or device is "
        "supplemental oxygen, counted as FiO2 < 40%, grade 2",
        lambda c: c.oxygen(_at(c)),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "SPEC 2.3: recorded FiO2 wins over the flow estimate",
        lambda c: c.oxygen(_at(c), fio2=30, flow=10),
        2,
        "oxygen-low-fio2",
    ),
    case(
        "seed Table 2: a ventilation period is ventilator support, grade 4",
        lambda c: c.vent(_at(c), _at(c, 5)),
        4,
        "ventilation",
    ),
    case(
        "seed Table 2: non-invasive positive pressure (BiPAP) is ventilator support, grade 4",
        lambda c: c.vent(_at(c), None, VentilationKind.NON_INVASIVE, OxygenDevice.BIPAP),
        4,
        "ventilation",
    ),
    case(
        "seed Table 2: an oxygen reading on CPAP is ventilator support, grade 4",
        lambda c: c.oxygen(_at(c), fio2=35, device=OxygenDevice.CPAP),
        4,
        "ventilation",
    ),
    case(
        "seed Table 2: an oxygen reading on invasive ventilation is grade 4",
        lambda c: c.oxygen(_at(c), fio2=30, device=OxygenDevice.INVASIVE_VENTILATION),
        4,
        "ventilation",
    ),
]


def _drip(
    agent: Vasopressor,
    rate: float | None,
    hours: float,
    basis: RateBasis = UG_MIN,
    start_h: float = 0,
    **kw: Any,
) -> Setup:
    return lambda c: c.drip(agent, _at(c, start_h), _at(c, start_h + hours), rate, basis, **kw)


def _both(*setups: Setup) -> Setup:
    def run(c: Any) -> None:
        for setup in setups:
            setup(c)

    return run


def _weighed(kg: float, *setups: Setup) -> Setup:
    return _both(lambda c: c.weight(c.t(-1), kg), *setups)


VASOPRESSOR_CASES = [
    case(
        "seed Table 3: norepinephrine exactly 20 ug/min for exactly 3 h is high dose, grade 3",
        _drip(NE, 20, 3),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: norepinephrine 19.9 ug/min for 3 h is low dose, grade 2",
        _drip(NE, 19.9, 3),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: norepinephrine 20 ug/min for 2 h 59 min is not yet high dose, grade 2",
        _drip(NE, 20, 2 + 59 / 60),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: rate changes across consecutive administrations form one 3 h episode",
        _both(_drip(NE, 22, 1), _drip(NE, 30, 1, start_h=1), _drip(NE, 20, 1, start_h=2)),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: a 30 min stop breaks the episode (1.5 h + 1.5 h), grade 2",
        _both(_drip(NE, 25, 1.5), _drip(NE, 25, 1.5, start_h=2)),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: a 4 min charting gap does not break the episode, grade 3",
        _both(_drip(NE, 25, 1.5), _drip(NE, 25, 1.5, start_h=1.5 + 4 / 60)),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: a drop below 20 ug/min inside the 3 h restarts the clock, grade 2",
        _both(_drip(NE, 25, 2), _drip(NE, 10, 0.5, start_h=2), _drip(NE, 25, 2, start_h=2.5)),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "SPEC 2.3: norepinephrine 0.2 ug/kg/min x 100 kg = 20 ug/min for 3 h, grade 3",
        _weighed(100, _drip(NE, 0.2, 3, PER_KG)),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "SPEC 2.3: norepinephrine 0.2 ug/kg/min x 99 kg = 19.8 ug/min, grade 2",
        _weighed(99, _drip(NE, 0.2, 3, PER_KG)),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: dopamine 10 ug/kg/min for 3 h is high dose, grade 3",
        _drip(DOPA, 10, 3, PER_KG),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: dopamine 9.9 ug/kg/min is low dose, grade 2",
        _drip(DOPA, 9.9, 3, PER_KG),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "SPEC 2.3: dopamine 700 ug/min / 70 kg = 10 ug/kg/min for 3 h, grade 3",
        _weighed(70, _drip(DOPA, 700, 3)),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "SPEC 2.3: dopamine 700 ug/min / 71 kg = 9.86 ug/kg/min, grade 2",
        _weighed(71, _drip(DOPA, 700, 3)),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: phenylephrine 200 ug/min for 3 h is high dose, grade 3",
        _drip(PHENYL, 200, 3),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: phenylephrine 199 ug/min is low dose, grade 2",
        _drip(PHENYL, 199, 3),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: epinephrine 10 ug/min for 3 h is high dose, grade 3",
        _drip(EPI, 10, 3),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "seed Table 3: epinephrine 9.9 ug/min is low dose, grade 2",
        _drip(EPI, 9.9, 3),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 3: vasopressin alone is one vasopressor at low dose, grade 2",
        _drip(VASO, 0.04, 5, UNITS),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "seed Table 2: two vasopressors at the same time (vasopressin counts) are grade 3",
        _both(_drip(NE, 5, 2), _drip(VASO, 0.03, 1, UNITS, start_h=0.5)),
        3,
        "multiple-vasopressors",
    ),
    case(
        "seed Table 2: one vasopressor after another (not at once) stays grade 2",
        _both(_drip(NE, 5, 2), _drip(EPI, 2, 2, start_h=2)),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "SPEC 2.3: a drip of unknown rate is a vasopressor of unknown dose, grade 2",
        _drip(NE, None, 4, rate_gap="mL/h without concentration"),
        2,
        "vasopressor-unknown-dose",
    ),
    case(
        "SPEC 2.3: a drip of unknown rate with another vasopressor is grade 3",
        _both(_drip(NE, None, 4), _drip(DOPA, 3, 4, PER_KG)),
        3,
        "multiple-vasopressors",
    ),
    case(
        "SPEC 2.3: ug/kg/min without a body weight is an unknown dose, grade 2",
        _drip(NE, 0.5, 4, PER_KG),
        2,
        "vasopressor-unknown-dose",
    ),
    case(
        "SPEC 2.3: a drip with no end and not in progress counts at its start, grade 2",
        lambda c: c.drip(NE, _at(c), None, 30),
        2,
        "vasopressor-low-dose",
    ),
    case(
        "SPEC 2.3: a drip in progress with no end runs until as_of (25 ug/min from 3 h before)",
        lambda c: c.drip(NE, c.t(2, -3), None, 25, in_progress=True),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "SPEC 2.3: a drip with no end runs until the next administration of its agent",
        _both(lambda c: c.drip(NE, _at(c), None, 25), _drip(NE, 25, 1.5, start_h=2)),
        3,
        "vasopressor-high-dose",
    ),
    case(
        "SPEC 2.3: a rate of 0 stops the drip (25 ug/min for 2 h only), grade 2",
        _both(lambda c: c.drip(NE, _at(c), None, 25), _drip(NE, 0, 3, start_h=2)),
        2,
        "vasopressor-low-dose",
    ),
]

HYPOTENSION_CASES = [
    case(
        "Mahadeo 2019: adult systolic 89 mmHg is hypotension, grade 2",
        lambda c: c.bp(_at(c), 89, 60),
        2,
        "hypotension",
    ),
    case(
        "Mahadeo 2019: adult systolic 90 mmHg is not hypotension", lambda c: c.bp(_at(c), 90, 60), 0
    ),
    case(
        "Mahadeo 2019: adult measured MAP 64 mmHg is hypotension, grade 2",
        lambda c: c.bp(_at(c), 95, 50, mean=64),
        2,
        "hypotension",
    ),
    case(
        "Mahadeo 2019: adult measured MAP 65 mmHg is not hypotension",
        lambda c: c.bp(_at(c), 95, 50, mean=65),
        0,
    ),
    case(
        "Mahadeo 2019: adult derived MAP 50 + (95 - 50) / 3 = 65 mmHg is not hypotension",
        lambda c: c.bp(_at(c), 95, 50),
        0,
    ),
    case(
        "Mahadeo 2019: adult derived MAP 50 + (94 - 50) / 3 = 64.7 mmHg is hypotension",
        lambda c: c.bp(_at(c), 94, 50),
        2,
        "hypotension",
    ),
    case(
        "Mahadeo 2019 and SPEC 3: systolic 94 and diastolic 50 charted as two Observations of "
        "the same time give MAP 64.7 mmHg: hypotension",
        _both(lambda c: c.bp(_at(c), systolic=94), lambda c: c.bp(_at(c), diastolic=50)),
        2,
        "hypotension",
    ),
    case(
        "Mahadeo 2019 and SPEC 3: systolic 95 and diastolic 50 charted apart give MAP 65 mmHg: "
        "not hypotension",
        _both(lambda c: c.bp(_at(c), systolic=95), lambda c: c.bp(_at(c), diastolic=50)),
        0,
    ),
]


def test_a_map_derived_from_two_observations_cites_both(chart, find_driver):
    """SPEC section 4: evidence holds every resource the finding rests on."""
    systolic = chart.bp(chart.t(1), systolic=94)
    diastolic = chart.bp(chart.t(1), diastolic=50)
    driver = find_driver(chart.assess(chart.t(2)), "hypotension")
    assert driver is not None
    assert set(driver.evidence) == {systolic, diastolic}
    assert "derived" in driver.text


def _assert_grade(chart: Any, find_driver: Any, grade: int, criterion: str | None) -> Any:
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == grade
    assert assessment.current.system == "lee2014"
    if criterion is not None:
        found = find_driver(assessment, criterion)
        assert found is not None, assessment.current.drivers
        assert found.grade == grade
        assert found.evidence
    return assessment


@pytest.mark.parametrize(("setup", "grade", "criterion"), FEVER_CASES)
def test_fever_and_constitutional_symptoms(chart, find_driver, setup, grade, criterion):
    setup(chart)
    _assert_grade(chart, find_driver, grade, criterion)


@pytest.mark.parametrize(("setup", "grade", "criterion"), OXYGEN_CASES)
def test_oxygen_and_ventilation(chart, find_driver, setup, grade, criterion):
    setup(chart)
    _assert_grade(chart, find_driver, grade, criterion)


@pytest.mark.parametrize(("setup", "grade", "criterion"), VASOPRESSOR_CASES)
def test_vasopressors(chart, find_driver, setup, grade, criterion):
    setup(chart)
    _assert_grade(chart, find_driver, grade, criterion)


@pytest.mark.parametrize(("setup", "grade", "criterion"), HYPOTENSION_CASES)
def test_adult_hypotension(chart, find_driver, setup, grade, criterion):
    setup(chart)
    _assert_grade(chart, find_driver, grade, criterion)


@pytest.mark.parametrize(
    ("age", "systolic", "mean", "hypotensive"),
    [
        pytest.param(5, 79, None, True, id="Mahadeo 2019: age 5 y, systolic 79 < 70 + 2 x 5 = 80"),
        pytest.param(5, 80, None, False, id="Mahadeo 2019: age 5 y, systolic 80 is not < 80"),
        pytest.param(10, 89, None, True, id="Mahadeo 2019: age 10 y, systolic 89 < 90"),
        pytest.param(10, 90, None, False, id="Mahadeo 2019: age 10 y, systolic 90 is not < 90"),
        pytest.param(1, 71, None, True, id="Mahadeo 2019: age 1 y, systolic 71 < 72"),
        pytest.param(0, 69, None, True, id="Mahadeo 2019: under 1 y, systolic 69 < 70"),
        pytest.param(0, 70, None, False, id="Mahadeo 2019: under 1 y, systolic 70 is not < 70"),
        pytest.param(11, 89, None, True, id="Mahadeo 2019: age 11 y, systolic 89 < 90"),
        pytest.param(
            15, 100, 60, False, id="Mahadeo 2019: age 15 y, MAP 60 does not count before 18 y"
        ),
        pytest.param(18, 100, 64, True, id="Mahadeo 2019: age 18 y, MAP 64 < 65"),
    ],
)
def test_hypotension_by_age(make_chart, age, systolic, mean, hypotensive):
    chart = make_chart(age=age)
    chart.bp(chart.t(1), systolic, 40, mean)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == (2 if hypotensive else 0)
    assert "age unknown: adult hypotension thresholds used" not in assessment.data_gaps


def test_unknown_age_uses_adult_thresholds_and_says_so(make_chart):
    """Mahadeo 2019 / SPEC 2.3: without a birth date the adult rows apply, listed as a gap."""
    chart = make_chart(age=None)
    chart.bp(chart.t(1), 89, 60)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 2
    assert "age unknown: adult hypotension thresholds used" in assessment.data_gaps
    assert assessment.age_years is None


def _high_dose_driver(chart: Any, find_driver: Any) -> Any:
    return find_driver(chart.assess(chart.t(2)), Criterion.VASOPRESSOR_HIGH_DOSE)


@pytest.mark.parametrize(
    ("drips", "high_dose"),
    [
        pytest.param(
            [(NE, 10, UG_MIN), (PHENYL, 100, UG_MIN)],
            True,
            id="seed Table 3 VASST: norepinephrine 10 + phenylephrine 100 / 10 = exactly 20",
        ),
        pytest.param(
            [(NE, 10, UG_MIN), (PHENYL, 99, UG_MIN)],
            False,
            id="seed Table 3 VASST: norepinephrine 10 + phenylephrine 99 / 10 = 19.9",
        ),
        pytest.param(
            [(NE, 16, UG_MIN), (DOPA, 8, PER_KG)],
            True,
            id="seed Table 3 VASST: norepinephrine 16 + dopamine 8 ug/kg/min / 2 = 20",
        ),
        pytest.param(
            [(NE, 15, UG_MIN), (DOPA, 8, PER_KG)],
            False,
            id="seed Table 3 VASST: norepinephrine 15 + dopamine 8 / 2 = 19",
        ),
        pytest.param(
            [(NE, 10, UG_MIN), (VASO, 0.03, UNITS)],
            True,
            id="seed Table 3: vasopressin with norepinephrine equivalent exactly 10",
        ),
        pytest.param(
            [(NE, 9.9, UG_MIN), (VASO, 0.03, UNITS)],
            False,
            id="seed Table 3: vasopressin with norepinephrine equivalent 9.9",
        ),
        pytest.param(
            [(EPI, 5, UG_MIN), (PHENYL, 50, UG_MIN), (VASO, 0.03, UNITS)],
            True,
            id="seed Table 3: vasopressin with epinephrine 5 + phenylephrine 50 / 10 = 10",
        ),
    ],
)
def test_norepinephrine_equivalent_rows(chart, find_driver, drips, high_dose):
    for agent, rate, basis in drips:
        chart.drip(agent, chart.t(1), chart.t(1, 3), rate, basis)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 3  # two or more vasopressors at once: seed Table 2 grade 3
    found = find_driver(assessment, Criterion.VASOPRESSOR_HIGH_DOSE)
    assert (found is not None) is high_dose
    if found is not None:
        assert "norepinephrine equivalent" in found.text


def test_high_dose_evidence_names_every_administration_and_the_weight(chart, find_driver):
    """seed Table 3: the high-dose driver cites the drips of the episode and the weight used."""
    weight = chart.weight(chart.t(-1), 80)
    first = chart.drip(NE, chart.t(1), chart.t(1, 2), 0.3, PER_KG)
    second = chart.drip(NE, chart.t(1, 2), chart.t(1, 4), 0.26, PER_KG)
    found = _high_dose_driver(chart, find_driver)
    assert found is not None
    assert set(found.evidence) == {first, second, weight}
    assert "4 h" in found.text


def test_unknown_rates_and_missing_weight_are_data_gaps(chart):
    """SPEC 2.3: a drip whose rate cannot be read is listed as a gap."""
    chart.drip(NE, chart.t(1), chart.t(1, 1), None, rate_gap="mL/h without concentration")
    chart.drip(EPI, chart.t(1, 2), chart.t(1, 3), 0.05, PER_KG)
    chart.drip(DOPA, chart.t(1, 4), None, 5, PER_KG)
    gaps = chart.assess(chart.t(2)).data_gaps
    assert any("norepinephrine rate unknown (mL/h without concentration)" in g for g in gaps)
    assert any(
        "epinephrine rate in ug/kg/min cannot be converted without a body weight" in g for g in gaps
    )
    assert any("dopamine administration end time unknown" in g for g in gaps)
    assert "no body weight in the last 30 days" in gaps




def test_room_air_then_a_non_rebreather_within_the_hour_is_grade_3(chart):
    """seed Table 2 / SPEC 2.3: FiO2 21% is no requirement, so it cannot be the FiO2 of a
    non-rebreather charted 50 min later (found in review: it cancelled the device, grade 1)."""
    chart.temp(chart.t(1), 39.0)
    chart.oxygen(chart.t(1, 1), fio2=21)
    chart.oxygen(chart.t(1, 1, 50), device=OxygenDevice.NON_REBREATHER)
    assert chart.assess(chart.t(1, 2)).grade == 3



@pytest.mark.parametrize(
    ("reading", "grade"),
    [
        pytest.param({"device": OxygenDevice.NON_REBREATHER}, 3, id="non-rebreather: grade 3"),
        pytest.param({"device": OxygenDevice.HIGH_FLOW_NASAL_CANNULA}, 3, id="high flow: 3"),
        pytest.param({"flow": 10}, 3, id="10 L/min estimates 61%: grade 3"),
        pytest.param({"flow": 2}, 2, id="2 L/min estimates 29%: grade 2"),
        pytest.param({"device": OxygenDevice.NASAL_CANNULA}, 2, id="nasal cannula: grade 2"),
    ],
)
def test_room_air_fio2_charted_in_one_row_with_oxygen_gives_way_to_it(chart, reading, grade):
    """seed Table 2 / SPEC 2.3: FiO2 21% in the same row as an oxygen flow or device cannot be
    the FiO2 of that oxygen; the flow or device grades, with a gap (review of bc7d077)."""
    chart.temp(chart.t(1), 39.0)
    chart.oxygen(chart.t(1, 1), fio2=21, **reading)
    assessment = chart.assess(chart.t(1, 2))
    assert assessment.grade == grade
    assert (
        "FiO2 21% charted with an oxygen flow or device: graded by the flow or device"
        in assessment.data_gaps
    )


def test_room_air_fio2_with_a_room_air_device_is_still_no_requirement(chart):
    """seed Table 2: FiO2 21% on room air is no oxygen requirement."""
    chart.temp(chart.t(1), 39.0)
    chart.oxygen(chart.t(1, 1), fio2=21, device=OxygenDevice.ROOM_AIR)
    assessment = chart.assess(chart.t(1, 2))
    assert assessment.grade == 1
    assert not any("FiO2 21% charted with" in gap for gap in assessment.data_gaps)

def test_a_supplemental_fio2_within_the_hour_still_describes_a_device(chart):
    """SPEC 2.3: a measured FiO2 (above 21%) always wins: 35% beside a non-rebreather is grade 2."""
    chart.oxygen(chart.t(1, 1), fio2=35)
    chart.oxygen(chart.t(1, 1, 50), device=OxygenDevice.NON_REBREATHER)
    assert chart.assess(chart.t(1, 2)).grade == 2

def test_a_weight_over_30_days_old_still_converts_a_drip_rate(chart, find_driver):
    """SPEC 2.3: weight-based rates convert with the latest body weight (at any age; the
    30 days of SPEC 2.6 bound the dosing weight): 0.3 ug/kg/min x 80 kg = 24 ug/min for 5 h is
    high-dose norepinephrine, seed Table 3 -> grade 3, with the weight's age as a gap."""
    weight = chart.weight(chart.t(-5), 80)
    drip = chart.drip(NE, chart.t(26), chart.t(26, 5), 0.3, PER_KG)
    assessment = chart.assess(chart.t(26, 6))
    assert assessment.grade == 3
    found = find_driver(assessment, "vasopressor-high-dose")
    assert found is not None and set(found.evidence) == {drip, weight}
    assert assessment.weight is None  # no dose is worked out from it (SPEC 2.6)
    assert assessment.rate_weight is not None and assessment.rate_weight.reference == weight
    gaps = assessment.data_gaps
    assert "no body weight in the last 30 days" in gaps
    assert (
        "vasopressor rates converted with the last body weight, charted more than 30 days ago"
        in gaps
    )


def test_the_dosing_weight_converts_drip_rates_when_there_is_one(chart):
    """SPEC 2.3 / 2.6: the latest weight within 30 days is the one weight for both."""
    chart.weight(chart.t(-5), 80)
    recent = chart.weight(chart.t(20), 60)
    chart.drip(NE, chart.t(26), chart.t(26, 5), 0.3, PER_KG)  # x 60 kg = 18 ug/min: low dose
    assessment = chart.assess(chart.t(26, 6))
    assert assessment.grade == 2
    assert assessment.rate_weight is not None and assessment.rate_weight.reference == recent
    assert not any("converted with the last body weight" in g for g in assessment.data_gaps)

def test_ventilation_period_still_running_counts_until_as_of(chart):
    """seed Table 2 grade 4: an open ventilation period is ventilator support now."""
    chart.vent(chart.t(0, 2), None)
    assessment = chart.assess(chart.t(5))
    assert assessment.grade == 4
    assert assessment.peak_grade == 4


@pytest.mark.parametrize(
    ("fever_hours_before_death", "grade"),
    [
        pytest.param(2, 5, id="seed Table 2: death with fever 2 h before is grade 5"),
        pytest.param(
            30, 0, id="seed Table 2: death with the last CRS sign 30 h before is not grade 5"
        ),
    ],
)
def test_death(chart, find_driver, fever_hours_before_death, grade):
    chart.temp(chart.t(3, -fever_hours_before_death), 39)
    chart.died(chart.t(3))
    assessment = chart.assess(chart.t(3, 1))
    assert assessment.grade == grade
    if grade == 5:
        assert find_driver(assessment, Criterion.DEATH).evidence == ("Patient/p1",)
        assert assessment.other_systems["astct2019"].grade == 5


def test_death_before_day_0_is_not_crs(make_chart):
    """seed Table 2 grade 5 needs death after day 0."""
    chart = make_chart()
    chart.temp(chart.t(-1, -2), 39)
    chart.died(chart.t(-1))
    assert chart.assess(chart.t(0, 1)).grade == 0


def test_death_time_unknown_is_judged_on_the_last_24_h_and_said(chart):
    """seed Table 2 grade 5: with no time of death, the last 24 h stand in, listed as a gap."""
    chart.temp(chart.t(2, -1), 39)
    chart.died(None)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 5
    assert any("time of death unknown" in g for g in assessment.data_gaps)


def test_fever_is_not_required_for_grade_2(chart):
    """SPEC 2.3: hypotension without fever is grade 2; fever_in_window says there was none."""
    chart.bp(chart.t(1), 80, 50)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 2
    assert assessment.fever_in_window is False


def test_grade_is_the_highest_criterion_and_drivers_list_every_criterion(chart):
    """seed Table 2: the grade is the highest grade any criterion reaches."""
    chart.temp(chart.t(1), 39)
    chart.bp(chart.t(1, 1), 80, 50)
    chart.oxygen(chart.t(1, 2), fio2=50)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 3
    assert [d.criterion for d in assessment.current.drivers] == [
        "oxygen-high-fio2",
        "hypotension",
        "fever",
    ]


def test_grade_5_stays_after_death_in_both_systems(chart):
    """seed Table 2 / ASTCT 2019 grade 5: death is the grade from then on, fever or not."""
    chart.temp(chart.t(3, -2), 39)
    chart.died(chart.t(3))
    assessment = chart.assess(chart.t(5))
    assert (assessment.grade, assessment.peak_grade) == (5, 5)
    assert assessment.other_systems["astct2019"].grade == 5
    assert [d.lee2014 for d in assessment.daily][3:] == [5, 5, 5]
    assert [d.astct2019 for d in assessment.daily][3:] == [5, 5, 5]
