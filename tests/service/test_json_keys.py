"""Issue 13: orjson makes FHIR's element names at worker start, not among a call's data.

orjson keeps every object key it makes in a process-wide cache; a name first met by a call was
made among that call's data and kept, with the 1 MiB block of Python memory it sits in, for
good (docs/performance.md, phase 6). gunicorn's ``post_worker_init`` has orjson make them first.
"""

from __future__ import annotations

import sys

import orjson
import pytest

from cds_service import gunicorn_conf
from cds_service.fhir_io.json_keys import (
    READ_RESOURCE_TYPES,
    _read_key,
    element_names,
    prepare_json_keys,
    reading_order,
    stored_element_names,
)
from cds_service.fhir_io.reader import PATIENT_DATA_TYPES


def test_the_stored_names_are_the_fhir_r4_element_names_of_the_types_read() -> None:
    """fhir_element_names.json is what ``python -m cds_service.fhir_io.json_keys`` writes from
    the R4B models (rewrite it when fhir.resources or the types read change)."""
    assert stored_element_names() == tuple(element_names(READ_RESOURCE_TYPES))


def test_the_types_read_are_the_patient_s_data_and_what_brings_it() -> None:
    assert PATIENT_DATA_TYPES < set(READ_RESOURCE_TYPES)
    assert READ_RESOURCE_TYPES == (
        "AllergyIntolerance",
        "Bundle",
        "Condition",
        "DiagnosticReport",
        "Encounter",
        "Medication",
        "MedicationAdministration",
        "MedicationRequest",
        "MedicationStatement",
        "Observation",
        "OperationOutcome",
        "Patient",
        "Procedure",
    )  # a change here changes fhir_element_names.json (rewrite it)


def test_names_of_nested_types_and_of_extensions_values_are_included() -> None:
    names = set(stored_element_names())
    # Observation.referenceRange.low (Range -> Quantity), Bundle.entry.search.mode,
    # MedicationAdministration.dosage.rateQuantity, Timing.repeat.frequency, a primitive's
    # extension, an extension's value[x]
    assert {"low", "mode", "rateQuantity", "frequency", "_value", "valueCode"} <= names
    assert "contributor" not in names  # only Contributor, an extension's value type, has it


def _slot_losers() -> list[str]:
    """The keys of the reading order whose orjson slot a key read later keeps: the ones
    ``prepare_json_keys`` leaves out (asked of orjson: the slots depend on its hash)."""
    kept = set(prepare_json_keys())
    return [name for name in reading_order() if name not in kept]


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Observation", "effectiveDateTime": "", "valueQuantity": {}},
        {"resourceType": "MedicationAdministration", "medicationCodeableConcept": {}, "dosage": {}},
        {"resourceType": "Patient", "birthDate": "", "gender": ""},
        {"resourceType": "Bundle", "entry": [], "link": []},
        {"resourceType": "Condition", "clinicalStatus": {}, "onsetDateTime": ""},
        {"coding": [{"system": "", "code": "", "display": ""}], "text": ""},
        {"subject": {"reference": ""}, "status": "", "id": "", "meta": {}},
    ],
    ids=lambda resource: resource.get("resourceType", "datatypes"),
)
def test_a_resource_s_keys_are_the_strings_made_at_start(resource) -> None:
    """Each key of these is served from orjson's cache: the very string made by
    ``prepare_json_keys``, not a new one."""
    losers = set(_slot_losers())
    made = {key: key for key in prepare_json_keys()}
    document = orjson.loads(orjson.dumps(resource))

    def keys(value: object) -> list[str]:
        if isinstance(value, dict):
            return [k for key, item in value.items() for k in (key, *keys(item))]
        if isinstance(value, list):
            return [k for item in value for k in keys(item)]
        return []

    assert [key for key in keys(document) if key not in reading_order()] == []
    served = [key for key in keys(document) if key not in losers]
    assert len(served) >= len(keys(document)) - 1
    assert [key for key in served if key is not made[key]] == []


def test_the_gunicorn_worker_hook_makes_the_keys_before_it_freezes(monkeypatch) -> None:
    steps: list[str] = []
    monkeypatch.setattr(gunicorn_conf, "prepare_order_models", lambda: steps.append("models"))
    monkeypatch.setattr(gunicorn_conf, "prepare_json_keys", lambda: steps.append("keys"))
    monkeypatch.setattr(gunicorn_conf.gc, "freeze", lambda: steps.append("freeze"))
    gunicorn_conf.post_worker_init(worker=None)
    assert steps == ["models", "keys", "freeze"]


def test_of_two_names_in_one_orjson_slot_the_one_read_later_is_kept() -> None:
    """orjson's cache has one slot per key hash, so some names of the set share one (with
    orjson 3.13: ``versionId``, in every ``meta``, and ``medicationReference``): the one read
    later keeps it, and ``element_names`` reads the names more resource types hold later."""
    order = reading_order()
    losers = _slot_losers()
    assert 0 < len(losers) < len(order) // 3
    for loser in losers:
        made = {key: key for key in prepare_json_keys()}
        _read_key(loser)  # takes the slot of the name that kept it
        (kept,) = [
            name for name in made if name not in losers and _read_key(name) is not made[name]
        ]
        assert order.index(kept) > order.index(loser)
    prepare_json_keys()


def test_reading_the_keys_again_makes_none_while_the_cache_holds_them() -> None:
    """After a call that met only kept names, post_request's reading makes no new string."""
    first = prepare_json_keys()
    again = prepare_json_keys()
    assert [key for key, other in zip(first, again, strict=True) if key is not other] == []


def test_after_each_request_the_keys_a_call_made_in_their_slots_are_let_go() -> None:
    """A call that meets a name whose slot another name of the set keeps makes it among the
    call's data; post_request makes the element names again, and the cache lets it go."""
    loser = _slot_losers()[0]
    prepare_json_keys()
    call_made = _read_key("".join(loser))
    held = sys.getrefcount(call_made)
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert sys.getrefcount(call_made) == held - 1  # only this test holds it now
