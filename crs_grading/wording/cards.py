"""What the cards of one answer say: summary, detail sections, colours, labels (SPEC section 4).

"Card text is for a clinician with five seconds": the summary gives the grade, the day and one
next step; the detail (at most ``MAX_DETAIL`` characters of markdown) gives the drivers in
clinical words, the next step once, the infection caution once, with no FHIR id, no resource
list and no internal word; evidence, skipped resources and data gaps stay in the assessment
extension and the SMART app. Each fact is said on one card of the answer: the plan places its
reminders (``TreatmentPlan.reminders``), and this module lays the rest out around them.

Everything here is plain text; ``cds_service/cards`` escapes it, adds the markdown (bold
headings, bullets) and the FHIR parts, and adds no word of its own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from crs_grading.assessment import Assessment, BiomarkerSummary, Driver
from crs_grading.criteria import (
    AdviceCode,
    Criterion,
    NeurologicKind,
    OverrideReason,
    RedoseRule,
    ReminderCode,
    Severity,
    WarningCode,
)
from crs_grading.inputs import (
    LAB_UNITS,
    BloodPressure,
    Comparator,
    LabTest,
    UnidentifiedAdministration,
)
from crs_grading.tables.sources import SCOPE, SEED, Citation, RuleSource
from crs_grading.tables.treatment import PatientMeasure
from crs_grading.treatment.model import (
    CardRole,
    OrderFinding,
    Recommendation,
    RecommendationRole,
    Reminder,
    TreatmentPlan,
)
from crs_grading.wording import formats, names
from crs_grading.wording.phrases import CARD

__all__ = [
    "MAX_DETAIL",
    "AssessmentCardText",
    "CardText",
    "Line",
    "PatientViewText",
    "ProblemLine",
    "Section",
    "SuggestionText",
    "assessment_summary",
    "check_incomplete_section",
    "check_incomplete_text",
    "other_grades",
    "order_card_texts",
    "patient_view_text",
    "unread_orders_text",
]

#: SPEC section 4: "The detail is at most 700 characters of markdown".
MAX_DETAIL = 700

#: A therapy name longer than this is cut in a summary (the grade must always fit).
_MAX_THERAPY_NAME = 40


class Priority(enum.IntEnum):
    """What a too-long detail gives up first: the highest value first, the last line first."""

    ESSENTIAL = 0  # the grade, the drivers' headline, cautions, the next step, unread data
    USEFUL = 1  # more drivers, care at this grade, the peak
    CONTEXT = 2  # biomarkers, the data gap pointer, general supportive care


@dataclass(frozen=True, slots=True)
class Line:
    """One fact of a section, how readily it is given up for length, and its shortest wording
    (``short``): an essential fact is never left out, but may be said in fewer words."""

    text: str
    priority: Priority = Priority.ESSENTIAL
    short: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A block of the detail: a bold ``heading`` (or none), its ``lines``, and whether the lines
    are a bullet list (else one paragraph after the heading) or shown in bold (``strong``)."""

    heading: str | None
    lines: tuple[Line, ...]
    bulleted: bool = False
    strong: bool = False


@dataclass(frozen=True, slots=True)
class CardText:
    """The words of one card: what the renderer lays out, and nothing else."""

    summary: str
    indicator: Severity
    sections: tuple[Section, ...]
    source: Citation
    overrides: tuple[OverrideReason, ...]

    def fit(
        self, measure: Callable[[tuple[Section, ...]], int], limit: int = MAX_DETAIL
    ) -> CardText:
        """This card within ``limit`` characters by ``measure`` (the rendered detail's length):
        first the least important lines are left out (the lowest priority, the last first),
        then essential lines are said in their short words (the biggest saving first).
        Essential facts are never left out."""
        sections = self.sections
        while measure(sections) > limit:
            droppable = [
                (line.priority, s, i)
                for s, section in enumerate(sections)
                for i, line in enumerate(section.lines)
                if line.priority is not Priority.ESSENTIAL
            ]
            if droppable:
                _, s, i = max(droppable)
                sections = _without(sections, s, i)
                continue
            shorter = [
                (len(line.text) - len(line.short), s, i)
                for s, section in enumerate(sections)
                for i, line in enumerate(section.lines)
                if line.short is not None and len(line.short) < len(line.text)
            ]
            if not shorter:
                break
            _, s, i = max(shorter)
            line = sections[s].lines[i]
            sections = _with(sections, s, i, Line(line.short or line.text, line.priority))
        return replace(self, sections=sections)


def _without(sections: tuple[Section, ...], s: int, i: int) -> tuple[Section, ...]:
    section = sections[s]
    kept = section.lines[:i] + section.lines[i + 1 :]
    if not kept:
        return sections[:s] + sections[s + 1 :]
    return (*sections[:s], replace(section, lines=kept), *sections[s + 1 :])


def _with(sections: tuple[Section, ...], s: int, i: int, line: Line) -> tuple[Section, ...]:
    section = sections[s]
    lines = (*section.lines[:i], line, *section.lines[i + 1 :])
    return (*sections[:s], replace(section, lines=lines), *sections[s + 1 :])


@dataclass(frozen=True, slots=True)
class SuggestionText:
    """A suggestion's words: its button label and its action's description."""

    recommendation: Recommendation
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class AssessmentCardText:
    card: CardText
    suggestions: tuple[SuggestionText, ...]  # the orderable recommendations, in plan order


@dataclass(frozen=True, slots=True)
class PatientViewText:
    """The cards of a patient-view answer: the assessment card and, with an infection signal,
    the infection card. No fact is on both."""

    assessment: AssessmentCardText
    infection: CardText | None


_ASSESSMENT_OVERRIDES = (
    OverrideReason.ATTRIBUTED_TO_INFECTION,
    OverrideReason.ALREADY_TREATED,
    OverrideReason.RECORD_OUT_OF_DATE,
    OverrideReason.CLINICAL_JUDGEMENT,
    OverrideReason.PATIENT_PREFERENCE,
)
_INFECTION_OVERRIDES = (
    OverrideReason.ATTRIBUTED_TO_CRS,
    OverrideReason.INFECTION_BEING_TREATED,
    OverrideReason.CLINICAL_JUDGEMENT,
)
_DOSE_OVERRIDES = (
    OverrideReason.DOSE_INTENDED,
    OverrideReason.RECORD_OUT_OF_DATE,
    OverrideReason.CLINICAL_JUDGEMENT,
)
_OTHER_OVERRIDES = (
    OverrideReason.CLINICAL_JUDGEMENT,
    OverrideReason.RECORD_OUT_OF_DATE,
    OverrideReason.PATIENT_PREFERENCE,
)

#: A driver the card leaves out when a driver of a higher criterion of the same kind says more
#: (the extension keeps every driver): one low-dose drip beside two drips, a low FiO2 beside a
#: high one or ventilation.
_SUBSUMED: dict[Criterion, frozenset[Criterion]] = {
    Criterion.VASOPRESSOR_LOW_DOSE: frozenset(
        {Criterion.MULTIPLE_VASOPRESSORS, Criterion.VASOPRESSOR_HIGH_DOSE}
    ),
    Criterion.VASOPRESSOR_UNKNOWN_DOSE: frozenset(
        {Criterion.MULTIPLE_VASOPRESSORS, Criterion.VASOPRESSOR_HIGH_DOSE}
    ),
    Criterion.OXYGEN_LOW_FIO2: frozenset({Criterion.OXYGEN_HIGH_FIO2, Criterion.VENTILATION}),
}

#: The plan's advice the card shows under "Care", in this order, and how readily it goes.
_CARE: dict[AdviceCode, Priority] = {
    AdviceCode.ICANS_BESIDE_GRADE_2_CRS: Priority.ESSENTIAL,
    AdviceCode.MONITORING: Priority.ESSENTIAL,
    AdviceCode.SYMPTOMATIC_TREATMENT: Priority.ESSENTIAL,
    AdviceCode.CLOSE_MONITORING: Priority.USEFUL,
    AdviceCode.NO_IMMUNOSUPPRESSION_GRADE_2: Priority.USEFUL,
    AdviceCode.LIFE_THREATENING: Priority.USEFUL,
    AdviceCode.IMMUNOSUPPRESSION_FOR_ALL: Priority.USEFUL,
    AdviceCode.ICU_MONITORING: Priority.USEFUL,
    AdviceCode.CARDIAC_MONITORING: Priority.USEFUL,
    AdviceCode.SUPPORTIVE_CARE: Priority.CONTEXT,
    AdviceCode.CONSIDER_INFECTION: Priority.CONTEXT,
    AdviceCode.DEATH_RECORDED: Priority.ESSENTIAL,
}

#: The fewest words of an essential piece of advice, for a card that would pass 700 characters.
_CARE_SHORT: dict[AdviceCode, str] = {
    AdviceCode.ICANS_BESIDE_GRADE_2_CRS: CARD["icans-beside-grade-2-short"],
}

#: Advice that a suggestion on the card already says.
_SAID_BY_A_SUGGESTION = frozenset(
    {AdviceCode.IMMUNOSUPPRESSION_FOR_ALL, AdviceCode.LIFE_THREATENING}
)


# -- the assessment card ----------------------------------------------------------------------


def _system(assessment: Assessment) -> str:
    return names.SYSTEM_NAMES[assessment.system]


def _day(assessment: Assessment) -> str | None:
    therapy = assessment.therapy
    if therapy is None:
        return None
    name = " ".join(therapy.therapy.name.split())
    if len(name) > _MAX_THERAPY_NAME:
        name = name[: _MAX_THERAPY_NAME - 1].rstrip() + "…"
    return CARD["day"].format(day=therapy.day, therapy=name)


def other_grades(assessment: Assessment) -> tuple[str, ...]:
    """The graded syndromes the summary names beside CRS: ICANS when its current grade is >= 1
    (SPEC 2.9: "CRS grade 1 (Lee 2014) · ICANS grade 3")."""
    icans = assessment.icans.grade
    return (CARD["icans-grade"].format(grade=icans),) if icans >= 1 else ()


def assessment_summary(
    assessment: Assessment, plan: TreatmentPlan, grades: Sequence[str] = ()
) -> str:
    """One sentence under 140 characters: the grade, the day and the one next step.

    ``grades`` are more graded syndromes to name beside CRS ("ICANS grade 3"), in order. With no
    CRS criteria met the summary gives a next step only when the plan suggests one (for ICANS).
    """
    grade = assessment.grade
    day = _day(assessment)
    crs = CARD["grade"].format(grade=grade, system=_system(assessment))
    headline = " · ".join((crs, *grades))
    tail = ""
    if 2 <= grade <= 4 and not assessment.fever_in_window:
        tail = f"; {CARD['no-fever-tail']}"
    if grade <= 0:
        none = " · ".join((CARD["no-criteria"], *grades))
        if not plan.recommendations:
            return formats.fit_summary(f"{none}, {day}{tail}" if day else none, none)
        headline = none
    elif grade >= 5:
        death = CARD["death"].format(system=_system(assessment))
        return formats.fit_summary(f"{death}, {day}" if day else death, death)
    step = plan.next_step
    candidates = [f"{headline}, {day}: {step}{tail}"] if day else []
    short_day = day.split(" after ")[0] if day else None
    if short_day:
        candidates.append(f"{headline}, {short_day}: {step}{tail}")
    candidates += [f"{headline}: {step}{tail}", f"{headline}: {step}"]
    return formats.fit_summary(*candidates)


def _pressure(reading: BloodPressure) -> str:
    """The pressures as charted, a bound with its comparator ("<60/40 mmHg", SPEC 3)."""

    def shown(value: float, comparator: Comparator | None) -> str:
        return f"{comparator or ''}{formats.number(value, 0)}"

    systolic = reading.systolic
    if systolic is not None and reading.diastolic is not None:
        return (
            f"{shown(systolic, reading.systolic_comparator)}/"
            f"{shown(reading.diastolic, reading.diastolic_comparator)} mmHg"
        )
    if systolic is not None:
        return f"systolic {shown(systolic, reading.systolic_comparator)} mmHg"
    if reading.mean is not None:
        return f"MAP {shown(reading.mean, reading.mean_comparator)} mmHg"
    return ""


def _driver_lines(assessment: Assessment) -> list[Line]:
    drivers: tuple[Driver, ...] = assessment.current.drivers
    present = {driver.criterion for driver in drivers}
    shown = [d for d in drivers if not (_SUBSUMED.get(d.criterion, frozenset()) & present)]
    baseline = assessment.baseline_blood_pressure
    pressure = _pressure(baseline) if baseline is not None else ""
    lines = []
    for index, driver in enumerate(shown):
        text = f"grade {driver.grade}: {driver.text}"
        if driver.criterion is Criterion.HYPOTENSION and pressure:
            text = f"{text}; {CARD['baseline-beside'].format(pressure=pressure)}"
            pressure = ""
        lines.append(Line(text, Priority.ESSENTIAL if index < 2 else Priority.USEFUL))
    if pressure:
        lines.append(Line(CARD["baseline"].format(pressure=pressure), Priority.CONTEXT))
    # ICANS has a section of its own (``_icans``); the other signs of dysfunction stay here.
    icans = assessment.icans.grade >= 1
    findings = tuple(
        f for f in assessment.neurologic_findings if f.kind != NeurologicKind.ICANS or not icans
    )
    if findings:
        neuro = "; ".join(dict.fromkeys(finding.text for finding in findings))
        short = CARD["neurologic"].format(findings=CARD["neurologic-short"])
        # Beside the ICANS section the dysfunction is already said: the other signs may give way.
        priority = Priority.USEFUL if icans else Priority.ESSENTIAL
        lines.append(Line(CARD["neurologic"].format(findings=neuro), priority, short=short))
    return lines


def _why(assessment: Assessment) -> Section:
    others = " · ".join(
        f"{names.SYSTEM_NAMES[system]} grade {grade.grade}"
        for system, grade in assessment.other_systems.items()
    )
    if assessment.grade <= 0:
        lead = CARD["why-0"].format(window=formats.span(assessment.vitals_window))
        lines = (Line(f"{lead} ({others})." if others else f"{lead}."), *_driver_lines(assessment))
        return Section(None, lines)
    context = CARD["context"].format(peak=assessment.peak_grade, systems=others)
    heading = f"{CARD['why'].format(grade=assessment.grade)} ({context})"
    return Section(heading, tuple(_driver_lines(assessment)), bulleted=True)


def _icans(assessment: Assessment) -> Section | None:
    """The ICANS grade and its drivers (SPEC 2.9), when the current grade is >= 1; a fall from
    a higher peak is said in the heading. The two worst drivers stay on a long card (in fewer
    words if need be: "grade 2: depressed consciousness"); others may give way (all are in the
    extension)."""
    icans = assessment.icans
    if icans.grade < 1:
        return None
    heading = CARD["why-icans"].format(grade=icans.grade)
    if icans.peak_grade > icans.grade:
        heading += f", {CARD['icans-peak'].format(peak=icans.peak_grade)}"
    lines = tuple(
        Line(
            f"grade {driver.grade}: {driver.text}",
            Priority.ESSENTIAL if index < 2 else Priority.USEFUL,
            short=f"grade {driver.grade}: {names.ICANS_DOMAIN_NAMES[driver.criterion]}",
        )
        for index, driver in enumerate(icans.current.drivers)
    )
    return Section(heading, lines, bulleted=True)


def _peak(assessment: Assessment) -> Section | None:
    peak = assessment.peak
    if peak.grade <= assessment.grade:
        return None
    zone = assessment.timezone
    window = f"{formats.clock(peak.window_start, zone)} to {formats.clock(peak.window_end, zone)}"
    texts = "; ".join(d.text for d in peak.drivers if d.grade == peak.grade)
    return Section(
        CARD["peak"].format(grade=peak.grade), (Line(f"{window}: {texts}", Priority.USEFUL),)
    )


def _said(reminder: Reminder) -> Line:
    return Line(reminder.text, short=reminder.short)


def _reminder_sections(reminders: Sequence[Reminder]) -> list[Section]:
    sections = []
    cautions = [r for r in reminders if r.code is ReminderCode.SEPSIS_CAUTION]
    if cautions:
        sections.append(Section(CARD["caution"], tuple(_said(r) for r in cautions)))
    warnings = [r for r in reminders if r.code is ReminderCode.ATTRIBUTION_WARNING]
    if warnings:
        sections.append(Section(CARD["warning"], tuple(_said(r) for r in warnings)))
    for code in (ReminderCode.NO_FEVER, ReminderCode.CULTURES_AND_ANTIBIOTICS):
        for reminder in reminders:
            if reminder.code is code:
                sections.append(Section(None, (_said(reminder),), strong=True))
    return sections


def _flag(recommendation: Recommendation, plan: TreatmentPlan) -> str:
    if recommendation.is_recommended:
        return CARD["preselected"]
    if plan.attribution_caution is not None:
        return CARD["infection-not-preselected"]
    return CARD["not-preselected"]


def _recommendation_line(
    recommendation: Recommendation, plan: TreatmentPlan, assessment: Assessment
) -> str:
    dose = recommendation.dose
    if not recommendation.orderable:
        missing = dose.missing or ""
        return CARD["not-ordered"].format(phrase=dose.summary, missing=missing)
    basis = dose.arithmetic or ""
    if dose.chosen_by is PatientMeasure.AGE and assessment.age_years is not None:
        basis += f", age {formats.age(assessment.age_years)}"
    parts = [p for p in (recommendation.note, _flag(recommendation, plan)) if p]
    return f"{recommendation.label} ({basis}): {'; '.join(parts)}."


def _recommendation_short(recommendation: Recommendation, plan: TreatmentPlan) -> str:
    dose = recommendation.dose
    if recommendation.orderable:
        return f"{dose.summary}: {_flag(recommendation, plan)}."
    if dose.weight_kg is None:
        missing = CARD["no-weight"]
    elif dose.rate is None:
        missing = CARD["no-age"]
    else:
        missing = CARD["no-dose"]
    return CARD["not-ordered"].format(phrase=dose.summary, missing=missing)


def _next_step(assessment: Assessment, plan: TreatmentPlan) -> Section | None:
    advice = {a.code: a.text for a in plan.advice}
    lines = []
    if AdviceCode.ALREADY_GIVEN in advice:  # also drawn on the SMART app's course
        lines.append(Line(advice[AdviceCode.ALREADY_GIVEN], Priority.USEFUL))
    reassess = advice.get(AdviceCode.REASSESS_AFTER_TOCILIZUMAB)
    for withheld in plan.withheld:
        if withheld.code is RedoseRule.BEFORE_REASSESSMENT and reassess is not None:
            continue  # the reassessment line says it, with its time
        lines.append(Line(withheld.reason, short=withheld.brief))
    lines += [
        Line(_recommendation_line(r, plan, assessment), short=_recommendation_short(r, plan))
        for r in plan.recommendations
    ]
    if reassess is not None and plan.reassess_at is not None:
        at = formats.clock(plan.reassess_at, assessment.timezone)
        lines.append(Line(reassess, short=CARD["reassess-short"].format(at=at)))
    if not lines:
        return None
    return Section(CARD["next"], tuple(lines), bulleted=len(lines) > 1)


def _care(plan: TreatmentPlan) -> Section | None:
    advice = {a.code: a.text for a in plan.advice}
    said = set(_SAID_BY_A_SUGGESTION) if plan.recommendations else set()
    if plan.infection_indicator is not None:
        said.add(AdviceCode.CONSIDER_INFECTION)  # the infection card says it
    lines = [
        Line(advice[code], priority, short=_CARE_SHORT.get(code))
        for code, priority in _CARE.items()
        if code in advice and code not in said
    ]
    return Section(CARD["care"], tuple(lines)) if lines else None


def _biomarker(summary: BiomarkerSummary, assessment: Assessment) -> str:
    unit = LAB_UNITS[summary.test]
    text = f"{names.LAB_NAMES[summary.test]} {formats.number(summary.latest.value)} {unit}"
    details = []
    if summary.fold_change is not None and summary.baseline is not None:
        details.append(f"{formats.fold(summary.fold_change)} baseline")
    if summary.falling_after_peak:
        peak = (
            f"falling after a peak of {formats.number(summary.peak.value)} {unit} "
            f"({formats.clock(summary.peak.time, assessment.timezone)})"
        )
        if summary.test is LabTest.CRP:  # seed: a falling CRP may mark the syndrome's peak
            peak += ": may mark the peak of the syndrome"
        details.append(peak)
    elif summary.trend is not None:
        details.append(str(summary.trend))
    return f"{text} ({', '.join(details)})" if details else text


def _biomarkers(assessment: Assessment) -> Section | None:
    if not assessment.biomarkers:
        return None
    text = " · ".join(_biomarker(summary, assessment) for summary in assessment.biomarkers)
    return Section(CARD["biomarkers"], (Line(text, Priority.CONTEXT),))


def _gaps(assessment: Assessment) -> Section | None:
    gaps = assessment.data_gaps
    if not gaps:
        return None
    heading = CARD["gaps"].format(count=len(gaps))
    return Section(heading, (Line(formats.sentence(gaps[0]), Priority.CONTEXT),))


class ProblemLine(NamedTuple):
    """What a card says of data that could not be read: the sentence ("Laboratory results could
    not be read: an infection warning ... may be missing"), and, for a card short of room, the
    words that name the data only ("Laboratory results could not be read"). Both essential:
    unread data is never left out of a card (found in review: three unread keys took a card
    past 700 characters, having no shorter words)."""

    text: str
    short: str | None = None


def _problems(problems: Sequence[str | ProblemLine]) -> Section | None:
    if not problems:
        return None
    lines = tuple(_problem_line(problem) for problem in problems)
    return Section(CARD["problems"], lines, bulleted=len(lines) > 1)


def _problem_line(problem: str | ProblemLine) -> Line:
    if isinstance(problem, str):
        return Line(formats.sentence(problem))
    short = formats.sentence(problem.short) if problem.short else None
    return Line(formats.sentence(problem.text), short=short)


def _suggestion(recommendation: Recommendation, plan: TreatmentPlan) -> SuggestionText:
    label = recommendation.label
    icans = recommendation.role is RecommendationRole.FOR_ICANS
    if plan.attribution_caution is not None and icans:
        label = CARD["if-icans"].format(label=label)
    elif plan.attribution_caution is not None:
        label = f"If CRS rather than sepsis: {label}"
    elif recommendation.role is RecommendationRole.CONSIDER:
        label = f"Consider {label}"
    return SuggestionText(
        recommendation,
        label,
        CARD["draft-order"].format(rule=recommendation.dose.text),
    )


def patient_view_text(
    assessment: Assessment, plan: TreatmentPlan, problems: Sequence[str | ProblemLine] = ()
) -> PatientViewText:
    """The words of the patient-view cards. ``problems`` are the short sentences of the data
    that could not be read (they say what may be missing), shown on the assessment card."""
    mine = [r for r in plan.reminders if r.card is CardRole.ASSESSMENT]
    sections = [
        _why(assessment),
        _icans(assessment),
        *_reminder_sections(mine),
        _next_step(assessment, plan),
        _problems(problems),
        _peak(assessment),
        _care(plan),
        _biomarkers(assessment),
        _gaps(assessment),
    ]
    card = CardText(
        summary=assessment_summary(assessment, plan, other_grades(assessment)),
        indicator=plan.indicator,
        sections=tuple(section for section in sections if section is not None),
        source=SEED,
        overrides=_ASSESSMENT_OVERRIDES,
    )
    suggestions = tuple(_suggestion(r, plan) for r in plan.recommendations if r.orderable)
    return PatientViewText(AssessmentCardText(card, suggestions), _infection(assessment, plan))


# -- the infection card -----------------------------------------------------------------------


def _infection(assessment: Assessment, plan: TreatmentPlan) -> CardText | None:
    """The four infection signals of SPEC 2.7 on a card of their own, in the EHR's card list."""
    if plan.infection_indicator is None:
        return None
    reminders = [r for r in plan.reminders if r.card is CardRole.INFECTION]
    signals = [r for r in reminders if r.code is ReminderCode.INFECTION_SIGNAL]
    febrile = next(
        (r for r in signals if r.warning is WarningCode.NEUTROPENIA and assessment.fever_in_window),
        None,
    )
    signal_names = [names.WARNING_NAMES[r.warning] for r in signals if r.warning is not None]
    if febrile is not None:
        headline = febrile.text.rstrip(".")
        others = [n for r, n in zip(signals, signal_names, strict=True) if r is not febrile]
        also = CARD["also"].format(others=", ".join(others)) if others else ""
        summary = formats.fit_summary(f"{headline}{also}", headline)
        listed = [r for r in signals if r is not febrile]
    else:
        summary = formats.fit_summary(
            CARD["infection-summary"].format(signals=", ".join(dict.fromkeys(signal_names))),
            CARD["infection-summary-short"],
        )
        listed = signals
    sections = []
    if plan.attribution_caution is None:
        sections.append(Section(None, (Line(CARD["mimics"]),)))
    if listed:
        sections.append(Section(None, tuple(Line(r.text) for r in listed), bulleted=True))
    for reminder in reminders:
        if reminder.code is ReminderCode.CULTURES_AND_ANTIBIOTICS:
            sections.append(Section(None, (Line(reminder.text),), strong=True))
    return CardText(
        summary=summary,
        indicator=plan.infection_indicator,
        sections=tuple(sections),
        source=RuleSource.SEED_ATTRIBUTION.citation,
        overrides=_INFECTION_OVERRIDES,
    )


# -- the order hooks --------------------------------------------------------------------------


def crs_now(assessment: Assessment) -> str:
    """The assessment in one line for the most severe order card: grade, peak, other systems,
    day."""
    parts = [
        f"grade {assessment.grade} ({_system(assessment)})",
        f"peak {assessment.peak_grade}",
        *(
            f"{names.SYSTEM_NAMES[system]} grade {grade.grade}"
            for system, grade in assessment.other_systems.items()
        ),
        *other_grades(assessment),
    ]
    day = _day(assessment)
    if day:
        parts.append(day)
    return " · ".join(parts)


def order_card_texts(
    assessment: Assessment, findings: Sequence[OrderFinding]
) -> tuple[CardText, ...]:
    """One card text per finding (in the given order): its summary, its full text, its source
    and the override reasons that fit it."""
    texts = []
    for finding in findings:
        if finding.code.about_the_patient:
            overrides = _INFECTION_OVERRIDES
        elif finding.code.is_dose_finding:
            overrides = _DOSE_OVERRIDES
        else:
            overrides = _OTHER_OVERRIDES
        texts.append(
            CardText(
                summary=finding.summary,
                indicator=finding.severity,
                sections=(Section(None, (Line(formats.sentence(finding.text)),)),),
                source=finding.source.citation,
                overrides=overrides,
            )
        )
    return tuple(texts)


def crs_now_section(
    assessment: Assessment, problems: Sequence[str | ProblemLine] = ()
) -> tuple[Section, ...]:
    """What the most severe order card adds: the CRS grade now, and the data not read."""
    sections = [Section(CARD["crs-now"], (Line(crs_now(assessment)),))]
    problem = _problems(problems)
    if problem is not None:
        sections.append(problem)
    return tuple(sections)


def correction_texts(finding: OrderFinding, rule: str) -> tuple[str, str]:
    """The label and action description of a dose correction (an ``update`` suggestion)."""
    dose = finding.corrected_dose_mg
    return (
        CARD["change-to"].format(drug=finding.drug, dose=dose),
        CARD["set-dose"].format(drug=finding.drug, dose=dose, rule=rule),
    )


# -- a possible therapy that could not be confirmed ----------------------------------------------


def check_incomplete_text(
    assessment: Assessment, problems: Sequence[str | ProblemLine] = ()
) -> CardText:
    """An info card for a patient out of scope whose therapy may be in what could not be read
    (SPEC 2.1): administrations whose drug could not be read (``unconfirmed_therapies``), or,
    without those, the administrations or procedures themselves not read in full. The check is
    said to be incomplete instead of staying silent. ``problems`` are the short sentences of
    the data that could not be read (which data)."""
    possible = sorted(assessment.unconfirmed_therapies, key=lambda item: item.time)
    if possible:
        lead = _unidentified_administrations(possible, assessment)
    elif problems:
        lead = CARD["incomplete-unread"]
    else:
        raise ValueError("no unconfirmed therapy and no data unread: the check is not incomplete")
    sections = [
        Section(None, (Line(lead),)),
        Section(None, (Line(CARD["incomplete-check"]),), strong=True),
    ]
    unread = _problems(problems)
    if unread is not None:
        sections.append(unread)
    return CardText(
        summary=formats.fit_summary(CARD["incomplete-summary"], CARD["incomplete-summary-short"]),
        indicator=Severity.INFO,
        sections=tuple(sections),
        source=SCOPE,
        overrides=_OTHER_OVERRIDES,
    )


def _unidentified_administrations(
    possible: Sequence[UnidentifiedAdministration], assessment: Assessment
) -> str:
    """ "Whether ... could not be confirmed: the drug of 2 medication administrations from
    28 May 09:00 to 3 Jun 07:00 could not be identified. CRS was not graded." (oldest first)"""
    count = len(possible)
    administrations = (
        CARD["incomplete-one"] if count == 1 else CARD["incomplete-many"].format(count=count)
    )
    zone = assessment.timezone
    first, last = possible[0].time, possible[-1].time
    if first == last:
        when = CARD["incomplete-on"].format(time=formats.clock(first, zone))
    else:
        when = CARD["incomplete-between"].format(
            first=formats.clock(first, zone), last=formats.clock(last, zone)
        )
    return CARD["incomplete"].format(administrations=administrations, when=when)


def check_incomplete_section(problems: Sequence[str | ProblemLine] = ()) -> tuple[Section, ...]:
    """What the most severe order card adds for a patient whose CRS check is incomplete (in
    place of ``crs_now_section``): CRS was not graded, so only the checks that need no grade
    were made; what to do; and the data not read."""
    sections = [
        Section(CARD["crs-now"], (Line(CARD["incomplete-crs-now"]),)),
        Section(None, (Line(CARD["incomplete-check"]),), strong=True),
    ]
    problem = _problems(problems)
    if problem is not None:
        sections.append(problem)
    return tuple(sections)


def unread_orders_text(reasons: Sequence[str]) -> CardText:
    """A warning that draft orders could not be read, so they were not checked (never silence:
    an unread order must not look like a checked one)."""
    count = len(reasons)
    orders = f"{count} draft order{'s' if count != 1 else ''}"
    reason_text = "; ".join(dict.fromkeys(reasons))
    return CardText(
        summary=formats.fit_summary(CARD["unread-orders-summary"].format(count=orders)),
        indicator=Severity.WARNING,
        sections=(
            Section(None, (Line(CARD["unread-orders"].format(count=orders, reasons=reason_text)),)),
        ),
        source=RuleSource.SEED_FIGURE_2.citation,
        overrides=_OTHER_OVERRIDES,
    )
