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

import orjson
import responses

from cds_service.demo.fhir_store import FhirStore, SearchResult
from cds_service.fhir_io import render_template
from cds_service.services import PREFETCH_TEMPLATES

FHIR = "https://ehr.example.org/fhir"

#: Search results by search (path and criteria), kept by one served chart so that paging
#: through a month of vitals searches once.
Results = dict[tuple[str, tuple[tuple[str, str], ...]], SearchResult]


def search_page(
    store: FhirStore,
    url: str,
    base: str = FHIR,
    page_size: int | None = None,
    includes: bool = True,
    results: Results | None = None,
) -> dict[str, Any] | None:
    """What the server at ``base`` answers to ``url``: a resource (``None`` when not held) or
    one page of a searchset Bundle with ``total`` and, when more follow, a ``next`` link.
    ``page_size`` replaces the ``_count`` of ``url`` (0: everything on one page); without
    ``includes`` the server ignores ``_include`` (many do: Oracle Health documents none)."""
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
    count = int(dict(params).get("_count", "100"))
    criteria = tuple((k, v) for k, v in params if k not in ("_offset", "_count"))
    result = results.get((path, criteria)) if results is not None else None
    if result is None:
        result = store.search(path, list(criteria))
        if results is not None:
            results[(path, criteria)] = result
    if page_size == 0:
        matches = list(result.matches)
    else:
        matches = list(result.matches[offset : offset + count])
    included = store.included(matches, result.include)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(result.matches),
        "link": [{"relation": "self", "url": f"{base}/{relative}"}],
        "entry": [{"resource": dict(r), "search": {"mode": "match"}} for r in matches]
        + [{"resource": dict(r), "search": {"mode": "include"}} for r in included if includes],
    }
    following = offset + len(matches)
    if page_size != 0 and following < len(result.matches):
        query_after = [(k, v) for k, v in params if k != "_offset"] + [("_offset", str(following))]
        bundle["link"].append(
            {"relation": "next", "url": f"{base}/{path}?{urlencode(query_after, safe='|,:/')}"}
        )
    return bundle


class EhrChart:
    """One patient's chart held by a fake EHR: its prefetch and its FHIR server, sharing one
    store and one cache of search results (a month of vitals is searched once)."""

    def __init__(self, resources: Iterable[Mapping[str, Any]], base: str = FHIR) -> None:
        self.store = FhirStore(resources)
        self.base = base
        self.results: Results = {}

    def prefetch(
        self,
        patient_id: str,
        *,
        page_size: int | None = None,
        templates: Mapping[str, str] = PREFETCH_TEMPLATES,
        includes: bool = True,
    ) -> dict[str, Any]:
        """The prefetch of ``templates``: the Patient, and the first page of each search (each
        template's own ``_count``, or ``page_size``; 0 puts the whole chart on the page)."""
        tokens = {"context.patientId": patient_id}
        return {
            key: search_page(
                self.store,
                render_template(template, tokens),
                self.base,
                page_size,
                includes,
                self.results,
            )
            for key, template in templates.items()
        }

    def serve(
        self,
        mock: responses.RequestsMock,
        *,
        page_size: int | None = None,
        includes: bool = True,
        fail: Mapping[str, int] | None = None,
    ) -> list[str]:
        """Answer every GET on the base URL from the chart (reads, searches, next pages and
        ``Medication/{id}`` reads). ``fail`` maps a path prefix (``"Medication/"``) to the
        HTTP status answered instead. Returns the list of URLs requested, in order."""
        requested: list[str] = []
        base = self.base.rstrip("/")

        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            requested.append(request.url)
            relative = request.url[len(base) + 1 :]
            for prefix, status in (fail or {}).items():
                if relative.startswith(prefix):
                    outcome = {"resourceType": "OperationOutcome", "issue": []}
                    return status, {}, json.dumps(outcome)
            document = search_page(self.store, request.url, base, page_size, includes, self.results)
            if document is None:
                return 404, {}, json.dumps({"resourceType": "OperationOutcome", "issue": []})
            return 200, {"Content-Type": "application/fhir+json"}, orjson.dumps(document)

        mock.add_callback(responses.GET, re.compile(re.escape(base) + r"/.*"), answer)
        return requested


def ehr_prefetch(
    resources: Iterable[Mapping[str, Any]],
    patient_id: str,
    *,
    page_size: int | None = None,
    templates: Mapping[str, str] = PREFETCH_TEMPLATES,
    base: str = FHIR,
    includes: bool = True,
) -> dict[str, Any]:
    """``EhrChart(resources).prefetch(...)``: the first page of each template's search."""
    return EhrChart(resources, base).prefetch(
        patient_id, page_size=page_size, templates=templates, includes=includes
    )


def serve(
    mock: responses.RequestsMock,
    resources: Iterable[Mapping[str, Any]],
    *,
    page_size: int | None = None,
    base: str = FHIR,
    includes: bool = True,
    fail: Mapping[str, int] | None = None,
) -> list[str]:
    """``EhrChart(resources).serve(mock, ...)``: the chart's FHIR server on ``mock``."""
    return EhrChart(resources, base).serve(mock, page_size=page_size, includes=includes, fail=fail)
