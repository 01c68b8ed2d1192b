"""The order-hook cards: one card per finding of the draft-order checks.

``crs-order-select`` shows every finding; ``crs-order-sign`` only warnings and critical findings
(SPEC section 4). A dose finding with a protocol dose carries an ``update`` suggestion: the
draft order in its entirety with the corrected ``doseQuantity`` and the same id [CDS Action].
Attribution findings are the same for every draft order of one call, so each appears once.
At most one card, the most severe, carries the assessment extension and the links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cds_service.cards import text
from cds_service.cards.common import CardContext, card, links, rule_source
from cds_service.cards.extension import EXTENSION_KEY, assessment_extension
from cds_service.cards.orders import corrected_order
from cds_service.cards.patient_view import SYSTEM_NAMES, problem_gaps, problem_messages
from crs_grading.assessment import Assessment
from crs_grading.criteria import OrderFindingCode
from crs_grading.inputs import DraftMedicationOrder, SkippedResource
from crs_grading.treatment import (
    OrderFinding,
    RuleSource,
    Severity,
    TreatmentOptions,
    compute_dose,
    has_protocol_dose,
)

__all__ = ["ATTRIBUTION_CODES", "CheckedOrder", "order_check_cards"]

#: Findings that describe the patient, not the order: shown once per call.
ATTRIBUTION_CODES = frozenset(code for code in OrderFindingCode if code.about_the_patient)

_DOSE_OVERRIDES = ("dose-intended", "record-out-of-date", "clinical-judgement")
_ATTRIBUTION_OVERRIDES = ("attributed-to-crs", "infection-being-treated", "clinical-judgement")
_OTHER_OVERRIDES = ("clinical-judgement", "record-out-of-date", "patient-preference")


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
) -> list[dict[str, Any]]:
    """The cards of an order hook; none for a patient out of scope (SPEC 2.1)."""
    if not assessment.in_scope:
        return []
    infection = any(w.is_infection_signal for w in assessment.attribution_warnings)
    seen: set[tuple[str, str]] = set()
    chosen: list[tuple[CheckedOrder, OrderFinding]] = []
    for item in checked:
        for finding in item.findings:
            if finding.severity is Severity.INFO and not include_info:
                continue
            key = (
                (finding.code, finding.text)
                if finding.code.about_the_patient
                else (finding.order_reference, finding.code)
            )
            if key in seen:
                continue
            seen.add(key)
            chosen.append((item, finding))
    chosen.sort(key=lambda pair: -pair[1].severity.rank)  # stable: order of the checks kept

    cards = [
        _finding_card(assessment, item, finding, context, options, infection)
        for item, finding in chosen
    ]
    if skipped_orders:  # never silence: an unread order must not look like a checked one
        at = next(
            (i for i, (_, f) in enumerate(chosen) if f.severity.rank < Severity.WARNING.rank),
            len(cards),
        )
        cards.insert(at, _unread_orders_card(skipped_orders, context))
    if cards:
        first = cards[0]
        first["detail"] += "\n\n" + _assessment_note(assessment, context)
        first["links"] = links(context)
        first["extension"] = {
            EXTENSION_KEY: _extension(assessment, context, skipped_orders),
        }
    return cards


def _unread_orders_card(
    skipped_orders: tuple[SkippedResource, ...], context: CardContext
) -> dict[str, Any]:
    """A warning that draft orders could not be read, so their dose and indication are
    unchecked (standards: a malformed resource is skipped and reported)."""
    count = len(skipped_orders)
    lines = [
        f"- {text.evidence([item.reference])}: {text.md(item.reason)}" for item in skipped_orders
    ]
    return card(
        context,
        summary=text.fit_summary(
            f"Draft order not checked: {count} order{'s' if count > 1 else ''} could not be read"
        ),
        detail=(
            "These draft orders could not be read, so their dose, the tocilizumab interval and "
            "the indication against the CRS grade were **not** checked:\n"
            + "\n".join(lines)
            + "\n\nCheck the order as written before signing."
        ),
        indicator=Severity.WARNING,
        source=rule_source(RuleSource.SEED_FIGURE_2),
        reasons=_OTHER_OVERRIDES,
    )


def _extension(
    assessment: Assessment, context: CardContext, skipped_orders: tuple[SkippedResource, ...]
) -> dict[str, Any]:
    body = assessment_extension(assessment, problem_messages(context))
    body["skipped"].extend(
        {"reference": item.reference, "reason": item.reason} for item in skipped_orders
    )
    return body


def _finding_card(
    assessment: Assessment,
    item: CheckedOrder,
    finding: OrderFinding,
    context: CardContext,
    options: TreatmentOptions,
    infection: bool,
) -> dict[str, Any]:
    dose = None
    if has_protocol_dose(finding.drug):
        dose = compute_dose(
            finding.drug,
            options.protocol,
            weight=assessment.weight,
            age_years=assessment.age_years,
        )
    lines = [text.sentence(text.md(finding.text))]
    if finding.evidence:
        lines.append(f"Evidence: {text.evidence(finding.evidence)}.")
    if not finding.code.about_the_patient:
        lines.append(f"Draft order: {text.evidence([finding.order_reference])}.")
    if dose is not None and finding.corrected_dose_mg is not None and dose.text not in finding.text:
        lines.append(f"Protocol dose: {text.md(dose.text)}.")
    if finding.code.about_the_patient:
        reasons = _ATTRIBUTION_OVERRIDES
    elif finding.code.is_dose_finding:
        reasons = _DOSE_OVERRIDES
    else:
        reasons = _OTHER_OVERRIDES
    result = card(
        context,
        summary=finding.summary,
        detail="\n\n".join(lines),
        indicator=finding.severity,
        source=rule_source(finding.source),
        reasons=reasons,
    )
    corrected = finding.corrected_dose_mg
    if corrected is not None and item.resource is not None and dose is not None:
        resource = corrected_order(item.resource, corrected, dose)
        if resource is not None:
            result["suggestions"] = [
                {
                    "label": f"Change to {finding.drug} {corrected} mg (protocol dose)",
                    "uuid": context.new_uuid(),
                    # Never preselect immunosuppression when infection could explain the
                    # picture (SPEC 2.7), even as a dose correction.
                    "isRecommended": not infection,
                    "actions": [
                        {
                            "type": "update",
                            "description": (
                                f"Set the dose of {finding.order_reference} to {corrected} mg: "
                                f"{dose.text}"
                            ),
                            "resource": resource,
                        }
                    ],
                }
            ]
            result["selectionBehavior"] = "at-most-one"
    return result


def _assessment_note(assessment: Assessment, context: CardContext) -> str:
    system = SYSTEM_NAMES.get(assessment.system, str(assessment.system))
    parts = [f"**CRS now:** grade {assessment.grade} ({system})", f"peak {assessment.peak_grade}"]
    for other, grade in assessment.other_systems.items():
        parts.append(f"{SYSTEM_NAMES.get(other, str(other))} {grade.grade}")
    if assessment.therapy is not None:
        parts.append(
            f"day {assessment.therapy.day} after {text.md(assessment.therapy.therapy.name)}"
        )
    note = " · ".join(parts)
    gaps = problem_gaps(context.data_problems)
    if gaps:
        note += "\n\n**Data gaps:**\n" + text.bullet_list(gaps)
    return note
