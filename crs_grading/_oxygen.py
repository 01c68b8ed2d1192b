"""Oxygen requirement and ventilator support as findings (seed Table 2, ASTCT 2019, SPEC 2.3)."""

from __future__ import annotations

from collections.abc import Sequence

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


def fio2_percent(reading: OxygenReading) -> tuple[float | None, bool]:
    """The recorded FiO2, else the SPEC 2.3 estimate from flow; the flag says it is estimated."""
    if reading.fio2_percent is not None:
        return reading.fio2_percent, False
    if reading.flow_l_per_min is not None:
        estimate = (
            lee2014.ROOM_AIR_FIO2_PERCENT
            + lee2014.FIO2_PERCENT_PER_L_PER_MIN * reading.flow_l_per_min
        )
        return min(estimate, lee2014.FIO2_PERCENT_MAX), True
    return None, False


def _device_text(device: OxygenDevice) -> str:
    return str(device).replace("-", " ")


def _lee_reading(reading: OxygenReading, gaps: Gaps) -> Finding | None:
    ref = (reading.reference,)
    if reading.device is not None and reading.device in lee2014.VENTILATOR_DEVICES:
        grade = lee2014.GRADES[Criterion.VENTILATION][0]
        text = f"ventilator support: {_device_text(reading.device)}"
        return Finding(Criterion.VENTILATION, grade, reading.time, reading.time, ref, text)
    fio2, estimated = fio2_percent(reading)
    if fio2 is None:
        # A reading with neither FiO2 nor flow is supplemental oxygen of unknown FiO2 (an
        # oxygen device, or an oxygen-therapy Procedure with no device): the lowest oxygen
        # grade, with a gap. Only room air is no requirement.
        if reading.device is OxygenDevice.ROOM_AIR:
            return None
        grade = lee2014.GRADES[Criterion.OXYGEN_LOW_FIO2][0]
        if reading.device is None:
            gaps.add(GAP_OXYGEN_NOTHING_RECORDED)
            text = "oxygen therapy, FiO2 and device not recorded"
        else:
            gaps.add(GAP_NO_FIO2_NOR_FLOW)
            text = f"oxygen by {_device_text(reading.device)}, FiO2 not recorded"
        return Finding(Criterion.OXYGEN_LOW_FIO2, grade, reading.time, reading.time, ref, text)
    for row in lee2014.OXYGEN_ROWS:
        if meets_all(fio2, row.conditions):
            if estimated:
                gaps.add(GAP_ESTIMATED_FIO2)
                how = f" (estimated from {format_number(reading.flow_l_per_min or 0.0)} L/min)"
            else:
                how = ""
            grade = lee2014.GRADES[row.criterion][0]
            text = f"FiO2 {format_number(fio2)}%{how}"
            return Finding(row.criterion, grade, reading.time, reading.time, ref, text, fio2)
    return None


def _astct_criterion(reading: OxygenReading) -> tuple[Criterion, str] | None:
    """ASTCT 2019 by device, else flow, else FiO2 (SPEC 2.4)."""
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
    fio2 = reading.fio2_percent
    if fio2 is not None and meets(fio2, Comparison.ABOVE, astct2019.ROOM_AIR_FIO2_PERCENT):
        high = meets(fio2, astct2019.FIO2_ONLY_HIGH_COMPARISON, astct2019.FIO2_ONLY_HIGH_PERCENT)
        criterion = Criterion.ASTCT_HIGH_FLOW_OXYGEN if high else Criterion.ASTCT_LOW_FLOW_OXYGEN
        return criterion, f"FiO2 {format_number(fio2)}%, no device or flow recorded"
    if reading.device is None and flow is None and fio2 is None:
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
    for reading in readings:
        if not span.contains(reading.time):
            continue
        finding = _lee_reading(reading, gaps)
        if finding is not None:
            lee.append(finding)
        fired = _astct_criterion(reading)
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
