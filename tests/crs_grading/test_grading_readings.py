"""The public per-reading values (crs_grading.readings) equal what the rules use."""

from __future__ import annotations

import pytest

from crs_grading.inputs import BloodPressure, OxygenReading, RateBasis, Vasopressor
from crs_grading.readings import fio2_percent, mean_arterial_pressure, vasopressor_segments


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        pytest.param(
            BloodPressure(None, "o/1", 94, 50),
            (pytest.approx(64.667, abs=1e-3), True),
            id="Mahadeo 2019 MAP derived as DBP + (SBP - DBP) / 3",
        ),
        pytest.param(BloodPressure(None, "o/2", 94, 50, 70), (70, False), id="measured MAP wins"),
        pytest.param(BloodPressure(None, "o/3", 94), (None, False), id="no MAP without DBP"),
    ],
)
def test_mean_arterial_pressure(reading, expected):
    assert mean_arterial_pressure(reading) == expected


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        pytest.param(
            OxygenReading(None, "o/1", flow_l_per_min=4),
            (37.0, True),
            id="SPEC 2.3: 4 L/min estimates 37%",
        ),
        pytest.param(
            OxygenReading(None, "o/2", flow_l_per_min=30),
            (100.0, True),
            id="SPEC 2.3: the estimate is capped at 100%",
        ),
        pytest.param(
            OxygenReading(None, "o/3", 45, 4), (45, False), id="SPEC 2.3: recorded FiO2 wins"
        ),
    ],
)
def test_fio2_percent(reading, expected):
    assert fio2_percent(reading) == expected


def test_vasopressor_segments_carry_doses_and_the_vasst_equivalent(chart):
    """seed Table 3 footnote: norepinephrine 10 + phenylephrine 100 / 10 = 20 ug/min."""
    weight = chart.weight(chart.t(-1), 50)
    ne = chart.drip(
        Vasopressor.NOREPINEPHRINE,
        chart.t(1),
        chart.t(1, 2),
        0.2,
        RateBasis.MICROGRAMS_PER_KG_PER_MIN,
    )
    phenyl = chart.drip(Vasopressor.PHENYLEPHRINE, chart.t(1, 1), chart.t(1, 3), 100)
    assessment = chart.assess(chart.t(2))
    segments = vasopressor_segments(chart.inputs(), assessment)
    assert [(s.start, s.end) for s in segments] == [
        (chart.t(1), chart.t(1, 1)),
        (chart.t(1, 1), chart.t(1, 2)),
        (chart.t(1, 2), chart.t(1, 3)),
    ]
    assert [s.norepinephrine_equivalent for s in segments] == pytest.approx([10, 20, 10])
    assert segments[1].evidence == (ne, weight, phenyl)
    assert not any(s.unknown_dose for s in segments)
