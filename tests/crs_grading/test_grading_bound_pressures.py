"""Blood pressures charted as bounds ("<60 mmHg": an automatic cuff that could not read lower).

SPEC 3 "Comparators": a value below a limit satisfies a "less than" criterion at that limit,
never an "above" one, and the card shows the comparator as charted. The criterion here is SPEC
2.3's hypotension (Mahadeo et al. 2019: SBP < 90 mmHg at 11 y and over, MAP < 65 mmHg at 18 y and
over, SBP < 70 + 2 x age at 1-10 y), graded 2 by Lee 2014 (seed Table 2, hypotension responsive
to fluids) and by ASTCT 2019 with fever. Before this, a bound blood pressure was skipped, and
the hypotension it showed was lost: an under-grade.
"""

from __future__ import annotations

import pytest

from crs_grading import GradingSystem
from crs_grading.criteria import Criterion
from crs_grading.inputs import Comparator

BELOW, AT_MOST, AT_LEAST, ABOVE = (
    Comparator.BELOW,
    Comparator.AT_MOST,
    Comparator.AT_LEAST,
    Comparator.ABOVE,
)


@pytest.mark.parametrize(
    ("systolic", "comparator", "hypotensive"),
    [
        pytest.param(60, BELOW, True, id="Mahadeo 2019 SBP < 90: systolic <60 meets it"),
        pytest.param(90, BELOW, True, id="Mahadeo 2019 SBP < 90: systolic <90 meets it"),
        pytest.param(89, AT_MOST, True, id="Mahadeo 2019 SBP < 90: systolic <=89 meets it"),
        pytest.param(90, AT_MOST, False, id="Mahadeo 2019 SBP < 90: <=90 may be 90, not met"),
        pytest.param(95, BELOW, False, id="Mahadeo 2019 SBP < 90: <95 may be 94, not met"),
        pytest.param(60, ABOVE, False, id="SPEC 3: >60 never meets a 'below' criterion"),
        pytest.param(60, AT_LEAST, False, id="SPEC 3: >=60 never meets a 'below' criterion"),
    ],
)
def test_a_systolic_bound_meets_the_adult_row_only_when_every_value_beyond_it_does(
    chart, find_driver, systolic, comparator, hypotensive
):
    reference = chart.bp(chart.t(1), systolic, systolic_comparator=comparator)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == (2 if hypotensive else 0)
    driver = find_driver(assessment, Criterion.HYPOTENSION)
    if hypotensive:
        assert driver.evidence == (reference,)
        assert driver.text == f"BP (systolic {comparator}{systolic} mmHg, limit < 90 mmHg)"
    else:
        assert driver is None


def test_a_bound_systolic_beside_a_diastolic_shows_both_as_charted(chart, find_driver):
    """SPEC 3: the card shows the comparator as charted; one panel, SBP "<60", DBP 40."""
    chart.bp(chart.t(1), 60, 40, systolic_comparator=BELOW)
    driver = find_driver(chart.assess(chart.t(2)), Criterion.HYPOTENSION)
    assert driver.text == "BP <60/40 mmHg (systolic < 90 mmHg)"


def test_a_standalone_bound_systolic_pairs_with_the_diastolic_of_its_time(chart, find_driver):
    """SPEC 3 reads the standalone codes 8480-6 and 8462-4 together; the bound goes with its
    part, and both rows are evidence."""
    systolic = chart.bp(chart.t(1), 60, systolic_comparator=BELOW)
    diastolic = chart.bp(chart.t(1), diastolic=40)
    driver = find_driver(chart.assess(chart.t(2)), Criterion.HYPOTENSION)
    assert set(driver.evidence) == {systolic, diastolic}
    assert driver.text == "BP <60/40 mmHg (systolic < 90 mmHg)"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "mean", "bounds", "text"),
    [
        pytest.param(
            100,
            None,
            60,
            {"mean_comparator": BELOW},
            "BP (MAP <60 mmHg, limit < 65 mmHg)",
            id="Mahadeo 2019 MAP < 65: a measured MAP <60 meets it",
        ),
        pytest.param(
            100,
            40,
            None,
            {"diastolic_comparator": BELOW},
            "BP 100/<40 mmHg (derived MAP <60 mmHg, limit < 65 mmHg)",
            id="Mahadeo 2019 MAP < 65: DBP <40 under SBP 100 derives a MAP below 60",
        ),
    ],
)
def test_a_bound_mean_pressure_meets_the_adult_map_row(
    chart, find_driver, systolic, diastolic, mean, bounds, text
):
    chart.bp(chart.t(1), systolic, diastolic, mean, **bounds)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == 2
    assert find_driver(assessment, Criterion.HYPOTENSION).text == text


@pytest.mark.parametrize(
    ("pressures", "bounds"),
    [
        pytest.param(
            (120, 70, 65),
            {"mean_comparator": AT_MOST},
            id="Mahadeo 2019 MAP < 65: a measured MAP <=65 may be 65, and 120/70 is 86.7: not met",
        ),
        pytest.param(
            (100, 40, None),
            {"systolic_comparator": ABOVE, "diastolic_comparator": BELOW},
            id="SPEC 3: SBP >100 over DBP <40 bounds no MAP, not met",
        ),
    ],
)
def test_a_mean_pressure_bound_that_does_not_prove_hypotension_is_not_met(chart, pressures, bounds):
    chart.bp(chart.t(1), *pressures, **bounds)
    assert chart.assess(chart.t(2)).grade == 0


@pytest.mark.parametrize(
    ("systolic", "hypotensive"),
    [
        pytest.param(80, True, id="Mahadeo 2019 age 5 y, SBP < 80: systolic <80 meets it"),
        pytest.param(81, False, id="Mahadeo 2019 age 5 y, SBP < 80: <81 may be 80, not met"),
    ],
)
def test_a_childs_systolic_bound_meets_the_row_for_the_age(make_chart, systolic, hypotensive):
    chart = make_chart(age=5)
    chart.bp(chart.t(1), systolic, systolic_comparator=BELOW)
    assert chart.assess(chart.t(2)).grade == (2 if hypotensive else 0)


def test_astct_grades_a_bound_hypotension_with_fever(chart, find_driver):
    """ASTCT 2019 grade 2: fever with hypotension not needing vasopressors."""
    chart.temp(chart.t(1, 8), 38.6)
    chart.bp(chart.t(1, 9), 70, systolic_comparator=BELOW)
    astct = chart.assess(chart.t(1, 10)).other_systems[GradingSystem.ASTCT_2019]
    assert astct.grade == 2
    assert Criterion.ASTCT_HYPOTENSION_NO_VASOPRESSOR in {d.criterion for d in astct.drivers}


@pytest.mark.parametrize(
    ("mean", "comparator", "hypotensive"),
    [
        pytest.param(
            65, AT_MOST, True, id="Mahadeo 2019 MAP < 65: measured <=65 undecided, 95/45 decides"
        ),
        pytest.param(
            70, BELOW, True, id="Mahadeo 2019 MAP < 65: measured <70 undecided, 95/45 decides"
        ),
        pytest.param(
            60, ABOVE, True, id="Mahadeo 2019 MAP < 65: measured >60 undecided, 95/45 decides"
        ),
        pytest.param(
            70, ABOVE, False, id="Mahadeo 2019 MAP < 65: measured >70 rules it out, it wins"
        ),
        pytest.param(
            65, AT_LEAST, False, id="Mahadeo 2019 MAP < 65: measured >=65 rules it out, it wins"
        ),
    ],
)
def test_a_measured_map_bound_that_cannot_decide_gives_way_to_the_derived_map(
    chart, find_driver, mean, comparator, hypotensive
):
    """Found in review: a measured MAP "<=65" beside 95/45 (derived 61.7) hid the derived MAP and
    lost the hypotension that, before bounds were kept, the derived MAP had shown."""
    chart.bp(chart.t(1), 95, 45, mean, mean_comparator=comparator)
    assessment = chart.assess(chart.t(2))
    assert assessment.grade == (2 if hypotensive else 0)
    if hypotensive:
        driver = find_driver(assessment, Criterion.HYPOTENSION)
        assert driver.text.startswith("BP 95/45 mmHg (derived MAP 61.")
        assert driver.text.endswith("< 65 mmHg)")
