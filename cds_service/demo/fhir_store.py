"""A small in-memory FHIR R4 store that answers reads and the searches prefetch templates use.

It stands in for an EHR's FHIR server twice: ``crs-cds call FILE`` evaluates the discovery
prefetch templates against a Bundle file with it, and ``crs-cds demo`` serves the demo patients
from it over HTTP. Whatever templates the service declares, they are evaluated, not copied: the
search parameters below are the ones EHR prefetch templates use (FHIR R4 search, section 3.1.1).

- ``patient`` / ``subject`` (reference), ``category``, ``code``, ``status``,
  ``clinical-status``, ``_id`` (token, comma = OR, ``system|code``, ``|code``, ``system|``),
  ``date`` / ``effective-time`` / ``onset-date`` (date with ``eq ne lt le gt ge`` prefixes; a
  resource's date is the start of its time or period),
- ``_sort`` (comma-separated, ``-`` for descending, on a date parameter or ``_id``),
  ``_count`` (page size), ``_include`` (``Type:reference-param``, e.g.
  ``MedicationAdministration:medication``).

Anything else is ignored, as FHIR's lenient handling allows, and reported by
``SearchResult.ignored`` so that the caller can say so (an OperationOutcome entry over HTTP).
This is a development tool, not a FHIR server: no writes, no chaining, no modifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "FhirStore",
    "SearchError",
    "SearchResult",
    "resources_of_bundle",
]

Resource = Mapping[str, Any]

#: Page size when a search gives no ``_count``, and the largest page served.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

#: Parameters that shape the result rather than filter it.
_RESULT_PARAMETERS = frozenset({"_sort", "_count", "_include", "_offset", "_format"})


class SearchError(ValueError):
    """A search the store cannot answer (unknown type, malformed value); says which part."""


# --- what a parameter reads from a resource ---------------------------------------------------


def _elements(resource: Resource, path: str) -> list[Any]:
    """Values at a dotted ``path`` (lists flattened), e.g. ``category`` or ``subject``."""
    values: list[Any] = [resource]
    for name in path.split("."):
        found: list[Any] = []
        for value in values:
            item = value.get(name) if isinstance(value, Mapping) else None
            if isinstance(item, list):
                found.extend(item)
            elif item is not None:
                found.append(item)
        values = found
    return values


def _first(resource: Resource, paths: Sequence[str]) -> list[Any]:
    for path in paths:
        values = _elements(resource, path)
        if values:
            return values
    return []


@dataclass(frozen=True, slots=True)
class _Param:
    """One search parameter: its kind and the elements it reads, in order of preference."""

    kind: str  # "reference", "token", "date"
    paths: tuple[str, ...]
    target: str | None = None  # the resource type a reference parameter points at


_SUBJECT = _Param("reference", ("subject", "patient"))
_PATIENT = _Param("reference", ("subject", "patient"), target="Patient")
_DATE_OF: dict[str, tuple[str, ...]] = {
    "Observation": (
        "effectiveDateTime",
        "effectivePeriod.start",
        "effectiveInstant",
        "effectiveTiming.event",
        "issued",
    ),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod.start"),
    "MedicationRequest": ("authoredOn",),
    "Procedure": ("performedDateTime", "performedPeriod.start"),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "Encounter": ("period.start",),
}

#: (resource type or "*", parameter name) -> what it reads. "*" applies to every type.
_PARAMETERS: dict[tuple[str, str], _Param] = {
    ("*", "_id"): _Param("token", ("id",)),
    ("*", "patient"): _PATIENT,
    ("*", "subject"): _SUBJECT,
    ("*", "category"): _Param("token", ("category",)),
    ("*", "code"): _Param("token", ("code",)),
    ("*", "status"): _Param("token", ("status",)),
    ("Condition", "clinical-status"): _Param("token", ("clinicalStatus",)),
    ("Condition", "onset-date"): _Param("date", _DATE_OF["Condition"][:2]),
    ("MedicationAdministration", "code"): _Param(
        "token", ("medicationCodeableConcept", "@medication.code")
    ),
    ("MedicationRequest", "code"): _Param(
        "token", ("medicationCodeableConcept", "@medication.code")
    ),
    ("MedicationAdministration", "medication"): _Param(
        "reference", ("medicationReference",), target="Medication"
    ),
    ("MedicationRequest", "medication"): _Param(
        "reference", ("medicationReference",), target="Medication"
    ),
    ("MedicationAdministration", "effective-time"): _Param(
        "date", _DATE_OF["MedicationAdministration"]
    ),
    **{(kind, "date"): _Param("date", paths) for kind, paths in _DATE_OF.items()},
}


def _parameter(resource_type: str, name: str) -> _Param | None:
    return _PARAMETERS.get((resource_type, name)) or _PARAMETERS.get(("*", name))


# --- value matching ---------------------------------------------------------------------------


def parse_instant(text: str) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (a date: its midnight, UTC)."""
    if not isinstance(text, str) or len(text) < 4:
        return None
    padded = text
    if len(text) == 4:
        padded = f"{text}-01-01"
    elif len(text) == 7:
        padded = f"{text}-01"
    try:
        moment = datetime.fromisoformat(padded.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _token_matches(value: Any, wanted: tuple[str | None, str | None]) -> bool:
    """``value`` (code string, Coding or CodeableConcept) against ``system|code``."""
    system, code = wanted
    if isinstance(value, str):
        return system is None and value == code
    if not isinstance(value, Mapping):
        return False
    codings = value.get("coding") if "coding" in value else [value]
    for coding in codings if isinstance(codings, list) else []:
        if not isinstance(coding, Mapping):
            continue
        if system is not None and coding.get("system", "") != system:
            continue
        if code is None or coding.get("code") == code:
            return True
    return False


def _tokens(raw: str) -> list[tuple[str | None, str | None]]:
    wanted: list[tuple[str | None, str | None]] = []
    for part in raw.split(","):
        if "|" in part:
            system, code = part.split("|", 1)
            wanted.append((system, code or None))
        else:
            wanted.append((None, part))
    return wanted


def _type_and_id(reference: str) -> tuple[str | None, str]:
    """``("Patient", "123")`` of ``Patient/123`` or ``https://x/fhir/Patient/123``."""
    parts = reference.split("?")[0].rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return (parts[-2] if len(parts) >= 2 else None), parts[-1]


def _reference_matches(value: Any, wanted: str, target: str | None) -> bool:
    """A Reference against a search value: an id, ``Type/id`` or an absolute URL."""
    reference = value.get("reference") if isinstance(value, Mapping) else None
    if not isinstance(reference, str) or reference.startswith("#"):
        return False
    have_type, have_id = _type_and_id(reference)
    want_type, want_id = _type_and_id(wanted)
    if have_id != want_id or have_type is None:
        return False
    return have_type == (want_type or target or have_type)


_PREFIXES: dict[str, Callable[[datetime, datetime], bool]] = {
    "eq": lambda have, want: have == want,
    "ne": lambda have, want: have != want,
    "lt": lambda have, want: have < want,
    "le": lambda have, want: have <= want,
    "gt": lambda have, want: have > want,
    "ge": lambda have, want: have >= want,
}


def _date_test(raw: str) -> Callable[[datetime], bool]:
    prefix, text = ("eq", raw)
    if raw[:2] in _PREFIXES:
        prefix, text = raw[:2], raw[2:]
    wanted = parse_instant(text)
    if wanted is None:
        raise SearchError(f"date parameter value {raw!r} is not a FHIR date")
    compare = _PREFIXES[prefix]
    return lambda have: compare(have, wanted)


# --- the store --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Every match of a search, sorted, with what ``_include`` adds for a page of them."""

    resource_type: str
    matches: tuple[Resource, ...]
    page_size: int
    include: tuple[tuple[str, str], ...] = ()  # (source type, reference parameter)
    ignored: tuple[str, ...] = ()  # parameters the store did not apply
    store: FhirStore | None = field(default=None, repr=False)

    def page(self, offset: int) -> tuple[list[Resource], list[Resource]]:
        """The matches of the page at ``offset`` and the resources they ``_include``."""
        matches = list(self.matches[offset : offset + self.page_size])
        included = self.store.included(matches, self.include) if self.store else []
        return matches, included

    def everything(self) -> tuple[list[Resource], list[Resource]]:
        """All matches and all they include (what a complete prefetch would hold)."""
        matches = list(self.matches)
        included = self.store.included(matches, self.include) if self.store else []
        return matches, included


class FhirStore:
    """Resources by type and id, answering reads and searches. Read-only once built."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_type: dict[str, dict[str, Resource]] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        """Add or replace ``resource`` (it needs a ``resourceType`` and an ``id``)."""
        resource_type, resource_id = resource.get("resourceType"), resource.get("id")
        if not isinstance(resource_type, str) or not isinstance(resource_id, str):
            raise ValueError("a stored resource needs a resourceType and an id")
        self._by_type.setdefault(resource_type, {})[resource_id] = resource

    def read(self, resource_type: str, resource_id: str) -> Resource | None:
        return self._by_type.get(resource_type, {}).get(resource_id)

    def of_type(self, resource_type: str) -> list[Resource]:
        return list(self._by_type.get(resource_type, {}).values())

    def resolve(self, reference: str) -> Resource | None:
        """The resource a relative or absolute ``Type/id`` reference names, if stored."""
        resource_type, resource_id = _type_and_id(reference)
        return self.read(resource_type, resource_id) if resource_type else None

    def search(self, resource_type: str, parameters: Sequence[tuple[str, str]]) -> SearchResult:
        """Apply ``parameters`` (name, value pairs as in a query string) to ``resource_type``."""
        if not resource_type.isalpha() or not resource_type[:1].isupper():
            raise SearchError(f"{resource_type!r} is not a resource type")
        tests: list[Callable[[Resource], bool]] = []
        ignored: list[str] = []
        sort: list[tuple[str, bool]] = []
        include: list[tuple[str, str]] = []
        page_size = DEFAULT_PAGE_SIZE
        for name, value in parameters:
            if name == "_count":
                page_size = _page_size(value)
            elif name == "_sort":
                sort.extend(self._sort_keys(resource_type, value, ignored))
            elif name == "_include":
                include.extend(_include(resource_type, value, ignored))
            elif name in _RESULT_PARAMETERS:
                continue
            else:
                test = self._filter(resource_type, name, value)
                if test is None:
                    ignored.append(name)
                else:
                    tests.append(test)
        matches = [r for r in self.of_type(resource_type) if all(test(r) for test in tests)]
        matches.sort(key=lambda r: str(r.get("id")))  # stable paging whatever the sort
        for key, descending in reversed(sort):
            matches = self._sorted(resource_type, matches, key, descending)
        return SearchResult(
            resource_type,
            tuple(matches),
            page_size,
            tuple(include),
            tuple(dict.fromkeys(ignored)),
            self,
        )

    def included(
        self, matches: Sequence[Resource], include: Sequence[tuple[str, str]]
    ) -> list[Resource]:
        """Resources that ``matches`` reference through the ``_include`` parameters, once each."""
        found: dict[tuple[str, str], Resource] = {}
        for source_type, name in include:
            parameter = _parameter(source_type, name)
            if parameter is None:
                continue
            for resource in matches:
                if resource.get("resourceType") != source_type:
                    continue
                for value in _first(resource, parameter.paths):
                    reference = value.get("reference") if isinstance(value, Mapping) else None
                    if not isinstance(reference, str) or reference.startswith("#"):
                        continue
                    target = self.resolve(reference)
                    if target is not None:
                        found.setdefault((target["resourceType"], target["id"]), target)
        return list(found.values())

    # --- filters and sorting ------------------------------------------------------------------

    def _filter(self, resource_type: str, name: str, raw: str) -> Callable[[Resource], bool] | None:
        if ":" in name:
            return None  # modifiers are not supported: reported as ignored
        parameter = _parameter(resource_type, name)
        if parameter is None:
            return None
        if parameter.kind == "reference":
            wanted = raw.split(",")
            return lambda r: any(
                _reference_matches(v, w, parameter.target)
                for v in _first(r, parameter.paths)
                for w in wanted
            )
        if parameter.kind == "token":
            tokens = _tokens(raw)
            return lambda r: any(
                _token_matches(v, t) for v in self._values(r, parameter.paths) for t in tokens
            )
        test = _date_test(raw)
        return lambda r: any(
            (moment := parse_instant(v)) is not None and test(moment)
            for v in _first(r, parameter.paths)
        )

    def _values(self, resource: Resource, paths: Sequence[str]) -> Iterator[Any]:
        """The values of ``paths``; ``@x.y`` reads ``y`` of the resource that ``x`` references
        (contained or stored), e.g. the code of a MedicationAdministration's Medication."""
        for path in paths:
            if not path.startswith("@"):
                yield from _elements(resource, path)
                continue
            link, element = path[1:].split(".", 1)
            for value in _elements(resource, link + "Reference"):
                target = self._target(resource, value)
                if target is not None:
                    yield from _elements(target, element)

    def _target(self, resource: Resource, value: Any) -> Resource | None:
        reference = value.get("reference") if isinstance(value, Mapping) else None
        if not isinstance(reference, str):
            return None
        if reference.startswith("#"):
            for contained in resource.get("contained") or []:
                if isinstance(contained, Mapping) and contained.get("id") == reference[1:]:
                    return contained
            return None
        return self.resolve(reference)

    def _sort_keys(
        self, resource_type: str, raw: str, ignored: list[str]
    ) -> Iterator[tuple[str, bool]]:
        for part in raw.split(","):
            name = part.lstrip("-")
            parameter = _parameter(resource_type, name)
            if name == "_id" or (parameter is not None and parameter.kind == "date"):
                yield name, part.startswith("-")
            else:
                ignored.append(f"_sort={part}")

    def _sorted(
        self, resource_type: str, resources: list[Resource], name: str, descending: bool
    ) -> list[Resource]:
        if name == "_id":
            return sorted(resources, key=lambda r: str(r.get("id")), reverse=descending)
        parameter = _parameter(resource_type, name)
        assert parameter is not None  # noqa: S101 - checked by _sort_keys

        def moment(resource: Resource) -> datetime | None:
            for value in _first(resource, parameter.paths):
                parsed = parse_instant(value) if isinstance(value, str) else None
                if parsed is not None:
                    return parsed
            return None

        dated = [(moment(r), r) for r in resources]
        known = [(m, r) for m, r in dated if m is not None]
        known.sort(key=lambda item: item[0], reverse=descending)
        return [r for _, r in known] + [r for m, r in dated if m is None]  # undated last


def _page_size(raw: str) -> int:
    try:
        size = int(raw)
    except ValueError:
        raise SearchError(f"_count={raw!r} is not a number") from None
    if size < 0:
        raise SearchError("_count must not be negative")
    return min(size, MAX_PAGE_SIZE)


def _include(resource_type: str, raw: str, ignored: list[str]) -> Iterator[tuple[str, str]]:
    source, _, name = raw.partition(":")
    parameter = _parameter(source, name) if source == resource_type else None
    if parameter is None or parameter.kind != "reference":
        ignored.append(f"_include={raw}")
        return
    yield source, name


def resources_of_bundle(document: Resource) -> list[Resource]:
    """The resources of a Bundle (any type), or ``[document]`` for a single resource."""
    if document.get("resourceType") != "Bundle":
        return [document]
    entries = document.get("entry") or []
    return [
        entry["resource"]
        for entry in entries
        if isinstance(entry, Mapping) and isinstance(entry.get("resource"), Mapping)
    ]
