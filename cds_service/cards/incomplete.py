"""The "CRS check incomplete" card: a patient out of scope with a possible therapy whose drug
could not be read (SPEC 2.1). An administration names its Medication by reference, and that
Medication was neither sent nor readable (no fhirServer, the read failed, or the time budget was
spent): it may have been the CAR T-cell or bispecific antibody therapy, so the answer says the
check is incomplete instead of staying silent. Never for a patient without such evidence.

The clinical core writes every word (``crs_grading.wording.cards.check_incomplete_text``); this
module lays them out and adds the ``org.crscds.check-incomplete`` extension: the possible
therapies (``Type/id``) and the data that could not be read, in full.
"""

from __future__ import annotations

from typing import Any

from cds_service.cards.common import CardContext, card
from cds_service.cards.extension import fhir_instant
from crs_grading.assessment import Assessment
from crs_grading.wording.cards import check_incomplete_text

__all__ = ["INCOMPLETE_EXTENSION_KEY", "check_incomplete_cards"]

#: The key of the extension in ``card.extension`` (documented in docs/cards.md).
INCOMPLETE_EXTENSION_KEY = "org.crscds.check-incomplete"


def check_incomplete_cards(assessment: Assessment, context: CardContext) -> list[dict[str, Any]]:
    """One info card when the patient is out of scope but a therapy may have been missed;
    none otherwise (in scope, or no unidentified administration in the scope window)."""
    if assessment.in_scope or not assessment.unconfirmed_therapies:
        return []
    result = card(context, check_incomplete_text(assessment, context.problem_lines))
    result["extension"] = {
        INCOMPLETE_EXTENSION_KEY: {
            "asOf": fhir_instant(assessment.as_of),
            "possibleTherapies": [item.reference for item in assessment.unconfirmed_therapies],
            "dataGaps": list(context.problem_messages),
        }
    }
    return [result]
