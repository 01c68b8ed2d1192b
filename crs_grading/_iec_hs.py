"""The IEC-HS flag (SPEC 2.10): ferritin high or rising AND an HLH-like feature. Never a grade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crs_grading._model import Context, Gaps, latest_in
from crs_grading._model import format_number as number
from crs_grading.assessment import AttributionWarning
from crs_grading.criteria import WarningCode
from crs_grading.inputs import LAB_NAMES, LabResult, LabTest
from crs_grading.tables import iec_hs
from crs_grading.tables.common import meets
from crs_grading.tables.iec_hs import FeatureMeasure, FeatureRow, FerritinArm
from crs_grading.wording import phrases

#: How a feature's value is written (the lab's unit as clinicians write it).
_UNITS = {
    LabTest.ANC: "/uL",
    LabTest.PLATELETS: "x10^9/L",
    LabTest.HEMOGLOBIN: "g/dL",
    LabTest.AST: "U/L",
    LabTest.ALT: "U/L",
    LabTest.FIBRINOGEN: "mg/dL",
    LabTest.LDH: "U/L",
}


@dataclass(frozen=True, slots=True)
class _Met:
    """One part of the flag that holds: what it says and the results it rests on."""

    text: str
    evidence: tuple[str, ...]


def _value(result: LabResult) -> str:
    """The result as charted, a bound with its comparator ("AST <250 U/L", SPEC 3)."""
    shown = f"{result.comparator or ''}{number(result.value)}"
    return f"{LAB_NAMES[result.test]} {shown} {_UNITS[result.test]}"


def _ferritin(
    labs: Sequence[LabResult], latest: LabResult, baseline: LabResult | None
) -> tuple[_Met | None, bool]:
    """The first ferritin arm that holds, and whether the ULN arm went unchecked (no ULN)."""
    shown = f"ferritin {latest.comparator or ''}{number(latest.value)} ng/mL"
    bound = latest.comparator  # SPEC 3: a bound meets a row only when every value beyond it does
    uln = latest.high
    base_uln = baseline.high if baseline is not None and baseline.high else uln
    high_baseline = baseline is not None and base_uln is not None and baseline.value > base_uln
    if baseline is not None and high_baseline and baseline.value > 0:
        row = iec_hs.FERRITIN_ROWS[FerritinArm.ABOVE_HIGH_BASELINE]
        if meets(latest.value / baseline.value, row.comparison, row.factor, bound):
            text = (
                f"{shown}, more than twice its pre-infusion {number(baseline.value)} "
                "(already above normal)"
            )
            return _Met(text, (latest.reference, baseline.reference)), False
    elif uln:
        row = iec_hs.FERRITIN_ROWS[FerritinArm.ABOVE_ULN]
        if meets(latest.value / uln, row.comparison, row.factor, bound):
            return _Met(f"{shown} (> 2 x ULN {number(uln)})", (latest.reference,)), False
    row = iec_hs.FERRITIN_ROWS[FerritinArm.DOUBLED]
    earlier = [
        r
        for r in labs
        if r.test is LabTest.FERRITIN
        and latest.time - iec_hs.DOUBLING_WINDOW <= r.time < latest.time
        and r.value > 0
        and r.comparator is None  # a bound is no starting value
    ]
    if earlier:
        lowest = min(earlier, key=lambda r: (r.value, r.time))
        if meets(latest.value / lowest.value, row.comparison, row.factor, bound):
            text = (
                f"ferritin doubled within 48 h ({number(lowest.value)} to "
                f"{number(latest.value)} ng/mL)"
            )
            return _Met(text, (latest.reference, lowest.reference)), False
    return None, not high_baseline and not uln


def _feature(
    row: FeatureRow, result: LabResult, labs: Sequence[LabResult], ctx: Context
) -> _Met | None:
    if row.measure is FeatureMeasure.VALUE:
        if meets(result.value, row.comparison, row.threshold, result.comparator):
            return _Met(_value(result), (result.reference,))
        return None
    if row.measure is FeatureMeasure.ULN_MULTIPLE:
        if result.high and meets(
            result.value / result.high, row.comparison, row.threshold, result.comparator
        ):
            multiple = number(result.value / result.high)
            text = f"{_value(result)} ({multiple} x ULN {number(result.high)})"
            return _Met(text, (result.reference,))
        return None
    since = [
        r
        for r in labs
        if r.test is row.test
        and ctx.span.contains(r.time)
        and r.time <= result.time
        and (r.comparator is None or r is result)  # a bound is no peak
    ]
    peak = max(since, key=lambda r: (r.value, -r.time.timestamp()), default=None)
    if peak is None or peak.value <= 0 or peak is result:
        return None
    if meets(result.value / peak.value, row.comparison, row.threshold, result.comparator):
        text = f"{_value(result)}, under half their highest since day 0 ({number(peak.value)})"
        return _Met(text, (result.reference, peak.reference))
    return None


def iec_hs_warning(
    labs: Sequence[LabResult], baseline: Mapping[LabTest, LabResult], ctx: Context, gaps: Gaps
) -> AttributionWarning | None:
    """The ``iec-hs`` warning when SPEC 2.10 holds at ``ctx.as_of``, else ``None``.

    Each result is the latest of its test within the lab window; out of scope there is no
    pre-infusion baseline and no flag.
    """
    if ctx.day0 is None:
        return None
    latest = latest_in(labs, ctx.recent(ctx.options.lab_window))
    features: list[_Met] = []
    seen: set[LabTest] = set()
    for row in iec_hs.FEATURE_ROWS:
        result = latest.get(row.test)
        if result is None or row.test in seen:
            continue
        met = _feature(row, result, labs, ctx)
        if met is not None:
            features.append(met)
            seen.add(row.test)
    ferritin = latest.get(LabTest.FERRITIN)
    if ferritin is None or not features:
        return None
    arm, uln_unchecked = _ferritin(labs, ferritin, baseline.get(LabTest.FERRITIN))
    if arm is None:
        if uln_unchecked:
            gaps.add("ferritin without a reference range: the IEC-HS flag (> 2 x ULN) not checked")
        return None
    evidence = tuple(dict.fromkeys((*arm.evidence, *(r for f in features for r in f.evidence))))
    listed = ", ".join(f.text for f in features)
    text = phrases.WARNINGS[WarningCode.IEC_HS].format(ferritin=arm.text, features=listed)
    return AttributionWarning(WarningCode.IEC_HS, evidence, text)
