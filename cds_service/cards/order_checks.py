"""The order-hook cards: one card per finding of the draft-order checks.

``crs-order-select`` shows every finding; ``crs-order-sign`` only warnings and critical findings
(SPEC section 4). A dose finding with a protocol dose carries an ``update`` suggestion: the
draft order in its entirety with the corrected ``doseQuantity`` and the same id [CDS Action].
Findings about the patient rather than the order are the same for every draft order of one
call, so each appears once. At most one card, the most severe, carries the assessment extension,
the links and the CRS grade now. For a patient out of scope whose CRS check is incomplete
(``incomplete.check_is_incomplete``) the findings are those of the checks that need no grade,
and the most severe card says instead that CRS was not graded and carries the
``org.crscds.check-incomplete`` extension (no grade is claimed, no course to link). The words
are the clinical core's (``crs_grading.wording.cards``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cds_service.cards.common import CardContext, card, links
from cds_service.cards.extension import EXTENSION_KEY, assessment_extension
from cds_service.cards.incomplete import (
    INCOMPLETE_EXTENSION_KEY,
    check_is_incomplete,
    incomplete_extension,
)
from cds_service.cards.orders import corrected_order
from crs_grading.assessment import Assessment
from crs_grading.criteria import Severity
from crs_grading.inputs import DraftMedicationOrder, SkippedResource
from crs_grading.treatment import OrderFinding, TreatmentOptions
from crs_grading.wording.cards import (
    CardText,
    Section,
    check_incomplete_section,
    correction_texts,
    crs_now_section,
    order_card_texts,
    unread_orders_text,
)

__all__ = ["CheckedOrder", "order_check_cards"]


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    """One draft order of a CRS-directed drug, its raw FHIR resource and its findings."""

    order: DraftMedicationOrder
    resource: Mapping[str, Any] | None
    findings: tuple[OrderFinding, ...]


def order_check_cards(
    assessment: Assessment,
    checked: Sequence[CheckedOrder],
    context: CardContext,
    options: TreatmentOptions,
    *,
    include_info: bool,
    skipped_orders: tuple[SkippedResource, ...] = (),
    skipped_elements: tuple[SkippedResource, ...] = (),
) -> list[dict[str, Any]]:
    """The cards of an order hook; none for a patient out of scope (SPEC 2.1) unless the CRS
    check is incomplete (``check_is_incomplete``: the findings are then those of the checks
    that need no grade). ``skipped_orders``: drafts not checked at all (a card says so);
    ``skipped_elements``: one unreadable element of a draft that was checked (SPEC 3), listed in
    the extension's ``skipped`` only."""
    first_sections: tuple[Section, ...]
    if assessment.in_scope:
        first_sections = crs_now_section(assessment, context.problem_lines)
        skipped = (*skipped_orders, *skipped_elements)
        extension = {EXTENSION_KEY: _extension(assessment, context, skipped)}
    elif check_is_incomplete(assessment, context):
        first_sections = check_incomplete_section(context.problem_lines)
        extension = {INCOMPLETE_EXTENSION_KEY: incomplete_extension(assessment, context)}
    else:
        return []
    seen: set[tuple[str | int, str]] = set()
    chosen: list[tuple[CheckedOrder, OrderFinding]] = []
    for item in checked:
        for finding in item.findings:
            if finding.severity is Severity.INFO and not include_info:
                continue
            # by the order's place in draftOrders, not its id: two drafts may share an id
            key = (
                (finding.code, finding.text)
                if finding.code.about_the_patient
                else (item.order.position, finding.code)
            )
            if key in seen:
                continue
            seen.add(key)
            chosen.append((item, finding))
    chosen.sort(key=lambda pair: -pair[1].severity.rank)  # stable: order of the checks kept

    words: list[CardText] = list(order_card_texts(assessment, [f for _, f in chosen]))
    items: list[CheckedOrder | None] = [item for item, _ in chosen]
    findings: list[OrderFinding | None] = [finding for _, finding in chosen]
    if skipped_orders:  # never silence: an unread order must not look like a checked one
        at = next(
            (i for i, (_, f) in enumerate(chosen) if f.severity.rank < Severity.WARNING.rank),
            len(words),
        )
        words.insert(at, unread_orders_text([item.reason for item in skipped_orders]))
        items.insert(at, None)
        findings.insert(at, None)
    if words:
        first = words[0]
        words[0] = replace(first, sections=(*first.sections, *first_sections))
    cards = []
    for index, (text, order, about) in enumerate(zip(words, items, findings, strict=True)):
        result = card(context, text)
        if order is not None and about is not None:
            _add_correction(result, order, about, context)
        if index == 0:
            if assessment.in_scope:
                result["links"] = links(context)
            result["extension"] = extension
        cards.append(result)
    return cards


def _add_correction(
    result: dict[str, Any], item: CheckedOrder, finding: OrderFinding, context: CardContext
) -> None:
    """A dose finding with a protocol dose: the draft with that dose, as an ``update``."""
    corrected, dose = finding.corrected_dose_mg, finding.protocol_dose
    if corrected is None or dose is None or item.resource is None:
        return
    resource = corrected_order(item.resource, corrected, dose)
    if resource is None:
        return
    label, description = correction_texts(finding, dose.text)
    result["suggestions"] = [
        {
            "label": label,
            "uuid": context.new_uuid(),
            "isRecommended": finding.preselect_correction,
            "actions": [{"type": "update", "description": description, "resource": resource}],
        }
    ]
    result["selectionBehavior"] = "at-most-one"


def _extension(
    assessment: Assessment, context: CardContext, skipped_orders: tuple[SkippedResource, ...]
) -> dict[str, Any]:
    body = assessment_extension(assessment, context.problem_messages)
    body["skipped"].extend(
        {"reference": item.reference, "reason": item.reason} for item in skipped_orders
    )
    return body
