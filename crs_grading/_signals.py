"""Neurologic dysfunction (SPEC 2.5), attribution warnings (SPEC 2.7), biomarkers (SPEC 2.8).

None of these change a grade: they are shown beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from crs_grading import wording
from crs_grading._model import Context, Window, condition_interval, format_number, latest_in
from crs_grading.assessment import (
    AttributionWarning,
    BiomarkerSummary,
    NeurologicFinding,
    Trend,
)
from crs_grading.criteria import NeurologicKind, WarningCode
from crs_grading.inputs import (
    ConditionCategory,
    ConditionFinding,
    CultureResult,
    ImmunosuppressantDose,
    LabResult,
    LabTest,
    Measurement,
    NeuroScore,
    NeuroScoreKind,
)
from crs_grading.tables import signals
from crs_grading.tables.common import Comparison, meets
from crs_grading.wording.phrases import WARNINGS

_SCORE_RULES: dict[NeuroScoreKind, tuple[NeurologicKind, str, Comparison, float]] = {
    NeuroScoreKind.GCS: (
        NeurologicKind.GCS_BELOW_15,
        "GCS",
        signals.GCS_COMPARISON,
        signals.GCS_THRESHOLD,
    ),
    NeuroScoreKind.ICE: (
        NeurologicKind.ICE_BELOW_10,
        "ICE score",
        signals.ICE_COMPARISON,
        signals.ICE_THRESHOLD,
    ),
}


def active_in(
    conditions: Sequence[ConditionFinding],
    category: ConditionCategory,
    window: Window,
    ctx: Context,
) -> list[ConditionFinding]:
    """Conditions of ``category`` active at some time in ``window``."""
    found = []
    for condition in conditions:
        if condition.category is not category:
            continue
        interval = condition_interval(condition, ctx.as_of)
        if interval is not None and interval.start <= window.end and interval.end >= window.start:
            found.append(condition)
    return found


def neurologic_findings(
    scores: Sequence[NeuroScore], conditions: Sequence[ConditionFinding], ctx: Context
) -> tuple[NeurologicFinding, ...]:
    """GCS < 15, ICE < 10 or an active neurologic condition in the current window (SPEC 2.5)."""
    window = ctx.current
    findings: list[NeurologicFinding] = []
    for kind, (finding_kind, name, comparison, threshold) in _SCORE_RULES.items():
        low = [
            s
            for s in scores
            if s.kind is kind and window.contains(s.time) and meets(s.value, comparison, threshold)
        ]
        if low:
            lowest = min(low, key=lambda s: (s.value, s.time))
            text = (
                f"{name} {format_number(lowest.value)} (lowest in the last "
                f"{wording.span(ctx.options.vitals_window)})"
            )
            findings.append(NeurologicFinding(finding_kind, tuple(s.reference for s in low), text))
    by_term: dict[str, list[str]] = {}
    for condition in active_in(conditions, ConditionCategory.NEUROLOGIC, window, ctx):
        by_term.setdefault(condition.name.lower(), []).append(condition.reference)
    for term in sorted(by_term):
        findings.append(NeurologicFinding(term, tuple(by_term[term]), f"{term} (active condition)"))
    return tuple(findings)


def attribution_warnings(
    *,
    cultures: Sequence[CultureResult],
    labs: Sequence[LabResult],
    conditions: Sequence[ConditionFinding],
    immunosuppressants: Sequence[ImmunosuppressantDose],
    first_fever: Measurement | None,
    fever_in_window: bool,
    therapy_name: str | None,
    ctx: Context,
) -> tuple[AttributionWarning, ...]:
    """Every SPEC 2.7 signal present, with evidence; none is ever suppressed."""
    warnings: list[AttributionWarning] = []
    opts = ctx.options
    positive = [
        c for c in cultures if c.positive and ctx.recent(opts.culture_window).contains(c.time)
    ]
    if positive:
        organisms = sorted({c.organism for c in positive if c.organism})
        grew = f" ({', '.join(organisms)})" if organisms else ""
        warnings.append(
            AttributionWarning(
                WarningCode.POSITIVE_BLOOD_CULTURE,
                tuple(c.reference for c in positive),
                WARNINGS[WarningCode.POSITIVE_BLOOD_CULTURE].format(
                    organisms=grew, window=wording.span(opts.culture_window)
                ),
            )
        )
    anc = latest_in(labs, ctx.recent(opts.lab_window)).get(LabTest.ANC)
    if anc is not None and meets(
        anc.value, signals.ANC_COMPARISON, signals.ANC_THRESHOLD_PER_UL, anc.comparator
    ):
        form = "febrile-neutropenia" if fever_in_window else WarningCode.NEUTROPENIA
        text = WARNINGS[form].format(anc=f"{anc.comparator or ''}{format_number(anc.value)}")
        warnings.append(AttributionWarning(WarningCode.NEUTROPENIA, (anc.reference,), text))
    lactate = latest_in(labs, ctx.recent(opts.lactate_window)).get(LabTest.LACTATE)
    if lactate is not None and meets(
        lactate.value,
        signals.LACTATE_COMPARISON,
        signals.LACTATE_THRESHOLD_MMOL_L,
        lactate.comparator,
    ):
        charted = f"{lactate.comparator or ''}{format_number(lactate.value)}"
        warnings.append(
            AttributionWarning(
                WarningCode.ELEVATED_LACTATE,
                (lactate.reference,),
                WARNINGS[WarningCode.ELEVATED_LACTATE].format(
                    lactate=charted,
                    threshold=format_number(signals.LACTATE_THRESHOLD_MMOL_L),
                ),
            )
        )
    # SPEC 2.7: a refuted, entered-in-error or resolved diagnosis never warns. One resolved
    # only after the assessment time (an abatement after as_of) was not resolved yet.
    infections = [
        c
        for c in active_in(
            conditions, ConditionCategory.INFECTION, ctx.recent(opts.vitals_window), ctx
        )
        if not c.refuted and (c.active or (c.abatement is not None and c.abatement > ctx.as_of))
    ]
    if infections:
        names = ", ".join(sorted({c.name for c in infections}))
        warnings.append(
            AttributionWarning(
                WarningCode.INFECTION_DIAGNOSIS,
                tuple(c.reference for c in infections),
                WARNINGS[WarningCode.INFECTION_DIAGNOSIS].format(names=names),
            )
        )
    if first_fever is not None and ctx.day0 is not None:
        day = ctx.day(first_fever.time)
        if day > opts.late_onset_days:
            after = f" after {therapy_name}" if therapy_name else ""
            warnings.append(
                AttributionWarning(
                    WarningCode.LATE_ONSET,
                    (first_fever.reference,),
                    WARNINGS[WarningCode.LATE_ONSET].format(
                        day=day, after=after, days=opts.late_onset_days
                    ),
                )
            )
    masking = [d for d in immunosuppressants if d.agent in signals.FEVER_MASKING_AGENTS]
    if masking:
        agents = ", ".join(dict.fromkeys(str(d.agent) for d in masking))
        warnings.append(
            AttributionWarning(
                WarningCode.MASKED_FEVER,
                tuple(d.reference for d in masking),
                WARNINGS[WarningCode.MASKED_FEVER].format(agents=agents),
            )
        )
    return tuple(warnings)


_BIOMARKERS = (LabTest.CRP, LabTest.FERRITIN, LabTest.IL6)


def _trend(previous: LabResult, latest: LabResult) -> Trend:
    if previous.value <= 0:
        return Trend.RISING if latest.value > previous.value else Trend.STABLE
    change = (latest.value - previous.value) / previous.value
    if change > signals.TREND_RELATIVE_CHANGE:
        return Trend.RISING
    if change < -signals.TREND_RELATIVE_CHANGE:
        return Trend.FALLING
    return Trend.STABLE


def biomarker_summaries(
    labs: Sequence[LabResult], baseline: dict[LabTest, LabResult], ctx: Context
) -> tuple[BiomarkerSummary, ...]:
    """CRP, ferritin and IL-6 since day 0: latest, peak, fold change, trend (SPEC 2.8)."""
    summaries = []
    for test in _BIOMARKERS:
        every = [r for r in labs if r.test is test and r.time <= ctx.horizon]
        since = [r for r in every if r.time >= ctx.since]
        if not since:
            continue
        latest = since[-1]
        peak = max(since, key=lambda r: (r.value, -r.time.timestamp()))
        base = baseline.get(test)
        fold = latest.value / base.value if base is not None and base.value > 0 else None
        trend = _trend(every[-2], latest) if len(every) >= 2 else None
        falling_after_peak = (
            trend is Trend.FALLING and peak.time < latest.time and latest.value < peak.value
        )
        summaries.append(
            BiomarkerSummary(test, latest, base, peak, fold, trend, falling_after_peak)
        )
    return tuple(summaries)
