"""orjson's key cache filled with FHIR's element names before a worker takes calls (issue 13).

``orjson.loads`` keeps the object keys it makes (up to 64 bytes) in one cache per process of
2,048 slots, a slot per key hash, and hands the same string to every later document with that
key. Whichever call first meets an element name makes it, among that call's data; the cache
keeps it for good, and with it the 1 MiB block of Python memory (pymalloc arena) it was made in.
With the call caches emptied (``fhir_maps.clear_call_caches``), the names orjson met for the
first time were what still kept 4 blocks after a worker's first M call (docs/performance.md,
phase 6).

``prepare_json_keys()`` has orjson read the element names of the resource types a call can
bring (``READ_RESOURCE_TYPES``) and of the datatypes inside them, as FHIR R4 defines them,
then the keys of a hook request's members: at worker start the names are made among objects
that live as long as the worker. Two names of the set can share a slot (about one in eight
does: the later one keeps it, so the names more resource types hold are read last,
``element_names``); a call that meets the other one makes it in that slot, among its data. So
gunicorn's ``post_request`` runs it again after each call (0.05 ms): it reads only the names
that keep their slot (found once, by asking orjson), makes nothing while the cache holds them,
and lets go of the call's keys in those slots. A name outside the set (an element of another
resource type, a misspelling) that takes an empty slot is still made by the call that meets it
and kept.

The names come from the ``fhir.resources`` R4B models, which take 5 MB and 0.1 s to load: they
are kept in ``fhir_element_names.json`` beside this module, written by ``python -m
cds_service.fhir_io.json_keys`` (tests/service/test_json_keys.py checks it against the models).
"""

from __future__ import annotations

import re
import sys
import typing
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import orjson

from cds_service.fhir_io.reader import PATIENT_DATA_TYPES

__all__ = ["READ_RESOURCE_TYPES", "element_names", "prepare_json_keys", "stored_element_names"]

#: The resource types a prefetch, a search page or a read can bring (the Patient, a Medication
#: by reference, a Bundle, an OperationOutcome, and the patient's data).
READ_RESOURCE_TYPES: tuple[str, ...] = tuple(
    sorted(PATIENT_DATA_TYPES | {"Bundle", "Medication", "OperationOutcome", "Patient"})
)

#: Keys of every document that are not element names of a model: a resource's type, and the
#: members of a hook request's ``context`` and ``fhirAuthorization`` (CDS Hooks 2.0) that
#: orjson reads. Read last: they are in every call.
_DOCUMENT_KEYS = (
    "patientId",
    "userId",
    "encounterId",
    "draftOrders",
    "selections",
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "subject",
    "resourceType",
)

#: The names of FHIR types inside a model field's annotation (``abc.CodeableConceptType``).
_TYPE_NAME = re.compile(r"\babc\.(\w+?)Type\b")

#: orjson caches keys up to this length (bytes).
_CACHED_KEY_BYTES = 64

_NAMES_FILE = "fhir_element_names.json"


def element_names(resource_types: Iterable[str]) -> list[str]:
    """Every JSON element name of ``resource_types`` and of the element types they contain,
    each once, in the order to read them (a name read later keeps a shared slot): first the
    names a chart rarely has (a primitive's extension ``_name``, an extension's ``value[x]``),
    then the others by how many of ``resource_types`` can hold them, the search Bundle's
    included (``Meta.lastUpdated``, ``Quantity.unit``, ``Bundle.entry`` last), then by how
    many element types have them. The types of
    ``Extension.value[x]`` are not walked (only an extension carries a ``ContactDetail``).
    Loads the ``fhir.resources`` R4B models: for the file and its test, not for a worker."""
    from fhir.resources.R4B import get_fhir_model_class

    names_of: dict[str, list[str]] = {}
    inner_types: dict[str, list[str]] = {}
    roots = list(dict.fromkeys(resource_types))
    reach: Counter[str] = Counter()
    for root in roots:
        held: set[str] = set()
        pending, walked = [root, "Bundle"], set()  # searches bring every type in a Bundle
        while pending:
            type_name = pending.pop()
            if type_name in walked:
                continue
            walked.add(type_name)
            if type_name not in names_of:
                fields = get_fhir_model_class(type_name).model_fields.values()
                named = [f for f in fields if f.alias is not None and f.alias != "fhir_comments"]
                names_of[type_name] = [str(f.alias) for f in named]
                inner_types[type_name] = (
                    []
                    if type_name == "Extension"
                    else [t for f in named for t in _element_types(f.annotation)]
                )
            held.update(names_of[type_name])
            pending.extend(inner_types[type_name])
        reach.update(held)
    shared_by = Counter(name for names in names_of.values() for name in names)
    only_extension = {
        name
        for name in names_of.get("Extension", [])
        if shared_by[name] == 1 and name.startswith("value")
    }

    def order(name: str) -> tuple[int, int, int, str]:
        rare = name.startswith("_") or name in only_extension
        return (0 if rare else 1, reach[name], shared_by[name], name)

    return sorted(
        (name for name in shared_by if len(name.encode()) <= _CACHED_KEY_BYTES), key=order
    )


def _element_types(annotation: object) -> list[str]:
    found = _TYPE_NAME.findall(repr(annotation))
    for argument in typing.get_args(annotation):
        found.extend(_element_types(argument))
    return found


def stored_element_names() -> tuple[str, ...]:
    """``element_names(READ_RESOURCE_TYPES)`` as ``fhir_element_names.json`` keeps them."""
    document = orjson.loads(resources.files(__package__).joinpath(_NAMES_FILE).read_bytes())
    return tuple(document["names"])


def reading_order() -> tuple[str, ...]:
    """Every key ``prepare_json_keys`` may read, each once, in reading order: the element
    names, then the request keys (``subject`` is both: read with the latter)."""
    last_first = dict.fromkeys(reversed((*stored_element_names(), *_DOCUMENT_KEYS)))
    return tuple(reversed(last_first))


@cache
def _kept_keys_document() -> bytes:
    """One JSON object of the keys that keep their orjson slot when all of ``reading_order``
    is read: asked of orjson once (its slots depend on its hash). Read backwards after one
    read of them all, a key whose slot a later key took is missing (orjson makes it again,
    evicting the later one, which was already found kept)."""
    names = reading_order()
    made = dict(zip(names, orjson.loads(orjson.dumps(dict.fromkeys(names))), strict=True))
    kept = [name for name in reversed(names) if _read_key(name) is made[name]]
    return orjson.dumps(dict.fromkeys(reversed(kept)))


def _read_key(name: str) -> str:
    """The key orjson hands out for ``name`` now: its cached string, or a new one it caches."""
    (key,) = orjson.loads(orjson.dumps({name: None}))
    return str(key)


def prepare_json_keys() -> list[str]:
    """Have orjson make the keys of the documents a call reads, now (see the module
    docstring): of two keys of ``reading_order`` that share a slot, the later one. At worker
    start, and again after each call, where the keys the call made in these slots are let go
    and nothing is made (every other key is still cached); the keys, as orjson's cache holds
    them."""
    return list(orjson.loads(_kept_keys_document()))


def _write_names_file() -> Path:
    import fhir.resources

    path = Path(__file__).with_name(_NAMES_FILE)
    document = {
        "source": (
            "FHIR R4 element names (FHIR 4.3 R4B models of fhir.resources "
            f"{fhir.resources.__version__}), written by python -m cds_service.fhir_io.json_keys"
        ),
        "resource_types": list(READ_RESOURCE_TYPES),
        "names": element_names(READ_RESOURCE_TYPES),
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


if __name__ == "__main__":
    sys.stdout.write(f"{_write_names_file()}\n")
