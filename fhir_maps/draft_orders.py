"""The order hooks' ``context.draftOrders`` -> draft orders of CRS-directed drugs (SPEC 4).

CDS Hooks 2.0.1 (order-select, order-sign): ``draftOrders`` is a Bundle of the orders being
written. We read the MedicationRequests of tocilizumab, dexamethasone, methylprednisolone,
hydrocortisone, anakinra and siltuximab, their dose and route; every other drug is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant, SkippedResource

from ._context import MappingContext
from ._fhir import (
    JSON,
    ElementError,
    list_of_objects,
    number,
    optional_object,
    resource_reference,
)
from .administrations import administration_route
from .medications import MedicationResolver
from .options import DEFAULT_OPTIONS, MappingOptions
from .references import ReferenceOwner, reference_owner
from .units import DOSE_TO_MG, DOSE_TO_MG_PER_KG, UnitProblem, lookup, quantity_unit_keys
from .valuesets.medications import NON_SYSTEMIC_ROUTES
from .valuesets.statuses import REQUEST_COUNTED, REQUEST_IGNORED


def _dose(request: JSON) -> tuple[float | None, DoseBasis | None]:
    instructions = list_of_objects(request.get("dosageInstruction"), "dosageInstruction")
    if not instructions:
        return None, None
    rates = list_of_objects(instructions[0].get("doseAndRate"), "dosageInstruction[0].doseAndRate")
    if not rates:
        return None, None
    element = "dosageInstruction[0].doseAndRate[0].doseQuantity"
    quantity = optional_object(rates[0].get("doseQuantity"), element)
    if quantity is None or "value" not in quantity:
        return None, None
    value = number(quantity.get("value"), f"{element}.value")
    keys = quantity_unit_keys(quantity)
    for table, basis in ((DOSE_TO_MG, DoseBasis.MG), (DOSE_TO_MG_PER_KG, DoseBasis.MG_PER_KG)):
        try:
            return lookup(keys, table)(value), basis
        except UnitProblem:
            continue
    return None, None  # a dose in mL or tablets: the order check says it cannot read it


def _route(request: JSON) -> str | None:
    instructions = list_of_objects(request.get("dosageInstruction"), "dosageInstruction")
    if not instructions:
        return None
    route = administration_route(instructions[0], "dosageInstruction[0].route")
    if route is not None:
        return route
    concept = optional_object(instructions[0].get("route"), "dosageInstruction[0].route")
    text = concept.get("text") if concept is not None else None
    return text if isinstance(text, str) and text else None


def _order(
    context: MappingContext, resolver: MedicationResolver, request: JSON, reference: str
) -> DraftMedicationOrder | None:
    resolved = resolver.resolve(request)
    if resolved is None or not isinstance(resolved.drug, Immunosuppressant):
        return None
    if resolved.not_systemic:
        return None  # eye drops, creams, inhalers: not a CRS treatment order
    if not context.status_counts(request, REQUEST_COUNTED, REQUEST_IGNORED):
        return None
    context.validate(request)
    route = _route(request)
    if route in NON_SYSTEMIC_ROUTES:
        return None
    dose, basis = _dose(request)
    return DraftMedicationOrder(resolved.drug, reference, dose, basis, route=route)


#: Why a draft order of someone else is not checked (SPEC 3, References: "Draft orders for
#: another patient are never checked against this patient").
ORDER_OF_ANOTHER_PATIENT = "is for another patient: not checked against this patient"
ORDER_OF_NOBODY = (
    "names no patient as Patient/{id} (its subject is missing or in another form): "
    "not checked against this patient"
)


def map_draft_orders(
    draft_orders: Mapping[str, Any] | None,
    options: MappingOptions = DEFAULT_OPTIONS,
    *,
    patient_id: str | None = None,
    fhir_server: str | None = None,
    medications: Iterable[Mapping[str, Any]] = (),
) -> tuple[tuple[DraftMedicationOrder, ...], tuple[SkippedResource, ...]]:
    """Draft MedicationRequests of CRS-directed drugs, and the entries that could not be read.

    With ``patient_id`` (the hooks always give it), a MedicationRequest whose ``subject`` is not
    exactly ``Patient/{patient_id}`` (or its URL on ``fhir_server``) is never checked: it is
    skipped with the reason, whatever its drug, so that the caller can say so.
    ``medications``: Medication resources from elsewhere (the patient's data, or read from the
    FHIR server) for the orders that name one by reference; ``draftOrders``' own come first.
    """
    if draft_orders is None:
        return (), ()
    context = MappingContext(options)
    bundle = dict(draft_orders)
    if bundle.get("resourceType") != "Bundle":
        return (), (SkippedResource("draftOrders", "is not a Bundle"),)
    try:
        entries = list_of_objects(bundle.get("entry"), "entry")
    except ElementError as error:
        return (), (SkippedResource("draftOrders", str(error)),)
    resources = [entry.get("resource") for entry in entries]
    held = {
        str(item["id"]): dict(item)
        for item in (*medications, *resources)
        if isinstance(item, Mapping) and item.get("resourceType") == "Medication" and "id" in item
    }
    resolver = MedicationResolver(held, fhir_server)
    orders: list[DraftMedicationOrder] = []
    for ordinal, resource in enumerate(resources):
        if not isinstance(resource, dict):
            context.skip(f"draftOrders entry #{ordinal}", "has no resource")
            continue
        if resource.get("resourceType") != "MedicationRequest":
            continue
        reference = resource_reference(resource, ordinal)
        if patient_id is not None:
            owner, _ = reference_owner(resource, patient_id, fhir_server)
            if owner is not ReferenceOwner.OURS:
                other = owner is ReferenceOwner.OTHER
                context.skip(reference, ORDER_OF_ANOTHER_PATIENT if other else ORDER_OF_NOBODY)
                continue
        try:
            order = _order(context, resolver, resource, reference)
        except ElementError as error:
            context.skip(reference, str(error))
            continue
        if order is not None:
            orders.append(order)
    return tuple(orders), tuple(context.skipped)
