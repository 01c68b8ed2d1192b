"""The decode of a hook request body (issue 13): ``orjson``'s document, without the Bundles.

``decode_hook_document(body)`` answers what ``orjson.loads(body)`` answers for the members a
hook call has (``parse_hook_request`` reads no other), except that each prefetch value that is
a Bundle is a ``fhir_io.DecodedBundle``: its page of resources read straight from the body
(``fhir_io.decode_bundle``: plain Observations as structs, every other resource as its dict),
the Bundle and its entries never built. ``msgspec`` splits the body into the raw JSON of its
members; every member but the prefetch is parsed by ``orjson`` as before.

``None`` means "parse it with ``orjson``": when the body is not a JSON object for ``msgspec``
(malformed, nested past its limit of about 1,000 levels, ``prefetch`` not an object) or holds
a part ``orjson`` refuses. Every error answer (400, 413) is then the reference path's, as
before. What is read is checked as before: ``msgspec`` refuses invalid UTF-8 in every string
it decodes and ``orjson`` in everything it parses. What differs (SPEC 3, Volume): what the
service never reads is checked as JSON syntax only, so invalid UTF-8 or a number beyond the
range of a double there no longer fails the whole request: inside a prefetched Bundle, an
element grading does not read (an Observation's ``meta``, an entry's ``fullUrl``, the
Bundle's ``meta``); a member of the request the service does not know (``extension``); and a
value that a later duplicate of its key replaces (of a member, a prefetch key, an element).
The call is answered as the body it means (tests/hooks/test_typed_decode_hostile.py).
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType

from cds_service.fhir_io.bundles import decode_bundle

__all__ = ["decode_hook_document"]


class _HookRequest(Struct, gc=False):
    """The members of a hook call (CDS Hooks 2.0 HTTP Request) that the service reads."""

    hook: Raw | UnsetType = UNSET
    hookInstance: Raw | UnsetType = UNSET  # noqa: N815 - the specification's names
    context: Raw | UnsetType = UNSET
    fhirServer: Raw | UnsetType = UNSET  # noqa: N815
    fhirAuthorization: Raw | UnsetType = UNSET  # noqa: N815
    prefetch: dict[str, Raw] | None | UnsetType = UNSET


_REQUEST = msgspec.json.Decoder(_HookRequest)
_MEMBERS = ("hook", "hookInstance", "context", "fhirServer", "fhirAuthorization")


def decode_hook_document(body: bytes) -> dict[str, Any] | None:
    """The request document of ``body``, or ``None`` to parse it with ``orjson`` instead."""
    try:
        request = _REQUEST.decode(body)
        document: dict[str, Any] = {}
        for name in _MEMBERS:
            raw = getattr(request, name)
            if not isinstance(raw, UnsetType):
                document[name] = orjson.loads(memoryview(raw))
        prefetch = request.prefetch
        if not isinstance(prefetch, UnsetType):
            document["prefetch"] = (
                None
                if prefetch is None
                else {key: _prefetch_value(value) for key, value in prefetch.items()}
            )
    except (msgspec.MsgspecError, orjson.JSONDecodeError, RecursionError):
        return None
    return document


def _prefetch_value(raw: Raw) -> Any:
    bundle = decode_bundle(raw)
    return bundle if bundle is not None else orjson.loads(memoryview(raw))
