"""Reading FHIR resources out of prefetch values and search Bundles.

A prefetch value may be a resource, a searchset Bundle, ``null`` or an OperationOutcome
(CDS Hooks 2.0.1 section Prefetch Template: "CDS Services SHOULD check any prefetched data for
the existence of OperationOutcomes"). Nothing here checks codes or types beyond ``resourceType``:
later code checks every resource itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType

from fhir_maps import DecodedObservation, read_resource

__all__ = [
    "DecodedBundle",
    "PrefetchState",
    "PrefetchValue",
    "ReadPage",
    "decode_bundle",
    "read_page",
    "read_prefetch",
]

# Bundle.entry.search.mode values whose resources are results (R4 SearchEntryMode).
_RESULT_MODES = frozenset({"match", "include"})


class PrefetchState(enum.Enum):
    """What the client sent for one prefetch key."""

    PRESENT = "present"  # a resource or a Bundle
    MISSING = "missing"  # key absent: the client did not satisfy the template
    NULL = "null"  # the client has no data for the template
    OUTCOME = "outcome"  # the client failed and sent an OperationOutcome
    INVALID = "invalid"  # not a FHIR resource at all


@dataclass(frozen=True, slots=True)
class ReadPage:
    """The resources of one resource-or-Bundle document and its ``next`` link."""

    resources: list[Resource] = field(default_factory=list)
    next_url: str | None = None
    skipped_entries: int = 0
    #: OperationOutcome entries (``search.mode`` "outcome") of severity error or fatal: the
    #: server says the results are incomplete or wrong (CDS Hooks: check prefetched data for
    #: OperationOutcomes).
    outcome_errors: int = 0


#: A resource as read: its JSON as a dict, or an Observation decoded from the request body.
Resource = dict[str, Any] | DecodedObservation


@dataclass(frozen=True, slots=True)
class DecodedBundle:
    """A prefetch Bundle read straight from the request body (``decode_bundle``): its page,
    and how many entries it had (what ``count_resources`` counts for the 413)."""

    page: ReadPage
    entries: int


@dataclass(frozen=True, slots=True)
class PrefetchValue:
    """One prefetch key as received."""

    state: PrefetchState
    page: ReadPage = field(default_factory=ReadPage)


_MISSING = object()


def read_prefetch(prefetch: Mapping[str, Any], key: str) -> PrefetchValue:
    """Classify ``prefetch[key]`` and take its resources."""
    value = prefetch.get(key, _MISSING)
    if value is _MISSING:
        return PrefetchValue(PrefetchState.MISSING)
    if value is None:
        return PrefetchValue(PrefetchState.NULL)
    if isinstance(value, DecodedBundle):
        return PrefetchValue(PrefetchState.PRESENT, value.page)
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return PrefetchValue(PrefetchState.INVALID)
    if value["resourceType"] == "OperationOutcome":
        return PrefetchValue(PrefetchState.OUTCOME)
    return PrefetchValue(PrefetchState.PRESENT, read_page(value))


def read_page(document: Mapping[str, Any]) -> ReadPage:
    """The resources of a resource or a Bundle, and the Bundle's ``next`` link if any.

    Bundle entries count when their search mode is ``match`` or ``include`` or absent; ``outcome``
    entries (OperationOutcomes about the search) and entries without a resource are left out.
    """
    if document.get("resourceType") != "Bundle":
        return ReadPage(resources=[dict(document)])
    resources: list[Resource] = []
    skipped = errors = 0
    entries = document.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            skipped += 1
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if mode is not None and not isinstance(mode, str):
            skipped += 1  # a search mode that is not a code: the entry cannot be read
            continue
        if mode is not None and mode not in _RESULT_MODES:
            if mode == "outcome" and _is_error_outcome(entry.get("resource")):
                errors += 1
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            skipped += 1
            continue
        resources.append(resource)
    return ReadPage(
        resources=resources,
        next_url=_next_link(document),
        skipped_entries=skipped,
        outcome_errors=errors,
    )


def _is_error_outcome(resource: object) -> bool:
    """An OperationOutcome with an issue of severity error or fatal (warnings and information,
    such as Epic's "no results", say nothing is missing)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
        return False
    issues = resource.get("issue")
    return any(
        isinstance(issue, dict) and issue.get("severity") in ("error", "fatal")
        for issue in (issues if isinstance(issues, list) else [])
    )


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
    return None


# --- Bundles decoded from the request body (issue 13) ----------------------------------------


class _Search(Struct, gc=False):
    mode: Any = None


class _Entry(Struct, gc=False):
    resource: Raw | UnsetType = UNSET
    search: _Search | None | UnsetType = UNSET


class _Bundle(Struct, gc=False):
    resourceType: str  # noqa: N815 - FHIR's element name
    entry: list[_Entry | None] | None | UnsetType = UNSET
    link: Raw | UnsetType = UNSET


_BUNDLE = msgspec.json.Decoder(_Bundle)


class _ObservationEntry(Struct, gc=False):
    resource: DecodedObservation | UnsetType = UNSET
    search: _Search | None | UnsetType = UNSET


class _ObservationBundle(Struct, gc=False):
    resourceType: str  # noqa: N815
    entry: list[_ObservationEntry] | None | UnsetType = UNSET
    link: Raw | UnsetType = UNSET


_OBSERVATION_BUNDLE = msgspec.json.Decoder(_ObservationBundle)


class _EntryResources:
    """The raw JSON of each entry's resource of one Bundle, read when first asked (for the
    ``as_dict()`` of an Observation the fast lane declines)."""

    __slots__ = ("_raw", "_resources")

    def __init__(self, raw: Raw) -> None:
        self._raw = raw
        self._resources: list[Raw | None] | None = None

    def __getitem__(self, index: int) -> Raw | None:
        if self._resources is None:
            entries = _BUNDLE.decode(self._raw).entry
            self._resources = [
                None if entry is None or isinstance(entry.resource, UnsetType) else entry.resource
                for entry in (entries if isinstance(entries, list) else [])
            ]
        return self._resources[index]


def decode_bundle(raw: Raw) -> DecodedBundle | None:
    """``read_page`` of a Bundle's raw JSON, without building the Bundle: plain Observations
    as structs, every other resource as its dict (``fhir_maps.read_resource``).

    A Bundle of nothing but plain Observations (a vitals or labs search) is decoded in one
    pass, each Observation's own JSON found again only if a reader asks for it; any other
    Bundle entry by entry. ``None`` when ``raw`` is not a Bundle of the plain shape (not a
    Bundle; an entry or ``search`` that is not an object): parse it with ``orjson`` and
    ``read_page`` it, which reports what is wrong as always. ``orjson.JSONDecodeError`` when
    a resource is not JSON.
    """
    try:
        observations = _OBSERVATION_BUNDLE.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return _decode_entries(raw)
    if observations.resourceType != "Bundle":
        return None
    entries = observations.entry if isinstance(observations.entry, list) else []
    source = _EntryResources(raw)
    resources: list[Resource] = []
    append = resources.append
    skipped = 0
    for index, entry in enumerate(entries):  # the checks of read_page, in its order
        search = entry.search
        if isinstance(search, _Search):
            mode = search.mode
            if mode is not None and mode != "match":  # "match", the usual, and None: read
                if not isinstance(mode, str):
                    skipped += 1
                    continue
                if mode == "outcome":
                    return _decode_entries(raw)  # the dict path reads its severity
                if mode not in _RESULT_MODES:
                    continue
        resource = entry.resource
        if isinstance(resource, UnsetType):
            skipped += 1
            continue
        if resource.resourceType != "Observation":
            return _decode_entries(raw)  # another resource: its dict is needed
        resource.source = source
        resource.index = index
        append(resource)
    return _page(observations.link, resources, skipped, len(entries))


def _decode_entries(raw: Raw) -> DecodedBundle | None:
    """``decode_bundle`` entry by entry."""
    try:
        bundle = _BUNDLE.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if bundle.resourceType != "Bundle":
        return None
    entries = bundle.entry if isinstance(bundle.entry, list) else []
    resources: list[Resource] = []
    skipped = errors = 0
    for entry in entries:  # the checks of read_page, in its order
        if entry is None:
            skipped += 1
            continue
        search = entry.search
        mode = search.mode if isinstance(search, _Search) else None
        if mode is not None and not isinstance(mode, str):
            skipped += 1
            continue
        if mode is not None and mode not in _RESULT_MODES:
            raw_outcome = entry.resource
            if mode == "outcome" and not isinstance(raw_outcome, UnsetType):
                if _is_error_outcome(orjson.loads(memoryview(raw_outcome))):
                    errors += 1
            continue
        if isinstance(entry.resource, UnsetType):
            skipped += 1
            continue
        resource = read_resource(entry.resource)
        if isinstance(resource, DecodedObservation) or (
            isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)
        ):
            resources.append(resource)
        else:
            skipped += 1
    return _page(bundle.link, resources, skipped, len(entries), errors)


def _page(
    link: Raw | UnsetType,
    resources: list[Resource],
    skipped: int,
    entries: int,
    outcome_errors: int = 0,
) -> DecodedBundle:
    links = None if isinstance(link, UnsetType) else orjson.loads(memoryview(link))
    page = ReadPage(
        resources=resources,
        next_url=_next_link({"link": links}) if links is not None else None,
        skipped_entries=skipped,
        outcome_errors=outcome_errors,
    )
    return DecodedBundle(page=page, entries=entries)
