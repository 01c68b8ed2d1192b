"""The public per-reading values (crs_grading.readings) equal what the rules use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crs_grading.inputs import (
    BloodPressure,
    Comparator,
    OxygenDevice,
    OxygenReading,
    RateBasis,
    Vasopressor,
)
from crs_grading.readings import (
    FiO2Source,
    fio2_requirements,
    mean_arterial_pressure,
    vasopressor_segments,
)

_BELOW, _AT_MOST, _ABOVE = Comparator.BELOW, Comparator.AT_MOST, Comparator.ABOVE


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        pytest.param(
            BloodPressure(None, "o/1", 94, 50),
            (pytest.approx(64.667, abs=1e-3), True, None),
            id="Mahadeo 2019 MAP derived as DBP + (SBP - DBP) / 3",
        ),
        pytest.param(
            BloodPressure(None, "o/2", 94, 50, 70), (70, False, None), id="measured MAP wins"
        ),
        pytest.param(BloodPressure(None, "o/3", 94), (None, False, None), id="no MAP without DBP"),
        pytest.param(
            BloodPressure(None, "o/4", 94, 50, 60, mean_comparator=_BELOW),
            (60, False, _BELOW),
            id="SPEC 3 comparators: a measured MAP charted <60 keeps its bound",
        ),
        pytest.param(
            BloodPressure(None, "o/5", 60, 40, systolic_comparator=_BELOW),
            (pytest.approx(46.667, abs=1e-3), True, _BELOW),
            id="SPEC 3 comparators: SBP <60 over DBP 40: the derived MAP is below 46.7",
        ),
        pytest.param(
            BloodPressure(None, "o/6", 60, 40, None, _AT_MOST, _AT_MOST),
            (pytest.approx(46.667, abs=1e-3), True, _AT_MOST),
            id="SPEC 3 comparators: both parts at most: the derived MAP is at most",
        ),
        pytest.param(
            BloodPressure(None, "o/7", 60, 40, None, _AT_MOST, _BELOW),
            (pytest.approx(46.667, abs=1e-3), True, _BELOW),
            id="SPEC 3 comparators: one part strictly below: the derived MAP is strictly below",
        ),
        pytest.param(
            BloodPressure(None, "o/8", 90, 60, None, _BELOW, _ABOVE),
            (None, False, None),
            id="SPEC 3 comparators: parts bounded in opposite directions bound no MAP",
        ),
    ],
)
def test_mean_arterial_pressure(reading, expected):
    assert tuple(mean_arterial_pressure(reading)) == expected


_T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        pytest.param(
            [OxygenReading(_T0, "o/1", flow_l_per_min=4)],
            [("o/1", 37.0, FiO2Source.ESTIMATED)],
            id="SPEC 2.3: 4 L/min estimates 37%",
        ),
        pytest.param(
            [OxygenReading(_T0, "o/2", flow_l_per_min=30)],
            [("o/2", 100.0, FiO2Source.ESTIMATED)],
            id="SPEC 2.3: the estimate is capped at 100%",
        ),
        pytest.param(
            [OxygenReading(_T0, "o/3", 45, 4)],
            [("o/3", 45, FiO2Source.MEASURED)],
            id="SPEC 2.3: recorded FiO2 wins",
        ),
        pytest.param(
            [
                OxygenReading(_T0, "o/flow", flow_l_per_min=6),
                OxygenReading(_T0 + timedelta(minutes=59), "o/fio2", 35),
            ],
            [("o/fio2", 35, FiO2Source.MEASURED)],
            id="SPEC 2.3: an FiO2 charted apart within the hour is the requirement, not the flow",
        ),
        pytest.param(
            [
                OxygenReading(_T0, "o/flow", flow_l_per_min=6),
                OxygenReading(_T0 + timedelta(minutes=61), "o/fio2", 35),
            ],
            [("o/flow", 45.0, FiO2Source.ESTIMATED), ("o/fio2", 35, FiO2Source.MEASURED)],
            id="SPEC 2.3: more than an hour apart, the flow is estimated on its own",
        ),
        pytest.param(
            [
                OxygenReading(_T0, "o/nrb", device=OxygenDevice.NON_REBREATHER),
                OxygenReading(_T0, "o/flow", flow_l_per_min=15),
            ],
            [("o/nrb", 40.0, FiO2Source.DEVICE)],
            id="SPEC 2.3: a high-flow device without FiO2 is 40%; its flow only describes it",
        ),
        pytest.param(
            [OxygenReading(_T0, "o/ra", 21, device=OxygenDevice.ROOM_AIR)],
            [("o/ra", 21, FiO2Source.MEASURED)],
            id="SPEC 2.3: a measured 21% is a measurement (no requirement by the table)",
        ),
        pytest.param(
            [
                OxygenReading(_T0, "o/ra", 21),
                OxygenReading(
                    _T0 + timedelta(minutes=50), "o/nrb", device=OxygenDevice.NON_REBREATHER
                ),
            ],
            [("o/ra", 21, FiO2Source.MEASURED), ("o/nrb", 40.0, FiO2Source.DEVICE)],
            id="SPEC 2.3: a room-air FiO2 within the hour does not describe a non-rebreather",
        ),
        pytest.param(
            [
                OxygenReading(_T0, "o/flow", flow_l_per_min=6),
                OxygenReading(_T0 + timedelta(minutes=30), "o/ra", 21),
            ],
            [("o/flow", 45.0, FiO2Source.ESTIMATED), ("o/ra", 21, FiO2Source.MEASURED)],
            id="SPEC 2.3: a room-air FiO2 within the hour does not describe a flow (weaned)",
        ),
        pytest.param(
            [OxygenReading(_T0, "o/1", 21, 10)],
            [("o/1", 61.0, FiO2Source.ESTIMATED)],
            id="SPEC 2.3: FiO2 21% in the same reading as 10 L/min gives way to the estimate",
        ),
        pytest.param(
            [OxygenReading(_T0, "o/1", 21, device=OxygenDevice.NON_REBREATHER)],
            [("o/1", 40.0, FiO2Source.DEVICE)],
            id="SPEC 2.3: FiO2 21% in the same reading as a non-rebreather: the device grades",
        ),
    ],
)
def test_fio2_requirements_are_the_graders_pairing(readings, expected):
    found = fio2_requirements(readings)
    assert [(r.reading.reference, r.percent, r.source) for r in found] == expected


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
