"""Small helpers for raw FHIR R4 JSON: references, codings, numbers and date-times.

Everything here reads the raw JSON dicts (as ``json``/``orjson`` produce them) strictly: an
element of the wrong shape raises ``ElementError``, whose message names the element and the
problem and never contains the element's value (it ends up in the card's ``skipped`` list).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

from crs_grading.inputs import ClockOffset

from .call_caches import call_cache
from .references import parse_reference

#: A FHIR JSON object.
JSON = dict[str, Any]


class ElementError(ValueError):
    """An element of a resource cannot be read.

    ``str(error)`` is "<element> <problem>", e.g. "valueQuantity.value is not a number". It never
    holds the element's value: reasons are shown on cards and logged.
    """

    def __init__(self, element: str, problem: str) -> None:
        super().__init__(f"{element} {problem}")


# --- references -------------------------------------------------------------------------------


def resource_reference(resource: JSON, ordinal: int) -> str:
    """``Type/id`` of a resource, or ``Type/<no id> #n`` (n: its position in the input)."""
    resource_type = resource.get("resourceType")
    type_name = resource_type if isinstance(resource_type, str) and resource_type else "Resource"
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and resource_id:
        return f"{type_name}/{resource_id}"
    return f"{type_name}/<no id> #{ordinal}"


def subject_id(resource: JSON, element: str, fhir_server: str | None = None) -> str:
    """The patient id a resource's ``subject`` (or ``patient``) reference names, read strictly.

    Raises ``ElementError`` unless the reference is exactly ``Patient/{id}`` (optionally
    versioned) or its absolute URL on ``fhir_server`` (SPEC 3, References; ``references``):
    without one the resource cannot be shown to belong to the patient, and we never grade on
    another patient's data.
    """
    subject = resource.get(element)
    if subject is None:
        raise ElementError(element, "is missing")
    if not isinstance(subject, dict):
        raise ElementError(element, "is not a Reference")
    reference = subject.get("reference")
    if not isinstance(reference, str):
        raise ElementError(f"{element}.reference", "is missing")
    target = parse_reference(reference, fhir_server)
    if target is None:
        raise ElementError(
            f"{element}.reference",
            "is not Patient/{id} or its URL on the FHIR server: it names no patient",
        )
    if target.resource_type != "Patient":
        raise ElementError(f"{element}.reference", "does not point to a Patient")
    return target.id


# --- codings ----------------------------------------------------------------------------------


def codings(concept: object, element: str) -> Iterator[JSON]:
    """The codings of a CodeableConcept (none when absent)."""
    if concept is None:
        return
    if not isinstance(concept, dict):
        raise ElementError(element, "is not a CodeableConcept")
    coding_list = concept.get("coding")
    if coding_list is None:
        return
    if not isinstance(coding_list, list):
        raise ElementError(f"{element}.coding", "is not a list")
    for coding in coding_list:
        if not isinstance(coding, dict):
            raise ElementError(f"{element}.coding", "holds something that is not a Coding")
        yield coding


def concept_texts(concept: object, element: str) -> list[str]:
    """``text`` and every coding's ``display`` of a CodeableConcept, for name matching."""
    texts: list[str] = []
    for coding in codings(concept, element):
        display = coding.get("display")
        if isinstance(display, str) and display:
            texts.append(display)
    if isinstance(concept, dict):
        text = concept.get("text")
        if isinstance(text, str) and text:
            texts.append(text)
    return texts


def list_of_objects(value: object, element: str) -> list[JSON]:
    """A JSON array of objects (empty when absent)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ElementError(element, "is not a list of objects")
    return value


def optional_object(value: object, element: str) -> JSON | None:
    """A JSON object or ``None`` when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ElementError(element, "is not an object")
    return value


# --- numbers ----------------------------------------------------------------------------------


def number(value: object, element: str) -> float:
    """A finite JSON number as float (FHIR decimal or integer).

    Booleans and strings are refused, and so are NaN and infinity (Python's ``json`` reads
    them; they are not JSON, and the R4B models refuse them alike) and integers too large for a
    float.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        if value is None:
            raise ElementError(element, "is missing")
        raise ElementError(element, "is not a number")
    try:
        result = float(value)
    except OverflowError:
        raise ElementError(element, "is not a number") from None
    if not math.isfinite(result):
        raise ElementError(element, "is not a number")
    return result


# --- date-times -------------------------------------------------------------------------------

# FHIR dateTime/instant (R4 datatypes): YYYY, YYYY-MM, YYYY-MM-DD or a full time with seconds.
# The zone is required by FHIR once there is a time; we also accept it absent (see TimeReader).
_DATETIME = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?"
)
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Its most common form, to the second with a zone, in ASCII digits and with the hour, minute
# and second in range: the form ``datetime.fromisoformat`` reads as the general path does.
_ZONED_SECONDS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)

_FULL, _ZONELESS, _DATE_ONLY, _PARTIAL = 0, 1, 2, 3


@call_cache(maxsize=64)
def _offset(text: str) -> tzinfo:
    """The zone of a FHIR time offset (cached: a payload uses one or two offsets)."""
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class TimeReader:
    """Reads FHIR dateTime/instant strings into aware UTC datetimes, counting the lenient cases.

    - A time without a zone (FHIR forbids it, real EHRs send it) is read in ``default_tz`` and
      counted in ``zoneless``.
    - A date without a time is read as midnight in ``default_tz``; where the time of day
      matters (observations, administrations, procedures) it is counted in ``date_only``.
    - Year or year-month precision cannot place a finding in a 24 h window: ``optional`` gives
      ``None``, ``required`` raises.

    One reader per mapping call: it caches parsed strings (vitals share timestamps).
    """

    def __init__(self, default_tz: tzinfo) -> None:
        self.default_tz = default_tz
        self.zoneless = 0
        self.date_only = 0
        self._cache: dict[str, tuple[datetime | None, int]] = {}
        # The strings read so far that were full date-times with a zone: what ``required``
        # gives for them at once, counting nothing (the lanes read one per monitor row).
        self._instants: dict[str, datetime] = {}
        # UTC offset -> [count, latest time] of the distinct timestamps written with it.
        self._offsets: dict[timedelta, list[Any]] = {}

    def clock_offsets(self) -> tuple[ClockOffset, ...]:
        """The UTC offsets the timestamps were written in ("Z" aside), most used first."""
        seen = [ClockOffset(offset, count, last) for offset, (count, last) in self._offsets.items()]
        return tuple(sorted(seen, key=lambda item: (-item.count, -item.last.timestamp())))

    def checkpoint(self) -> tuple[int, int]:
        """The counters now; ``rollback`` to them when the resource read is not used."""
        return self.zoneless, self.date_only

    def rollback(self, checkpoint: tuple[int, int]) -> None:
        """Forget what was counted since ``checkpoint`` (the resource was skipped)."""
        self.zoneless, self.date_only = checkpoint

    def required(self, value: object, element: str, *, time_matters: bool = True) -> datetime:
        """A date-time precise to the day, in UTC; ``ElementError`` otherwise."""
        if type(value) is str:
            instant = self._instants.get(value)
            if instant is not None:
                return instant
        parsed = self.optional(value, element, time_matters=time_matters)
        if parsed is None:
            if value is None:
                raise ElementError(element, "is missing")
            raise ElementError(element, "is not precise to the day")
        return parsed

    def optional(
        self, value: object, element: str, *, time_matters: bool = True
    ) -> datetime | None:
        """A date-time in UTC, ``None`` when absent or only a year or year-month."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ElementError(element, "is not a date-time string")
        cached = self._cache.get(value)
        if cached is None:
            cached = self._parse(value, element)
            self._cache[value] = cached
            if cached[1] == _FULL and cached[0] is not None:
                self._instants[value] = cached[0]
        parsed, kind = cached
        if kind == _ZONELESS:
            self.zoneless += 1
        elif kind == _DATE_ONLY and time_matters:
            self.date_only += 1
        return parsed

    def _parse(self, value: str, element: str) -> tuple[datetime | None, int]:
        parsed, kind = self._parse_unchecked(value, element)
        # Windows, days and ages are computed from these: an instant near datetime's limits
        # (year 1, year 9999) would overflow that arithmetic. No chart holds such dates.
        if parsed is not None and not _EARLIEST <= parsed < _LATEST:
            raise ElementError(element, "is not a plausible date-time (before 1800 or after 8999)")
        if parsed is not None and kind == _FULL and value[-6:-5] in ("+", "-"):
            zone = _offset(value[-6:]).utcoffset(None)
            if zone is not None:
                counted = self._offsets.setdefault(zone, [0, parsed])
                counted[0] += 1
                counted[1] = max(counted[1], parsed)
        return parsed, kind

    def _parse_unchecked(self, value: str, element: str) -> tuple[datetime | None, int]:
        if _ZONED_SECONDS.fullmatch(value) is not None:
            # The common "YYYY-MM-DDThh:mm:ss+zz:zz" form, read by the C parser (4x faster).
            # It gives the same instant as the general path below or raises, e.g. on
            # 30 February or an offset out of range, and then the general path says why.
            try:
                return datetime.fromisoformat(value).astimezone(UTC), _FULL
            except (ValueError, OverflowError):
                pass
        match = _DATETIME.fullmatch(value)
        if match is None:
            raise ElementError(element, "is not a valid FHIR dateTime")
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        if day is None:
            if month is not None and not 1 <= int(month) <= 12:
                raise ElementError(element, "is not a valid FHIR dateTime")
            return None, _PARTIAL
        try:
            if hour is None:
                local = datetime(int(year), int(month), int(day), tzinfo=self.default_tz)
                return local.astimezone(UTC), _DATE_ONLY
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            tz = self.default_tz if zone is None else _offset(zone)
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                min(int(second), 59),  # FHIR allows a leap second "60"
                micro,
                tzinfo=tz,
            )
            # Year 1 or 9999 shifted to UTC leaves datetime's range: a bad time, not a crash.
            return moment.astimezone(UTC), (_ZONELESS if zone is None else _FULL)
        except (ValueError, OverflowError):
            raise ElementError(element, "is not a valid FHIR dateTime") from None


def read_date(value: object, element: str) -> tuple[date | None, bool]:
    """A FHIR date as ``(date, partial)``; year or year-month dates give their first day."""
    if value is None:
        return None, False
    if not isinstance(value, str):
        raise ElementError(element, "is not a date string")
    match = _DATE.fullmatch(value)
    if match is None:
        raise ElementError(element, "is not a valid FHIR date")
    year, month, day = match.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1)), day is None
    except ValueError:
        raise ElementError(element, "is not a valid FHIR date") from None
