"""A chart as an EHR sends it: the prefetch templates answered page by page, with ``next`` links.

Built on ``cds_service.demo.fhir_store`` (the one in-memory evaluator of our templates): the
first page of each search goes into the prefetch, and ``serve`` answers the reads, the searches
and the ``next`` pages (``_offset``) from a mocked FHIR server, as EHRs do when they send the
first page only (issue 10).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import responses

from cds_service.demo.fhir_store import FhirStore
from cds_service.fhir_io import render_template
from cds_service.services import PREFETCH_TEMPLATES

FHIR = "https://ehr.example.org/fhir"


def search_page(
    store: FhirStore, url: str, base: str = FHIR, page_size: int | None = None
) -> dict[str, Any] | None:
    """What the server at ``base`` answers to ``url``: a resource (``None`` when not held) or
    one page of a searchset Bundle with ``total`` and, when more follow, a ``next`` link.
    ``page_size`` replaces the ``_count`` of ``url`` (0: everything on one page)."""
    base = base.rstrip("/")
    relative = url[len(base) + 1 :] if url.startswith(base + "/") else url
    path, _, query = relative.partition("?")
    if "/" in path:
        resource_type, _, resource_id = path.partition("/")
        found = store.read(resource_type, resource_id)
        return dict(found) if found is not None else None
    params = parse_qsl(query, keep_blank_values=True)
    if page_size is not None:
        params = [(k, v) for k, v in params if k != "_count"]
        params.append(("_count", str(page_size)))
    offset = int(dict(params).get("_offset", "0"))
    result = store.search(path, [(k, v) for k, v in params if k != "_offset"])
    if page_size == 0:
        matches, included = result.everything()
    else:
        matches, included = result.page(offset)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(result.matches),
        "link": [{"relation": "self", "url": f"{base}/{relative}"}],
        "entry": [{"resource": dict(r), "search": {"mode": "match"}} for r in matches]
        + [{"resource": dict(r), "search": {"mode": "include"}} for r in included],
    }
    following = offset + len(matches)
    if page_size != 0 and following < len(result.matches):
        query_after = [(k, v) for k, v in params if k != "_offset"] + [("_offset", str(following))]
        bundle["link"].append(
            {"relation": "next", "url": f"{base}/{path}?{urlencode(query_after, safe='|,:/')}"}
        )
    return bundle


def ehr_prefetch(
    resources: Iterable[Mapping[str, Any]],
    patient_id: str,
    *,
    page_size: int | None = None,
    templates: Mapping[str, str] = PREFETCH_TEMPLATES,
    base: str = FHIR,
) -> dict[str, Any]:
    """The prefetch of ``templates``: the Patient, and the first page of each search (each
    template's own ``_count``, or ``page_size``; 0 puts the whole chart on the page)."""
    store = FhirStore(resources)
    tokens = {"context.patientId": patient_id}
    return {
        key: search_page(store, render_template(template, tokens), base, page_size)
        for key, template in templates.items()
    }


def serve(
    mock: responses.RequestsMock,
    resources: Iterable[Mapping[str, Any]],
    *,
    page_size: int | None = None,
    base: str = FHIR,
) -> list[str]:
    """Answer every GET on ``base`` from ``resources`` (reads, searches, next pages and
    ``Medication/{id}`` reads). Returns the list of URLs requested, in order."""
    store = FhirStore(resources)
    requested: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        requested.append(request.url)
        document = search_page(store, request.url, base, page_size)
        if document is None:
            return 404, {}, json.dumps({"resourceType": "OperationOutcome", "issue": []})
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(document)

    mock.add_callback(responses.GET, re.compile(re.escape(base.rstrip("/")) + r"/.*"), answer)
    return requested
