"""CDS cards: an Assessment and its treatment plan or order findings -> CDS Hooks cards.

Public surface::

    patient_view_cards(assessment, plan, context) -> list[card]
    order_check_cards(assessment, checked_orders, context, options, include_info=...) -> list
    check_is_incomplete(assessment, context) -> whether the therapy may be in unread data
    check_incomplete_cards(assessment, context) -> [] or the "CRS check incomplete" card
    assessment_extension(assessment, extra_data_gaps) -> the org.crscds.assessment body
    proposed_order(recommendation, patient_id) / corrected_order(draft, dose_mg, dose)

Cards are plain JSON-ready dicts (CDS Hooks 2.0.1 Card). Every card field, override reason and
code is documented in docs/cards.md. Nothing here reads Flask, the network or the environment.
"""

from __future__ import annotations

from cds_service.cards.common import (
    OVERRIDE_REASONS,
    OVERRIDE_SYSTEM,
    CardContext,
    DataProblemNote,
)
from cds_service.cards.extension import EXTENSION_KEY, assessment_extension
from cds_service.cards.incomplete import (
    INCOMPLETE_EXTENSION_KEY,
    check_incomplete_cards,
    check_is_incomplete,
)
from cds_service.cards.order_checks import CheckedOrder, order_check_cards
from cds_service.cards.orders import (
    corrected_order,
    is_valid_medication_request,
    proposed_order,
)
from cds_service.cards.patient_view import patient_view_cards

__all__ = [
    "EXTENSION_KEY",
    "INCOMPLETE_EXTENSION_KEY",
    "OVERRIDE_REASONS",
    "OVERRIDE_SYSTEM",
    "CardContext",
    "CheckedOrder",
    "DataProblemNote",
    "assessment_extension",
    "check_incomplete_cards",
    "check_is_incomplete",
    "corrected_order",
    "is_valid_medication_request",
    "order_check_cards",
    "patient_view_cards",
    "proposed_order",
]
