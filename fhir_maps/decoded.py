"""Observations decoded from their raw JSON into structs (issue 13): no dict per monitor row.

A month of monitor-rate vitals is tens of thousands of Observations of one plain shape. Building
each as a dict (``orjson``) and freeing it again cost more than all the grading, and the body as
dicts was most of a call's peak memory. ``read_resource`` decodes one resource's raw JSON (a
Bundle entry's ``resource``, kept raw by ``cds_service.fhir_io``) with ``msgspec``:

- an Observation whose graded elements have the types FHIR gives them becomes a
  ``DecodedObservation``: a ``gc=False`` struct of only the elements the lanes read (status,
  code, subject, effective[x], value[x], component, referenceRange). The elements it does not
  model are checked as JSON and skipped, never built. ``code``, ``subject`` and
  ``referenceRange`` stay JSON text: what they mean is worked out once per distinct text, by
  ``orjson`` and the usual readers (``parsed_element``). The vital-sign lane
  (``observations.decoded_lane``) reads plain vital signs in the first pass, the lab lane
  (``observations.decoded_lab``) plain lab results once the Patient is mapped. Its ``source``
  is its raw JSON: when the lanes decline it (a comparator on a vital sign, an unknown unit, a
  range that does not read, anything but the plain shape), the mappers read ``as_dict()``, the
  very dict ``orjson`` makes of it, as before;
- anything else (another resource type, or an Observation with an element of another type, a
  ``null``, a string for a number) is parsed by ``orjson`` into the dict it always was.

Equal answers by construction: the struct's types are those the lane accepts, and every other
reader sees the dict; a duplicated key keeps its last value in both decoders. What differs
(SPEC 3, Volume): ``msgspec`` checks the syntax of what it skips, not its UTF-8 or the range of
its numbers, so invalid UTF-8 or a number beyond the range of a double in an element grading
does not read no longer fails the request; where a reader must parse that element (a code, a
subject, the dict of a declined resource), that resource is skipped and reported.
tests/fhir_maps/test_fast_lane.py and tests/hooks/test_typed_decode.py compare both ways.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType, field

from ._fhir import ElementError
from .references import ReferenceOwner, reference_owner

__all__ = [
    "OBSERVATION",
    "DecodedComponent",
    "DecodedObservation",
    "DecodedQuantity",
    "decoded_owner",
    "parsed_element",
    "read_resource",
]


class DecodedQuantity(Struct, gc=False):
    value: int | float | UnsetType = UNSET
    comparator: str | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    code: str | UnsetType = UNSET


# The value[x] choices of Observation and Observation.component (FHIR R4) other than
# valueQuantity: modelled raw, only to see whether one is there (the lane then declines).


class DecodedComponent(Struct, gc=False):
    #: Kept as its JSON text: what a code means is worked out once per distinct text.
    code: Raw | UnsetType = UNSET
    valueQuantity: DecodedQuantity | UnsetType = UNSET  # noqa: N815 - FHIR's element names
    valueCodeableConcept: Raw | UnsetType = UNSET  # noqa: N815
    valueString: Raw | UnsetType = UNSET  # noqa: N815
    valueBoolean: Raw | UnsetType = UNSET  # noqa: N815
    valueInteger: Raw | UnsetType = UNSET  # noqa: N815
    valueRange: Raw | UnsetType = UNSET  # noqa: N815
    valueRatio: Raw | UnsetType = UNSET  # noqa: N815
    valueSampledData: Raw | UnsetType = UNSET  # noqa: N815
    valueTime: Raw | UnsetType = UNSET  # noqa: N815
    valueDateTime: Raw | UnsetType = UNSET  # noqa: N815
    valuePeriod: Raw | UnsetType = UNSET  # noqa: N815

    def other_value(self) -> bool:
        """Whether a value[x] other than valueQuantity is there."""
        return not (
            self.valueCodeableConcept is UNSET
            and self.valueString is UNSET
            and self.valueBoolean is UNSET
            and self.valueInteger is UNSET
            and self.valueRange is UNSET
            and self.valueRatio is UNSET
            and self.valueSampledData is UNSET
            and self.valueTime is UNSET
            and self.valueDateTime is UNSET
            and self.valuePeriod is UNSET
        )


class DecodedObservation(DecodedComponent, gc=False, kw_only=True):
    """The elements of an Observation the fast lane reads; ``as_dict()`` for all of it."""

    resourceType: str  # noqa: N815
    id: str | UnsetType = UNSET
    status: str | UnsetType = UNSET
    subject: Raw | UnsetType = UNSET  # as ``code``: read once per distinct text
    effectiveDateTime: str | UnsetType = UNSET  # noqa: N815
    effectivePeriod: Raw | UnsetType = UNSET  # noqa: N815
    effectiveInstant: Raw | UnsetType = UNSET  # noqa: N815
    effectiveTiming: Raw | UnsetType = UNSET  # noqa: N815
    component: tuple[DecodedComponent, ...] | UnsetType = UNSET
    referenceRange: Raw | UnsetType = UNSET  # noqa: N815 - read by the lab lane, once per text
    #: Where its raw JSON is, set after the decode: the raw JSON itself (``read_resource``),
    #: or, with ``index``, a sequence that gives it (``RawSource``, for a whole Bundle decoded
    #: at once). The names are no FHIR element's.
    source: Any = field(name="(source)", default=None)
    index: int = field(name="(index)", default=-1)

    def other_effective(self) -> bool:
        """Whether an effective[x] other than effectiveDateTime is there."""
        return not (
            self.effectivePeriod is UNSET
            and self.effectiveInstant is UNSET
            and self.effectiveTiming is UNSET
        )

    def as_dict(self) -> dict[str, Any]:
        """The whole resource as ``orjson`` reads it. ``ElementError`` when ``orjson`` refuses
        an element the struct skipped (a number beyond the range of a double)."""
        source = self.source if self.index < 0 else self.source[self.index]
        if not isinstance(source, Raw):
            raise ElementError("(resource)", "was decoded without its JSON")
        try:
            document: dict[str, Any] = orjson.loads(memoryview(source))
        except orjson.JSONDecodeError:
            raise ElementError("(resource)", "is not JSON this service can read") from None
        return document

    def get(self, key: str, default: Any = None) -> Any:
        """``Mapping.get`` for the readers that take any resource: type and id from the
        struct, anything else from ``as_dict()``."""
        if key == "resourceType":
            return self.resourceType
        if key == "id":
            return default if isinstance(self.id, UnsetType) else self.id
        return self.as_dict().get(key, default)


#: The decoder of one Observation.
OBSERVATION = msgspec.json.Decoder(DecodedObservation)


def read_resource(raw: Raw | bytes) -> DecodedObservation | Any:
    """One resource's raw JSON: a ``DecodedObservation`` when it is an Observation of the
    graded types, else what ``orjson.loads`` makes of it (``orjson.JSONDecodeError`` when it
    is not JSON)."""
    try:
        observation = OBSERVATION.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        # Not of the graded types, or not JSON for msgspec (which stops nesting at about
        # 1,000 levels): orjson reads it, or says what is wrong (the caller's 400).
        return orjson.loads(memoryview(raw) if isinstance(raw, Raw) else raw)
    if observation.resourceType != "Observation":
        return orjson.loads(memoryview(raw) if isinstance(raw, Raw) else raw)
    observation.source = raw if isinstance(raw, Raw) else Raw(raw)
    observation.index = -1  # "(index)" may be a key of the JSON itself: never read it
    return observation


def parsed_element(raw: Raw, element: str) -> Any:
    """An element kept raw (``code``, ``subject``) as ``orjson`` reads it; ``ElementError``
    when ``orjson`` refuses it (the designed difference of the module docstring)."""
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError:
        raise ElementError(element, "is not JSON this service can read") from None


def decoded_owner(
    observation: DecodedObservation, patient_id: str, fhir_server: str | None = None
) -> ReferenceOwner:
    """``reference_owner`` of a decoded Observation (by its ``subject``); ``NOBODY`` when the
    subject is not JSON ``orjson`` reads."""
    subject = observation.subject
    resource: dict[str, Any] = {"resourceType": "Observation"}
    if not isinstance(subject, UnsetType):
        try:
            resource["subject"] = parsed_element(subject, "subject")
        except ElementError:
            return ReferenceOwner.NOBODY
    return reference_owner(resource, patient_id, fhir_server)[0]
