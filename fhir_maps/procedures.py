"""Procedure -> ventilator support, oxygen therapy, cell infusions (SPEC 2.1, 2.3, 3)."""

from __future__ import annotations

from datetime import datetime

from crs_grading.inputs import OxygenReading, TherapyAdministration, VentilationPeriod

from ._context import MappingContext
from ._fhir import JSON, ElementError, TimeReader, codings, concept_texts, optional_object
from .valuesets.procedures import (
    RESPIRATORY_SUPPORT_NAMES,
    SNOMED_RESPIRATORY_SUPPORT,
    RespiratorySupport,
)
from .valuesets.statuses import PROCEDURE_COUNTED, PROCEDURE_IGNORED
from .valuesets.systems import SNOMED
from .valuesets.therapies import THERAPY_GENERIC_NAMES, THERAPY_PRODUCT_NAMES, Therapy


def _concepts(procedure: JSON) -> list[tuple[str, object]]:
    """Procedure.code and Procedure.category (0..1 in R4; a list is accepted too)."""
    found: list[tuple[str, object]] = [("code", procedure.get("code"))]
    category = procedure.get("category")
    if isinstance(category, list):
        found.extend((f"category[{index}]", item) for index, item in enumerate(category))
    elif category is not None:
        found.append(("category", category))
    return found


def _respiratory_support(
    concepts: list[tuple[str, object]], texts: list[str]
) -> RespiratorySupport | None:
    for element, concept in concepts:
        for coding in codings(concept, element):
            code = coding.get("code")
            if coding.get("system") == SNOMED and isinstance(code, str):
                support = SNOMED_RESPIRATORY_SUPPORT.get(code)
                if support is not None:
                    return support
    return RESPIRATORY_SUPPORT_NAMES.first(texts)


def _therapy(texts: list[str]) -> Therapy | None:
    products = THERAPY_PRODUCT_NAMES.find_in(texts)
    if products:
        return products[0]
    return THERAPY_GENERIC_NAMES.first(texts)


def performed_period(times: TimeReader, procedure: JSON) -> tuple[datetime, datetime | None]:
    """(start, end) from performedDateTime or performedPeriod (start, else end)."""
    keys = [key for key in procedure if key.startswith("performed")]
    if len(keys) > 1:
        raise ElementError("performed[x]", "has more than one type")
    if not keys:
        raise ElementError("performed[x]", "is missing")
    key = keys[0]
    if key == "performedDateTime":
        return times.required(procedure[key], key), None
    if key != "performedPeriod":
        raise ElementError(key, "is not a date-time or a period")
    period = optional_object(procedure[key], key)
    if period is None:  # present but null
        raise ElementError(key, "is not a period")
    start = times.optional(period.get("start"), "performedPeriod.start")
    end = times.optional(period.get("end"), "performedPeriod.end")
    if start is None:
        if end is None:
            raise ElementError(key, "has no start or end precise to the day")
        start = end
    if end is not None and end < start:
        raise ElementError(key, "ends before it starts")
    return start, end


def map_procedure(context: MappingContext, procedure: JSON, reference: str) -> None:
    """Map one Procedure of the patient."""
    concepts = _concepts(procedure)
    texts = [text for element, concept in concepts for text in concept_texts(concept, element)]
    support = _respiratory_support(concepts, texts)
    code_texts = concept_texts(procedure.get("code"), "code")
    therapy = _therapy(code_texts) if support is None else None
    if support is None and therapy is None:
        return
    if not context.status_counts(procedure, PROCEDURE_COUNTED, PROCEDURE_IGNORED):
        return
    context.validate(procedure)
    start, end = performed_period(context.times, procedure)
    if therapy is not None:
        ongoing = procedure.get("status") == "in-progress" and end is None
        context.therapies.append(
            TherapyAdministration(therapy.name, therapy.kind, start, reference, end, ongoing)
        )
        return
    assert support is not None  # noqa: S101 (one of the two is set)
    if end is None and procedure.get("status") != "in-progress":
        # Completed (or stopped, on hold) without an end: it happened at its start time. Only a
        # procedure in progress is still going (VentilationPeriod.end None).
        end = start
    kind, device = support.value
    if kind is None:
        # Oxygen therapy: a requirement of unknown FiO2, flow and device, at its start (and its
        # end when stated); the grader reads it as supplemental oxygen of unknown FiO2.
        context.oxygen.append(OxygenReading(start, reference))
        if end is not None and end != start:
            context.oxygen.append(OxygenReading(end, reference))
        return
    context.ventilation.append(VentilationPeriod(kind, start, end, reference, device))
