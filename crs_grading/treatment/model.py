"""What the treatment algorithm and the order checks conclude: plain data for the cards layer.

Nothing here is FHIR: ``cds_service/cards`` turns a ``TreatmentPlan`` into a card with
suggestions (each ``Recommendation`` with a ``dose_mg`` becomes a MedicationRequest) and the
``OrderFinding`` tuples of the order hooks into cards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from crs_grading.assessment import AttributionWarning
from crs_grading.criteria import (
    AdviceCode,
    OrderFindingCode,
    RedoseRule,
    ReminderCode,
    Severity,
    WarningCode,
)
from crs_grading.inputs import Immunosuppressant
from crs_grading.tables.sources import RuleSource
from crs_grading.treatment.dosing import DoseCalculation, Protocol


def most_severe(severities: list[Severity] | tuple[Severity, ...]) -> Severity:
    """The highest severity of ``severities`` (``INFO`` when there are none)."""
    return max(severities, key=lambda severity: severity.rank, default=Severity.INFO)


@dataclass(frozen=True, slots=True)
class Advice:
    """One line of non-drug advice on the card (monitoring, supportive care, infection).

    ``code`` is a stable kebab-case name documented in ``docs/treatment.md``.
    """

    code: AdviceCode
    text: str
    source: RuleSource


class RecommendationRole(enum.StrEnum):
    """Where a suggestion stands in the algorithm."""

    FIRST_LINE = "first-line"  # grade 3-4: tocilizumab, or dexamethasone with neuro findings
    ALSO_OFFERED = "also-offered"  # tocilizumab beside dexamethasone first line
    CONSIDER = "consider"  # grade 2 in an older or comorbid patient
    SECOND_DOSE = "second-dose"  # tocilizumab again, grade >= 3 persisting 24 h after a dose
    SECOND_AGENT = "second-agent"  # methylprednisolone, grade >= 3 persisting 24 h after one
    FOR_ICANS = "for-icans"  # dexamethasone for ICANS >= 2 with CRS grade <= 1 (SPEC 2.9)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One immunosuppressant the algorithm suggests, with why, where from and the dose.

    ``is_recommended`` is the CDS Hooks suggestion flag: at most one suggestion of a plan has it,
    and none when infection signals are present (SPEC 2.7). An order can be built only when
    ``dose.dose_mg`` is set (``orderable``). ``reason`` is the full rationale; ``note`` says in
    a few words why it is suggested, for the card ("first line for grade 3 CRS").
    """

    drug: Immunosuppressant
    role: RecommendationRole
    is_recommended: bool
    reason: str
    source: RuleSource
    dose: DoseCalculation
    rxnorm_code: str
    rxnorm_display: str
    route: str = "intravenous"
    note: str = ""

    @property
    def orderable(self) -> bool:
        return self.dose.dose_mg is not None

    @property
    def label(self) -> str:
        """A short suggestion label: "tocilizumab 280 mg IV over 1 h"."""
        return self.dose.summary


@dataclass(frozen=True, slots=True)
class WithheldTreatment:
    """A drug the algorithm would otherwise have suggested, and why it is not suggested now.

    ``code`` is one of ``too-many-doses``, ``redose-too-soon``, ``redose-before-reassessment``,
    ``redose-not-indicated`` (the same codes as the order checks where they overlap).
    """

    drug: Immunosuppressant
    code: RedoseRule
    reason: str
    source: RuleSource
    #: ``reason`` in the fewest words (the time or count that matters), for a card short of room.
    brief: str | None = None


class CardRole(enum.StrEnum):
    """Which card of a patient-view answer shows a fact (each fact on one card only)."""

    ASSESSMENT = "assessment"  # the assessment card: grade, next step, cautions
    INFECTION = "infection"  # the infection card: the four infection signals (SPEC 2.7)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A safety fact the cards must show, and the one card that shows it.

    ``warning`` names the attribution warning the reminder says, when it says one; ``short``
    says it in the fewest words, for a card that would otherwise be too long.
    """

    code: ReminderCode
    text: str
    card: CardRole
    evidence: tuple[str, ...] = ()
    warning: WarningCode | None = None
    short: str | None = None


@dataclass(frozen=True, slots=True)
class TreatmentPlan:
    """What the treatment algorithm says for one assessment (SPEC 2.6, 2.7).

    - ``indicator``: the colour of the assessment card, decided once by ``plan.card_indicator``:
      grade <= 1 info, 2 warning, >= 3 critical; any attribution warning together with a
      suggestion makes it critical (SPEC 4, 2.7).
    - ``next_step``: a short phrase naming the next step, for the card summary.
    - ``advice``: supportive care, monitoring and infection advice, in reading order.
    - ``recommendations``: immunosuppressants suggested, the preferred one first.
    - ``withheld``: what is not suggested now and why (dose limits, reassessment).
    - ``attribution_warnings``: every warning of the assessment, never filtered.
    - ``attribution_caution``: the seed's sepsis caution, set when an infection signal and a
      suggestion meet; the card must show it.
    - ``reassess_at``: when the last tocilizumab dose's 24 h reassessment falls, if still ahead.
    - ``reminders``: every safety fact the cards show (the sepsis caution, each attribution
      warning, CRS without fever, cultures and antibiotics), each placed on one card.
    - ``infection_indicator``: the colour of the infection card (critical with the sepsis
      caution, else warning); ``None`` without an infection signal (no infection card).
    """

    grade: int
    protocol: Protocol
    indicator: Severity
    next_step: str
    advice: tuple[Advice, ...]
    recommendations: tuple[Recommendation, ...]
    withheld: tuple[WithheldTreatment, ...]
    attribution_warnings: tuple[AttributionWarning, ...]
    attribution_caution: str | None
    reassess_at: datetime | None
    reminders: tuple[Reminder, ...] = ()
    infection_indicator: Severity | None = None

    @property
    def critical(self) -> bool:
        return self.indicator is Severity.CRITICAL

    @property
    def infection_signals(self) -> tuple[AttributionWarning, ...]:
        return tuple(w for w in self.attribution_warnings if w.is_infection_signal)

    @property
    def recommended(self) -> Recommendation | None:
        """The suggestion with ``is_recommended``, if any."""
        return next((r for r in self.recommendations if r.is_recommended), None)


@dataclass(frozen=True, slots=True)
class OrderFinding:
    """One finding of the order checks on a draft order.

    ``code`` is a stable kebab-case name (``docs/treatment.md``). ``summary`` says it in under
    140 characters (a card's summary), ``text`` in full. ``corrected_dose_mg`` is the protocol
    dose an ``update`` suggestion should carry, when there is one. ``evidence`` holds the
    ``Type/id`` references behind the finding (attribution warnings, the weight used).
    ``protocol_dose`` is how the corrected dose was worked out (its ``text`` becomes the
    corrected order's dosage text); ``preselect_correction`` is False when infection could
    explain the picture (SPEC 2.7: no immunosuppression preselected, corrections included).
    """

    severity: Severity
    code: OrderFindingCode
    summary: str
    text: str
    source: RuleSource
    drug: Immunosuppressant
    order_reference: str
    corrected_dose_mg: int | None = None
    evidence: tuple[str, ...] = ()
    protocol_dose: DoseCalculation | None = None
    preselect_correction: bool = True
