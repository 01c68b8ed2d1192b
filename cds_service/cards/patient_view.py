"""The patient-view cards: the assessment card (always, for a patient in scope) and, when an
infection signal is present, an infection card beside it.

The clinical core writes every word (``crs_grading.wording.cards.patient_view_text``) and
places each fact on one card; this module lays the words out as CDS Hooks cards, adds the
suggested orders, the links and the ``org.crscds.assessment`` extension (on the assessment card
only, SPEC section 4).
"""

from __future__ import annotations

from typing import Any

from cds_service.cards.common import CardContext, card, links
from cds_service.cards.extension import EXTENSION_KEY, assessment_extension
from cds_service.cards.orders import proposed_order
from crs_grading.assessment import Assessment
from crs_grading.treatment import TreatmentPlan
from crs_grading.wording.cards import SuggestionText, patient_view_text

__all__ = ["patient_view_cards"]


def patient_view_cards(
    assessment: Assessment, plan: TreatmentPlan, context: CardContext
) -> list[dict[str, Any]]:
    """The cards of ``crs-patient-view``: none out of scope (SPEC 2.1), else the assessment
    card first, then the infection card when an infection signal is present."""
    if not assessment.in_scope:
        return []
    words = patient_view_text(assessment, plan, context.problem_lines)
    main = card(context, words.assessment.card)
    suggestions = [
        suggestion
        for words_of in words.assessment.suggestions
        if (suggestion := _suggestion(words_of, context)) is not None
    ]
    if suggestions:
        main["suggestions"] = suggestions
        # "any": the seed allows the suggested agents together (a second tocilizumab dose
        # "and/or" a corticosteroid; dexamethasone with tocilizumab offered beside it).
        main["selectionBehavior"] = "any"
    main["links"] = links(context)
    main["extension"] = {
        EXTENSION_KEY: assessment_extension(assessment, context.problem_messages)
    }
    cards = [main]
    if words.infection is not None:
        cards.append(card(context, words.infection))
    return cards


def _suggestion(words: SuggestionText, context: CardContext) -> dict[str, Any] | None:
    resource = proposed_order(words.recommendation, context.patient_id)
    if resource is None:
        return None
    return {
        "label": words.label,
        "uuid": context.new_uuid(),
        "isRecommended": words.recommendation.is_recommended,
        "actions": [{"type": "create", "description": words.description, "resource": resource}],
    }
