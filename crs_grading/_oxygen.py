"""Oxygen requirement and ventilator support as findings (seed Table 2, ASTCT 2019, SPEC 2.3)."""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crs_grading._model import Context, Finding, Gaps, format_number
from crs_grading.criteria import Criterion
from crs_grading.inputs import OxygenDevice, OxygenReading, VentilationKind, VentilationPeriod
from crs_grading.tables import astct2019, lee2014
from crs_grading.tables.common import Comparison, meets, meets_all

GAP_ESTIMATED_FIO2 = "FiO2 estimated from oxygen flow (21% + 4% per L/min)"
GAP_NO_FIO2_NOR_FLOW = "oxygen device recorded without FiO2 or flow: counted as FiO2 < 40%"
GAP_OXYGEN_NOTHING_RECORDED = (
    "oxygen therapy recorded without FiO2, flow or device: counted as FiO2 < 40%"
)
GAP_DEVICE_INFERRED_FIO2 = (
    "FiO2 not charted with a high-flow oxygen device: counted as FiO2 >= 40% (inferred from the "
    "device)"
)


GAP_ROOM_AIR_FIO2_WITH_OXYGEN = (
    "FiO2 21% charted with an oxygen flow or device: graded by the flow or device"
)


def _room_air_beside_oxygen(reading: OxygenReading) -> bool:
    """An FiO2 of room air (21%) charted in one reading with an oxygen flow or an oxygen device:
    21% cannot be the FiO2 of oxygen being delivered, so the flow or device grades (SPEC 2.3;
    as a room-air FiO2 charted apart does not pair with them, ``_Nearby``)."""
    if reading.fio2_percent is None or reading.fio2_percent > lee2014.ROOM_AIR_FIO2_PERCENT:
        return False
    flowing = reading.flow_l_per_min is not None and reading.flow_l_per_min > 0
    return flowing or (reading.device is not None and reading.device is not OxygenDevice.ROOM_AIR)


def _flow_estimate(flow_l_per_min: float) -> float:
    """SPEC 2.3: FiO2 = 21% + 4% per L/min, capped at 100%."""
    estimate = lee2014.ROOM_AIR_FIO2_PERCENT + lee2014.FIO2_PERCENT_PER_L_PER_MIN * flow_l_per_min
    return min(estimate, lee2014.FIO2_PERCENT_MAX)


def _device_text(device: OxygenDevice) -> str:
    return str(device).replace("-", " ")


class _Nearby:
    """Which kinds of oxygen reading are charted within the pairing window of a time (SPEC 2.3:
    FiO2 and flow charted as separate Observations within an hour are one requirement).

    Only a supplemental FiO2 (above room air's 21%) pairs: a room-air FiO2 cannot be the FiO2
    of a flow or a device that delivers oxygen, so it is another moment (oxygen started or
    stopped within the hour), and the flow or device keeps its own requirement.
    """

    def __init__(self, readings: Sequence[OxygenReading]) -> None:
        ordered = sorted(readings, key=lambda reading: reading.time)
        self._fio2 = [
            r.time
            for r in ordered
            if r.fio2_percent is not None and r.fio2_percent > lee2014.ROOM_AIR_FIO2_PERCENT
        ]
        self._flow = [r.time for r in ordered if r.flow_l_per_min is not None]
        self._device = [
            r.time
            for r in ordered
            if r.device is not None and r.device is not OxygenDevice.ROOM_AIR
        ]
        self._high_flow_device = [r.time for r in ordered if r.device in lee2014.HIGH_FLOW_DEVICES]

    @staticmethod
    def _within(times: list[datetime], time: datetime) -> bool:
        window = lee2014.OXYGEN_PAIRING_WINDOW
        index = bisect_left(times, time - window)
        return index < len(times) and times[index] <= time + window

    def fio2(self, time: datetime) -> bool:
        return self._within(self._fio2, time)

    def flow(self, time: datetime) -> bool:
        return self._within(self._flow, time)

    def device(self, time: datetime) -> bool:
        return self._within(self._device, time)

    def high_flow_device(self, time: datetime) -> bool:
        return self._within(self._high_flow_device, time)


class FiO2Source(enum.StrEnum):
    """Where the FiO2 that Lee grades a reading by comes from (SPEC 2.3)."""

    MEASURED = "measured"
    ESTIMATED = "estimated"  # 21% + 4% per L/min of flow, no FiO2 charted within the hour
    DEVICE = "device"  # >= 40%: a high-flow device, no FiO2 charted within the hour


@dataclass(frozen=True, slots=True)
class FiO2Requirement:
    """The FiO2 (percent) one oxygen reading is graded by, and where it comes from."""

    reading: OxygenReading
    percent: float
    source: FiO2Source


def _requirement(reading: OxygenReading, nearby: _Nearby) -> FiO2Requirement | None:
    """The FiO2 Lee grades ``reading`` by, or None (room air, ventilator support, nothing
    measured or estimable, or a reading that only describes an FiO2 or device charted apart).

    SPEC 2.3: a measured FiO2 always wins; an FiO2 charted within the hour makes a flow or
    device row only describe it; with no FiO2, a high-flow device counts as FiO2 >= 40% and a
    flow gives the estimate (unless it is the flow of a high-flow device charted apart).
    """
    device = reading.device
    if device is not None and device in lee2014.VENTILATOR_DEVICES:
        return None  # ventilator support grades it
    if reading.fio2_percent is not None and not _room_air_beside_oxygen(reading):
        return FiO2Requirement(reading, reading.fio2_percent, FiO2Source.MEASURED)
    if device is OxygenDevice.ROOM_AIR or nearby.fio2(reading.time):
        return None
    if device in lee2014.HIGH_FLOW_DEVICES:
        return FiO2Requirement(reading, lee2014.DEVICE_INFERRED_FIO2_PERCENT, FiO2Source.DEVICE)
    if reading.flow_l_per_min is None:
        return None
    if device is None and nearby.high_flow_device(reading.time):
        return None  # the flow of a high-flow device charted apart: the device grades it
    estimate = _flow_estimate(reading.flow_l_per_min)
    return FiO2Requirement(reading, estimate, FiO2Source.ESTIMATED)


def fio2_requirements(readings: Sequence[OxygenReading]) -> tuple[FiO2Requirement, ...]:
    """The FiO2 of every reading that Lee grades by one, with the pairing of SPEC 2.3."""
    nearby = _Nearby(readings)
    found = (_requirement(reading, nearby) for reading in readings)
    return tuple(requirement for requirement in found if requirement is not None)


def _fio2_finding(reading: OxygenReading, fio2: float, how: str) -> Finding | None:
    for row in lee2014.OXYGEN_ROWS:
        if meets_all(fio2, row.conditions):
            grade = lee2014.GRADES[row.criterion][0]
            text = f"FiO2 {format_number(fio2)}%{how}"
            ref = (reading.reference,)
            return Finding(row.criterion, grade, reading.time, reading.time, ref, text, fio2)
    return None


def _requirement_finding(required: FiO2Requirement, gaps: Gaps) -> Finding | None:
    reading = required.reading
    if required.source is FiO2Source.DEVICE:
        # SPEC 2.3 / seed: more than low-flow oxygen with no FiO2 charted counts as FiO2 >= 40%.
        assert reading.device is not None  # noqa: S101 (a device source has a device)
        gaps.add(GAP_DEVICE_INFERRED_FIO2)
        criterion = Criterion.OXYGEN_HIGH_FIO2
        text = (
            f"FiO2 >= 40% inferred from the device ({_device_text(reading.device)}), "
            "FiO2 not charted"
        )
        return Finding(
            criterion,
            lee2014.GRADES[criterion][0],
            reading.time,
            reading.time,
            (reading.reference,),
            text,
            required.percent,
        )
    if required.source is FiO2Source.MEASURED:
        return _fio2_finding(reading, required.percent, "")
    flow = format_number(reading.flow_l_per_min or 0.0)
    finding = _fio2_finding(reading, required.percent, f" (estimated from {flow} L/min)")
    if finding is not None:
        gaps.add(GAP_ESTIMATED_FIO2)
    return finding


def _lee_reading(reading: OxygenReading, nearby: _Nearby, gaps: Gaps) -> Finding | None:
    ref = (reading.reference,)
    device = reading.device
    if device is not None and device in lee2014.VENTILATOR_DEVICES:
        grade = lee2014.GRADES[Criterion.VENTILATION][0]
        text = f"ventilator support: {_device_text(device)}"
        return Finding(Criterion.VENTILATION, grade, reading.time, reading.time, ref, text)
    set_aside = _room_air_beside_oxygen(reading)
    if set_aside:
        gaps.add(GAP_ROOM_AIR_FIO2_WITH_OXYGEN)
    required = _requirement(reading, nearby)
    if required is not None:
        return _requirement_finding(required, gaps)
    if (
        (reading.fio2_percent is not None and not set_aside)
        or reading.flow_l_per_min is not None
        or device is OxygenDevice.ROOM_AIR
        or nearby.fio2(reading.time)
    ):
        return None  # room air, or described by an FiO2 or high-flow device charted apart
    if nearby.flow(reading.time) or (device is None and nearby.device(reading.time)):
        return None  # a flow (or a device) charted apart within the hour says more
    # Supplemental oxygen of unknown FiO2 (an oxygen device, or an oxygen-therapy Procedure
    # with no device): the lowest oxygen grade, with a gap.
    grade = lee2014.GRADES[Criterion.OXYGEN_LOW_FIO2][0]
    if device is None:
        gaps.add(GAP_OXYGEN_NOTHING_RECORDED)
        text = "oxygen therapy, FiO2 and device not recorded"
    else:
        gaps.add(GAP_NO_FIO2_NOR_FLOW)
        text = f"oxygen by {_device_text(device)}, FiO2 not recorded"
    return Finding(Criterion.OXYGEN_LOW_FIO2, grade, reading.time, reading.time, ref, text)


def _astct_criterion(reading: OxygenReading, nearby: _Nearby) -> tuple[Criterion, str] | None:
    """ASTCT 2019 by device, else flow, else FiO2 (SPEC 2.4). FiO2 grades alone only when no
    device or flow is charted with it (in the reading, or apart within the hour)."""
    device = reading.device if reading.device is not OxygenDevice.ROOM_AIR else None
    flow = reading.flow_l_per_min
    if device is not None:
        criterion = astct2019.DEVICE_CRITERION[device]
        text = _device_text(device)
        if (
            device is OxygenDevice.NASAL_CANNULA
            and flow is not None
            and not meets(flow, astct2019.LOW_FLOW_COMPARISON, astct2019.LOW_FLOW_MAX_L_PER_MIN)
        ):
            criterion = Criterion.ASTCT_HIGH_FLOW_OXYGEN
        if flow is not None:
            text = f"{text} at {format_number(flow)} L/min"
        return (criterion, text) if criterion is not None else None
    if flow is not None and flow > 0:
        low = meets(flow, astct2019.LOW_FLOW_COMPARISON, astct2019.LOW_FLOW_MAX_L_PER_MIN)
        criterion = Criterion.ASTCT_LOW_FLOW_OXYGEN if low else Criterion.ASTCT_HIGH_FLOW_OXYGEN
        return criterion, f"oxygen at {format_number(flow)} L/min"
    if reading.device is OxygenDevice.ROOM_AIR:
        return None
    described = nearby.flow(reading.time) or nearby.device(reading.time)
    fio2 = reading.fio2_percent
    if fio2 is not None:
        if described or not meets(fio2, Comparison.ABOVE, astct2019.ROOM_AIR_FIO2_PERCENT):
            return None  # the device or flow charted with it grades (SPEC 2.4)
        high = meets(fio2, astct2019.FIO2_ONLY_HIGH_COMPARISON, astct2019.FIO2_ONLY_HIGH_PERCENT)
        criterion = Criterion.ASTCT_HIGH_FLOW_OXYGEN if high else Criterion.ASTCT_LOW_FLOW_OXYGEN
        return criterion, f"FiO2 {format_number(fio2)}%, no device or flow recorded"
    if flow is None and not described and not nearby.fio2(reading.time):
        # Oxygen therapy with nothing recorded: at least low-flow oxygen (as a nasal cannula
        # without a flow).
        return Criterion.ASTCT_LOW_FLOW_OXYGEN, "oxygen therapy, device and flow not recorded"
    return None


def oxygen_findings(
    readings: Sequence[OxygenReading], ctx: Context, gaps: Gaps
) -> tuple[list[Finding], list[Finding]]:
    """Lee (``oxygen-low-fio2``, ``oxygen-high-fio2``, ``ventilation``) and ASTCT findings."""
    lee: list[Finding] = []
    astct: list[Finding] = []
    span = ctx.span
    nearby = _Nearby(readings)
    for reading in readings:
        if not span.contains(reading.time):
            continue
        finding = _lee_reading(reading, nearby, gaps)
        if finding is not None:
            lee.append(finding)
        fired = _astct_criterion(reading, nearby)
        if fired is not None:
            criterion, text = fired
            grade = astct2019.GRADES[criterion][0]
            ref = (reading.reference,)
            astct.append(Finding(criterion, grade, reading.time, reading.time, ref, text))
    return lee, astct


def ventilation_findings(
    periods: Sequence[VentilationPeriod], ctx: Context
) -> tuple[list[Finding], list[Finding]]:
    """Lee ``ventilation`` (grade 4) and ASTCT ``astct-positive-pressure`` (grade 4)."""
    lee: list[Finding] = []
    astct: list[Finding] = []
    for period in periods:
        end = min(period.end, ctx.as_of) if period.end is not None else ctx.as_of
        end = max(end, period.start)
        if end < ctx.since:
            continue
        kind = (
            "invasive mechanical ventilation"
            if period.kind is VentilationKind.INVASIVE
            else "non-invasive positive pressure ventilation"
        )
        if period.device is not None:
            kind = f"{kind} ({_device_text(period.device)})"
        ref = (period.reference,)
        lee_grade = lee2014.GRADES[Criterion.VENTILATION][0]
        astct_grade = astct2019.GRADES[Criterion.ASTCT_POSITIVE_PRESSURE][0]
        lee.append(Finding(Criterion.VENTILATION, lee_grade, period.start, end, ref, kind))
        astct.append(
            Finding(Criterion.ASTCT_POSITIVE_PRESSURE, astct_grade, period.start, end, ref, kind)
        )
    return lee, astct
