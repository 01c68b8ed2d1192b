"""Full validation with the ``fhir.resources.R4B`` models (``ValidationMode.MODELS``).

One resource at a time: one bad entry never fails the others. Time values without a zone are
given the default zone first (the models reject them; SPEC says to read them, see TimeReader).
Pydantic's error is turned into a value-free reason: the element's path and a fixed phrase,
never the input value that pydantic would quote.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from ._fhir import JSON, ElementError
from .options import MappingOptions

_ZONELESS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?")


@cache
def _models() -> dict[str, Any]:
    from fhir.resources.R4B.condition import Condition
    from fhir.resources.R4B.medication import Medication
    from fhir.resources.R4B.medicationadministration import MedicationAdministration
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.procedure import Procedure

    models: list[Any] = [
        Condition,
        Medication,
        MedicationAdministration,
        MedicationRequest,
        Observation,
        Patient,
        Procedure,
    ]
    return {model.__name__: model for model in models}


def _with_zones(value: Any, options: MappingOptions) -> Any:
    """A copy of ``value`` where every zoneless date-time string has the default zone."""
    if isinstance(value, dict):
        return {key: _with_zones(item, options) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_zones(item, options) for item in value]
    if isinstance(value, str) and _ZONELESS_TIME.fullmatch(value):
        local = datetime.fromisoformat(value[:26]).replace(tzinfo=options.default_timezone)
        return local.isoformat()
    return value


def _element_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + part
    return path or "resource"


def _problem(error: Any) -> str:
    kind = str(error.get("type", ""))
    message = str(error.get("msg", ""))
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a known element"
    if "Decimal" in message or "decimal" in kind or kind in ("float_type", "int_type"):
        return "is not a number"
    if "DateTime" in message or "Date" in message or "Instant" in message or "date" in kind:
        return "is not a valid FHIR date-time"
    if kind == "string_type":
        return "is not a string"
    if kind == "list_type":
        return "is not a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "is not an object"
    return "is not valid FHIR R4"


def validate_with_model(resource: JSON, options: MappingOptions) -> None:
    """Validate one resource with its R4B model; ``ElementError`` naming the first bad element."""
    model = _models().get(str(resource.get("resourceType")))
    if model is None:
        return
    try:
        model.model_validate(_with_zones(resource, options))
    except ValueError as error:  # pydantic's ValidationError (a ValueError); pydantic is not ours
        errors = getattr(error, "errors", None)
        if errors is None:
            raise ElementError("resource", "is not valid FHIR R4") from None
        first = errors(include_url=False, include_input=False)[0]
        location = tuple(part for part in first.get("loc", ()) if isinstance(part, int | str))
        raise ElementError(_element_path(location), _problem(first)) from None
