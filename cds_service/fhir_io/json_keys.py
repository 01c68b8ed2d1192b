"""orjson's key cache filled with FHIR's element names before a worker takes calls (issue 13).

``orjson.loads`` keeps the object keys it makes (up to 64 bytes) in one cache per process of
2,048 slots, a slot per key hash, and hands the same string to every later document with that
key. Whichever call first meets an element name makes it, among that call's data; the cache
keeps it for good, and with it the 1 MiB block of Python memory (pymalloc arena) it was made in.
With the call caches emptied (``fhir_maps.clear_call_caches``), the names orjson met for the
first time were what still kept 4 blocks after a worker's first M call (docs/performance.md,
phase 6).

``prepare_json_keys()`` has orjson read every element name of the resource types this service
reads (``READ_RESOURCE_TYPES``) and of the datatypes inside them, as FHIR R4 defines them, then
the keys of a hook request's members: the names are made at start, among objects that live as
long as the worker (0.4 ms). A name outside the set (an element of another resource type, a
misspelling) is still made by the call that meets it, as before; so is a name whose slot a
later name of the set took (about one in five: the names more types share are read last).

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
    each once, in the order to read them: names of types nested deeper first, and at one
    depth the names fewer types share first. The types of ``Extension.value[x]`` are not
    walked (only an extension carries a ``ContactDetail`` or a ``TriggerDefinition``).
    Loads the ``fhir.resources`` R4B models: for the file and its test, not for a worker."""
    from fhir.resources.R4B import get_fhir_model_class

    depth_of: dict[str, int] = {}
    name_depth: dict[str, int] = {}
    shared_by: Counter[str] = Counter()
    level = list(dict.fromkeys(resource_types))
    depth = 0
    while level:
        below: list[str] = []
        for type_name in level:
            if type_name in depth_of:
                continue
            depth_of[type_name] = depth
            for field in get_fhir_model_class(type_name).model_fields.values():
                if field.alias is None or field.alias == "fhir_comments":
                    continue
                shared_by[field.alias] += 1
                name_depth[field.alias] = min(name_depth.get(field.alias, depth), depth)
                if type_name != "Extension":
                    below.extend(_element_types(field.annotation))
        level, depth = below, depth + 1
    return sorted(
        (name for name in shared_by if len(name.encode()) <= _CACHED_KEY_BYTES),
        key=lambda name: (-name_depth[name], shared_by[name], name),
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


def prepare_json_keys() -> list[str]:
    """Have orjson make the keys of the documents a call reads now (see the module
    docstring); the keys, as orjson made them."""
    made: list[str] = []
    for key in (*stored_element_names(), *_DOCUMENT_KEYS):
        made.extend(orjson.loads(orjson.dumps({key: None})))  # one by one: a later key wins
    return made


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
