"""The treatment algorithm of seed Figure 2 (SPEC 2.6) with the attribution rule (SPEC 2.7).

``plan_treatment`` reads an ``Assessment`` and returns a ``TreatmentPlan``: advice for every
grade, immunosuppressant suggestions with weight-based doses at grade 2 (older or comorbid
patients) and grades 3 and 4, the redosing limits, and the seed's sepsis caution. It advises;
whether the picture is CRS or infection stays the clinician's call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crs_grading import wording
from crs_grading.assessment import Assessment, AttributionWarning
from crs_grading.criteria import AdviceCode, RedoseRule, Severity, WarningCode
from crs_grading.inputs import Immunosuppressant
from crs_grading.tables.sources import RuleSource
from crs_grading.treatment._context import (
    RedoseBlock,
    RiskFactors,
    TocilizumabStatus,
    infection_signals,
    risk_factors,
    sepsis_caution,
    signal_names,
    tocilizumab_status,
)
from crs_grading.treatment.dosing import RXNORM, compute_dose
from crs_grading.treatment.model import (
    Advice,
    Recommendation,
    RecommendationRole,
    TreatmentPlan,
    WithheldTreatment,
)
from crs_grading.treatment.options import TreatmentOptions

__all__ = ["card_indicator", "plan_treatment"]

_TOCILIZUMAB = Immunosuppressant.TOCILIZUMAB
_DEXAMETHASONE = Immunosuppressant.DEXAMETHASONE
_METHYLPREDNISOLONE = Immunosuppressant.METHYLPREDNISOLONE


def plan_treatment(
    assessment: Assessment,
    options: TreatmentOptions | None = None,
    *,
    now: datetime | None = None,
) -> TreatmentPlan:
    """What seed Figure 2 says for this assessment, at ``now`` (default: ``assessment.as_of``).

    The plan is computed whether or not the patient is in scope; the cards layer shows nothing
    for a patient out of scope (SPEC 2.1).
    """
    options = options or TreatmentOptions()
    now = assessment.as_of if now is None else now
    planner = _Planner(assessment, options, now)
    return planner.plan()


class _Planner:
    """Builds one plan; holds what every branch reads so the branches stay short."""

    def __init__(self, assessment: Assessment, options: TreatmentOptions, now: datetime) -> None:
        self.assessment = assessment
        self.options = options
        self.now = now
        self.grade = assessment.grade
        self.risk: RiskFactors = risk_factors(assessment, options)
        self.tocilizumab: TocilizumabStatus = tocilizumab_status(assessment, options, now)
        self.advice: list[Advice] = []
        self.recommendations: list[Recommendation] = []
        self.withheld: list[WithheldTreatment] = []

    # -- the algorithm ------------------------------------------------------------------------

    def plan(self) -> TreatmentPlan:
        grade = self.grade
        if grade >= 5:
            self._advise(
                AdviceCode.DEATH_RECORDED,
                "Death recorded (grade 5): no treatment suggestion.",
                RuleSource.SEED_GRADE_TEXT,
            )
        elif grade <= 0:
            self._advise(
                AdviceCode.MONITORING,
                "No CRS criteria met: continue monitoring; no CRS-directed treatment is needed.",
                RuleSource.SEED_FIGURE_2,
            )
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
            self._tocilizumab_history()

        signals = infection_signals(self.assessment)
        caution = None
        recommendations = self._ordered(self.recommendations)
        if signals and recommendations:
            # SPEC 2.7 [seed]: warn, never preselect immunosuppression when infection could
            # explain the picture; the caution goes on the plan and on every suggestion.
            caution = sepsis_caution(signals)
            recommendations = tuple(
                replace(
                    r,
                    is_recommended=False,
                    reason=(
                        f"{r.reason} Not preselected: infection signals are present "
                        f"({signal_names(signals)}); hypotension from sepsis would not call for "
                        "tocilizumab or corticosteroids, and attribution is the clinician's call."
                    ),
                )
                for r in recommendations
            )
        indicator = card_indicator(grade, recommendations, self.assessment.attribution_warnings)
        return TreatmentPlan(
            grade=grade,
            protocol=self.options.protocol,
            indicator=indicator,
            next_step=self._next_step(recommendations, caution),
            advice=tuple(self.advice),
            recommendations=recommendations,
            withheld=tuple(self.withheld),
            attribution_warnings=self.assessment.attribution_warnings,
            attribution_caution=caution,
            reassess_at=self.tocilizumab.reassess_at if grade < 5 else None,
        )

    def _grade_1(self) -> None:
        self._advise(
            AdviceCode.SYMPTOMATIC_TREATMENT,
            "Grade 1 CRS: symptomatic treatment only (for example antipyretics and fluids); "
            "no immunosuppression.",
            RuleSource.SEED_GRADE_TEXT,
        )

    def _grade_2(self) -> None:
        self._advise(
            AdviceCode.CLOSE_MONITORING,
            "Grade 2 CRS: supportive care and close monitoring (fluids, low-flow oxygen, one "
            "low-dose vasopressor if needed).",
            RuleSource.SEED_GRADE_TEXT,
        )
        self._cardiac_monitoring()
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
                "Immunosuppression is not suggested at grade 2: it is for older patients and "
                f"those with significant comorbidities, and {who}.{more}",
                RuleSource.SEED_FIGURE_2,
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
            self.withheld.append(
                WithheldTreatment(
                    _TOCILIZUMAB,
                    RedoseRule.NOT_INDICATED,
                    f"Tocilizumab given {wording.ago(last.time, self.now)} "
                    f"({wording.clock(last.time)}); a second dose is for grade 3 or higher "
                    f"persisting {wording.duration(self.options.reassess_after)} after the dose, "
                    "and the grade is now 2.",
                    RuleSource.SEED_TOCILIZUMAB,
                )
            )
        else:
            self._suggest(
                _TOCILIZUMAB,
                RecommendationRole.CONSIDER,
                is_recommended=False,
                reason=reason,
                source=RuleSource.SEED_FIGURE_2,
            )

    def _grade_3_or_4(self) -> None:
        grade = self.grade
        assessment = self.assessment
        self._advise(AdviceCode.ICU_MONITORING, _ICU_MONITORING, RuleSource.SEED_GRADE_TEXT)
        self._cardiac_monitoring()
        if grade == 3:
            self._advise(
                AdviceCode.IMMUNOSUPPRESSION_FOR_ALL,
                "Grade 3 CRS: immunosuppression for every patient, to prevent progression to "
                "grade 4 and irreversible organ dysfunction.",
                RuleSource.SEED_GRADE_TEXT,
            )
        else:
            self._advise(
                AdviceCode.LIFE_THREATENING,
                "Grade 4 CRS is immediately life-threatening: immunosuppression for every "
                "patient, to suppress the inflammatory cascade and prevent irreversible organ "
                "dysfunction.",
                RuleSource.SEED_GRADE_TEXT,
            )

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
                    source=RuleSource.SEED_NEUROLOGIC,
                )
            else:
                reason = (
                    f"Grade {grade} CRS: every patient with grade 3 or 4 CRS should receive "
                    "immunosuppression, and tocilizumab is the first-line agent."
                )
                if neuro:
                    reason += (
                        " Neurologic dysfunction is present, but a vasopressor is running "
                        "(hemodynamic instability), so tocilizumab stays first line; "
                        "corticosteroids are preferred first only without significant "
                        "hemodynamic instability."
                    )
                self._suggest(
                    _TOCILIZUMAB,
                    RecommendationRole.FIRST_LINE,
                    is_recommended=True,
                    reason=reason,
                    source=RuleSource.SEED_FIGURE_2,
                )
        else:
            self._suggest(
                _TOCILIZUMAB,
                RecommendationRole.SECOND_DOSE,
                is_recommended=not dexamethasone_first,
                reason=(
                    f"Still grade {grade} CRS {wording.duration(self.now - last.time)} after "
                    f"the last tocilizumab dose ({wording.clock(last.time)}): when the condition "
                    f"has not improved within {wording.duration(self.options.reassess_after)}, "
                    "a second dose should be considered. This would be dose "
                    f"{len(status.doses) + 1} of at most {self.options.max_tocilizumab_doses} "
                    "(label)."
                ),
                source=RuleSource.SEED_TOCILIZUMAB,
            )

        # A second agent after 24 h without improvement [seed Tocilizumab]; with dexamethasone
        # already first line, another corticosteroid would duplicate it.
        elapsed = status.since_last(self.now)
        if (
            elapsed is not None
            and elapsed >= self.options.reassess_after
            and not dexamethasone_first
        ):
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
                    f"Still grade {grade} CRS {wording.duration(elapsed)} after tocilizumab: a "
                    "second dose of tocilizumab and/or a second immunosuppressant such as a "
                    "corticosteroid should be considered; methylprednisolone 2 mg/kg/day is a "
                    f"common initial dose, weaned over several days.{no_more}"
                ),
                source=RuleSource.SEED_TOCILIZUMAB,
            )

    # -- advice shared by grades --------------------------------------------------------------

    def _supportive_care(self) -> None:
        self._advise(
            AdviceCode.SUPPORTIVE_CARE,
            "Vigilant supportive care: maintain hydration and blood pressure, and treat "
            "concurrent bacterial infection empirically.",
            RuleSource.SEED_FIGURE_2,
        )
        self._advise(
            AdviceCode.CONSIDER_INFECTION,
            "Consider infection: CRS mimics infection, so infection must be considered in every "
            "patient with CRS symptoms.",
            RuleSource.SEED_INFECTION,
        )
        self._fever_reminder()

    def _fever_reminder(self) -> None:
        if not self.assessment.fever_in_window:
            return
        neutropenic = any(
            w.code is WarningCode.NEUTROPENIA for w in self.assessment.attribution_warnings
        )
        text = (
            "Fever with neutropenia: obtain blood cultures and start empiric antibiotics."
            if neutropenic
            else "Fever: obtain blood cultures; start empiric antibiotics if neutropenic."
        )
        self._advise(AdviceCode.CULTURES_AND_ANTIBIOTICS, text, RuleSource.SEED_INFECTION)

    def _cardiac_monitoring(self) -> None:
        self._advise(
            AdviceCode.CARDIAC_MONITORING,
            "Watch cardiac function closely: decompensation may not be evident without careful "
            "monitoring; echocardiography if there is concern.",
            RuleSource.SEED_GRADE_TEXT,
        )

    def _tocilizumab_history(self) -> None:
        given = self.assessment.immunosuppressants_given
        if given:
            doses = "; ".join(
                f"{dose.agent}"
                + (f" {wording.number(dose.dose_mg)} mg" if dose.dose_mg is not None else "")
                + f" {wording.clock(dose.time)} ({wording.ago(dose.time, self.now)})"
                for dose in sorted(given, key=lambda dose: dose.time)
            )
            self._advise(
                AdviceCode.ALREADY_GIVEN,
                f"Given since day 0: {doses}.",
                RuleSource.SEED_TOCILIZUMAB,
            )
        status = self.tocilizumab
        if status.reassess_at is not None and status.last is not None:
            self._advise(
                AdviceCode.REASSESS_AFTER_TOCILIZUMAB,
                f"Tocilizumab given {wording.ago(status.last.time, self.now)} "
                f"({wording.clock(status.last.time)}): reassess at "
                f"{wording.clock(status.reassess_at)}; a second dose or a corticosteroid only if "
                "CRS has not improved by then.",
                RuleSource.SEED_TOCILIZUMAB,
            )

    # -- building blocks ----------------------------------------------------------------------

    def _advise(self, code: AdviceCode, text: str, source: RuleSource) -> None:
        self.advice.append(Advice(code, text, source))

    def _withhold_tocilizumab(self, block: RedoseBlock) -> None:
        self.withheld.append(
            WithheldTreatment(
                _TOCILIZUMAB,
                block.rule,
                f"No tocilizumab suggested now: {block.text}.",
                block.source,
            )
        )

    def _suggest(
        self,
        drug: Immunosuppressant,
        role: RecommendationRole,
        *,
        is_recommended: bool,
        reason: str,
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
            )
        )

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
            if caution is not None:
                return f"if CRS rather than sepsis: {first.label}"
            if first.role is RecommendationRole.CONSIDER:
                return f"consider {first.label}"
            return first.label
        reassess_at = self.tocilizumab.reassess_at
        if reassess_at is not None and grade >= 1:
            return f"reassess at {wording.clock(reassess_at)}, after tocilizumab"
        if grade <= 0:
            return "no CRS criteria met: continue monitoring"
        if grade == 1:
            return "symptomatic treatment only"
        if grade == 2:
            return "supportive care and close monitoring"
        return "intensive care; no further tocilizumab (dose limit reached)"


_ICU_MONITORING = "Monitor very closely, likely in an intensive care unit with 1:1 nursing."


def card_indicator(
    grade: int,
    recommendations: tuple[Recommendation, ...],
    warnings: tuple[AttributionWarning, ...],
) -> Severity:
    """The colour of the assessment card: the one place it is decided (SPEC section 4).

    Grade <= 1 info, 2 warning, >= 3 critical; and critical whenever any attribution warning
    meets an immunosuppressant suggestion (SPEC 4; for the four infection signals, SPEC 2.7 adds
    the sepsis caution and unselects the suggestion).
    """
    if recommendations and warnings:
        return Severity.CRITICAL
    if grade <= 1:
        return Severity.INFO
    if grade == 2:
        return Severity.WARNING
    return Severity.CRITICAL
