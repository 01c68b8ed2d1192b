"""Properties of the grader over random charts (hypothesis): monotone in worse findings, blind
to units and input order (seed Table 2/3, SPEC 2.2, 2.3)."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crs_grading import GradingSystem, assess
from crs_grading.inputs import LabTest, OxygenDevice, RateBasis, Vasopressor

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
UG_MIN, PER_KG = RateBasis.MICROGRAMS_PER_MIN, RateBasis.MICROGRAMS_PER_KG_PER_MIN
HOURS = st.floats(min_value=0, max_value=72, allow_nan=False)

temperatures = st.lists(st.tuples(HOURS, st.floats(35.0, 41.0)), max_size=8)
pressures = st.lists(st.tuples(HOURS, st.integers(50, 140), st.integers(30, 90)), max_size=6)
oxygen = st.lists(
    st.tuples(
        HOURS,
        st.none() | st.floats(21, 100),
        st.none() | st.floats(0, 15),
        st.none() | st.sampled_from(list(OxygenDevice)),
    ),
    max_size=4,
)
drips = st.lists(
    st.tuples(
        st.sampled_from(list(Vasopressor)),
        HOURS,
        st.floats(0.1, 10),
        st.none() | st.floats(0.01, 0.5),  # ug/kg/min (units/min for vasopressin)
    ),
    max_size=5,
)
labs = st.lists(
    st.tuples(
        st.sampled_from([LabTest.AST, LabTest.CREATININE, LabTest.FIBRINOGEN, LabTest.LVEF]),
        st.floats(-48, 72),
        st.floats(1, 1000),
    ),
    max_size=4,
)
charts = st.fixed_dictionaries(
    {
        "age": st.none() | st.integers(0, 80),
        "weight": st.floats(3, 150),
        "temps": temperatures,
        "pressures": pressures,
        "oxygen": oxygen,
        "drips": drips,
        "labs": labs,
    }
)


def build(make_chart, spec, *, fahrenheit=False, absolute_rates=False):
    chart = make_chart(age=spec["age"])
    weight = spec["weight"]
    chart.weight(chart.t(-1), weight)
    for hour, celsius in spec["temps"]:
        value = ((celsius * 9 / 5 + 32) - 32) * 5 / 9 if fahrenheit else celsius
        chart.temp(chart.t(0, hour), value)
    for hour, systolic, diastolic in spec["pressures"]:
        chart.bp(chart.t(0, hour), systolic, min(diastolic, systolic))
    for hour, fio2, flow, device in spec["oxygen"]:
        chart.oxygen(chart.t(0, hour), fio2, flow, device)
    for agent, hour, length, rate in spec["drips"]:
        start, end = chart.t(0, hour), chart.t(0, hour + length)
        if agent is Vasopressor.VASOPRESSIN or rate is None:
            basis = RateBasis.UNITS_PER_MIN if agent is Vasopressor.VASOPRESSIN else PER_KG
            chart.drip(agent, start, end, rate, basis)
        elif absolute_rates:
            chart.drip(agent, start, end, rate * weight * _scale(agent), UG_MIN)
        else:
            chart.drip(agent, start, end, rate * _scale(agent), PER_KG)
    for test, hour, value in spec["labs"]:
        chart.lab(test, chart.t(0, hour), value)
    return chart


def _scale(agent):
    """Draw rates across each agent's Table 3 threshold (dopamine per kg is 50x higher)."""
    return {Vasopressor.DOPAMINE: 50.0, Vasopressor.PHENYLEPHRINE: 800.0}.get(agent, 1.0)


def grades(assessment):
    astct = assessment.other_systems[GradingSystem.ASTCT_2019]
    return (
        assessment.grade,
        assessment.peak_grade,
        astct.grade,
        tuple((d.lee2014, d.astct2019) for d in assessment.daily),
    )


AS_OF_H = 72
#: Hours around a flow or device row within which a measured FiO2 replaces it (SPEC 2.3), with
#: a margin so that the boundary never decides the property.
_FIO2_PAIRING_H = 1.5

worse_findings = st.one_of(
    st.tuples(st.just("fever"), HOURS, st.floats(38.0, 41.0)),
    st.tuples(st.just("hypotension"), HOURS, st.integers(40, 69)),
    st.tuples(st.just("oxygen"), HOURS, st.floats(22, 100)),
    st.tuples(st.just("ventilation"), HOURS, st.floats(0.1, 24)),
    st.tuples(st.just("drip"), HOURS, st.floats(0.1, 10)),
)


@SETTINGS
@given(spec=charts, worse=worse_findings)
def test_adding_a_worse_finding_never_lowers_a_grade(make_chart, spec, worse):
    """seed Table 2: the grade is the highest any criterion reaches, so more can only raise it."""
    chart = build(make_chart, spec)
    as_of = chart.t(0, AS_OF_H)
    before = grades(chart.assess(as_of))
    kind, hour, value = worse
    when = chart.t(0, hour)
    if kind == "fever":
        chart.temp(when, value)
    elif kind == "hypotension":
        chart.bp(when, value, value - 20)
    elif kind == "oxygen":
        if any(abs(row_hour - hour) <= _FIO2_PAIRING_H for row_hour, *_ in spec["oxygen"]):
            # SPEC 2.3: a measured FiO2 within an hour of a flow or device row *is* the
            # requirement, so it may lower what the flow or device implied: not a worse finding.
            return
        chart.oxygen(when, fio2=value)
    elif kind == "ventilation":
        chart.vent(when, chart.t(0, hour + value))
    else:
        present = {agent for agent, *_ in spec["drips"]}
        free = [agent for agent in Vasopressor if agent not in present]
        if not free:
            return
        chart.drip(free[0], when, chart.t(0, hour + value), 1.0)
    after = grades(chart.assess(as_of))
    assert all(b <= a for b, a in zip(before[:3], after[:3], strict=True)), (before, after)
    for (lee_b, astct_b), (lee_a, astct_a) in zip(before[3], after[3], strict=True):
        assert lee_b <= lee_a and astct_b <= astct_a


@SETTINGS
@given(spec=charts)
def test_celsius_and_converted_fahrenheit_grade_alike(make_chart, spec):
    """SPEC 3: the same temperatures in degC or converted from degF give the same grades."""
    as_of = make_chart().t(0, AS_OF_H)
    celsius = build(make_chart, spec).assess(as_of)
    fahrenheit = build(make_chart, spec, fahrenheit=True).assess(as_of)
    assert grades(celsius) == grades(fahrenheit)
    assert celsius.fever_in_window == fahrenheit.fever_in_window


@SETTINGS
@given(spec=charts)
def test_weight_based_and_absolute_rates_grade_alike(make_chart, spec):
    """SPEC 2.3: ug/kg/min and the equivalent ug/min with the body weight grade the same."""
    as_of = make_chart().t(0, AS_OF_H)
    per_kg = build(make_chart, spec).assess(as_of)
    absolute = build(make_chart, spec, absolute_rates=True).assess(as_of)
    assert grades(per_kg) == grades(absolute)
    assert [d.criterion for d in per_kg.current.drivers] == [
        d.criterion for d in absolute.current.drivers
    ]


@SETTINGS
@given(spec=charts, seed=st.integers(0, 2**32 - 1))
def test_input_order_never_matters(make_chart, spec, seed):
    """SPEC 2.2: the assessment depends on the data, never on the order it arrived in."""
    inputs = build(make_chart, spec).inputs()
    shuffler = random.Random(seed)
    shuffled = {}
    for field in dataclasses.fields(inputs):
        value = getattr(inputs, field.name)
        if isinstance(value, tuple):
            items = list(value)
            shuffler.shuffle(items)
            shuffled[field.name] = tuple(items)
    as_of = make_chart().t(0, AS_OF_H)
    assert assess(inputs, as_of) == assess(dataclasses.replace(inputs, **shuffled), as_of)
