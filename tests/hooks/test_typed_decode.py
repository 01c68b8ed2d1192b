"""The typed decode of hook requests (issue 13) against the reference path, ``orjson.loads``.

``cds_service.request_decode`` must give the document ``orjson.loads`` gives, with each prefetch
Bundle as a ``DecodedBundle`` whose page is what ``read_page`` reads of ``orjson``'s Bundle
(plain Observations as ``fhir_maps.DecodedObservation``, whose ``as_dict()`` is that very
dict), or ``None``. The service must answer every call (status, cards, extension) exactly as
with the reference parse: on the seed cases, the demo cases at monitor rate, the FHIR fixtures,
the benchmark payloads and generated request bodies mutated the ways broken clients and EHRs
differ (types swapped, duplicated keys, odd unicode, deep nesting, missing and unknown
elements, bad resources). The one designed difference (SPEC 3, Volume): invalid UTF-8 or a
number beyond a double's range in an element of a prefetched resource that grading does not
read no longer fails the request; the tests at the end pin what happens then.
"""

from __future__ import annotations

import copy
import difflib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

import cds_service.request_decode as request_decode
from benchmarks.payloads import SIZES, build_payload
from cds_service.clock import fixed_clock, set_clock
from cds_service.demo import CASES, generate_bundle
from cds_service.fhir_io.bundles import DecodedBundle, decode_bundle, read_page
from cds_service.request_decode import decode_hook_document
from fhir_maps import DecodedObservation, map_patient_record, read_resource
from fhir_maps.observations import VALUE_CHOICES
from hooks.support import hook_body, prefetch_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"
PATIENT_VIEW = "/cds-services/crs-patient-view"
DAY0 = date(2026, 3, 2)
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
_UUID_KEYS = ("uuid",)


def _decoded(document: dict[str, Any]) -> Iterator[DecodedObservation]:
    prefetch = document.get("prefetch")
    for value in prefetch.values() if isinstance(prefetch, dict) else ():
        if isinstance(value, DecodedBundle):
            for resource in value.page.resources:
                if isinstance(resource, DecodedObservation):
                    yield resource


def _assert_same_document(document: dict[str, Any], reference: dict[str, Any]) -> None:
    """The decoded document is orjson's, Bundles read as ``read_page`` reads them."""
    assert document.keys() <= reference.keys()
    for name in ("hook", "hookInstance", "context", "fhirServer", "fhirAuthorization"):
        assert (name in document) == (name in reference)
        if name in reference:
            assert document[name] == reference[name]
    assert ("prefetch" in document) == ("prefetch" in reference)
    prefetch = document.get("prefetch")
    expected = reference.get("prefetch")
    if not isinstance(prefetch, dict):
        assert prefetch == expected
        return
    assert isinstance(expected, dict) and prefetch.keys() == expected.keys()
    for key, value in prefetch.items():
        if not isinstance(value, DecodedBundle):
            assert value == expected[key]
            continue
        page = read_page(expected[key])
        entries = expected[key].get("entry")
        assert value.entries == (len(entries) if isinstance(entries, list) else 0)
        assert value.page.next_url == page.next_url
        assert value.page.skipped_entries == page.skipped_entries
        assert len(value.page.resources) == len(page.resources)
        for decoded, resource in zip(value.page.resources, page.resources, strict=True):
            if isinstance(decoded, DecodedObservation):
                _assert_reads_alike(decoded, resource)
            else:
                assert decoded == resource


def _assert_reads_alike(observation: DecodedObservation, resource: dict[str, Any]) -> None:
    """What the lane and fhir_io read from the struct is what the dict holds."""
    dumps = orjson.dumps  # type-exact comparison: 1 and 1.0 and True differ
    assert observation.as_dict() == resource
    assert observation.get("resourceType") == resource["resourceType"] == "Observation"
    assert dumps(observation.get("id")) == dumps(resource.get("id"))
    assert observation.status == resource.get("status", UNSET)
    assert observation.effectiveDateTime == resource.get("effectiveDateTime", UNSET)
    for name in ("effectivePeriod", "effectiveInstant", "effectiveTiming"):
        assert (getattr(observation, name) is not UNSET) == (name in resource)
    if observation.subject is UNSET:
        assert "subject" not in resource
    else:
        assert orjson.loads(bytes(observation.subject)) == resource["subject"]
    _assert_holder_alike(observation, resource)
    if observation.component is UNSET:
        assert "component" not in resource
    else:
        assert len(observation.component) == len(resource["component"])
        for part, component in zip(observation.component, resource["component"], strict=True):
            _assert_holder_alike(part, component)


def _assert_holder_alike(holder: Any, resource: dict[str, Any]) -> None:
    if holder.code is UNSET:
        assert "code" not in resource
    else:
        assert orjson.loads(bytes(holder.code)) == resource["code"]
    for name in VALUE_CHOICES - {"valueQuantity"}:
        assert (getattr(holder, name) is not UNSET) == (name in resource), name
    quantity = resource.get("valueQuantity")
    if holder.valueQuantity is UNSET:
        assert "valueQuantity" not in resource
    else:
        for name in ("value", "comparator", "unit", "code"):
            value = getattr(holder.valueQuantity, name)
            if name not in quantity:
                assert value is UNSET
            elif isinstance(value, float) or isinstance(quantity[name], float):
                assert float(value) == float(quantity[name]), name  # orjson reads 1e30 as float
            else:
                assert orjson.dumps(value) == orjson.dumps(quantity[name]), name


def _assert_decodes_alike(body: bytes, *, typed: bool | None = None) -> Any:
    """The typed decode gives orjson's document, or None where orjson refuses the body."""
    try:
        reference = orjson.loads(body)
    except orjson.JSONDecodeError:
        # None, or the designed difference (module docstring): then the document is read
        # as if the element were sound (the tests at the end pin it).
        decode_hook_document(body)
        return None
    document = decode_hook_document(body)
    if typed is True:
        assert document is not None
    if document is None:
        return None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # bodies nested up to orjson's limit compare in C
    try:
        _assert_same_document(document, reference)
    finally:
        sys.setrecursionlimit(limit)
    return document


def _answer(client: Any, body: bytes) -> tuple[int, str]:
    response = client.post(PATIENT_VIEW, data=body, content_type="application/json")
    text = response.get_data(as_text=True)
    if response.is_json:
        answer = response.get_json()
        for card in answer.get("cards", []) if isinstance(answer, dict) else []:
            for key in _UUID_KEYS:
                card.pop(key, None)
            for suggestion in card.get("suggestions", []):
                suggestion.pop("uuid", None)
        text = json.dumps(answer, sort_keys=True)
    return response.status_code, text


def _assert_answers_alike(app: Flask, body: bytes) -> tuple[int, str]:
    """The whole call, typed decode and reference parse: the same status and answer."""
    client = app.test_client()
    typed = _answer(client, body)
    with mock.patch.object(request_decode, "decode_hook_document", lambda body: None):
        reference = _answer(client, body)
    if typed != reference:  # say what differs: the answers are long
        lines = difflib.unified_diff(
            json.dumps(json.loads(reference[1]), indent=1).splitlines(),
            json.dumps(json.loads(typed[1]), indent=1).splitlines(),
            "reference",
            "typed",
            lineterm="",
        )
        raise AssertionError("\n".join(list(lines)[:80]))
    return typed


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    set_clock(app, fixed_clock(NOW))
    return app


def _case_body(case: str, every: timedelta | None = None) -> bytes:
    options: dict[str, Any] = {"days": 4}
    if every is not None:
        options.update(vitals_every=every, labs_every=timedelta(hours=6))
    bundle = generate_bundle(case, DAY0, **options)
    resources = [entry["resource"] for entry in bundle["entry"]]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    prefetch = prefetch_for(resources)
    return orjson.dumps(hook_body("patient-view", patient_id, prefetch=prefetch))


# --- the data the suite knows -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_the_seed_cases_decode_and_answer_alike(app, case):
    body = _case_body(case)
    document = _assert_decodes_alike(body, typed=True)
    assert any(True for _ in _decoded(document))  # the typed decode took the vitals
    status, _ = _assert_answers_alike(app, body)
    assert status == 200


@pytest.mark.parametrize("case", CASES)
def test_the_demo_cases_at_monitor_rate_decode_and_answer_alike(app, case):
    body = _case_body(case, timedelta(minutes=15))
    _assert_decodes_alike(body, typed=True)
    assert _assert_answers_alike(app, body)[0] == 200


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_the_fixture_files_decode_and_answer_alike(app, name):
    resource = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    entries = (
        resource["entry"] if resource.get("resourceType") == "Bundle" else [{"resource": resource}]
    )
    patient = json.loads((FIXTURES / "patient.json").read_text(encoding="utf-8"))
    prefetch = {
        "patient": patient,
        "vitals": {"resourceType": "Bundle", "type": "searchset", "entry": entries},
    }
    body = orjson.dumps(hook_body("patient-view", patient["id"], prefetch=prefetch))
    _assert_decodes_alike(body, typed=True)
    _assert_answers_alike(app, body)


@pytest.mark.parametrize("severity", ["error", "information"])
def test_an_operation_outcome_entry_in_the_vitals_answers_alike(app, severity):
    """An outcome entry sends the page to the dict path, which reads its severity: the same
    answer either way, and an error outcome is said on the card (a partial read)."""
    body = orjson.loads(_case_body("case1"))
    vitals = body["prefetch"]["vitals"]
    vitals["entry"].append(
        {
            "search": {"mode": "outcome"},
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": severity, "code": "processing"}],
            },
        }
    )
    status, answer = _assert_answers_alike(app, orjson.dumps(body))
    assert status == 200
    assert ("OperationOutcome" in answer or "reported an error" in answer) is (severity == "error")


@pytest.mark.parametrize("size", ["S", "M"])
def test_the_benchmark_payloads_decode_and_answer_alike(make_app, size):
    payload = build_payload(next(item for item in SIZES if item.name == size))
    document = _assert_decodes_alike(payload.body, typed=True)
    assert sum(1 for _ in _decoded(document)) > payload.resources // 2
    app = make_app()
    # One instant for both calls: the payload is placed relative to the real clock, and two
    # calls a moment apart may see a reading cross the edge of a window.
    set_clock(app, fixed_clock(datetime.now(UTC)))
    status, _ = _assert_answers_alike(app, payload.body)
    assert status == 200


# --- generated and mutated bodies -------------------------------------------------------------

_BASE = orjson.loads(_case_body("case3", timedelta(hours=2)))

_ODD = st.sampled_from(
    [
        None,
        3,
        -0.0,
        1e308,
        2**53 + 1,
        2**64 + 1,
        10**30,
        "12",
        "",
        "é ☃ 😀",
        "\u2028",
        "\x00",
        True,
        [],
        {},
        {"coding": "x"},
        [{"text": 1}],
    ]
).map(copy.deepcopy)  # fresh objects: a later mutation may change them


def _observations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for value in document["prefetch"].values()
        if isinstance(value, dict)
        for entry in value.get("entry", [])
        if entry.get("resource", {}).get("resourceType") == "Observation"
    ]


@st.composite
def _mutated_body(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(_BASE)
    targets = _observations(document)
    for _ in range(draw(st.integers(1, 6))):
        resource = draw(st.sampled_from(targets))
        kind = draw(st.integers(0, 11))
        quantity = resource.get("valueQuantity")
        components = resource.get("component")
        if kind == 0:
            key = draw(st.sampled_from(sorted(resource)))
            resource[key] = draw(_ODD)
        elif kind == 1 and isinstance(quantity, dict):
            quantity[draw(st.sampled_from(["value", "unit", "code", "comparator", "system"]))] = (
                draw(_ODD | st.floats(allow_nan=False, allow_infinity=False) | st.integers())
            )
        elif kind == 2:
            resource.pop(draw(st.sampled_from(sorted(resource))), None)
        elif kind == 3:
            resource[
                draw(
                    st.sampled_from(
                        [
                            "valueString",
                            "valueFoo",
                            "value",
                            "effectivePeriod",
                            "interpretation",
                            "note",
                            "extension",
                            "dataAbsentReason",
                        ]
                    )
                )
            ] = draw(_ODD)
        elif kind == 4 and isinstance(components, list) and components:
            component = draw(st.sampled_from(components))
            if isinstance(component, dict):
                component[draw(st.sampled_from(["code", "valueQuantity", "valueString", "x"]))] = (
                    draw(_ODD)
                )
        elif kind == 5:
            resource["extension"] = [{"url": "urn:x", "valueString": draw(st.text(max_size=6))}]
        elif kind == 6:
            resource["meta"] = {"lastUpdated": draw(st.text(max_size=8)), "tag": draw(_ODD)}
        elif kind == 7:
            resource["status"] = draw(st.sampled_from(["final", "amended", "cancelled", "bogus"]))
        elif kind == 8:
            resource["subject"] = draw(
                st.sampled_from(
                    [{"reference": "Patient/other"}, {"display": "x"}, "Patient/x", None]
                )
            )
        elif kind == 9:
            resource["id"] = draw(st.sampled_from(["dup-1", "", "x" * 70]))
        elif kind == 10:
            resource["code"] = draw(
                st.sampled_from(
                    [
                        {"text": "Temperature"},
                        {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                        {"coding": [{"system": "http://loinc.org", "code": "8867-4", "x": [1]}]},
                    ]
                )
            )
        else:
            resource["effectiveDateTime"] = draw(
                st.sampled_from(["2026-03-04", "2026-03-04T08:00:00", "yesterday", None, 5])
            )
    # json, not orjson: integers beyond 64 bits are part of the test
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    for _ in range(draw(st.integers(0, 2))):
        body = _mutate_text(draw, body)
    return body


def _mutate_text(draw: st.DrawFn, body: bytes) -> bytes:
    """Changes orjson.dumps cannot make: duplicated keys, raw bytes, number spellings."""
    marker = b'"resourceType":"Observation",'
    count = body.count(marker)
    if not count:
        return body
    index = draw(st.integers(0, count - 1))
    position = -1
    for _ in range(index + 1):
        position = body.index(marker, position + 1)
    insert = draw(
        st.sampled_from(
            [
                b'"status":"final","status":3,',
                b'"status":3,"status":"final",',
                b'"effectiveDateTime":"x","effectiveDateTime":"2026-03-04T08:00:00Z",',
                b'"valueQuantity":{"value":1e400},',
                b'"valueQuantity":{"value":1' + b"0" * 400 + b"},",
                b'"valueQuantity":{"value":39.0,"value":"39"},',
                b'"valueQuantity":{"value":39.0,"unit":"Cel","unit":"\\u00b0C"},',
                b'"issued":"\xff\xfe",',
                b'"issued":"\\ud800",',
                b'"issued":"\\ud83d\\ude00",',
                b'"meta":{"lastUpdated":"\xc3\xa9"},',
                b'"valueQuantity":{"value":1.0E2,"unit":"Cel"},',
                b'"valueQuantity":{"value":-0,"unit":"Cel"},',
                b'"encounter":{"reference":"Encounter/1","reference":null},',
                b'"extension":' + b"[" * 980 + b"]" * 980 + b",",
                b'"extension":' + b"[" * 1000 + b"]" * 1000 + b",",
                b'"extension":' + b"[" * 1030 + b"]" * 1030 + b",",
            ]
        )
    )
    cut = position + len(marker)
    return body[:cut] + insert + body[cut:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_body())
def test_mutated_bodies_decode_alike(body):
    _assert_decodes_alike(body)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=_mutated_body())
def test_mutated_bodies_answer_alike(app, body):
    """One app for all examples: each call is answered on its own body alone. Where orjson
    refuses the body, the reference answers 400; the typed decode answers that 400 too, or
    (the designed difference) reads the body and answers it: never a 500."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        status, _ = _answer(app.test_client(), body)
        assert status in (200, 400)
        return
    _assert_answers_alike(app, body)


_GOOD = orjson.dumps(_BASE)
_MARKER = b'"resourceType":"Observation",'


def _inserted(insert: bytes, marker: bytes = _MARKER) -> bytes:
    cut = _GOOD.index(marker) + len(marker)
    return _GOOD[:cut] + insert + _GOOD[cut:]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_GOOD.replace(b'"hook":', b'"x":"\\q","hook":', 1), id="bad escape"),
        pytest.param(
            _GOOD.replace(b'"context":{', b'"context":{"x":"\xff",', 1), id="invalid UTF-8"
        ),
        pytest.param(
            _GOOD.replace(b'"context":{', b'"context":{"x":1e400,', 1), id="out-of-range number"
        ),
        pytest.param(
            _inserted(b'"birthDate":"\\ud800",', b'"resourceType":"Patient",'),
            id="lone surrogate in the Patient",
        ),
        pytest.param(
            _inserted(b'"gender":"\xff",', b'"resourceType":"Patient",'),
            id="invalid UTF-8 in the Patient",
        ),
        pytest.param(_inserted(b'"issued":"\\ud800",'), id="lone surrogate in an Observation"),
        pytest.param(_inserted(b'"encounter":{"display":"a\x01b"},'), id="control character"),
    ],
)
def test_what_is_read_and_refused_by_orjson_is_a_400_as_before(app, body):
    """In the members of the call, in any resource but a plain Observation, and wherever
    msgspec checks as orjson does (escapes, surrogates, control characters): None, hence
    orjson's 400."""
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    assert decode_hook_document(body) is None
    status, text = _answer(app.test_client(), body)
    assert status == 400
    assert "not valid JSON" in text


@pytest.mark.parametrize(
    "insert",
    [
        pytest.param(b'"issued":"\xff",', id="invalid UTF-8"),
        pytest.param(b'"meta":{"lastUpdated":"\xed\xa0\x80"},', id="encoded surrogate"),
        pytest.param(b'"note":[{"text":1e400}],', id="number beyond a double"),
        pytest.param(b'"code":{"text":"\xff"},', id="invalid UTF-8 a duplicated key replaces"),
        pytest.param(b'"subject":{"reference":1e400},', id="a number a duplicated key replaces"),
    ],
)
def test_the_designed_difference_unread_elements_of_a_plain_observation(app, insert):
    """What orjson refuses, inside an element of a plain Observation that grading does not
    read (or that a duplicated key replaces): the call is answered as without it, or, where
    msgspec checks that element, refused as before. Never a different grade."""
    body = _inserted(insert)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    client = app.test_client()
    status, text = _answer(client, body)
    if status == 400:
        assert decode_hook_document(body) is None
        return
    assert status == 200
    assert (status, text) == _answer(client, _GOOD)


def test_a_declined_observation_orjson_refuses_is_skipped_and_reported():
    """A lab the lanes decline (timed by a period: read by the mappers from ``as_dict()``)
    with a number orjson refuses in an element grading does not read: that resource is
    skipped and reported, the rest read. A plain lab result is read by the lab lane, which
    reads no such element: it counts (the designed difference, docs/integration.md)."""
    declined = (
        b'{"resourceType":"Observation","id":"lab-1","status":"final",'
        b'"code":{"coding":[{"system":"http://loinc.org","code":"1988-5"}]},'
        b'"subject":{"reference":"Patient/p1"},'
        b'"effectivePeriod":{"start":"2026-03-04T08:00:00Z"},'
        b'"valueQuantity":{"value":12,"unit":"mg/L"},"note":[{"text":1e400}]}'
    )
    plain = declined.replace(b"lab-1", b"lab-2").replace(
        b'"effectivePeriod":{"start":"2026-03-04T08:00:00Z"}',
        b'"effectiveDateTime":"2026-03-04T09:00:00Z"',
    )
    observations = [read_resource(raw) for raw in (declined, plain)]
    assert all(isinstance(observation, DecodedObservation) for observation in observations)
    inputs = map_patient_record([{"resourceType": "Patient", "id": "p1"}, *observations], "p1")
    assert [(lab.reference, lab.value) for lab in inputs.labs] == [("Observation/lab-2", 12.0)]
    assert [(item.reference, item.reason) for item in inputs.skipped] == [
        ("Observation/lab-1", "(resource) is not JSON this service can read")
    ]


@pytest.mark.parametrize(
    "members",
    [
        b'"(index)":3,"(source)":"x",',
        b'"(source)":{"a":1},"(index)":-1,',
        b'"(index)":"x",',
    ],
)
def test_members_named_like_the_structs_own_fields_change_nothing(members):
    """``DecodedObservation`` keeps where its JSON is in fields named "(source)" and "(index)",
    names no FHIR element has; JSON that has them anyway is read as without them: a declined
    resource finds its own JSON, whether decoded alone or with its whole Bundle."""
    lab = (
        b'{"resourceType":"Observation",' + members + b'"id":"lab-1","status":"final",'
        b'"code":{"coding":[{"system":"http://loinc.org","code":"1988-5"}]},'
        b'"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-03-04T08:00:00Z",'
        b'"valueQuantity":{"value":12,"unit":"mg/L"}}'
    )
    alone = read_resource(lab)
    if isinstance(alone, DecodedObservation):
        assert alone.as_dict() == orjson.loads(lab)
    bundle = decode_bundle(
        b'{"resourceType":"Bundle","entry":[{"resource":' + lab + b'},{"resource":' + lab + b"}]}"
    )
    assert bundle is not None
    for resource in bundle.page.resources:
        read = resource.as_dict() if isinstance(resource, DecodedObservation) else resource
        assert read == orjson.loads(lab)
