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
    element_names,
    prepare_json_keys,
    stored_element_names,
)
from cds_service.fhir_io.reader import PATIENT_DATA_TYPES


def test_the_stored_names_are_the_fhir_r4_element_names_of_the_types_read() -> None:
    """fhir_element_names.json is what ``python -m cds_service.fhir_io.json_keys`` writes from
    the R4B models (rewrite it when fhir.resources or the types read change)."""
    assert stored_element_names() == tuple(element_names(READ_RESOURCE_TYPES))


def test_the_types_read_are_the_patient_s_data_and_what_brings_it() -> None:
    assert set(READ_RESOURCE_TYPES) == PATIENT_DATA_TYPES | {
        "Bundle",
        "Medication",
        "OperationOutcome",
        "Patient",
    }


def test_names_of_nested_types_and_of_extensions_values_are_included() -> None:
    names = set(stored_element_names())
    # Observation.referenceRange.low (Range -> Quantity), Bundle.entry.search.mode,
    # MedicationAdministration.dosage.rateQuantity, Timing.repeat.frequency, a primitive's
    # extension, an extension's value[x]
    assert {"low", "mode", "rateQuantity", "frequency", "_value", "valueCode"} <= names
    assert "contributor" not in names  # only Contributor, an extension's value type, has it


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
    made = {key: key for key in prepare_json_keys()}
    document = orjson.loads(orjson.dumps(resource))

    def keys(value: object) -> list[str]:
        if isinstance(value, dict):
            return [k for key, item in value.items() for k in (key, *keys(item))]
        if isinstance(value, list):
            return [k for item in value for k in keys(item)]
        return []

    assert [key for key in keys(document) if key not in made] == []
    assert [key for key in keys(document) if key is not made[key]] == []


def test_the_gunicorn_worker_hook_makes_the_keys_before_it_freezes(monkeypatch) -> None:
    steps: list[str] = []
    monkeypatch.setattr(gunicorn_conf, "prepare_order_models", lambda: steps.append("models"))
    monkeypatch.setattr(gunicorn_conf, "prepare_json_keys", lambda: steps.append("keys"))
    monkeypatch.setattr(gunicorn_conf.gc, "freeze", lambda: steps.append("freeze"))
    gunicorn_conf.post_worker_init(worker=None)
    assert steps == ["models", "keys", "freeze"]


def test_of_two_names_in_one_orjson_slot_the_one_more_resource_types_hold_is_kept() -> None:
    """orjson's cache has one slot per key hash: ``versionId`` (Meta, in every resource) and
    ``medicationReference`` (three medication resources) share one; the first is read later
    and keeps it. A chart's ``medicationReference`` is then made by the call (and let go by
    the next ``prepare_json_keys``)."""
    names = stored_element_names()
    assert names.index("versionId") > names.index("medicationReference")
    made = {key: key for key in prepare_json_keys()}
    document = orjson.loads(b'{"versionId": 1, "medicationReference": 2}')
    version_id, medication_reference = document
    assert version_id is made["versionId"]
    assert medication_reference is not made["medicationReference"]


def test_after_each_request_the_keys_a_call_made_in_their_slots_are_let_go() -> None:
    """A call that meets ``medicationReference`` makes it in ``versionId``'s slot, among the
    call's data; post_request makes the element names again, and the cache lets it go."""
    prepare_json_keys()
    (call_made,) = orjson.loads(b'{"medicationReference": 1}')
    held = sys.getrefcount(call_made)
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert sys.getrefcount(call_made) == held - 1  # only this test holds it now
