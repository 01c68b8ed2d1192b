"""Per-reading values the grader computes, for displays that plot them (the SMART timeline).

Public, so that nothing outside ``crs_grading`` reaches into its private modules. The values
are exactly those the grading rules use:

- ``mean_arterial_pressure``: measured MAP, else DBP + (SBP - DBP) / 3 (Mahadeo 2019 rows).
- ``fio2_requirements``: the FiO2 each oxygen reading is graded by, with the SPEC 2.3 pairing:
  measured FiO2; else, when no FiO2 is charted within the hour, FiO2 >= 40% for a high-flow
  device or 21% + 4% per L/min of flow (capped at 100).
- ``vasopressor_segments``: the drips as constant stretches with their seed Table 3 doses and
  VASST norepinephrine equivalent, built by the same episode rules as the high-dose criterion.
- ``screen_totals``: the ICE and CAPD totals the ICANS grade reads (SPEC 2.9): charted, or the
  items summed (with items missing, the total the charted items prove), or "unable to perform".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crs_grading._icans import ScreenTotal, screen_totals
from crs_grading._model import Context, Gaps
from crs_grading._oxygen import FiO2Requirement, FiO2Source, fio2_requirements
from crs_grading._vasopressors import norepinephrine_equivalent, pieces_of, segments_of
from crs_grading._vitals import mean_arterial_pressure
from crs_grading.assessment import Assessment
from crs_grading.inputs import GradingInputs, Vasopressor
from crs_grading.options import GradingOptions

__all__ = [
    "FiO2Requirement",
    "FiO2Source",
    "ScreenTotal",
    "VasopressorSegment",
    "fio2_requirements",
    "mean_arterial_pressure",
    "screen_totals",
    "vasopressor_segments",
]


@dataclass(frozen=True, slots=True)
class VasopressorSegment:
    """From ``start`` to ``end`` (equal: a point in time) these drips ran at these doses.

    ``doses`` are in seed Table 3 units (ug/min; dopamine ug/kg/min; vasopressin units/min),
    ``None`` when unknown. ``norepinephrine_equivalent`` (ug/min) counts unknown doses as 0, so
    it is a lower bound whenever ``unknown_dose`` is true.
    """

    start: datetime
    end: datetime
    doses: tuple[tuple[Vasopressor, float | None], ...]
    norepinephrine_equivalent: float
    evidence: tuple[str, ...]

    @property
    def unknown_dose(self) -> bool:
        return any(dose is None for _, dose in self.doses)


def vasopressor_segments(
    inputs: GradingInputs, assessment: Assessment, options: GradingOptions | None = None
) -> tuple[VasopressorSegment, ...]:
    """The drips since day 0 of ``assessment`` (or its scope window), in time order.

    Pass the options the assessment was made with; the weight and times come from it.
    """
    options = options if options is not None else GradingOptions()
    options = replace(options, timezone=assessment.timezone)  # the calendar it was graded in
    as_of = assessment.as_of
    therapy = assessment.therapy
    since = (
        min(therapy.therapy.time, as_of)
        if therapy is not None
        else as_of - timedelta(days=options.scope_days)
    )
    ctx = Context(
        as_of=as_of,
        horizon=as_of + options.clock_skew,
        since=since,
        day0=since.astimezone(options.timezone).date() if therapy is not None else None,
        options=options,
        age_years=None,
        weight=assessment.rate_weight,
    )
    administrations = sorted(
        (a for a in inputs.vasopressors if a.start <= ctx.horizon),
        key=lambda a: (a.start, a.reference),
    )
    return tuple(
        VasopressorSegment(
            segment.start,
            segment.end,
            tuple((piece.agent, piece.dose) for piece in segment.pieces),
            norepinephrine_equivalent(segment),
            segment.evidence,
        )
        for segment in segments_of(pieces_of(administrations, ctx, Gaps()))
    )
