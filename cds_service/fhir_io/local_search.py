"""Our prefetch templates answered over a set of resources, the way a FHIR server would.

For everything that must send the service what an EHR would send for the discovery templates
without an EHR: the demo and the command line (building hook requests from a chart file), the
benchmarks and the tests (a chart as first pages with ``next`` links, served by a fake FHIR
server). It understands exactly the search parameters our templates use (FHIR R4 Search:
``patient`` as a reference, ``category`` and ``code`` as tokens with optional ``system|``,
``_sort`` on the clinical date, ``_count``, ``_include=MedicationAdministration:medication``)
and ``_offset`` for the pages it links itself; any other parameter is an error, so that a
template change that this module cannot answer is noticed. Not used on the request path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cds_service.fhir_io.reader import render_template
from fhir_maps import ReferenceOwner, parse_reference, reference_owner

__all__ = ["local_prefetch", "local_search"]

JSON = dict[str, Any]

_SORT_DATES = {"date", "effective-time"}
_MIN = datetime.min.replace(tzinfo=UTC)


def local_search(
    resources: Iterable[Mapping[str, Any]], url: str, base: str, page_size: int | None = None
) -> JSON:
    """One page of the searchset Bundle a FHIR server at ``base`` would answer to ``url``.

    ``url`` is a rendered template, relative (``Observation?patient=...``) or absolute on
    ``base``. A read (``Patient/{id}``) answers the resource itself, or raises ``LookupError``.
    The Bundle has ``total``, ``self`` and, when more results follow, a ``next`` link on
    ``base`` (``_offset``). ``page_size`` replaces the ``_count`` of ``url`` (0: every result
    on one page).
    """
    base = base.rstrip("/")
    relative = url[len(base) + 1 :] if url.startswith(base + "/") else url
    path, _, query = relative.partition("?")
    pool = list(resources)
    if "/" in path:
        target = parse_reference(path)
        found = [
            dict(r)
            for r in pool
            if target is not None
            and r.get("resourceType") == target.resource_type
            and r.get("id") == target.id
        ]
        if not found:
            raise LookupError(f"{path} is not held")
        return found[0]

    params = parse_qsl(query, keep_blank_values=True)
    if page_size is not None:
        params = [(k, v) for k, v in params if k != "_count"] + [("_count", str(page_size))]
    matched, count, offset, includes = _select(pool, path, params)
    page = matched[offset : offset + count] if count else matched[offset:]
    entries: list[JSON] = [{"resource": dict(r), "search": {"mode": "match"}} for r in page]
    entries += [
        {"resource": dict(r), "search": {"mode": "include"}}
        for r in _included(pool, page, includes)
    ]
    bundle: JSON = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matched),
        "link": [{"relation": "self", "url": f"{base}/{relative}"}],
        "entry": entries,
    }
    if count and offset + count < len(matched):
        following = [(k, v) for k, v in params if k != "_offset"]
        following.append(("_offset", str(offset + count)))
        bundle["link"].append(
            {"relation": "next", "url": f"{base}/{path}?{urlencode(following, safe='|,:')}"}
        )
    return bundle


def local_prefetch(
    resources: Iterable[Mapping[str, Any]],
    templates: Mapping[str, str],
    patient_id: str,
    base: str = "https://ehr.example.org/fhir",
    page_size: int | None = None,
) -> dict[str, Any]:
    """The prefetch an EHR would send for ``templates``: the first page of each search (with
    its ``next`` link when the chart holds more), the Patient as a resource (or ``null``).
    ``page_size`` replaces every template's ``_count`` (0: the whole chart at once)."""
    pool = list(resources)
    tokens = {"context.patientId": patient_id}
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        try:
            url = render_template(template, tokens)
            prefetch[key] = local_search(pool, url, base, page_size)
        except LookupError:
            prefetch[key] = None  # CDS Hooks: a key with no data is null
    return prefetch


def _select(
    pool: list[Mapping[str, Any]], resource_type: str, params: list[tuple[str, str]]
) -> tuple[list[Mapping[str, Any]], int, int, set[str]]:
    candidates = [r for r in pool if r.get("resourceType") == resource_type]
    count = offset = 0
    includes: set[str] = set()
    descending: bool | None = None
    for name, value in params:
        if name == "patient":
            candidates = [r for r in candidates if _is_patients(r, value)]
        elif name in ("category", "code"):
            tokens = [_token(item) for item in value.split(",")]
            candidates = [r for r in candidates if _has_token(r, name, tokens)]
        elif name == "_sort":
            descending = value.startswith("-")
            if value.lstrip("-") not in _SORT_DATES:
                raise ValueError(f"_sort={value} is not supported here")
        elif name == "_count":
            count = int(value)
        elif name == "_offset":
            offset = int(value)
        elif name == "_include":
            includes.add(value)
        else:
            raise ValueError(f"search parameter {name!r} is not supported here")
    if descending is not None:
        candidates.sort(key=_clinical_time, reverse=descending)
    return candidates, count, offset, includes


def _is_patients(resource: Mapping[str, Any], value: str) -> bool:
    patient_id = value.removeprefix("Patient/")
    return reference_owner(resource, patient_id)[0] is ReferenceOwner.OURS


def _token(text: str) -> tuple[str | None, str]:
    system, bar, code = text.rpartition("|")
    return (system if bar else None), code


def _has_token(
    resource: Mapping[str, Any], element: str, tokens: list[tuple[str | None, str]]
) -> bool:
    concepts = resource.get(element)
    concept_list = concepts if isinstance(concepts, list) else [concepts]
    for concept in concept_list:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, dict):
                continue
            for system, code in tokens:
                if coding.get("code") == code and system in (None, coding.get("system")):
                    return True
    return False


def _clinical_time(resource: Mapping[str, Any]) -> datetime:
    for name in ("effective", "performed", "onset"):
        for suffix in ("DateTime", "Instant"):
            if (found := _instant(resource.get(name + suffix))) is not None:
                return found
        period = resource.get(name + "Period")
        if isinstance(period, dict) and (found := _instant(period.get("start"))) is not None:
            return found
    return _instant(resource.get("issued")) or _instant(resource.get("recordedDate")) or _MIN


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _included(
    pool: list[Mapping[str, Any]], page: list[Mapping[str, Any]], includes: set[str]
) -> list[Mapping[str, Any]]:
    if "MedicationAdministration:medication" not in includes:
        return []
    wanted: list[str] = []
    for resource in page:
        reference = resource.get("medicationReference")
        literal = reference.get("reference") if isinstance(reference, dict) else None
        target = parse_reference(literal)
        if target is not None and target.resource_type == "Medication":
            wanted.append(target.id)
    medications = {
        r.get("id"): r for r in pool if r.get("resourceType") == "Medication" and r.get("id")
    }
    seen: set[str] = set()
    found = []
    for medication_id in wanted:
        if medication_id in medications and medication_id not in seen:
            seen.add(medication_id)
            found.append(medications[medication_id])
    return found
