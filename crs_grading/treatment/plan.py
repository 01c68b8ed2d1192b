"""The treatment algorithm of seed Figure 2 (SPEC 2.6) with the attribution rule (SPEC 2.7) and
ICANS beside CRS (SPEC 2.9).

``plan_treatment`` reads an ``Assessment`` and returns a ``TreatmentPlan``: advice for every
grade, immunosuppressant suggestions with weight-based doses at grade 2 (older or comorbid
patients) and grades 3 and 4, dexamethasone for ICANS grade >= 2 when CRS is at most grade 1
(never tocilizumab), the redosing limits, the seed's sepsis caution, the colour of the card and
every reminder the cards show, each placed on one card. It advises; whether the picture is CRS,
ICANS or infection stays the clinician's call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crs_grading import wording
from crs_grading.assessment import Assessment, AttributionWarning
from crs_grading.criteria import AdviceCode, RedoseRule, ReminderCode, Severity, WarningCode
from crs_grading.inputs import Immunosuppressant
from crs_grading.tables import lee2014
from crs_grading.tables.sources import RuleSource
from crs_grading.tables.treatment import CORTICOSTEROID_REPEAT_AFTER, ICANS_CORTICOSTEROID_GRADE
from crs_grading.treatment._context import (
    RedoseBlock,
    RiskFactors,
    TocilizumabStatus,
    icans_alone,
    infection_signals,
    risk_factors,
    sepsis_caution,
    signal_names,
    tocilizumab_status,
)
from crs_grading.treatment.dosing import RXNORM, compute_dose
from crs_grading.treatment.model import (
    Advice,
    CardRole,
    Recommendation,
    RecommendationRole,
    Reminder,
    TreatmentPlan,
    WithheldTreatment,
)
from crs_grading.treatment.options import TreatmentOptions
from crs_grading.wording.phrases import (
    ADVICE,
    ADVICE_BESIDE_ICANS,
    CARD,
    CAUTION_CARD,
    CAUTION_CARD_ICANS,
    CAUTION_ICANS,
    CULTURES,
    REDOSE,
    REDOSE_BRIEF,
    WARNINGS_SHORT,
)

__all__ = ["card_indicator", "plan_treatment"]

_TOCILIZUMAB = Immunosuppressant.TOCILIZUMAB
_DEXAMETHASONE = Immunosuppressant.DEXAMETHASONE
_METHYLPREDNISOLONE = Immunosuppressant.METHYLPREDNISOLONE


def plan_treatment(
    assessment: Assessment,
    options: TreatmentOptions | None = None,
    *,
    now: datetime | None = None,
    unread_infection_data: tuple[str, ...] = (),
) -> TreatmentPlan:
    """What seed Figure 2 says for this assessment, at ``now`` (default: ``assessment.as_of``).

    The plan is computed whether or not the patient is in scope; the cards layer shows nothing
    for a patient out of scope (SPEC 2.1). ``unread_infection_data`` names the data that would
    show an infection signal (SPEC 2.7) and could not be read in full ("labs", "blood
    cultures"): no suggestion is then preselected, as with a signal, since none could be seen.
    """
    options = options or TreatmentOptions()
    now = assessment.as_of if now is None else now
    planner = _Planner(assessment, options, now, unread_infection_data)
    return planner.plan()


class _Planner:
    """Builds one plan; holds what every branch reads so the branches stay short."""

    def __init__(
        self,
        assessment: Assessment,
        options: TreatmentOptions,
        now: datetime,
        unread_infection_data: tuple[str, ...] = (),
    ) -> None:
        self.unread_infection_data = unread_infection_data
        self.assessment = assessment
        self.options = options
        self.now = now
        self.zone = assessment.timezone
        self.grade = assessment.grade
        self.icans = assessment.icans.grade
        self.icans_alone = icans_alone(assessment)
        self.risk: RiskFactors = risk_factors(assessment, options)
        self.tocilizumab: TocilizumabStatus = tocilizumab_status(assessment, options, now)
        self.advice: list[Advice] = []
        self.recommendations: list[Recommendation] = []
        self.withheld: list[WithheldTreatment] = []

    # -- the algorithm ------------------------------------------------------------------------

    def plan(self) -> TreatmentPlan:
        grade = self.grade
        if grade >= 5:
            self._advise(AdviceCode.DEATH_RECORDED, RuleSource.SEED_GRADE_TEXT)
        elif grade <= 0:
            self._advise(AdviceCode.MONITORING, RuleSource.SEED_FIGURE_2)
            self._fever_reminder()
        else:
            self._supportive_care()
            if grade == 1:
                self._grade_1()
            elif grade == 2:
                self._grade_2()
            else:
                self._grade_3_or_4()
        if grade < 5:
            if self.icans_alone:
                self._icans_corticosteroid()
            elif grade == 2 and self.icans >= ICANS_CORTICOSTEROID_GRADE:
                self._advise(
                    AdviceCode.ICANS_BESIDE_GRADE_2_CRS,
                    RuleSource.ICANS_CORTICOSTEROID,
                    icans=str(self.icans),
                )
            self._tocilizumab_history()

        signals = infection_signals(self.assessment)
        caution = None
        recommendations = self._ordered(self.recommendations)
        if signals and recommendations:
            # SPEC 2.7 [seed]: warn, never preselect immunosuppression when infection could
            # explain the picture; the caution goes on the plan and on every suggestion.
            if self.icans_alone:
                caution = CAUTION_ICANS.format(signals=signal_names(signals))
                why = (
                    "sepsis or an infection of the nervous system can cause encephalopathy too, "
                    "and attribution is the clinician's call."
                )
            else:
                caution = sepsis_caution(signals)
                why = (
                    "hypotension from sepsis would not call for tocilizumab or corticosteroids, "
                    "and attribution is the clinician's call."
                )
            recommendations = tuple(
                replace(
                    r,
                    is_recommended=False,
                    reason=(
                        f"{r.reason} Not preselected: infection signals are present "
                        f"({signal_names(signals)}); {why}"
                    ),
                )
                for r in recommendations
            )
        elif self.unread_infection_data and recommendations:
            # SPEC 2.7 asks for the signals; found in review: with labs, cultures and problems
            # unread, tocilizumab was preselected as if none could be present.
            unread = ", ".join(self.unread_infection_data)
            recommendations = tuple(
                replace(
                    r,
                    is_recommended=False,
                    reason=(
                        f"{r.reason} Not preselected: the data that would show an infection "
                        f"could not be read in full ({unread}); check for infection before "
                        "immunosuppression."
                    ),
                )
                for r in recommendations
            )
        warnings = self.assessment.attribution_warnings
        return TreatmentPlan(
            grade=grade,
            protocol=self.options.protocol,
            indicator=card_indicator(grade, recommendations, warnings, icans_grade=self.icans),
            next_step=self._next_step(recommendations, caution),
            advice=tuple(self.advice),
            recommendations=recommendations,
            withheld=tuple(self.withheld),
            attribution_warnings=warnings,
            attribution_caution=caution,
            reassess_at=self.tocilizumab.reassess_at if grade < 5 else None,
            reminders=self._reminders(caution),
            infection_indicator=(
                None if not signals else Severity.CRITICAL if caution else Severity.WARNING
            ),
        )

    def _grade_1(self) -> None:
        self._advise(AdviceCode.SYMPTOMATIC_TREATMENT, RuleSource.SEED_GRADE_TEXT)

    def _grade_2(self) -> None:
        self._advise(AdviceCode.CLOSE_MONITORING, RuleSource.SEED_GRADE_TEXT)
        self._advise(AdviceCode.CARDIAC_MONITORING, RuleSource.SEED_GRADE_TEXT)
        if not self.risk.present:
            if self.risk.age_years is None:
                who = "the age is unknown and no significant comorbidity is recorded"
                more = " If the patient is older, tocilizumab may be considered."
            else:
                who = (
                    f"the patient is not older ({wording.age(self.risk.age_years)}) and has no "
                    "significant comorbidity recorded"
                )
                more = ""
            self._advise(
                AdviceCode.NO_IMMUNOSUPPRESSION_GRADE_2,
                RuleSource.SEED_FIGURE_2,
                who=who,
                more=more,
            )
            return
        reason = (
            f"Grade 2 CRS with {self.risk.describe()}: in older patients and patients with "
            "significant comorbidities, immunosuppression may be appropriate at grade 2, "
            "depending on clinical judgement."
        )
        status = self.tocilizumab
        last = status.last
        if status.block is not None:
            self._withhold_tocilizumab(status.block)
        elif last is not None:
            short, _ = REDOSE[RedoseRule.NOT_INDICATED]
            reassess = wording.duration(self.options.reassess_after)
            self.withheld.append(
                WithheldTreatment(
                    _TOCILIZUMAB,
                    RedoseRule.NOT_INDICATED,
                    short.format(reassess=reassess),
                    RuleSource.SEED_TOCILIZUMAB,
                    REDOSE_BRIEF[RedoseRule.NOT_INDICATED],
                )
            )
        else:
            self._suggest(
                _TOCILIZUMAB,
                RecommendationRole.CONSIDER,
                is_recommended=False,
                reason=reason,
                note=f"to consider: {self.risk.describe()}",
                source=RuleSource.SEED_FIGURE_2,
            )

    def _grade_3_or_4(self) -> None:
        grade = self.grade
        assessment = self.assessment
        self._advise(AdviceCode.ICU_MONITORING, RuleSource.SEED_GRADE_TEXT)
        self._advise(AdviceCode.CARDIAC_MONITORING, RuleSource.SEED_GRADE_TEXT)
        if grade == 3:
            self._advise(AdviceCode.IMMUNOSUPPRESSION_FOR_ALL, RuleSource.SEED_GRADE_TEXT)
        else:
            self._advise(AdviceCode.LIFE_THREATENING, RuleSource.SEED_GRADE_TEXT)

        neuro = assessment.neurologic_findings
        dexamethasone_first = bool(neuro) and not assessment.vasopressor_in_window
        if dexamethasone_first:
            # The finding's text up to its first parenthesis: "GCS 13", "encephalopathy".
            findings = ", ".join(
                dict.fromkeys(
                    finding.text.split(" (")[0].strip() or finding.kind for finding in neuro
                )
            )
            self._suggest(
                _DEXAMETHASONE,
                RecommendationRole.FIRST_LINE,
                is_recommended=True,
                reason=(
                    f"Grade {grade} CRS with neurologic dysfunction ({findings}) and no "
                    "vasopressor in the window: a corticosteroid is the preferred first-line "
                    "immunosuppressant, because tocilizumab does not cross the blood-brain "
                    "barrier; dexamethasone penetrates it."
                ),
                note=f"first line: neurologic dysfunction ({findings}), no vasopressor",
                source=RuleSource.SEED_NEUROLOGIC,
            )

        status = self.tocilizumab
        last = status.last
        if status.block is not None:
            self._withhold_tocilizumab(status.block)
        elif last is None:
            if dexamethasone_first:
                self._suggest(
                    _TOCILIZUMAB,
                    RecommendationRole.ALSO_OFFERED,
                    is_recommended=False,
                    reason=(
                        "Tocilizumab remains an option beside dexamethasone: it is the first-line "
                        "immunosuppressant for grade 3 or 4 CRS without neurologic dysfunction, "
                        "and some physicians use both agents in severe CRS."
                    ),
                    note="also offered: some physicians use both agents",
                    source=RuleSource.SEED_NEUROLOGIC,
                )
            else:
                reason = (
                    f"Grade {grade} CRS: every patient with grade 3 or 4 CRS should receive "
                    "immunosuppression, and tocilizumab is the first-line agent."
                )
                note = f"first line for grade {grade} CRS"
                if neuro:
                    reason += (
                        " Neurologic dysfunction is present, but a vasopressor is running "
                        "(hemodynamic instability), so tocilizumab stays first line; "
                        "corticosteroids are preferred first only without significant "
                        "hemodynamic instability."
                    )
                    note += " (a vasopressor is running despite neurologic dysfunction)"
                self._suggest(
                    _TOCILIZUMAB,
                    RecommendationRole.FIRST_LINE,
                    is_recommended=True,
                    reason=reason,
                    note=note,
                    source=RuleSource.SEED_FIGURE_2,
                )
        else:
            elapsed = wording.duration(self.now - last.time)
            self._suggest(
                _TOCILIZUMAB,
                RecommendationRole.SECOND_DOSE,
                is_recommended=not dexamethasone_first,
                reason=(
                    f"Still grade {grade} CRS {elapsed} after the last tocilizumab dose "
                    f"({wording.clock(last.time, self.zone)}): when the condition has not "
                    f"improved within {wording.duration(self.options.reassess_after)}, a second "
                    f"dose should be considered. This would be dose {len(status.doses) + 1} of "
                    f"at most {self.options.max_tocilizumab_doses} (tocilizumab label)."
                ),
                note=(
                    f"dose {len(status.doses) + 1} of at most "
                    f"{self.options.max_tocilizumab_doses}: not improved {elapsed} after the last"
                ),
                source=RuleSource.SEED_TOCILIZUMAB,
            )

        # A second agent after 24 h without improvement [seed Tocilizumab]; with dexamethasone
        # already first line, another corticosteroid would duplicate it.
        since = status.since_last(self.now)
        if since is not None and since >= self.options.reassess_after and not dexamethasone_first:
            no_more = (
                f" No further tocilizumab: {len(status.doses)} doses have been given."
                if status.block is not None
                else ""
            )
            self._suggest(
                _METHYLPREDNISOLONE,
                RecommendationRole.SECOND_AGENT,
                is_recommended=not any(r.is_recommended for r in self.recommendations),
                reason=(
                    f"Still grade {grade} CRS {wording.duration(since)} after tocilizumab: a "
                    "second dose of tocilizumab and/or a second immunosuppressant such as a "
                    "corticosteroid should be considered; methylprednisolone 2 mg/kg/day is a "
                    f"common initial dose, weaned over several days.{no_more}"
                ),
                note="second agent, weaned over several days",
                source=RuleSource.SEED_TOCILIZUMAB,
            )

    def _icans_corticosteroid(self) -> None:
        """SPEC 2.9: ICANS grade >= 2 with CRS grade <= 1 gets dexamethasone (the dosing table's
        dose) and no tocilizumab, which does not cross the blood-brain barrier [seed text]."""
        crs = "no CRS criteria met" if self.grade <= 0 else "grade 1 CRS"
        drivers = "; ".join(d.text for d in self.assessment.icans.current.drivers)
        self._suggest(
            _DEXAMETHASONE,
            RecommendationRole.FOR_ICANS,
            is_recommended=True,
            reason=(
                f"ICANS grade {self.icans} ({drivers}) with {crs}: a corticosteroid treats ICANS. "
                "Tocilizumab is not suggested: it does not cross the blood-brain barrier, and "
                "dexamethasone penetrates it."
            ),
            note=(
                f"for ICANS grade {self.icans}; not tocilizumab (it does not cross the "
                "blood-brain barrier)"
            ),
            source=RuleSource.ICANS_CORTICOSTEROID,
        )

    # -- advice shared by grades --------------------------------------------------------------

    def _supportive_care(self) -> None:
        self._advise(AdviceCode.SUPPORTIVE_CARE, RuleSource.SEED_FIGURE_2)
        self._advise(AdviceCode.CONSIDER_INFECTION, RuleSource.SEED_INFECTION)
        self._fever_reminder()

    def _fever_reminder(self) -> None:
        if self.assessment.fever_in_window:
            self.advice.append(
                Advice(
                    AdviceCode.CULTURES_AND_ANTIBIOTICS,
                    self._cultures_text(),
                    RuleSource.SEED_INFECTION,
                )
            )

    def _neutropenic(self) -> bool:
        return any(w.code is WarningCode.NEUTROPENIA for w in self.assessment.attribution_warnings)

    def _cultures_text(self) -> str:
        return CULTURES["febrile-neutropenia" if self._neutropenic() else "fever"]

    def _tocilizumab_history(self) -> None:
        given = self.assessment.immunosuppressants_given
        if given:
            doses = "; ".join(
                f"{dose.agent}"
                + (f" {wording.number(dose.dose_mg)} mg" if dose.dose_mg is not None else "")
                + f" at {wording.clock(dose.time, self.zone)}"
                + f" ({wording.ago(dose.time, self.now)})"
                for dose in sorted(given, key=lambda dose: dose.time)
            )
            self._advise(AdviceCode.ALREADY_GIVEN, RuleSource.SEED_TOCILIZUMAB, doses=doses)
        status = self.tocilizumab
        if status.reassess_at is not None and status.last is not None:
            self._advise(
                AdviceCode.REASSESS_AFTER_TOCILIZUMAB,
                RuleSource.SEED_TOCILIZUMAB,
                at=wording.clock(status.reassess_at, self.zone),
            )

    # -- what the cards show, each fact once ----------------------------------------------------

    def _reminders(self, caution: str | None) -> tuple[Reminder, ...]:
        """The safety facts the cards must show (SPEC 2.3, 2.7), each placed on one card: the
        infection signals on the infection card, the rest on the assessment card."""
        assessment = self.assessment
        reminders: list[Reminder] = []
        assessment_card, infection_card = CardRole.ASSESSMENT, CardRole.INFECTION
        signals = infection_signals(assessment)
        if caution is not None:
            # The infection card beside it names the signals (each fact once).
            icans = self.icans_alone
            reminders.append(
                Reminder(
                    ReminderCode.SEPSIS_CAUTION,
                    CAUTION_CARD_ICANS if icans else CAUTION_CARD,
                    assessment_card,
                    short=CARD["caution-short-icans" if icans else "caution-short"],
                )
            )
        for warning in assessment.attribution_warnings:
            reminders.append(self._warning_reminder(warning))
        masked = any(w.code is WarningCode.MASKED_FEVER for w in assessment.attribution_warnings)
        grade = self.grade
        if 2 <= grade <= 4 and not assessment.fever_in_window:
            text = CARD["no-fever"].format(
                threshold=wording.number(lee2014.FEVER_THRESHOLD_C, 1),
                window=wording.span(assessment.vitals_window),
            )
            if assessment.immunosuppressants_given and not masked:
                text = f"{text} {CARD['masked']}"
            reminders.append(
                Reminder(ReminderCode.NO_FEVER, text, assessment_card, short=CARD["no-fever-short"])
            )
        febrile_neutropenia = assessment.fever_in_window and self._neutropenic()
        if assessment.fever_in_window and grade < 5 and not febrile_neutropenia:
            # With febrile neutropenia the neutropenia signal itself says it (SPEC 2.7 table).
            card = infection_card if signals else assessment_card
            reminders.append(
                Reminder(ReminderCode.CULTURES_AND_ANTIBIOTICS, self._cultures_text(), card)
            )
        return tuple(reminders)

    @staticmethod
    def _warning_reminder(warning: AttributionWarning) -> Reminder:
        text = wording.sentence(warning.text)
        if warning.is_infection_signal:
            code, card = ReminderCode.INFECTION_SIGNAL, CardRole.INFECTION
        else:
            code, card = ReminderCode.ATTRIBUTION_WARNING, CardRole.ASSESSMENT
        if warning.code is WarningCode.MASKED_FEVER:
            text = CARD["masked-fever"]  # the already-given advice names the drugs and times
        short = WARNINGS_SHORT[warning.code]
        return Reminder(code, text, card, warning.evidence, warning.code, short)

    # -- building blocks ----------------------------------------------------------------------

    def _advise(self, code: AdviceCode, source: RuleSource, **words: str) -> None:
        text = ADVICE[code]
        if self.icans >= ICANS_CORTICOSTEROID_GRADE:
            # What the CRS advice says is about CRS only: ICANS may call for a corticosteroid.
            text = ADVICE_BESIDE_ICANS.get(code, text)
        self.advice.append(Advice(code, text.format(**words), source))

    def _withhold_tocilizumab(self, block: RedoseBlock) -> None:
        self.withheld.append(
            WithheldTreatment(_TOCILIZUMAB, block.rule, block.short, block.source, block.brief)
        )

    def _suggest(
        self,
        drug: Immunosuppressant,
        role: RecommendationRole,
        *,
        is_recommended: bool,
        reason: str,
        note: str,
        source: RuleSource,
    ) -> None:
        dose = compute_dose(
            drug,
            self.options.protocol,
            weight=self.assessment.weight,
            age_years=self.assessment.age_years,
        )
        if dose.missing is not None:
            reason += f" No dose is calculated ({dose.missing})."
        recent = self._recent_dose(drug)
        if recent is not None:
            given, due = recent
            is_recommended = False  # never preselect a dose just given
            reason += (
                f" {wording.capitalised(str(drug))} was given at "
                f"{wording.clock(given, self.zone)} ({wording.ago(given, self.now)}): the next "
                f"dose is not due before {wording.clock(due, self.zone)} (our policy; the seed "
                "gives no interval)."
            )
            note = f"{note}; given {wording.ago(given, self.now)}"
        code = RXNORM[drug]
        self.recommendations.append(
            Recommendation(
                drug=drug,
                role=role,
                is_recommended=is_recommended,
                reason=reason,
                source=source,
                dose=dose,
                rxnorm_code=code.rxnorm_code,
                rxnorm_display=code.rxnorm_display,
                note=note,
            )
        )

    def _recent_dose(self, drug: Immunosuppressant) -> tuple[datetime, datetime] | None:
        """(given, next due) when ``drug`` is a corticosteroid given less than its repeat
        interval ago (``CORTICOSTEROID_REPEAT_AFTER``), else None."""
        interval = CORTICOSTEROID_REPEAT_AFTER.get(drug)
        if interval is None:
            return None
        times = [
            dose.time
            for dose in self.assessment.immunosuppressants_given
            if dose.agent is drug and dose.time <= self.now
        ]
        if not times or self.now - max(times) >= interval:
            return None
        return max(times), max(times) + interval

    @staticmethod
    def _ordered(recommendations: list[Recommendation]) -> tuple[Recommendation, ...]:
        """The preferred suggestion first, the rest in the order the algorithm gave them."""
        return tuple(sorted(recommendations, key=lambda r: not r.is_recommended))

    def _next_step(self, recommendations: tuple[Recommendation, ...], caution: str | None) -> str:
        grade = self.grade
        if grade >= 5:
            return "death recorded: no treatment suggestion"
        if recommendations:
            first = recommendations[0]
            recent = self._recent_dose(first.drug)
            if recent is not None and not first.is_recommended:
                given, due = recent
                return (
                    f"{first.drug} given {wording.ago(given, self.now)}, next not before "
                    f"{wording.clock(due, self.zone)}"
                )
            if caution is not None and first.role is RecommendationRole.FOR_ICANS:
                return f"if ICANS rather than infection, {first.label}"
            if caution is not None:
                return f"if CRS rather than sepsis, {first.label}"
            if first.role is RecommendationRole.CONSIDER:
                return f"consider {first.label}"
            return first.label
        reassess_at = self.tocilizumab.reassess_at
        if reassess_at is not None and grade >= 1:
            return f"reassess at {wording.clock(reassess_at, self.zone)}, after tocilizumab"
        if grade <= 0:
            return "no CRS criteria met: continue monitoring"
        if grade == 1:
            return "symptomatic treatment only"
        if grade == 2:
            return "supportive care and close monitoring"
        return "intensive care; no further tocilizumab (dose limit reached)"


def card_indicator(
    grade: int,
    recommendations: tuple[Recommendation, ...],
    warnings: tuple[AttributionWarning, ...],
    *,
    icans_grade: int = 0,
) -> Severity:
    """The colour of the assessment card: the one place it is decided (SPEC section 4).

    Grade <= 1 info, 2 warning, >= 3 critical, by the worse of the CRS and the ICANS grade (the
    card names both, SPEC 2.9); and critical whenever any attribution warning meets an
    immunosuppressant suggestion (SPEC 4; for the four infection signals, SPEC 2.7 adds the
    sepsis caution and unselects the suggestion).
    """
    if recommendations and warnings:
        return Severity.CRITICAL
    grade = max(grade, icans_grade)
    if grade <= 1:
        return Severity.INFO
    if grade == 2:
        return Severity.WARNING
    return Severity.CRITICAL
