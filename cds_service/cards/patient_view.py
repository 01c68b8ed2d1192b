"""The patient-view cards: the assessment card (always, for a patient in scope) and, when an
infection signal is present, an infection card beside it.

The assessment card is the one card of the answer with the ``org.crscds.assessment`` extension
(SPEC section 4). Its summary names the grade and the next step in fewer than 140 characters;
its detail says why (drivers with evidence), what to do (suggestions with doses, withheld doses,
reassessment) and what could mislead (attribution warnings, the sepsis caution, CRS without
fever, data gaps). Attribution warnings are never dropped: every one is on the assessment card,
and the four infection signals of SPEC 2.7 also get their own card so that they show in the
EHR's card list without opening a detail.
"""

from __future__ import annotations

from typing import Any

from cds_service.cards import text
from cds_service.cards.common import (
    CardContext,
    DataProblemNote,
    card,
    links,
    rule_source,
    seed_source,
)
from cds_service.cards.extension import EXTENSION_KEY, assessment_extension
from cds_service.cards.orders import proposed_order
from crs_grading.assessment import (
    Assessment,
    AttributionWarning,
    BiomarkerSummary,
    Driver,
    GradingSystem,
)
from crs_grading.criteria import AdviceCode, WarningCode
from crs_grading.inputs import LAB_UNITS, BloodPressure, LabTest
from crs_grading.treatment import (
    Recommendation,
    RecommendationRole,
    RuleSource,
    Severity,
    TreatmentPlan,
)

__all__ = [
    "SYSTEM_NAMES",
    "assessment_card",
    "assessment_detail",
    "assessment_summary",
    "infection_card",
    "patient_view_cards",
    "problem_gaps",
    "problem_messages",
]

#: How a grading system is named on a card.
SYSTEM_NAMES = {GradingSystem.LEE_2014: "Lee 2014", GradingSystem.ASTCT_2019: "ASTCT 2019"}

#: Short names of the infection signals (SPEC 2.7) for summaries.
_SIGNAL_NAMES = {
    WarningCode.POSITIVE_BLOOD_CULTURE: "positive blood culture",
    WarningCode.NEUTROPENIA: "neutropenia",
    WarningCode.ELEVATED_LACTATE: "lactate > 2 mmol/L",
    WarningCode.INFECTION_DIAGNOSIS: "infection diagnosis",
}

_BIOMARKER_NAMES = {LabTest.CRP: "CRP", LabTest.FERRITIN: "ferritin", LabTest.IL6: "IL-6"}

#: Advice shown in its own place on the card rather than in the "Care" list.
_PROMOTED_ADVICE = frozenset(
    {
        AdviceCode.CULTURES_AND_ANTIBIOTICS,
        AdviceCode.ALREADY_GIVEN,
        AdviceCode.REASSESS_AFTER_TOCILIZUMAB,
    }
)

#: What a clinician should know when one prefetch key could not be read (``services.py`` keys).
_MAX_SKIPPED_SHOWN = 5
_MAX_SKIPPED_REASONS = 6
_MAX_DAYS_SHOWN = 10
_MAX_THERAPY_NAME = 40

_ASSESSMENT_OVERRIDES = (
    "attributed-to-infection",
    "already-treated",
    "record-out-of-date",
    "clinical-judgement",
    "patient-preference",
)
_INFECTION_OVERRIDES = ("attributed-to-crs", "infection-being-treated", "clinical-judgement")


def patient_view_cards(
    assessment: Assessment, plan: TreatmentPlan, context: CardContext
) -> list[dict[str, Any]]:
    """The cards of ``crs-patient-view``: none out of scope (SPEC 2.1), else the assessment
    card first, then the infection card when an infection signal is present."""
    if not assessment.in_scope:
        return []
    cards = [assessment_card(assessment, plan, context)]
    infection = infection_card(assessment, plan, context)
    if infection is not None:
        cards.append(infection)
    return cards


# -- the assessment card ----------------------------------------------------------------------


def assessment_card(
    assessment: Assessment, plan: TreatmentPlan, context: CardContext
) -> dict[str, Any]:
    """The assessment card, with its suggested orders and the assessment extension."""
    suggestions = []
    orderable: set[int] = set()
    for index, recommendation in enumerate(plan.recommendations):
        resource = proposed_order(recommendation, context.patient_id)
        if resource is None:
            continue
        orderable.add(index)
        suggestions.append(_suggestion(recommendation, resource, plan, context))

    result = card(
        context,
        summary=assessment_summary(assessment, plan),
        detail=assessment_detail(assessment, plan, context, orderable),
        indicator=plan.indicator,
        source=seed_source(),
        reasons=_ASSESSMENT_OVERRIDES,
    )
    if suggestions:
        result["suggestions"] = suggestions
        # "any": the seed allows the suggested agents together (a second tocilizumab dose
        # "and/or" a corticosteroid; dexamethasone with tocilizumab offered beside it).
        result["selectionBehavior"] = "any"
    result["links"] = links(context)
    result["extension"] = {
        EXTENSION_KEY: assessment_extension(assessment, problem_messages(context))
    }
    return result


def _suggestion(
    recommendation: Recommendation,
    resource: dict[str, Any],
    plan: TreatmentPlan,
    context: CardContext,
) -> dict[str, Any]:
    label = recommendation.label
    if plan.attribution_caution is not None:
        label = f"If CRS rather than sepsis: {label}"
    elif recommendation.role is RecommendationRole.CONSIDER:
        label = f"Consider {label}"
    return {
        "label": label,
        "uuid": context.new_uuid(),
        "isRecommended": recommendation.is_recommended,
        "actions": [
            {
                "type": "create",
                "description": f"Draft order: {recommendation.dose.text}",
                "resource": resource,
            }
        ],
    }


def _dose_phrase(recommendation: Recommendation) -> str:
    """ "tocilizumab 291 mg", "methylprednisolone 140 mg/day", "tocilizumab 8 mg/kg"."""
    dose = recommendation.dose
    per_day = "/day" if dose.per_day else ""
    if dose.dose_mg is not None:
        return f"{recommendation.drug} {dose.dose_mg} mg{per_day}"
    rate = dose.rate
    if rate is not None:
        return f"{recommendation.drug} {text.number(float(rate), 2)} mg/kg{per_day}"
    return str(recommendation.drug)


def _next_step(plan: TreatmentPlan) -> str:
    if not plan.recommendations:
        return plan.next_step
    first = plan.recommendations[0]
    phrase = _dose_phrase(first)
    if plan.attribution_caution is not None:
        return f"{phrase} if CRS, not sepsis (infection signals)"
    if first.role is RecommendationRole.CONSIDER:
        return f"consider {phrase}"
    return f"{phrase} advised" if first.is_recommended else f"{phrase} offered"


def assessment_summary(assessment: Assessment, plan: TreatmentPlan) -> str:
    """One sentence under 140 characters naming the grade and the next step."""
    system = SYSTEM_NAMES.get(assessment.system, str(assessment.system))
    therapy_context = assessment.therapy
    therapy = therapy_context.therapy.name if therapy_context else "CRS therapy"
    if len(therapy) > _MAX_THERAPY_NAME:
        therapy = therapy[: _MAX_THERAPY_NAME - 1].rstrip() + "…"
    day = f"day {therapy_context.day}" if therapy_context else "day unknown"
    grade = assessment.grade
    tails = []
    if plan.infection_signals and plan.attribution_caution is None:
        tails.append("infection signals present")
    if 2 <= grade <= 4 and not assessment.fever_in_window:
        tails.append("no fever")
    tail = "".join(f"; {item}" for item in tails)

    if grade <= 0:
        return text.fit_summary(
            f"No CRS criteria met, {day} after {therapy}{tail}",
            f"No CRS criteria met, {day}{tail}",
        )
    if grade >= 5:
        return text.fit_summary(
            f"CRS grade 5 ({system}): death recorded, {day} after {therapy}",
            f"CRS grade 5 ({system}): death recorded",
        )
    step = _next_step(plan)
    return text.fit_summary(
        f"CRS grade {grade} ({system}), {day} after {therapy}: {step}{tail}",
        f"CRS grade {grade} ({system}), {day}: {step}{tail}",
        f"CRS grade {grade}, {day}: {step}{tail}",
        f"CRS grade {grade}: {step}",
    )


def assessment_detail(
    assessment: Assessment,
    plan: TreatmentPlan,
    context: CardContext,
    orderable: set[int] | None = None,
) -> str:
    """The markdown detail: headline, safety, why, next step, context, gaps."""
    orderable = orderable if orderable is not None else set()
    sections = [
        _headline(assessment),
        *_safety(assessment, plan),
        _why(assessment),
        _peak(assessment),
        _next_steps(assessment, plan, orderable),
        _neurologic(assessment),
        _baseline(assessment.baseline_blood_pressure),
        _biomarkers(assessment.biomarkers),
        _course(assessment),
        _care(plan),
        _gaps(assessment, context.data_problems),
        _skipped(assessment),
    ]
    return "\n\n".join(section for section in sections if section)


def _headline(assessment: Assessment) -> str:
    system = SYSTEM_NAMES.get(assessment.system, str(assessment.system))
    parts = [f"**CRS grade {assessment.grade} now** ({system}, last 24 h)"]
    parts.append(f"peak grade {assessment.peak_grade} since day 0")
    for other, grade in assessment.other_systems.items():
        parts.append(f"{SYSTEM_NAMES.get(other, str(other))} grade {grade.grade}")
    therapy = assessment.therapy
    if therapy is not None:
        given = therapy.therapy
        parts.append(
            f"day {therapy.day} after {text.md(given.name)} "
            f"({text.clock(given.time)}, {text.evidence([given.reference])})"
        )
    return " · ".join(parts)


def _safety(assessment: Assessment, plan: TreatmentPlan) -> list[str]:
    """What could mislead: attribution warnings, the sepsis caution, CRS without fever, and
    the febrile reminder (SPEC 2.3, 2.7)."""
    blocks = []
    warnings = plan.attribution_warnings
    if warnings:
        if plan.attribution_caution is not None:
            heading = f"**Sepsis caution:** {text.md(plan.attribution_caution)}"
        elif plan.infection_signals:
            heading = (
                "**Infection could explain this picture.** CRS mimics infection; attribution is "
                "the clinician's call."
            )
        else:
            heading = "**Attribution warnings** (CRS or infection is the clinician's call):"
        blocks.append(f"{heading}\n{text.bullet_list([_warning_line(w) for w in warnings])}")
    grade = assessment.grade
    if 2 <= grade <= 4 and not assessment.fever_in_window:
        masked = ""
        if assessment.immunosuppressants_given:
            masked = " Fever can be masked after tocilizumab or corticosteroids."
        blocks.append(
            "**CRS without fever: consider other causes** (no temperature >= 38.0 C in the last "
            f"24 h).{masked}"
        )
    for advice in plan.advice:
        if advice.code is AdviceCode.CULTURES_AND_ANTIBIOTICS:
            blocks.append(f"**{text.md(advice.text)}**")
    return blocks


def _warning_line(warning: AttributionWarning) -> str:
    return text.with_evidence(text.sentence(text.md(warning.text)), warning.evidence)


def _driver_line(driver: Driver) -> str:
    return text.with_evidence(f"Grade {driver.grade}: {text.md(driver.text)}", driver.evidence)


def _why(assessment: Assessment) -> str:
    drivers = assessment.current.drivers
    if not drivers:
        return "**Why grade 0:** no CRS criterion is met in the last 24 h (labs: last 72 h)."
    lines = [_driver_line(driver) for driver in drivers]
    return f"**Why grade {assessment.grade}:**\n{text.bullet_list(lines)}"


def _peak(assessment: Assessment) -> str:
    peak = assessment.peak
    if peak.grade <= assessment.grade:
        return ""
    lines = [_driver_line(driver) for driver in peak.drivers if driver.grade == peak.grade]
    window = f"{text.clock(peak.window_start)} to {text.clock(peak.window_end)}"
    return f"**Peak grade {peak.grade}** ({window}):\n{text.bullet_list(lines)}"


def _reason(recommendation: Recommendation, plan: TreatmentPlan) -> str:
    """The recommendation's reason; with the sepsis caution shown above it on the card, the
    caution the plan appends to every reason is left out here (it would be said three times)."""
    reason = recommendation.reason
    if plan.attribution_caution is not None:
        reason = reason.split(" Not preselected:")[0]
    return reason


def _next_steps(assessment: Assessment, plan: TreatmentPlan, orderable: set[int]) -> str:
    lines = [
        text.md(advice.text) for advice in plan.advice if advice.code is AdviceCode.ALREADY_GIVEN
    ]
    for withheld in plan.withheld:
        lines.append(f"{text.md(withheld.reason)} [{withheld.source}]")
    for index, recommendation in enumerate(plan.recommendations):
        dose = recommendation.dose
        if recommendation.is_recommended:
            flag = "preselected"
        elif plan.attribution_caution is not None:
            flag = "not preselected: infection signals"
        else:
            flag = "not preselected"
        if index in orderable:
            head = f"**{text.md(recommendation.label)}** ({flag}; order below)"
        else:
            missing = f" ({text.md(dose.missing)})" if dose.missing else ""
            head = f"**{text.md(_dose_phrase(recommendation))}**: no order suggested{missing}"
        lines.append(
            f"{head}. {text.md(_reason(recommendation, plan))} Dosing: {text.md(dose.text)}. "
            f"[{recommendation.source}]"
        )
    for advice in plan.advice:
        if advice.code is AdviceCode.REASSESS_AFTER_TOCILIZUMAB:
            lines.append(f"{text.md(advice.text)} [{advice.source}]")
    if not lines:
        lines.append(text.sentence(text.md(plan.next_step)))
    weight = assessment.weight
    if plan.recommendations and weight is not None:
        lines.append(
            f"Dosing weight {text.number(weight.value)} kg ({text.clock(weight.time)}, "
            f"{text.evidence([weight.reference])}); age {_age(assessment.age_years)}."
        )
    return f"**Next step:**\n{text.bullet_list(lines)}"


def _age(years: float | None) -> str:
    if years is None:
        return "unknown"
    if years >= 1:
        return f"{int(years)} y"
    return f"{int(years * 12)} months"


def _neurologic(assessment: Assessment) -> str:
    findings = assessment.neurologic_findings
    if not findings:
        return ""
    lines = [text.with_evidence(text.md(finding.text), finding.evidence) for finding in findings]
    return f"**Neurologic findings** (last 24 h):\n{text.bullet_list(lines)}"


def _pressure(reading: BloodPressure) -> str:
    if reading.systolic is not None and reading.diastolic is not None:
        return f"{text.number(reading.systolic, 0)}/{text.number(reading.diastolic, 0)} mmHg"
    parts = []
    if reading.systolic is not None:
        parts.append(f"systolic {text.number(reading.systolic, 0)} mmHg")
    if reading.mean is not None:
        parts.append(f"MAP {text.number(reading.mean, 0)} mmHg")
    return ", ".join(parts) or "no value"


def _baseline(reading: BloodPressure | None) -> str:
    if reading is None:
        return ""
    return (
        f"**Baseline BP** before day 0: {_pressure(reading)} ({text.clock(reading.time)}, "
        f"{text.evidence([reading.reference])})."
    )


def _biomarker_line(summary: BiomarkerSummary) -> str:
    unit = LAB_UNITS[summary.test]
    latest = summary.latest
    name = _BIOMARKER_NAMES.get(summary.test, str(summary.test))
    line = f"{name} {text.number(latest.value)} {unit}"
    if summary.fold_change is not None and summary.baseline is not None:
        digits = 1 if summary.fold_change < 10 else 0
        line += (
            f", {text.number(summary.fold_change, digits)}x baseline "
            f"({text.number(summary.baseline.value)} {unit})"
        )
    if summary.trend is not None:
        line += f", {summary.trend}"
    if summary.falling_after_peak:
        line += (
            f"; falling after a peak of {text.number(summary.peak.value)} {unit} "
            f"({text.clock(summary.peak.time)})"
        )
        if summary.test is LabTest.CRP:  # seed: a falling CRP may mark the syndrome's peak
            line += ": may mark the peak of the syndrome"
    return f"{line} ({text.evidence([latest.reference])})"


def _biomarkers(biomarkers: tuple[BiomarkerSummary, ...]) -> str:
    if not biomarkers:
        return ""
    lines = [_biomarker_line(summary) for summary in biomarkers]
    return (
        "**Biomarkers** (shown for the trend; they never change the grade):\n"
        + text.bullet_list(lines)
    )


def _course(assessment: Assessment) -> str:
    days = assessment.daily[-_MAX_DAYS_SHOWN:]
    if len(days) < 2:
        return ""
    system = SYSTEM_NAMES.get(assessment.system, str(assessment.system))
    use_astct = assessment.system is GradingSystem.ASTCT_2019
    grades = " · ".join(
        f"day {day.day}: {day.astct2019 if use_astct else day.lee2014}" for day in days
    )
    return f"**Worst {system} grade by day:** {grades}"


def _care(plan: TreatmentPlan) -> str:
    lines = [
        f"{text.md(advice.text)}" for advice in plan.advice if advice.code not in _PROMOTED_ADVICE
    ]
    if not lines:
        return ""
    return f"**Care** [{RuleSource.SEED_FIGURE_2}]:\n{text.bullet_list(lines)}"


def problem_messages(context: CardContext) -> tuple[str, ...]:
    """The FHIR reading problems as extension data gaps (plain sentences)."""
    return tuple(problem.message for problem in context.data_problems)


def problem_gaps(problems: tuple[DataProblemNote, ...]) -> list[str]:
    """The FHIR reading problems for the card detail: each note's short line, which already
    says what it may hide (``cds_service.fhir_io`` words it)."""
    lines = []
    for problem in problems:
        line = problem.card_line or problem.message
        lines.append(f"{text.sentence(text.md(line)).rstrip('.')}.")
    return lines


def _gaps(assessment: Assessment, problems: tuple[DataProblemNote, ...]) -> str:
    lines = problem_gaps(problems)
    lines.extend(text.sentence(text.md(gap)) for gap in assessment.data_gaps)
    if not lines:
        return ""
    return f"**Data gaps:**\n{text.bullet_list(lines)}"


def _skipped(assessment: Assessment) -> str:
    """Resources the grade could not use, grouped by reason (all are in the extension)."""
    skipped = assessment.skipped
    if not skipped:
        return ""
    by_reason: dict[str, list[str]] = {}
    for item in skipped:
        by_reason.setdefault(item.reason, []).append(item.reference)
    ranked = sorted(by_reason.items(), key=lambda pair: (-len(pair[1]), pair[0]))
    lines = [
        f"{text.sentence(text.md(reason)).rstrip('.')}: "
        f"{text.evidence(references, _MAX_SKIPPED_SHOWN)}"
        for reason, references in ranked[:_MAX_SKIPPED_REASONS]
    ]
    if len(ranked) > _MAX_SKIPPED_REASONS:
        lines.append(
            f"{len(ranked) - _MAX_SKIPPED_REASONS} more reasons (listed in the assessment "
            "extension)"
        )
    return f"**Not used** ({len(skipped)} resources):\n{text.bullet_list(lines)}"


# -- the infection card -----------------------------------------------------------------------


def infection_card(
    assessment: Assessment, plan: TreatmentPlan, context: CardContext
) -> dict[str, Any] | None:
    """A card of its own for the infection signals of SPEC 2.7, or None without one.

    Critical when immunosuppression is suggested (the seed's sepsis caution applies), else a
    warning. The assessment card lists the same warnings: nothing is hidden either way.
    """
    signals = plan.infection_signals
    if not signals:
        return None
    codes = [signal.code for signal in signals]
    names = ", ".join(dict.fromkeys(_SIGNAL_NAMES.get(code, code) for code in codes))
    febrile = assessment.fever_in_window
    if WarningCode.NEUTROPENIA in codes and febrile:
        others = [_SIGNAL_NAMES.get(c, c) for c in codes if c is not WarningCode.NEUTROPENIA]
        also = f"; also {', '.join(others)}" if others else ""
        summary = text.fit_summary(
            f"Febrile neutropenia: obtain blood cultures and start empiric antibiotics{also}",
            "Febrile neutropenia: obtain blood cultures and start empiric antibiotics",
        )
    else:
        summary = text.fit_summary(
            f"Infection or sepsis could explain this picture: {names}",
            "Infection or sepsis could explain this picture",
        )
    if plan.attribution_caution is not None:
        lead = text.md(plan.attribution_caution)
    else:
        lead = (
            "CRS mimics infection, and infection must be considered in every patient with CRS "
            "symptoms. Attribution is the clinician's call."
        )
    blocks = [lead, text.bullet_list([_warning_line(signal) for signal in signals])]
    if febrile and WarningCode.NEUTROPENIA in codes:
        reminder = "Fever with neutropenia: obtain blood cultures and start empiric antibiotics."
    elif febrile or WarningCode.NEUTROPENIA in codes:
        reminder = "Obtain blood cultures; start empiric antibiotics if neutropenic."
    else:
        reminder = ""
    if reminder:
        blocks.append(f"**{reminder}** [{RuleSource.SEED_INFECTION}]")
    indicator = Severity.CRITICAL if plan.attribution_caution is not None else Severity.WARNING
    return card(
        context,
        summary=summary,
        detail="\n\n".join(blocks),
        indicator=indicator,
        source=rule_source(RuleSource.SEED_ATTRIBUTION),
        reasons=_INFECTION_OVERRIDES,
    )
