"""Hostile request bodies (review of issue 13): the typed decode against the reference parse,
on the whole call and on every field of the GradingInputs the call maps."""

from __future__ import annotations

from typing import Any
from unittest import mock

import orjson
import pytest

import cds_service.hooks as hooks
import cds_service.request_decode as request_decode
from hooks.test_typed_decode import _GOOD, _answer, _assert_decodes_alike, app  # noqa: F401

PATIENT_VIEW = "/cds-services/crs-patient-view"


def _inputs(client: Any, body: bytes) -> tuple[tuple[int, str], list[Any]]:
    seen: list[Any] = []
    real = hooks.map_patient_record

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    with mock.patch.object(hooks, "map_patient_record", spy):
        answer = _answer(client, body)
    return answer, seen


def assert_alike(app: Any, body: bytes) -> tuple[tuple[int, str], list[Any]]:  # noqa: F811
    client = app.test_client()
    typed = _inputs(client, body)
    with mock.patch.object(request_decode, "decode_hook_document", lambda body: None):
        reference = _inputs(client, body)
    assert typed[1] == reference[1]
    assert typed[0] == reference[0]
    _assert_decodes_alike(body)
    return typed


PATIENT = orjson.loads(_GOOD)["context"]["patientId"]
BASE = orjson.loads(_GOOD)


def _vital(oid: str, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-03-05T06:00:00Z",
        "valueQuantity": {
            "value": 39.4,
            "unit": "Cel",
            "system": "http://unitsofmeasure.org",
            "code": "Cel",
        },
    }
    resource.update(extra)
    return resource


def _body(vitals_entries: list[Any], *, extra_keys: dict[str, Any] | None = None) -> bytes:
    document = orjson.loads(_GOOD)
    document["prefetch"]["vitals"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": vitals_entries,
    }
    for key, value in (extra_keys or {}).items():
        document["prefetch"][key] = value
    return orjson.dumps(document)


def _raw_body(vitals_entries_json: bytes) -> bytes:
    document = orjson.loads(_GOOD)
    document["prefetch"]["vitals"] = "@@VITALS@@"
    return orjson.dumps(document).replace(b'"@@VITALS@@"', vitals_entries_json)


def _v(
    oid: str,
    extra: str = "",
    *,
    value: str = '{"value":39.4,"unit":"Cel","system":"http://unitsofmeasure.org","code":"Cel"}',
    code: str = "8310-5",
) -> str:
    return (
        f'{{"resourceType":"Observation","id":"{oid}","status":"final",'
        f'"code":{{"coding":[{{"system":"http://loinc.org","code":"{code}"}}]}},'
        f'"subject":{{"reference":"Patient/{PATIENT}"}},"effectiveDateTime":"2026-03-05T06:00:00Z",'
        f'"valueQuantity":{value}{extra}}}'
    )


_PAT = f'{{"resourceType":"Patient","id":"{PATIENT}"}}'

CASES = {
    "index key one pass": '[{{"resource":{}}}]'.format(_v("t1", ',"(index)":0,"(source)":5')),
    "index key mixed": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1", ',"(index)":7'), _PAT
    ),
    "index key mixed declined": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1", ',"(index)":0', code="1988-5", value='{"value":12,"unit":"mg/L"}'), _PAT
    ),
    "index key one pass declined": '[{{"resource":{}}}]'.format(
        _v("t1", ',"(index)":3,"(source)":"x"', code="1988-5", value='{"value":12,"unit":"mg/L"}')
    ),
    "source key declined mixed": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1", ',"(source)":"x"', code="1988-5", value='{"value":12,"unit":"mg/L"}'), _PAT
    ),
    "dup resourceType": '[{{"resource":{}}}]'.format(_v("t1", ',"resourceType":"Condition"')),
    "dup resourceType2": '[{{"resource":{{"resourceType":"Condition",{}}}]'.format(_v("t1")[1:]),
    "dup valueQuantity": '[{{"resource":{}}}]'.format(
        _v("t1", ',"valueQuantity":{"value":41,"unit":"Cel"}')
    ),
    "dup value in quantity": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":39.4,"unit":"Cel","value":41}')
    ),
    "dup code": '[{{"resource":{}}}]'.format(
        _v("t1", ',"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]}')
    ),
    "dup subject": '[{{"resource":{}}}]'.format(
        _v("t1", ',"subject":{"reference":"Patient/other"}')
    ),
    "dup id": '[{{"resource":{}}},{{"resource":{}}}]'.format(_v("t1", ',"id":"t2"'), _v("t2")),
    "dup status": '[{{"resource":{}}}]'.format(_v("t1", ',"status":"entered-in-error"')),
    "dup component": '[{{"resource":{}}}]'.format(_v("t1", ',"component":[],"component":null')),
    "dup resource in entry": '[{{"resource":{},"resource":{}}}]'.format(
        _v("t1"), _v("t2", value='{"value":41,"unit":"Cel"}')
    ),
    "dup search": '[{{"search":{{"mode":"outcome"}},"resource":{},"search":{{"mode":"match"}}}}]'.format(  # noqa: E501
        _v("t1")
    ),
    "dup mode": '[{{"search":{{"mode":"outcome","mode":"match"}},"resource":{}}}]'.format(_v("t1")),
    "dup mode2": '[{{"search":{{"mode":"match","mode":"outcome"}},"resource":{}}}]'.format(
        _v("t1")
    ),
    "dup mode3": '[{{"search":{{"mode":"match","mode":7}},"resource":{}}}]'.format(_v("t1")),
    "resource null": '[{{"resource":null}},{{"resource":{}}}]'.format(_v("t1")),
    "entry null": '[null,{{"resource":{}}}]'.format(_v("t1")),
    "no resource": '[{{"search":{{"mode":"match"}}}},{{"resource":{}}}]'.format(_v("t1")),
    "mode include": '[{{"search":{{"mode":"include"}},"resource":{}}}]'.format(_v("t1")),
    "mode outcome": '[{{"search":{{"mode":"outcome"}},"resource":{}}}]'.format(_v("t1")),
    "mode null": '[{{"search":{{"mode":null}},"resource":{}}}]'.format(_v("t1")),
    "mode int": '[{{"search":{{"mode":1}},"resource":{}}}]'.format(_v("t1")),
    "mode list": '[{{"search":{{"mode":["match"]}},"resource":{}}}]'.format(_v("t1")),
    "mode weird": '[{{"search":{{"mode":"MATCH"}},"resource":{}}}]'.format(_v("t1")),
    "search null": '[{{"search":null,"resource":{}}}]'.format(_v("t1")),
    "search str": '[{{"search":"match","resource":{}}}]'.format(_v("t1")),
    "search empty": '[{{"search":{{}},"resource":{}}}]'.format(_v("t1")),
    "mode outcome no resource": '[{{"search":{{"mode":"outcome"}}}},{{"resource":{}}}]'.format(
        _v("t1")
    ),
    "resource list": '[{{"resource":[]}},{{"resource":{}}}]'.format(_v("t1")),
    "resource no type": '[{{"resource":{{"id":"x"}}}},{{"resource":{}}}]'.format(_v("t1")),
    "resource type int": '[{{"resource":{{"resourceType":3}}}},{{"resource":{}}}]'.format(_v("t1")),
    "nested bundle": '[{{"resource":{{"resourceType":"Bundle","entry":[{{"resource":{}}}]}}}},{{"resource":{}}}]'.format(  # noqa: E501
        _v("t1"), _v("t2")
    ),
    "operation outcome": '[{{"resource":{{"resourceType":"OperationOutcome","issue":[]}}}},{{"resource":{}}}]'.format(  # noqa: E501
        _v("t1")
    ),
    "big int": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":9007199254740993,"unit":"Cel"}')
    ),
    "huge int": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":100000000000000000000000000,"unit":"Cel"}')
    ),
    "u64 int": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":18446744073709551616,"unit":"Cel"}')
    ),
    "neg zero": '[{{"resource":{}}}]'.format(_v("t1", value='{"value":-0,"unit":"Cel"}')),
    "neg zero f": '[{{"resource":{}}}]'.format(_v("t1", value='{"value":-0.0,"unit":"Cel"}')),
    "1e308": '[{{"resource":{}}}]'.format(_v("t1", value='{"value":1e308,"unit":"Cel"}')),
    "bool": '[{{"resource":{}}}]'.format(_v("t1", value='{"value":true,"unit":"Cel"}')),
    "unit null": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":39,"unit":null,"code":"Cel"}')
    ),
    "code null": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":39,"unit":"Cel","code":null}')
    ),
    "value exp": '[{{"resource":{}}}]'.format(_v("t1", value='{"value":3.94E1,"unit":"Cel"}')),
    "valueFoo": '[{{"resource":{}}}]'.format(_v("t1", ',"valueFoo":1')),
    "valueInteger too": '[{{"resource":{}}}]'.format(_v("t1", ',"valueInteger":1')),
    "value only": '[{{"resource":{}}}]'.format(_v("t1", ',"value":1')),
    "valueQuantity null": '[{{"resource":{}}}]'.format(_v("t1", value="null")),
    "effective period": '[{{"resource":{}}}]'.format(
        _v("t1", ',"effectivePeriod":{"start":"2026-03-05T06:00:00Z"}')
    ),
    "effective instant": '[{{"resource":{}}}]'.format(
        _v("t1", ',"effectiveInstant":"2026-03-05T06:00:00Z"')
    ),
    "effective date only": '[{{"resource":{}}}]'.format(
        _v("t1").replace("2026-03-05T06:00:00Z", "2026-03-05")
    ),
    "effective zoneless": '[{{"resource":{}}}]'.format(
        _v("t1").replace("2026-03-05T06:00:00Z", "2026-03-05T06:00:00")
    ),
    "effective offset": '[{{"resource":{}}}]'.format(
        _v("t1").replace("06:00:00Z", "06:00:00+05:30")
    ),
    "status prelim": '[{{"resource":{}}}]'.format(_v("t1").replace('"final"', '"preliminary"')),
    "status amended": '[{{"resource":{}}}]'.format(_v("t1").replace('"final"', '"amended"')),
    "status cancelled": '[{{"resource":{}}}]'.format(_v("t1").replace('"final"', '"cancelled"')),
    "status eie": '[{{"resource":{}}}]'.format(_v("t1").replace('"final"', '"entered-in-error"')),
    "status unknown": '[{{"resource":{}}}]'.format(_v("t1").replace('"final"', '"FINAL"')),
    "status missing": '[{{"resource":{}}}]'.format(_v("t1").replace('"status":"final",', "")),
    "subject versioned": '[{{"resource":{}}}]'.format(
        _v("t1").replace(f'"Patient/{PATIENT}"', f'"Patient/{PATIENT}/_history/2"')
    ),
    "subject other": '[{{"resource":{}}}]'.format(
        _v("t1").replace(f'"Patient/{PATIENT}"', '"Patient/zz"')
    ),
    "subject absolute": '[{{"resource":{}}}]'.format(
        _v("t1").replace(
            f'"Patient/{PATIENT}"', f'"https://ehr.example.org/fhir/Patient/{PATIENT}"'
        )
    ),
    "subject missing": '[{{"resource":{}}}]'.format(
        _v("t1").replace(f'"subject":{{"reference":"Patient/{PATIENT}"}},', "")
    ),
    "subject identifier": '[{{"resource":{}}}]'.format(
        _v("t1").replace(f'{{"reference":"Patient/{PATIENT}"}}', '{"identifier":{"value":"1"}}')
    ),
    "subject spaces": '[{{"resource":{}}}]'.format(
        _v("t1").replace(
            f'{{"reference":"Patient/{PATIENT}"}}', f'{{ "reference" : "Patient/{PATIENT}" }}'
        )
    ),
    "subject type": '[{{"resource":{}}}]'.format(
        _v("t1").replace(
            f'{{"reference":"Patient/{PATIENT}"}}',
            f'{{"reference":"Patient/{PATIENT}","type":"Group"}}',
        )
    ),
    "code spaces": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1"), _v("t2").replace('"coding":[', '"coding" : [')
    ),
    "code escaped": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1"), _v("t2").replace("8310-5", "\\u0038310-5")
    ),
    "id empty": '[{{"resource":{}}},{{"resource":{}}}]'.format(_v(""), _v("")),
    "same id twice": '[{{"resource":{}}},{{"resource":{}}}]'.format(
        _v("t1"), _v("t1", value='{"value":41,"unit":"Cel"}')
    ),
    "comparator": '[{{"resource":{}}}]'.format(
        _v("t1", value='{"value":39,"comparator":">","unit":"Cel"}')
    ),
    "hr component": '[{{"resource":{}}}]'.format(
        _v(
            "t1",
            ',"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":120,"unit":"/min"}}]',
            code="8867-4",
            value='{"value":110,"unit":"/min"}',
        )
    ),
    "temp component": '[{{"resource":{}}}]'.format(
        _v(
            "t1",
            ',"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8310-5"}]},"valueQuantity":{"value":41,"unit":"Cel"}}]',
        )
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_vitals_bundles(app, name):  # noqa: F811
    body = _raw_body(
        b'{"resourceType":"Bundle","type":"searchset","entry":%s}' % CASES[name].encode()
    )
    assert_alike(app, body)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_vitals_in_labs_too(app, name):  # noqa: F811
    entries = CASES[name].encode()
    document = orjson.loads(_GOOD)
    document["prefetch"]["vitals"] = "@@V@@"
    document["prefetch"]["labs"] = "@@V@@"
    body = orjson.dumps(document).replace(
        b'"@@V@@"', b'{"resourceType":"Bundle","entry":%s}' % entries
    )
    assert_alike(app, body)
