"""Answering a hook call: where the clinical pipeline plugs in.

Data flows one way (SPEC section 5): ``PatientData`` -> ``fhir_maps`` (grading inputs) ->
``crs_grading`` (assessment, recommendations) -> cards. Until the clinical core lands, every
hook answers an honest empty list of cards: never a made-up card.
"""

from __future__ import annotations

from typing import Any

from cds_service.config import Settings
from cds_service.fhir_io import PatientData
from cds_service.services import CdsService
from cds_service.validation import HookRequest

__all__ = ["answer_hook"]


def answer_hook(
    service: CdsService, request: HookRequest, data: PatientData, settings: Settings
) -> dict[str, Any]:
    """The CDS Hooks response body for one validated call with its patient's data."""
    return {"cards": []}
