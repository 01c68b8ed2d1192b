"""CRS treatment: the seed's Figure 2 algorithm, weight-based doses and draft-order checks.

Pure Python on the grader's ``Assessment`` (SPEC 2.6, 2.7); no FHIR. The cards layer turns a
``TreatmentPlan`` into a card with suggested orders and ``OrderFinding`` tuples into order-hook
cards.

    plan = plan_treatment(assessment, TreatmentOptions(protocol=Protocol.FDA_LABEL))
    findings = check_draft_order(order, assessment, options)
"""

from __future__ import annotations

from crs_grading.criteria import AdviceCode, OrderFindingCode, RedoseRule, Severity
from crs_grading.treatment.checks import check_draft_order, check_draft_orders
from crs_grading.treatment.dosing import (
    DOSE_TABLE,
    RXNORM,
    DoseCalculation,
    DoseRow,
    DrugCode,
    Protocol,
    compute_dose,
    has_protocol_dose,
    round_half_up,
)
from crs_grading.treatment.model import (
    Advice,
    CardRole,
    OrderFinding,
    Recommendation,
    RecommendationRole,
    Reminder,
    TreatmentPlan,
    WithheldTreatment,
    most_severe,
)
from crs_grading.treatment.options import TreatmentOptions
from crs_grading.treatment.plan import card_indicator, plan_treatment
from crs_grading.treatment.sources import RuleSource

__all__ = [
    "DOSE_TABLE",
    "RXNORM",
    "Advice",
    "AdviceCode",
    "CardRole",
    "DoseCalculation",
    "DoseRow",
    "DrugCode",
    "OrderFinding",
    "OrderFindingCode",
    "Protocol",
    "Recommendation",
    "RecommendationRole",
    "RedoseRule",
    "Reminder",
    "RuleSource",
    "Severity",
    "TreatmentOptions",
    "TreatmentPlan",
    "WithheldTreatment",
    "card_indicator",
    "check_draft_order",
    "check_draft_orders",
    "compute_dose",
    "has_protocol_dose",
    "most_severe",
    "plan_treatment",
    "round_half_up",
]
