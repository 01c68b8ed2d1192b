"""The order hooks' ``context.draftOrders`` -> draft orders of CRS-directed drugs (SPEC 4).

CDS Hooks 2.0.1 (order-select, order-sign): ``draftOrders`` is a Bundle of the orders being
written. We read the MedicationRequests of tocilizumab, dexamethasone, methylprednisolone,
hydrocortisone, anakinra and siltuximab, their dose (a ``doseRange``: its upper end), route and
timing (doses a day, doses in all); every other drug is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, NamedTuple

from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant, SkippedResource

from ._context import MappingContext
from ._fhir import (
    JSON,
    ElementError,
    codings,
    concept_texts,
    list_of_objects,
    number,
    optional_object,
    resource_reference,
)
from .administrations import administration_route
from .medications import MedicationResolver
from .options import DEFAULT_OPTIONS, MappingOptions
from .references import ReferenceOwner, reference_owner
from .units import DOSE_TO_MG, DOSE_TO_MG_PER_KG, quantity_unit_keys
from .valuesets.medications import NON_SYSTEMIC_ROUTES
from .valuesets.statuses import REQUEST_COUNTED, REQUEST_IGNORED
from .valuesets.timing import DAYS_PER_UNIT, DOSES_PER_DAY, EVERY_N_HOURS, ONCE


class _Dose(NamedTuple):
    value: float | None
    basis: DoseBasis | None
    high: float | None = None  # the upper end of a doseRange, in ``basis``


_DAY = timedelta(days=1)

_DOSE_TABLES = ((DOSE_TO_MG, DoseBasis.MG), (DOSE_TO_MG_PER_KG, DoseBasis.MG_PER_KG))


def _amount(quantity: JSON, element: str) -> tuple[float, DoseBasis] | None:
    """A dose Quantity in mg or mg/kg; None for another unit (mL, tablets) or none, or when its
    UCUM ``code`` and its ``unit`` text name different doses ("mg/kg" coded, "mg" written: which
    one the prescriber meant cannot be told, so the check says it cannot read the dose)."""
    value = number(quantity.get("value"), f"{element}.value")
    found = {
        (basis, table[key])
        for key in quantity_unit_keys(quantity)
        for table, basis in _DOSE_TABLES
        if key in table
    }
    if len(found) != 1:
        return None
    ((basis, convert),) = found
    return convert(value), basis


def _dose(request: JSON) -> _Dose:
    instructions = list_of_objects(request.get("dosageInstruction"), "dosageInstruction")
    if not instructions:
        return _Dose(None, None)
    rates = list_of_objects(instructions[0].get("doseAndRate"), "dosageInstruction[0].doseAndRate")
    if not rates:
        return _Dose(None, None)
    element = "dosageInstruction[0].doseAndRate[0].doseQuantity"
    quantity = optional_object(rates[0].get("doseQuantity"), element)
    if quantity is not None and "value" in quantity:
        amount = _amount(quantity, element)
        return _Dose(None, None) if amount is None else _Dose(*amount)
    element = "dosageInstruction[0].doseAndRate[0].doseRange"
    dose_range = optional_object(rates[0].get("doseRange"), element)
    high = optional_object(dose_range.get("high"), f"{element}.high") if dose_range else None
    if high is None or "value" not in high:
        return _Dose(None, None)  # a dose in mL or tablets: the order check says it cannot read it
    amount = _amount(high, f"{element}.high")
    return _Dose(None, None) if amount is None else _Dose(None, amount[1], amount[0])


def _timing(request: JSON) -> tuple[float | None, int | None]:
    """(doses a day, doses in all) of ``dosageInstruction[0].timing``; None where it does not
    say. ``ElementError`` for a timing that is not FHIR's shape."""
    instructions = list_of_objects(request.get("dosageInstruction"), "dosageInstruction")
    element = "dosageInstruction[0].timing"
    timing = optional_object(instructions[0].get("timing"), element) if instructions else None
    if timing is None:
        return None, None
    per_day: float | None = None
    count: int | None = None
    repeat = optional_object(timing.get("repeat"), f"{element}.repeat")
    if repeat is not None:
        if "count" in repeat:
            counted = number(repeat["count"], f"{element}.repeat.count")
            if counted < 1 or counted != int(counted):
                raise ElementError(f"{element}.repeat.count", "is not a positive integer")
            count = int(counted)
        per_day = _per_day(repeat, f"{element}.repeat")
    for text in _schedule_texts(timing, f"{element}.code"):
        if per_day is not None:
            break
        name = text.strip().upper()
        if name in ONCE:
            count = 1 if count is None else count
        elif name in DOSES_PER_DAY:
            per_day = DOSES_PER_DAY[name]
        elif (every := EVERY_N_HOURS.match(name)) is not None and int(every.group(1)) > 0:
            per_day = 24 / int(every.group(1))
    return per_day, count


def _per_day(repeat: JSON, element: str) -> float | None:
    """``frequency`` per ``period`` ``periodUnit`` as doses a day (frequency 1 when absent)."""
    if "period" not in repeat:
        return None
    period = number(repeat["period"], f"{element}.period")
    unit = repeat.get("periodUnit")
    if not isinstance(unit, str) or unit not in DAYS_PER_UNIT:
        raise ElementError(f"{element}.periodUnit", "is not a FHIR unit of time")
    frequency = number(repeat.get("frequency", 1), f"{element}.frequency")
    if period <= 0 or frequency <= 0:
        raise ElementError(f"{element}.period", "is not a positive period and frequency")
    return frequency / (period * DAYS_PER_UNIT[unit])


def _schedule_texts(timing: JSON, element: str) -> list[str]:
    """The codes, displays and text of ``Timing.code``."""
    concept = timing.get("code")
    texts = [
        code for coding in codings(concept, element) if isinstance(code := coding.get("code"), str)
    ]
    return texts + concept_texts(concept, element)


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
    context: MappingContext,
    resolver: MedicationResolver,
    request: JSON,
    reference: str,
    position: int,
) -> DraftMedicationOrder | None:
    resolved = resolver.resolve(request)
    if resolved is None or not isinstance(resolved.drug, Immunosuppressant):
        return None
    if not resolved.drug.is_crs_order:
        return None  # a prednisone taper is no CRS treatment order
    if resolved.not_systemic:
        return None  # eye drops, creams, inhalers: not a CRS treatment order
    if not context.status_counts(request, REQUEST_COUNTED, REQUEST_IGNORED):
        return None
    context.validate(request)
    try:
        route = _route(request)
    except ElementError as error:  # SPEC 3: read as not stated; the order is still checked
        route = None
        context.skip_element(reference, error)
    if route in NON_SYSTEMIC_ROUTES:
        return None
    try:
        dose = _dose(request)
    except ElementError as error:  # SPEC 3: an unreadable dose ("400" as a string) loses only
        dose = _Dose(None, None)  # itself; the order is still checked (found in review: the
        context.skip_element(reference, error)  # critical redose finding was lost with it)
    try:
        per_day, count = _timing(request)
    except ElementError as error:  # SPEC 3: an unreadable timing loses only the timing
        per_day, count = None, None
        context.skip_element(reference, error)
    return DraftMedicationOrder(
        resolved.drug,
        reference,
        dose.value,
        dose.basis,
        route=route,
        dose_high=dose.high,
        doses_per_day=per_day,
        dose_interval=None if per_day is None else _DAY / per_day,
        dose_count=count,
        position=position,
    )


def _may_be_a_crs_order(resolver: MedicationResolver, request: JSON) -> bool:
    """A drug whose draft orders the checks read, or one that cannot be identified (found in
    review: an acetaminophen draft of another patient made a "draft order not checked" card)."""
    try:
        resolved = resolver.resolve(request)
    except ElementError:
        return True
    if resolved is None or not isinstance(resolved.drug, Immunosuppressant):
        return False
    return resolved.drug.is_crs_order


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
                if _may_be_a_crs_order(resolver, resource):  # other drugs are not our business
                    other = owner is ReferenceOwner.OTHER
                    context.skip(reference, ORDER_OF_ANOTHER_PATIENT if other else ORDER_OF_NOBODY)
                continue
        try:
            order = _order(context, resolver, resource, reference, ordinal)
        except ElementError as error:
            context.skip(reference, str(error))
            continue
        if order is not None:
            orders.append(order)
    return tuple(orders), tuple(context.skipped)
