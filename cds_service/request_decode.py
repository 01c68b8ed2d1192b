"""The decode of a hook request body (issue 13): ``orjson``'s document, without the Bundles.

``decode_hook_document(body)`` answers what ``orjson.loads(body)`` answers, except that each
prefetch value that is a Bundle is a ``fhir_io.DecodedBundle``: its page of resources read
straight from the body (``fhir_io.decode_bundle``: plain Observations as structs, every other
resource as its dict), the Bundle and its entries never built. ``msgspec`` splits the body into
the raw JSON of its members; every member but the prefetch is parsed by ``orjson`` as before.

``None`` means "parse it with ``orjson``": when the body is not a JSON object for ``msgspec``
(malformed, nested past its limit of about 1,000 levels), holds invalid UTF-8 (``msgspec``
does not check the text of what it skips) or a part ``orjson`` refuses. Every error answer
(400, 413) is then the reference path's, as before. The one difference (SPEC 3, Volume;
``fhir_maps.decoded``): a number beyond the range of a double inside a prefetched resource,
in an element grading does not read, no longer fails the request.
"""

from __future__ import annotations

import codecs
from typing import Any

import msgspec
import orjson
from msgspec import Raw

from cds_service.fhir_io.bundles import decode_bundle

__all__ = ["decode_hook_document"]

_MEMBERS = msgspec.json.Decoder(dict[str, Raw])
_CHUNK = 1 << 20


def _valid_utf8(body: bytes) -> bool:
    """Whether ``body`` is UTF-8 (in 1 MiB steps: no copy of the whole body as text)."""
    if body.isascii():
        return True
    view = memoryview(body)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(body), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_hook_document(body: bytes) -> dict[str, Any] | None:
    """The request document of ``body``, or ``None`` to parse it with ``orjson`` instead."""
    if not _valid_utf8(body):
        return None
    try:
        members = _MEMBERS.decode(body)
        return {
            name: _prefetch(raw) if name == "prefetch" else orjson.loads(memoryview(raw))
            for name, raw in members.items()
        }
    except (msgspec.MsgspecError, orjson.JSONDecodeError, RecursionError):
        return None


def _prefetch(raw: Raw) -> Any:
    try:
        values = _MEMBERS.decode(raw)
    except msgspec.ValidationError:  # not an object: parse_hook_request says so
        return orjson.loads(memoryview(raw))
    return {key: _prefetch_value(value) for key, value in values.items()}


def _prefetch_value(raw: Raw) -> Any:
    bundle = decode_bundle(raw)
    return bundle if bundle is not None else orjson.loads(memoryview(raw))
