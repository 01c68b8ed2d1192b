"""Issue 13: the caches keyed by a call's data are emptied once the call is over.

A cache keyed by the call's own strings (a unit, a time offset, a reference) kept them alive
after the call, and with each the 1 MiB block of Python memory it was made in: a worker's first
L call kept 9 such blocks (docs/performance.md, phase 6). ``clear_call_caches()`` lets go of
every one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from map_fixtures import PATIENT_ID, observation

from fhir_maps import clear_call_caches, map_patient_record
from fhir_maps._fhir import _offset
from fhir_maps.call_caches import _CACHES
from fhir_maps.references import _parse_cached
from fhir_maps.units import _cached_unit_key, _cached_unit_keys


def _fresh(text: str) -> str:
    """An equal string that is a new object, as a decoder makes it from a call's body."""
    return "".join(list(text))


def test_fhir_maps_caches_nothing_else_for_longer_than_a_call() -> None:
    """Every other cache in fhir_maps is keyed by configuration, not by a call's data."""
    import fhir_maps

    package = Path(fhir_maps.__file__).parent
    caches = {
        f"{path.name}:{line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "call_caches.py"
        for line in path.read_text().splitlines()
        if re.search(r"\blru_cache\(|^\s*@(functools\.)?cache\b", line)
    }
    assert caches == {"conditions.py:@lru_cache(maxsize=16)", "validation.py:@cache"}


def test_each_cache_keyed_by_a_call_s_data_is_a_call_cache() -> None:
    caches = {id(cache) for cache in _CACHES}
    for cache in (_cached_unit_key, _cached_unit_keys, _offset, _parse_cached):
        assert id(cache) in caches


def test_after_the_call_no_cache_holds_the_call_s_strings() -> None:
    """The unit, the time's offset and the subject's reference of a chart's fever are keys of
    the caches while the record is mapped, and released by ``clear_call_caches()``."""
    clear_call_caches()
    unit, subject = _fresh("Cel"), _fresh(f"Patient/{PATIENT_ID}")
    alone = sys.getrefcount(unit), sys.getrefcount(subject)
    fever = observation("8310-5", 39.2, "Cel", effectiveDateTime="2026-12-01T08:00:00+02:00")
    fever["valueQuantity"]["unit"] = fever["valueQuantity"]["code"] = unit
    fever["subject"] = {"reference": subject}

    inputs = map_patient_record([fever], PATIENT_ID)
    del fever

    assert [round(t.value, 1) for t in inputs.temperatures_c] == [39.2]
    assert _cached_unit_keys.cache_info().currsize > 0
    assert _parse_cached.cache_info().currsize > 0
    assert _offset.cache_info().currsize > 0
    assert sys.getrefcount(unit) > alone[0]  # a key of the unit caches
    assert sys.getrefcount(subject) > alone[1]  # a key of the reference cache

    clear_call_caches()

    assert all(cache.cache_info().currsize == 0 for cache in _CACHES)
    assert (sys.getrefcount(unit), sys.getrefcount(subject)) == alone
