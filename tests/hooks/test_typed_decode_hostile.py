# ruff: noqa: E501 - tables of JSON bodies, one a line
"""Hostile request bodies (review of issue 13): the typed decode against the reference parse,
on the whole call and on every field of the GradingInputs the call maps."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest

import cds_service.hooks as hooks
import cds_service.request_decode as request_decode
from fhir_maps import MappingOptions, ValidationMode
from hooks.support import (
    FHIR,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
    serve_fhir,
)
from hooks.test_typed_decode import _GOOD, _answer, _assert_decodes_alike, app  # noqa: F401

_FAST_LANE_TESTS = Path(__file__).resolve().parent.parent / "fhir_maps" / "test_fast_lane.py"
_spec = importlib.util.spec_from_file_location("_fast_lane_tests", _FAST_LANE_TESTS)
assert _spec is not None and _spec.loader is not None
_fast_lane_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fast_lane_tests)
_assert_decoded_alike_mapped = _fast_lane_tests._assert_decoded_alike


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


DAY0_PAGES = date(2026, 6, 1)
PATIENT = orjson.loads(_GOOD)["context"]["patientId"]


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
    "dup search": '[{{"search":{{"mode":"outcome"}},"resource":{},"search":{{"mode":"match"}}}}]'.format(
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
    "nested bundle": '[{{"resource":{{"resourceType":"Bundle","entry":[{{"resource":{}}}]}}}},{{"resource":{}}}]'.format(
        _v("t1"), _v("t2")
    ),
    "operation outcome": '[{{"resource":{{"resourceType":"OperationOutcome","issue":[]}}}},{{"resource":{}}}]'.format(
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


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_vitals_map_alike_with_model_validation(name):
    """ValidationMode.MODELS closes the lane: every decoded Observation maps as its dict."""
    entries = orjson.loads(CASES[name])
    resources = [entry.get("resource") if isinstance(entry, dict) else None for entry in entries]
    patient = next(
        r for r in orjson.loads(_GOOD)["prefetch"].values() if r.get("resourceType") == "Patient"
    )
    options = MappingOptions(validation=ValidationMode.MODELS)
    _assert_decoded_alike_mapped([patient, *resources], PATIENT, options)
    _assert_decoded_alike_mapped([patient, *resources], PATIENT, MappingOptions())


def _c(code: str, value: str, extra: str = "") -> str:
    return (
        '{"code":{"coding":[{"system":"http://loinc.org","code":"'
        + code
        + '"}]},"valueQuantity":'
        + value
        + extra
        + "}"
    )


def _panel(oid: str, components: list[str], extra: str = "", code: str = "85354-9") -> str:
    return (
        '{"resourceType":"Observation","id":"' + oid + '","status":"final",'
        '"code":{"coding":[{"system":"http://loinc.org","code":"' + code + '"}]},'
        '"subject":{"reference":"Patient/' + PATIENT + '"},'
        '"effectiveDateTime":"2026-03-05T06:00:00Z","component":['
        + ",".join(components)
        + "]"
        + extra
        + "}"
    )


_MM = '{"value":82,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}'
_MM2 = '{"value":60,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}'
_PCT = '{"value":91,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}'
_FIO2 = '{"value":40,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}'
_FLOW = '{"value":4,"unit":"L/min","system":"http://unitsofmeasure.org","code":"L/min"}'
_SYS, _DIA, _MAP = _c("8480-6", _MM), _c("8462-4", _MM2), _c("8478-0", _MM2)
_UNKNOWN = _c("12345-6", _MM)

PANELS = {
    "bp plain": _panel("b1", [_SYS, _DIA]),
    "bp own value": _panel("b1", [_SYS, _DIA], ',"valueQuantity":' + _MM),
    "bp own valueString": _panel("b1", [_SYS, _DIA], ',"valueString":"82/60"'),
    "bp twice systolic": _panel("b1", [_SYS, _c("8480-6", _MM2), _DIA]),
    "bp unknown part": _panel("b1", [_UNKNOWN, _SYS]),
    "bp only unknown": _panel("b1", [_UNKNOWN]),
    "bp empty": _panel("b1", []),
    "bp part string": _panel("b1", [_SYS, _c("8462-4", _MM2, ',"valueString":"x"')]),
    "bp part no code": _panel("b1", ['{"valueQuantity":' + _MM + "}", _SYS]),
    "bp part hr": _panel("b1", [_SYS, _c("8867-4", '{"value":120,"unit":"/min"}')]),
    "bp part comparator": _panel(
        "b1", [_c("8480-6", '{"value":82,"comparator":"<","unit":"mm[Hg]"}')]
    ),
    "bp part kPa": _panel("b1", [_c("8480-6", '{"value":11,"unit":"kPa","code":"kPa"}')]),
    "bp part absent": _panel(
        "b1",
        [
            '{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"dataAbsentReason":{"text":"x"}}',
            _DIA,
        ],
    ),
    "bp map only": _panel("b1", [_MAP]),
    "bp 55284": _panel("b1", [_SYS, _DIA], code="55284-4"),
    "spo2 fio2": _panel("s1", [_c("3150-0", _FIO2)], ',"valueQuantity":' + _PCT, code="59408-5"),
    "spo2 flow": _panel("s1", [_c("3151-8", _FLOW)], ',"valueQuantity":' + _PCT, code="59408-5"),
    "spo2 both": _panel(
        "s1", [_c("3151-8", _FLOW), _c("3150-0", _FIO2)], ',"valueQuantity":' + _PCT, code="59408-5"
    ),
    "spo2 two fio2": _panel(
        "s1",
        [_c("3150-0", _FIO2), _c("3150-0", '{"value":0.6,"unit":"1"}')],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 fio2 fraction": _panel(
        "s1",
        [_c("3150-0", '{"value":0.4,"unit":"1","code":"1"}')],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 fio2 200": _panel(
        "s1",
        [_c("3150-0", '{"value":200,"unit":"%","code":"%"}')],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 device": _panel(
        "s1",
        [
            '{"code":{"coding":[{"system":"http://loinc.org","code":"19941-4"}]},"valueCodeableConcept":{"text":"nasal cannula"}}'
        ],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 unknown part": _panel("s1", [_UNKNOWN], ',"valueQuantity":' + _PCT, code="59408-5"),
    "spo2 no value": _panel("s1", [_c("3150-0", _FIO2)], code="59408-5"),
    "spo2 2708": _panel("s1", [_c("3150-0", _FIO2)], ',"valueQuantity":' + _PCT, code="2708-6"),
    "spo2 flow mL": _panel(
        "s1",
        [_c("3151-8", '{"value":4000,"unit":"mL/min","code":"mL/min"}')],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 flow neg": _panel(
        "s1",
        [_c("3151-8", '{"value":-4,"unit":"L/min","code":"L/min"}')],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "spo2 fio2 string": _panel(
        "s1",
        ['{"code":{"coding":[{"system":"http://loinc.org","code":"3150-0"}]},"valueString":"40%"}'],
        ',"valueQuantity":' + _PCT,
        code="59408-5",
    ),
    "rr component": _panel(
        "r1", [_c("3150-0", _FIO2)], ',"valueQuantity":{"value":22,"unit":"/min"}', code="9279-1"
    ),
}


@pytest.mark.parametrize("name", sorted(PANELS))
def test_hostile_panels(app, name):  # noqa: F811
    entries = (
        '[{"resource":'
        + PANELS[name]
        + '},{"resource":'
        + PANELS[name].replace('"id":"', '"id":"x')
        + "}]"
    )
    body = _raw_body(
        b'{"resourceType":"Bundle","type":"searchset","entry":' + entries.encode() + b"}"
    )
    assert_alike(app, body)
    resources = [r["resource"] for r in orjson.loads(entries)]
    _assert_decoded_alike_mapped(resources, PATIENT, MappingOptions())
    _assert_decoded_alike_mapped(
        resources, PATIENT, MappingOptions(validation=ValidationMode.MODELS)
    )


def _with_prefetch(members: bytes, *, fhir_server: bool = False) -> bytes:
    """_GOOD with raw ``members`` added at the start of its prefetch (a later duplicate wins)."""
    body = _GOOD.replace(b'"prefetch":{', b'"prefetch":{' + members + b",", 1)
    if fhir_server:
        body = body.replace(b'"hook":', b'"fhirServer":"https://ehr.example.org/fhir","hook":', 1)
    return body


_TEMP = _v("t9").encode()
_LAB = _v("l9", code="1988-5", value='{"value":12,"unit":"mg/L"}').encode()
_GOOD_PATIENT = orjson.dumps(
    next(v for v in orjson.loads(_GOOD)["prefetch"].values() if v.get("resourceType") == "Patient")
)

PREFETCHES = {
    "patient as a bundle with vitals": b'"patient":{"resourceType":"Bundle","entry":[{"resource":'
    + _GOOD_PATIENT
    + b'},{"resource":'
    + _TEMP
    + b"}]}",
    "vitals as one observation": b'"vitals":' + _TEMP,
    "vitals twice": b'"vitals":{"resourceType":"Bundle","entry":[{"resource":' + _TEMP + b"}]}",
    "labs twice": b'"labs":{"resourceType":"Bundle","entry":[{"resource":' + _LAB + b"}]}",
    "unknown key": b'"extra":{"resourceType":"Bundle","entry":[{"resource":' + _TEMP + b"}]}",
    "operation outcome key": b'"extra":{"resourceType":"OperationOutcome","issue":[]}',
    "vitals in medications": b'"medications":{"resourceType":"Bundle","entry":[{"resource":'
    + _TEMP
    + b"}]}",
    "bundle of bundles": b'"extra":{"resourceType":"Bundle","entry":[{"resource":'
    b'{"resourceType":"Bundle","entry":[{"resource":' + _TEMP + b"}]}}]}",
    "same id lab and temp": b'"extra":{"resourceType":"Bundle","entry":[{"resource":'
    + _LAB.replace(b'"l9"', b'"t9"')
    + b"},{"
    + b'"resource":'
    + _TEMP
    + b"}]}",
    "link next": b'"extra":{"resourceType":"Bundle","link":[{"relation":"next","url":'
    b'"https://ehr.example.org/fhir/Observation?page=2"}],"entry":[{"resource":' + _TEMP + b"}]}",
    "link null": b'"extra":{"resourceType":"Bundle","link":null,"entry":[{"resource":'
    + _TEMP
    + b"}]}",
    "entry null": b'"extra":{"resourceType":"Bundle","entry":null}',
    "entry object": b'"extra":{"resourceType":"Bundle","entry":{"resource":' + _TEMP + b"}}",
    "bundle no type": b'"extra":{"entry":[{"resource":' + _TEMP + b"}]}",
    "prefetch null value": b'"vitals":null',
}


@pytest.mark.parametrize("server", [False, True])
@pytest.mark.parametrize("name", sorted(PREFETCHES))
def test_hostile_prefetch_members(app, name, server):  # noqa: F811
    assert_alike(app, _with_prefetch(PREFETCHES[name], fhir_server=server))
    absolute = PREFETCHES[name].replace(
        b'"Patient/' + PATIENT.encode(),
        b'"https://ehr.example.org/fhir/Patient/' + PATIENT.encode(),
    )
    assert_alike(app, _with_prefetch(absolute, fhir_server=server))


@pytest.mark.parametrize(
    ("body", "meant"),
    [
        pytest.param(
            _GOOD.replace(b'"hook":', b'"extension":{"x":"\xff"},"hook":', 1),
            _GOOD.replace(b'"hook":', b'"extension":{"x":"y"},"hook":', 1),
            id="invalid UTF-8 in a member the service does not read",
        ),
        pytest.param(
            _GOOD.replace(b'"hook":', b'"extension":{"x":1e400},"hook":', 1),
            _GOOD.replace(b'"hook":', b'"extension":{"x":1},"hook":', 1),
            id="a number beyond a double in a member the service does not read",
        ),
        pytest.param(
            _GOOD.replace(b'"hook":', b'"hook":"\xff","hook":', 1),
            _GOOD,
            id="invalid UTF-8 in a member a duplicated key replaces",
        ),
        pytest.param(
            _GOOD.replace(b'"context":', b'"context":{"a":1e400},"context":', 1),
            _GOOD,
            id="a number beyond a double in a context a duplicated key replaces",
        ),
        pytest.param(
            _GOOD.replace(b'"prefetch":{', b'"prefetch":{"patient":{"a":1e400},', 1),
            _GOOD,
            id="a number beyond a double in a prefetch value a duplicated key replaces",
        ),
        pytest.param(
            _GOOD.replace(
                b'"resourceType":"Bundle"', b'"resourceType":"Bundle","meta":{"x":1e400}', 1
            ),
            _GOOD,
            id="a number beyond a double in an unread element of a prefetched Bundle",
        ),
    ],
)
def test_the_designed_difference_outside_the_observations(app, body, meant):  # noqa: F811
    """The designed difference (request_decode): what the service never reads (a member it
    does not know, a value a duplicated key replaces, an unread element of a prefetched
    Bundle) is checked as JSON syntax only; the call is answered as the body it means."""
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    client = app.test_client()
    assert _inputs(client, body) == _inputs(client, meant)
    assert _inputs(client, body)[0][0] == 200


@pytest.mark.parametrize("case", ["case1", "case3"])
def test_first_pages_read_on_from_fhir_server_alike(app_at, mocked_http, case):
    """Prefetched first pages (decoded) and the pages read from fhirServer (dicts) merged:
    the same GradingInputs and answer as the reference parse; the same resource ids repeated
    in both (the server's pages overlap the prefetch)."""
    as_of = moment(case, DAY0_PAGES)
    paged = app_at(as_of, CRS_CDS_FHIR_MAX_PAGES="50", CRS_CDS_FHIR_TIMEOUT_S="30")
    resources = ehr_resources(case, as_of, DAY0_PAGES)
    patient_id = patient_id_of(resources)
    serve_fhir(mocked_http, resources, page_size=25)
    first_pages = prefetch_for(resources, page_size=25)
    first_pages["labs"]["entry"] = first_pages["labs"]["entry"] + first_pages["vitals"]["entry"]
    body = orjson.dumps(
        hook_body("patient-view", patient_id, prefetch=first_pages, fhir_server=FHIR)
    )
    (status, _), inputs = assert_alike(paged, body)
    assert status == 200
    assert inputs and inputs[0].temperatures_c
