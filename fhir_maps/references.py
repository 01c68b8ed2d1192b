"""Strict reading of FHIR literal references: the one parser of ``fhir_maps`` and ``fhir_io``.

SPEC 3 (References): a reference names a resource only as exactly ``Type/id`` (optionally
``Type/id/_history/version``), or as the absolute URL of that on the call's ``fhirServer``.
Everything else names nobody: a query string (``Patient/other?_x=/Patient/123``), a fragment,
extra path segments (``Patient/other/x/Patient/123``), another host or scheme, user info, a
relative URL with another base (``../Patient/123``, ``/Patient/123``), whitespace, an id outside
the FHIR id alphabet, ``urn:uuid:`` (meaningful only inside a transaction Bundle). The caller
decides what "nobody" means: a resource whose subject names nobody is not this patient's.

FHIR R4 (References, Resource.id): a relative reference is ``[type]/[id]``, the id is
``[A-Za-z0-9\\-\\.]{1,64}``; an absolute reference is ``[base]/[type]/[id]``.

Only the parsed form of short strings is cached (issue 11: an ``lru_cache`` keyed by whole
reference strings kept three 8 MB references per call alive and grew a worker from 71 to 404
MiB), and the cache is emptied after each call (``fhir_maps.call_caches``, issue 13). A
string longer than ``MAX_REFERENCE_CHARS`` cannot be a reference we accept and is refused
before anything is cached or matched.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .call_caches import call_cache

__all__ = [
    "MAX_REFERENCE_CHARS",
    "LiteralReference",
    "ReferenceOwner",
    "parse_reference",
    "patient_element",
    "reference_owner",
    "target_on_any_server",
    "url_origin",
]

#: Longest reference string read at all: a base URL of up to ~1,900 characters plus
#: ``/Type/id/_history/version`` (ids and versions are at most 64 characters).
MAX_REFERENCE_CHARS = 2048
#: Only strings up to this length go through the cache (real references are ~20-120 chars).
_CACHED_CHARS = 256

_ID = r"[A-Za-z0-9\-.]{1,64}"
_RELATIVE = re.compile(rf"([A-Z][A-Za-z]{{1,63}})/({_ID})(?:/_history/({_ID}))?", re.ASCII)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class LiteralReference:
    """A reference read strictly: ``resource_type``/``id`` (and the version when given)."""

    resource_type: str
    id: str
    version: str | None = None

    @property
    def relative(self) -> str:
        """``Type/id``: how evidence lists name the target."""
        return f"{self.resource_type}/{self.id}"


def parse_reference(reference: object, fhir_server: str | None = None) -> LiteralReference | None:
    """The target of ``reference`` when it is exactly ``Type/id[/_history/v]``, or that path
    below ``fhir_server``; ``None`` for everything else (see the module docstring)."""
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_CHARS:
        return None
    if len(reference) <= _CACHED_CHARS and (fhir_server is None or len(fhir_server) <= 512):
        return _parse_cached(reference, fhir_server)
    return _parse(reference, fhir_server)


@call_cache(maxsize=2048)
def _parse_cached(reference: str, fhir_server: str | None) -> LiteralReference | None:
    return _parse(reference, fhir_server)


def _parse(reference: str, fhir_server: str | None) -> LiteralReference | None:
    match = _RELATIVE.fullmatch(reference)
    if match is not None:
        return LiteralReference(*match.groups())
    if fhir_server is None or "://" not in reference:
        return None
    base = _origin_and_path(fhir_server)
    there = _origin_and_path(reference)
    if base is None or there is None:
        return None
    (base_origin, base_path), (origin, path) = base, there
    prefix = base_path.rstrip("/") + "/"
    if origin != base_origin or not path.startswith(prefix):
        return None
    match = _RELATIVE.fullmatch(path[len(prefix) :])
    return LiteralReference(*match.groups()) if match is not None else None


def url_origin(url: str) -> tuple[tuple[str, str, int], str] | None:
    """((scheme, host, port), path) of an absolute http(s) URL without user info, the default
    port written out or not; None for anything else. The query and fragment are not looked at
    (a Bundle's next link has a query; ``_origin_and_path`` refuses one)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
    ):
        return None
    origin = (scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme])
    return origin, parts.path


def _origin_and_path(url: str) -> tuple[tuple[str, str, int], str] | None:
    """((scheme, host, port), path) of an absolute http(s) URL with nothing else in it."""
    if "?" in url or "#" in url or any(char.isspace() for char in url):
        return None
    return url_origin(url)


def target_on_any_server(reference: object) -> LiteralReference | None:
    """``Type/id`` of an absolute http(s) reference on whatever server (no query, fragment or
    user info), or of a strict relative one.

    Only for finding a resource that is no patient's data among those the call already holds
    (a Medication of ``_include``, named by its absolute URL when no ``fhirServer`` was given).
    Never use it to decide whose a resource is, nor to choose what to fetch.
    """
    target = parse_reference(reference)
    if target is not None or not isinstance(reference, str) or len(reference) > MAX_REFERENCE_CHARS:
        return target
    parts = _origin_and_path(reference)
    if parts is None:
        return None
    segments = parts[1].split("/")
    tail = 4 if len(segments) >= 5 and segments[-2] == "_history" else 2
    match = _RELATIVE.fullmatch("/".join(segments[-tail:]))
    return LiteralReference(*match.groups()) if match is not None else None


class ReferenceOwner(enum.StrEnum):
    """Whose a resource is, by its patient reference."""

    OURS = "ours"
    OTHER = "other"  # names another Patient exactly
    NOBODY = "nobody"  # no patient reference, or one in a form that is not accepted


#: The element that names the patient, for the resource types whose element is not ``subject``
#: (FHIR R4: AllergyIntolerance.patient, Immunization.patient, ...). All others use ``subject``.
_PATIENT_ELEMENTS: Mapping[str, str] = {
    "AllergyIntolerance": "patient",
    "Immunization": "patient",
}


def patient_element(resource_type: object) -> str:
    """The element naming the patient of a resource type (``subject`` unless FHIR says else)."""
    if isinstance(resource_type, str):
        return _PATIENT_ELEMENTS.get(resource_type, "subject")
    return "subject"


def reference_owner(
    resource: Mapping[str, Any], patient_id: str, fhir_server: str | None = None
) -> tuple[ReferenceOwner, LiteralReference | None]:
    """Whose ``resource`` is, by the element that names its patient, and what it names.

    ``OURS`` only when that element's ``reference`` is exactly ``Patient/{patient_id}`` (or its
    version, or its absolute URL on ``fhir_server``); ``OTHER`` when it names another Patient
    exactly; ``NOBODY`` otherwise (absent, not a Reference, another resource type, or a form
    that is not accepted).
    """
    value = resource.get(patient_element(resource.get("resourceType")))
    reference = value.get("reference") if isinstance(value, dict) else None
    target = parse_reference(reference, fhir_server)
    if target is None or target.resource_type != "Patient":
        return ReferenceOwner.NOBODY, target
    if target.id == patient_id:
        return ReferenceOwner.OURS, target
    return ReferenceOwner.OTHER, target
