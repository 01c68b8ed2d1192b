"""Answering a hook call: the clinical pipeline between the web layer and the cards.

Data flows one way (SPEC section 5): ``PatientData`` -> ``fhir_maps.map_patient_record``
(grading inputs) -> ``crs_grading.assess`` at ``asOf`` = the time of the call (the app's clock,
``cds_service.clock``) -> ``plan_treatment`` (patient-view) or ``check_draft_order`` (order
hooks) with the configured tocilizumab protocol -> cards (``cds_service.cards``).

A patient out of scope gets ``{"cards": []}`` on every hook (SPEC 2.1), unless the therapy may
be in what could not be read: an administration in the scope window names a drug that could not
be read, or the administrations or procedures were not read in full (refused, a page failed,
the page limit, the time budget). The CRS check is then incomplete (SPEC 4: "if a lesser part
fails, grade with the rest and say so on the card"): patient-view answers one info card, "CRS
check incomplete"; the order hooks make the draft-order checks that need no grade (dose, route),
laid out as for a patient in scope, the most severe card saying that CRS was not graded; with
no finding to show, order-select on a CRS-directed draft order answers the info card, and
order-sign (warnings and critical findings only) nothing.

Every answered call leaves one audit row: hookInstance, service, patient id, grades, card and
suggestion uuids, time, duration. ``answer_hook`` makes it and the caller stores it
(``store_audit``) once it has let go of the call's FHIR data: the database driver's objects made
for the write then do not keep the memory that data filled (docs/performance.md, phase 5).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context
from flask import request as flask_request

from cds_service.cards import (
    CardContext,
    CheckedOrder,
    DataProblemNote,
    check_incomplete_cards,
    check_is_incomplete,
    order_check_cards,
    patient_view_cards,
)
from cds_service.clock import get_clock
from cds_service.config import Settings
from cds_service.fhir_io import PatientData
from cds_service.services import (
    CONDITIONS_KEY,
    CULTURES_KEY,
    LABS_KEY,
    THERAPY_KEYS,
    CdsService,
)
from cds_service.storage import AuditRecord, record_audit
from cds_service.validation import HookRequest
from crs_grading import Assessment, GradingOptions, assess
from crs_grading.inputs import DraftMedicationOrder, SkippedResource
from crs_grading.treatment import (
    Protocol,
    TreatmentOptions,
    check_draft_orders,
    plan_treatment,
)
from fhir_maps import MappingOptions, is_element_report, map_draft_orders, map_patient_record

__all__ = [
    "SMART_LAUNCH_PATH",
    "HookAnswer",
    "answer_hook",
    "grading_options",
    "smart_launch_url",
    "store_audit",
    "treatment_options",
]

logger = logging.getLogger(__name__)

#: Where the SMART app's EHR launch lives (``cds_service/smart``), below the public base URL.
SMART_LAUNCH_PATH = "/smart/launch"

#: Prefetch keys that can hold the CRS-associated therapy (SPEC 2.1).

#: The data that shows the SPEC 2.7 infection signals (ANC and lactate, blood cultures,
#: infection diagnoses), as the plan names it when it could not be read in full.
_INFECTION_DATA = {LABS_KEY: "labs", CULTURES_KEY: "blood cultures", CONDITIONS_KEY: "problems"}


def _unread_infection_data(data: PatientData) -> tuple[str, ...]:
    unread = {p.key for p in data.problems if p.hides_data}
    return tuple(name for key, name in _INFECTION_DATA.items() if key in unread)


_PATIENT_VIEW = "patient-view"
_ORDER_SELECT = "order-select"
_ORDER_SIGN = "order-sign"


def grading_options(settings: Settings) -> GradingOptions:
    """The grading options of the service: the zone of card times and day numbers when the
    data carries no local offset (``CRS_CDS_TIMEZONE``; the data's own offset wins)."""
    return GradingOptions(timezone=settings.timezone)


def mapping_options(settings: Settings) -> MappingOptions:
    """The FHIR mapping options of the service: the EHR's own codes of ICE, CAPD and RASS
    (``CRS_CDS_ICE_CODES``, ``CRS_CDS_CAPD_CODES``, ``CRS_CDS_RASS_CODES``; SPEC 2.9)."""
    return MappingOptions(
        ice_codes=settings.ice_codes,
        capd_codes=settings.capd_codes,
        rass_codes=settings.rass_codes,
    )


def treatment_options(settings: Settings) -> TreatmentOptions:
    """The treatment options of the service: the configured tocilizumab protocol."""
    return TreatmentOptions(protocol=Protocol(settings.tocilizumab_protocol.value))


def smart_launch_url(settings: Settings, base_url: str | None = None) -> str:
    """The SMART app's launch URL: ``CRS_CDS_PUBLIC_URL`` (else ``base_url``, else the host
    URL of the current request) + ``/smart/launch``."""
    base = settings.public_url or base_url
    if base is None:
        base = flask_request.host_url if has_request_context() else ""
    return base.rstrip("/") + SMART_LAUNCH_PATH


@dataclass(frozen=True, slots=True)
class HookAnswer:
    """One answered call: the CDS Hooks response body and its audit row, for the caller to
    store with ``store_audit`` once it no longer holds the call's FHIR data."""

    body: dict[str, Any]
    audit: AuditRecord


def answer_hook(
    service: CdsService,
    request: HookRequest,
    data: PatientData,
    settings: Settings,
    *,
    now: datetime | None = None,
    base_url: str | None = None,
    started: float | None = None,
) -> HookAnswer:
    """The CDS Hooks response body for one validated call with its patient's data, and the
    call's audit row (not stored here: ``store_audit``).

    ``now`` defaults to the app's clock; ``base_url`` to the request's host URL (for the
    SMART link when ``CRS_CDS_PUBLIC_URL`` is unset); ``started`` (a ``time.perf_counter``
    value) to the moment this function is entered, for the audit's duration (measured up to
    the return).
    """
    started = time.perf_counter() if started is None else started
    now = get_clock()() if now is None else now
    patient_id = request.context.patient_id

    inputs = map_patient_record(
        (data.patient, *data.resources),
        patient_id,
        mapping_options(settings),
        fhir_server=request.fhir_server,
    )
    assessment = assess(inputs, now, grading_options(settings))
    cards: list[dict[str, Any]] = []
    if assessment.in_scope:
        options = treatment_options(settings)
        context = CardContext(
            patient_id=patient_id,
            smart_launch_url=smart_launch_url(settings, base_url),
            data_problems=tuple(
                DataProblemNote(
                    p.key, p.message, p.hides_data, p.card_line, short_line=p.short_line
                )
                for p in data.problems
            ),
        )
        if service.hook == _PATIENT_VIEW:
            plan = plan_treatment(
                assessment, options, now=now, unread_infection_data=_unread_infection_data(data)
            )
            cards = patient_view_cards(assessment, plan, context)
        else:
            cards = _order_cards(service, request, data, assessment, options, context, now)
    else:
        # Says why the answer is empty (SPEC 2.1), without patient data: no id, no drug names.
        logger.info(
            "patient out of scope: no CRS-associated therapy in the scope window; no cards",
            extra={"fields": {"service": service.id, "outOfScope": True}},
        )
        unread = sorted({p.key for p in data.problems if p.hides_data and p.key in THERAPY_KEYS})
        if unread:  # the therapy itself may be in what could not be read (SPEC 2.1, 3)
            logger.warning(
                "patient out of scope, but the therapy may have been missed: some "
                "administrations or procedures could not be read",
                extra={"fields": {"service": service.id, "unreadKeys": unread}},
            )
        # Which data could not be read, where the therapy may be: the incomplete card says
        # itself what is at stake, so the short lines.
        context = CardContext(
            patient_id=patient_id,
            smart_launch_url=smart_launch_url(settings, base_url),
            data_problems=tuple(
                DataProblemNote(p.key, p.message, p.hides_data, p.short_line, p.rows_unread)
                for p in data.problems
                if p.hides_data and p.key in THERAPY_KEYS
            ),
        )
        if check_is_incomplete(assessment, context):
            options = treatment_options(settings)
            cards = _check_incomplete_cards(
                service, request, data, assessment, options, context, now
            )
            logger.info(
                "CRS check incomplete: the therapy may be in what could not be read",
                extra={
                    "fields": {
                        "service": service.id,
                        "possibleTherapies": len(assessment.unconfirmed_therapies),
                        "unreadKeys": unread,
                        "cards": len(cards),
                    }
                },
            )

    audit = _audit_record(service, request, assessment, cards, now, started)
    return HookAnswer({"cards": cards}, audit)


def _check_incomplete_cards(
    service: CdsService,
    request: HookRequest,
    data: PatientData,
    assessment: Assessment,
    options: TreatmentOptions,
    context: CardContext,
    now: datetime,
) -> list[dict[str, Any]]:
    """The cards of a patient out of scope whose CRS check is incomplete. patient-view: the
    "CRS check incomplete" card. Order hooks: the checks of the CRS-directed draft orders that
    need no grade (a 1000 mg tocilizumab order is still above the 800 mg maximum), laid out as
    for a patient in scope, the most severe card saying CRS was not graded; with no finding to
    show, order-select answers the incomplete card when a CRS-directed draft is selected (else
    every order of the patient would show it), and order-sign, which shows warnings and
    critical findings only, nothing."""
    if service.hook == _PATIENT_VIEW:
        return check_incomplete_cards(assessment, context)
    cards = _order_cards(service, request, data, assessment, options, context, now)
    if cards or service.hook == _ORDER_SIGN:
        return cards
    orders, _ = _crs_draft_orders(service, request, data)
    return check_incomplete_cards(assessment, context) if orders else []


def _crs_draft_orders(
    service: CdsService, request: HookRequest, data: PatientData
) -> tuple[tuple[DraftMedicationOrder, ...], tuple[SkippedResource, ...]]:
    """The draft orders of CRS-directed drugs (order-select: the selected ones only, when
    given), and the draft orders that could not be read. A Medication a draft order names by
    reference is looked up in ``draftOrders``, then in the patient's data (included, or read
    from ``fhirServer`` for it: ``FhirReader.read``)."""
    # Orders whose subject is not this patient are skipped and reported, never checked against
    # this patient's grade (SPEC 3, References).
    orders, skipped = map_draft_orders(
        request.context.draft_orders,
        patient_id=request.context.patient_id,
        fhir_server=request.fhir_server,
        medications=[r for r in data.of_type("Medication") if isinstance(r, dict)],
    )
    selections = set(request.context.selections)
    if service.hook == _ORDER_SELECT and selections:
        # the selected orders only, those that could not be read too (found in review: an
        # unselected draft made a "not checked" card)
        orders = tuple(order for order in orders if order.reference in selections)
        skipped = tuple(item for item in skipped if item.reference in selections)
    return orders, skipped


def _order_cards(
    service: CdsService,
    request: HookRequest,
    data: PatientData,
    assessment: Assessment,
    options: TreatmentOptions,
    context: CardContext,
    now: datetime,
) -> list[dict[str, Any]]:
    """Checks of the draft orders (order-select: the selected ones only, when given); only
    those that need no grade for a patient out of scope (the CRS check is incomplete)."""
    draft_orders = request.context.draft_orders
    # The "not checked" card and the extension's ``skipped`` list say which orders were skipped.
    orders, skipped = _crs_draft_orders(service, request, data)
    for item in skipped:
        logger.warning(
            "draft order not checked",
            extra={"fields": {"order": item.reference, "reason": item.reason}},
        )
    if not orders and not skipped:
        return []
    # A report about one unreadable element of a draft that was still checked (SPEC 3): the
    # extension lists it, but no "not checked" card (the order was checked).
    elements = tuple(item for item in skipped if is_element_report(item))
    skipped = tuple(item for item in skipped if not is_element_report(item))
    resources = _draft_resources(draft_orders)
    checked = [
        CheckedOrder(
            order=order,
            resource=resources.get(order.position),
            findings=findings,
        )
        for order, findings in zip(
            orders,
            check_draft_orders(
                orders,
                assessment,
                options,
                now=now,
                crs_graded=assessment.in_scope,
                unread_infection_data=_unread_infection_data(data),
            ),
            strict=True,
        )
    ]
    return order_check_cards(
        assessment,
        checked,
        context,
        options,
        include_info=service.hook == _ORDER_SELECT,
        skipped_orders=skipped,
        skipped_elements=elements,
    )


def _draft_resources(draft_orders: Mapping[str, Any] | None) -> dict[int, Mapping[str, Any]]:
    """The draft MedicationRequests of ``context.draftOrders`` by their position in it
    (``DraftMedicationOrder.position``): two drafts may share an id, and a correction must
    update the draft it was worked out for (found in review: a dexamethasone correction
    carried the tocilizumab draft of the same id)."""
    found: dict[int, Mapping[str, Any]] = {}
    entries = draft_orders.get("entry") if draft_orders is not None else None
    if not isinstance(entries, list):
        return found
    for position, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "MedicationRequest":
            found[position] = resource
    return found


def _audit_record(
    service: CdsService,
    request: HookRequest,
    assessment: Assessment,
    cards: list[dict[str, Any]],
    now: datetime,
    started: float,
) -> AuditRecord:
    """The audit row of an answered call; grades only for a patient in scope."""
    suggestion_uuids = [
        str(suggestion["uuid"])
        for card in cards
        for suggestion in card.get("suggestions", ())
        if "uuid" in suggestion
    ]
    in_scope = assessment.in_scope
    return AuditRecord(
        hook_instance=request.hook_instance,
        service_id=service.id,
        patient_id=request.context.patient_id,
        grade=assessment.grade if in_scope else None,
        peak_grade=assessment.peak_grade if in_scope else None,
        card_uuids=[str(card["uuid"]) for card in cards],
        suggestion_uuids=suggestion_uuids,
        answered_at=now,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def store_audit(record: AuditRecord) -> None:
    """Store one call's audit row (``storage.record_audit``: a database failure is logged and
    counted there, never raised). Call it once the call's FHIR data and grading inputs are
    let go (see the module's docstring)."""
    try:
        record_audit(record)
    except ValueError as error:  # a patient id that is not a FHIR id: never stored
        logger.error("audit row not stored: %s", error)
