"""The "CRS check incomplete" card: a patient out of scope whose therapy may be in what could
not be read (SPEC 2.1). Either an administration names its Medication by reference, and that
Medication was neither sent nor readable (no fhirServer, the read failed, or the time budget was
spent), or the administrations or procedures themselves were not read in full (the search was
refused, a later page failed, the page limit or the time budget stopped it: review finding; the
search is newest first, so day 0's infusion is on the last page). Either way the CAR T-cell or
bispecific antibody therapy may have been given, so the answer says the check is incomplete
instead of staying silent. Never for a patient without such evidence.

``check_is_incomplete`` decides it, in one place, for the card here and for the order cards
(``order_checks``). The clinical core writes every word
(``crs_grading.wording.cards.check_incomplete_text``); this module lays them out and adds the
``org.crscds.check-incomplete`` extension: the possible therapies (``Type/id``; none when only
unread data is the evidence) and the data that could not be read, in full.
"""

from __future__ import annotations

from typing import Any

from cds_service.cards.common import CardContext, card
from cds_service.cards.extension import fhir_instant
from crs_grading.assessment import Assessment
from crs_grading.wording.cards import check_incomplete_text

__all__ = [
    "INCOMPLETE_EXTENSION_KEY",
    "check_incomplete_cards",
    "check_is_incomplete",
    "incomplete_extension",
]

#: The key of the extension in ``card.extension`` (documented in docs/cards.md).
INCOMPLETE_EXTENSION_KEY = "org.crscds.check-incomplete"


def check_is_incomplete(assessment: Assessment, context: CardContext) -> bool:
    """Whether a patient out of scope may have had the therapy after all: an administration in
    the scope window whose drug could not be identified, or administrations or procedures not
    read in full (``context.data_problems`` holds the problems of those keys only)."""
    if assessment.in_scope:
        return False
    return bool(assessment.unconfirmed_therapies) or any(
        problem.rows_unread for problem in context.data_problems
    )


def incomplete_extension(assessment: Assessment, context: CardContext) -> dict[str, Any]:
    """The body of ``org.crscds.check-incomplete``."""
    return {
        "asOf": fhir_instant(assessment.as_of),
        "possibleTherapies": [item.reference for item in assessment.unconfirmed_therapies],
        "dataGaps": list(context.problem_messages),
    }


def check_incomplete_cards(assessment: Assessment, context: CardContext) -> list[dict[str, Any]]:
    """One info card when the patient is out of scope but a therapy may have been missed
    (``check_is_incomplete``); none otherwise."""
    if not check_is_incomplete(assessment, context):
        return []
    result = card(context, check_incomplete_text(assessment, context.problem_lines))
    result["extension"] = {INCOMPLETE_EXTENSION_KEY: incomplete_extension(assessment, context)}
    return [result]
