"""Issue 13: the fast lane of ``fhir_maps.observations`` and the once-per-code classification
map exactly as the mappers do, on dicts and on Observations decoded into structs.

The reference here is the same mapping with the lane closed (no kind is fast) and every code
classified afresh (``observation_concept`` per code object). Both must give equal
``GradingInputs`` (every reading, every skipped resource and its reason, every note) on the
demo cases of the seed paper, the JSON fixtures, the benchmark payloads, and generated
Observations mutated in the ways real EHR data and broken clients differ from the plain shape.
The same resources sent as JSON and read by ``fhir_maps.read_resource`` (plain Observations as
``DecodedObservation`` structs, read by the decoded lane) must map as the reference maps what
``orjson`` reads of that JSON.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.payloads import SIZES, build_payload
from cds_service.demo import CASES, generate_bundle, load_bundle
from cds_service.fhir_io.bundles import read_page
from crs_grading.inputs import GradingInputs
from fhir_maps import (
    DecodedObservation,
    MappingOptions,
    map_patient_record,
    observations,
    read_resource,
)
from fhir_maps._context import MappingContext
from fhir_maps.options import ValidationMode
from fhir_maps.valuesets.observations import ObservationKind

JSON = dict[str, Any]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"
PATIENT = "pat1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@contextmanager
def _reference_mapping() -> Iterator[None]:
    """The lane closed and every code classified afresh, for the duration."""
    kinds, identify, labs = observations._FAST_KINDS, observations.identify, observations._FAST_LABS

    def afresh(concepts: Any, code: object, element: str = "code", *, options: Any = None) -> Any:
        return observations._identify(code, element, options)

    observations._FAST_KINDS = frozenset()
    observations._FAST_LABS = frozenset()
    observations.identify = afresh
    try:
        yield
    finally:
        observations._FAST_KINDS, observations.identify = kinds, identify
        observations._FAST_LABS = labs


def _both(
    resources: list[Any], patient_id: str, options: MappingOptions | None = None
) -> tuple[GradingInputs, GradingInputs]:
    options = options or MappingOptions()
    fast = map_patient_record(copy.deepcopy(resources), patient_id, options)
    with _reference_mapping():
        reference = map_patient_record(copy.deepcopy(resources), patient_id, options)
    return fast, reference


def _assert_alike(resources: list[Any], patient_id: str = PATIENT) -> GradingInputs:
    fast, reference = _both(resources, patient_id)
    assert fast == reference
    _assert_decoded_alike(resources, patient_id)
    return fast


def _flat(items: list[Any]) -> list[Any]:
    """The resources as ``map_patient_record`` walks them, Bundles unpacked the same way."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, dict) and item.get("resourceType") == "Bundle":
            entries = item.get("entry")
            if isinstance(entries, list):
                flat.extend(
                    _flat(
                        [
                            entry.get("resource") if isinstance(entry, dict) else None
                            for entry in entries
                        ]
                    )
                )
            continue
        flat.append(item)
    return flat


def _assert_decoded_alike(
    resources: list[Any], patient_id: str, options: MappingOptions | None = None
) -> GradingInputs | None:
    """Each resource sent as JSON: decoded by ``read_resource`` it maps as the reference maps
    ``orjson``'s dict of it. None when the resources are not all JSON (NaN, a set...)."""
    options = options or MappingOptions()
    try:
        texts = [
            json.dumps(item, allow_nan=False).encode() if isinstance(item, dict) else None
            for item in _flat(resources)
        ]
        parsed = [orjson.loads(text) if text is not None else None for text in texts]
    except (TypeError, ValueError):
        return None
    decoded = [read_resource(text) if text is not None else None for text in texts]
    mapped = map_patient_record(decoded, patient_id, options)
    with _reference_mapping():
        reference = map_patient_record(parsed, patient_id, options)
    assert mapped == reference
    return mapped


def _patient_id(resources: list[JSON]) -> str:
    return next(r["id"] for r in resources if r.get("resourceType") == "Patient")


# --- the data the suite knows -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_the_seed_cases_map_alike(case):
    resources = [entry["resource"] for entry in load_bundle(case)["entry"]]
    inputs = _assert_alike(resources, _patient_id(resources))
    assert inputs.temperatures_c and inputs.blood_pressures  # the lane had work


@pytest.mark.parametrize("case", CASES)
def test_the_demo_cases_at_monitor_rate_map_alike(case):
    bundle = generate_bundle(
        case,
        date(2026, 3, 2),
        vitals_every=timedelta(minutes=30),
        labs_every=timedelta(hours=6),
        days=4,
    )
    resources = [entry["resource"] for entry in bundle["entry"]]
    _assert_alike(resources, _patient_id(resources))


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_the_fixture_files_map_alike(name):
    document = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    resources = [document] if document.get("resourceType") != "Bundle" else [document]
    _assert_alike(resources, PATIENT)


@pytest.mark.parametrize("size", ["S", "M"])
def test_the_benchmark_payloads_map_alike(size):
    payload = build_payload(next(item for item in SIZES if item.name == size))
    prefetch = orjson.loads(payload.body)["prefetch"]
    resources = [r for value in prefetch.values() for r in read_page(value).resources]
    inputs = _assert_alike(resources, payload.patient_id)
    assert len(inputs.heart_rates) > 20
    decoded = [read_resource(orjson.dumps(resource)) for resource in resources]
    assert sum(isinstance(item, DecodedObservation) for item in decoded) > len(resources) // 2


# --- the lane itself --------------------------------------------------------------------------


def _vital(code: str, value: Any, unit: str | None, **extra: Any) -> JSON:
    quantity: JSON = {"value": value}
    if unit is not None:
        quantity.update(unit=unit, system=UCUM, code=unit)
    return {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-03-04T08:00:00+01:00",
        "valueQuantity": quantity,
        **extra,
    }


def _part(code: str, value: Any, unit: str | None, **extra: Any) -> JSON:
    quantity: JSON = {"value": value}
    if unit is not None:
        quantity.update(unit=unit, system=UCUM, code=unit)
    return {
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": quantity,
        **extra,
    }


_FIO2 = _part("3150-0", 28, "%")
_FLOW = _part("3151-8", 2, "L/min")


@pytest.mark.parametrize(
    "components",
    [
        pytest.param([_FLOW, _FIO2], id="flow and FiO2"),
        pytest.param([_FIO2], id="FiO2 alone"),
        pytest.param([_FLOW], id="flow alone"),
        pytest.param([], id="no components"),
        pytest.param([_FIO2, _part("3150-0", 40, "%")], id="the first FiO2 counts"),
        pytest.param([_FIO2, _part("9999-9", 1, "x")], id="a part grading does not read"),
        pytest.param([_FIO2, _part("8480-6", 120, "mm[Hg]")], id="another known part"),
        pytest.param([_part("3150-0", 0.28, "1")], id="FiO2 as a fraction"),
        pytest.param([_part("3150-0", 15, "%")], id="an implausible FiO2"),
        pytest.param([_part("3151-8", -1, "L/min")], id="a negative flow"),
        pytest.param([_part("3151-8", 2, "furlong")], id="a flow in an unknown unit"),
        pytest.param([_part("3151-8", 2, None)], id="a flow without a unit"),
        pytest.param(
            [{**_FIO2, "valueQuantity": {"value": 30, "unit": "%", "comparator": ">"}}],
            id="a FiO2 with a comparator",
        ),
        pytest.param([{**_FIO2, "valueString": "28"}], id="a second value[x]"),
        pytest.param([{"code": {"text": "FiO2"}, "valueQuantity": {"value": 30}}], id="by name"),
        pytest.param([{"code": {"coding": [{"system": LOINC, "code": "3150-0"}]}}], id="no value"),
        pytest.param([{**_FIO2, "code": {"coding": "3150-0"}}], id="an unreadable code"),
    ],
)
def test_pulse_oximetry_with_oxygen_parts_maps_alike(components):
    """US Core pulse oximetry: SpO2 with FiO2 and flow components, every shape the decoded
    lane reads or leaves to the mappers."""
    resource = _vital("2708-6", 96, "%", component=components)
    inputs = _assert_alike([resource])
    decoded = read_resource(orjson.dumps(resource))
    assert isinstance(decoded, DecodedObservation)
    if components in ([_FLOW, _FIO2], [_FIO2]):  # the plain shape: the decoded lane reads it
        context = MappingContext(MappingOptions())
        assert observations.decoded_lane(context, decoded, "Observation/obs-1")
        assert len(context.oxygen) == len(context.spo2_percent) == 1
        assert [m.value for m in inputs.spo2_percent] == [96.0]
        assert [(o.fio2_percent, o.flow_l_per_min) for o in inputs.oxygen] == [
            (28.0, 2.0 if _FLOW in components else None)
        ]


def test_an_unreadable_spo2_with_oxygen_parts_maps_alike():
    """SPEC 3: an SpO2 in mmHg is skipped as an element, the FiO2 and flow parts kept, alike on
    every path."""
    resource = _vital("2708-6", 70, "mm[Hg]", component=[_FLOW, _FIO2])
    inputs = _assert_alike([resource])
    assert inputs.spo2_percent == ()
    assert [(o.fio2_percent, o.flow_l_per_min) for o in inputs.oxygen] == [(28.0, 2.0)]


@pytest.mark.parametrize(
    ("code", "value", "unit", "comparator", "field"),
    [
        ("8480-6", 60, "mm[Hg]", "<", "blood_pressures"),
        ("8478-0", 50, "mm[Hg]", "<=", "blood_pressures"),
        ("8867-4", 200, "/min", ">", "heart_rates"),
        ("9279-1", 60, "/min", ">=", "respiratory_rates"),
        ("2708-6", 70, "%", "<", "spo2_percent"),
    ],
)
def test_a_vital_charted_as_a_bound_maps_alike(code, value, unit, comparator, field):
    """SPEC 3 "Comparators": a bound on a vital sign is kept alike on every path (the lanes
    decline it, the mappers keep it with its comparator)."""
    resource = _vital(code, value, unit)
    resource["valueQuantity"]["comparator"] = comparator
    inputs = _assert_alike([resource])
    assert inputs.skipped == ()
    assert len(getattr(inputs, field)) == 1


@pytest.mark.parametrize("display", [None, "oxygen saturation and BMI panel", "Temp Source"])
def test_a_vital_signs_panel_named_like_one_of_ours_maps_alike(display):
    """A panel (no value) whose display names one of our vitals: its components are read on
    every path (the mappers read it: a name-matched code never takes the lane)."""
    panel = _vital("85353-1", 0, None, component=[_part("8310-5", 39.0, "Cel")])
    del panel["valueQuantity"]
    if display is not None:
        panel["code"]["coding"][0]["display"] = display
    inputs = _assert_alike([panel])
    assert [t.value for t in inputs.temperatures_c] == [39.0]


def _lane(resource: JSON, kind: ObservationKind) -> tuple[bool, MappingContext]:
    context = MappingContext(MappingOptions())
    taken = observations._fast_lane(context, resource, kind, "Observation/obs-1")
    return taken, context


def test_a_plain_monitor_row_takes_the_lane():
    taken, context = _lane(_vital("8867-4", 112, "/min"), ObservationKind.HEART_RATE)
    assert taken
    assert [m.value for m in context.heart_rates] == [112.0]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            {"valueQuantity": {"value": 39.5, "unit": "Cel", "comparator": ">"}},
            id="a comparator is left to the mappers",
        ),
        pytest.param(
            {"valueQuantity": {"value": 39.5, "unit": "furlong"}},
            id="an unknown unit is left to the mappers",
        ),
        pytest.param(
            {"valueQuantity": {"value": 395, "unit": "Cel"}},
            id="an implausible temperature is left to the mappers",
        ),
        pytest.param({"valueString": "39.5"}, id="a second value[x] is left to the mappers"),
        pytest.param({"status": "entered-in-error"}, id="an ignored status is left to the mappers"),
        pytest.param(
            {"effectivePeriod": {"start": "2026-03-04T08:00:00Z"}},
            id="a second effective[x] is left to the mappers",
        ),
        pytest.param({"component": []}, id="components are left to the mappers"),
    ],
)
def test_anything_but_the_plain_shape_leaves_the_lane_without_a_trace(change):
    resource = {**_vital("8310-5", 39.5, "Cel"), **change}
    taken, context = _lane(resource, ObservationKind.TEMPERATURE)
    assert not taken
    assert not context.temperatures_c and not context.skipped
    assert context.times.checkpoint() == (0, 0)
    _assert_alike([resource])


def test_a_code_is_classified_once_per_call_and_a_bad_one_every_time():
    good = [_vital("8867-4", 100 + n, "/min", id=f"hr-{n}") for n in range(50)]
    bad = [
        {**_vital("8867-4", 100, "/min", id=f"bad-{n}"), "code": {"coding": "8867-4"}}
        for n in range(3)
    ]
    calls: list[object] = []
    original = observations._identify

    def counting(code: object, element: str, options: Any) -> Any:
        calls.append(code)
        return original(code, element, options)

    observations._identify = counting
    try:
        inputs = map_patient_record(good + bad, PATIENT)
    finally:
        observations._identify = original
    assert len(inputs.heart_rates) == 50
    assert [item.reason for item in inputs.skipped] == ["code.coding is not a list"] * 3
    assert len(calls) == 1 + 3


# --- generated shapes -------------------------------------------------------------------------

_CODES = {
    "8867-4": ["/min", "beats/min", "{beats}/min", None],
    "9279-1": ["/min", "{breaths}/min", None],
    "8310-5": ["Cel", "[degF]", "degF", "K", None],
    "2708-6": ["%", "1", "{ratio}", None],
    "3150-0": ["%", "1", None],
    "3151-8": ["L/min", "mL/min", "l/min", None],
    "29463-7": ["kg", "g", "[lb_av]", "lb", None],
    "8480-6": ["mm[Hg]", "mmHg", "kPa", None],
    "8462-4": ["mm[Hg]", "cm[H2O]", None],
}
_NUMBERS = st.one_of(
    st.integers(-10, 500),
    st.floats(-10, 500, allow_nan=False),
    st.sampled_from([0, 0.0, 1, 1.0, 0.95, 2**53, 2**53 + 1, 2**70, -(2**60), 1e308]),
    st.sampled_from([True, False, None, "98", [], {}, math.inf, -math.inf, math.nan]),
)
_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
    st.just({"coding": "x"}),
    st.just([{"code": 1}]),
)


@st.composite
def _component(draw: st.DrawFn) -> Any:
    code = draw(st.sampled_from(["8480-6", "8462-4", "8478-0", "8867-4", "3150-0", "0000-0"]))
    unit = draw(st.sampled_from(["mm[Hg]", "mmHg", "kPa", "%", None]))
    component: JSON = {
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": {"value": draw(_NUMBERS)},
    }
    if unit is not None:
        component["valueQuantity"]["unit"] = unit
    if draw(st.integers(0, 9)) == 0:
        component = draw(st.sampled_from([component, "component", None, {"code": None}]))
    return component


@st.composite
def _observation(draw: st.DrawFn, number: int) -> JSON:
    code = draw(st.sampled_from(sorted(_CODES)))
    if draw(st.integers(0, 5)) == 0:
        resource: JSON = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}], "text": "Blood pressure"},
            "subject": {"reference": f"Patient/{PATIENT}"},
            "effectiveDateTime": "2026-03-04T08:00:00Z",
            "component": draw(st.lists(_component(), max_size=4)),
        }
    else:
        unit = draw(st.sampled_from(_CODES[code]))
        resource = _vital(code, draw(_NUMBERS), unit)
    resource["id"] = f"obs-{number}"
    for _ in range(draw(st.integers(0, 3))):
        _mutate(draw, resource)
    return resource


def _mutate(draw: st.DrawFn, resource: JSON) -> None:
    """One change of the kind EHRs and broken clients make."""
    kind = draw(st.integers(0, 12))
    quantity = resource.get("valueQuantity")
    if kind == 0:
        resource["status"] = draw(
            st.sampled_from(["preliminary", "amended", "cancelled", "registered", "bogus", None, 3])
        )
    elif kind == 1:
        resource["effectiveDateTime"] = draw(
            st.sampled_from(
                [
                    "2026-03-04",
                    "2026-03",
                    "2026-03-04T08:00:00",
                    "2026-02-30T08:00:00Z",
                    "2026-03-04T08:00:00.123-05:00",
                    "yesterday",
                    20260304,
                    None,
                ]
            )
        )
    elif kind == 2:
        key = draw(
            st.sampled_from(["effectivePeriod", "effectiveInstant", "effectiveTiming", "issued"])
        )
        resource[key] = draw(
            st.sampled_from([{"start": "2026-03-04T07:00:00Z"}, "2026-03-04T07:00:00Z", {}, None])
        )
    elif kind == 3:
        resource.pop(
            draw(
                st.sampled_from(["effectiveDateTime", "valueQuantity", "status", "code", "subject"])
            ),
            None,
        )
    elif kind == 4 and isinstance(quantity, dict):
        quantity["comparator"] = draw(st.sampled_from(["<", ">=", "ad", "~", None, 1]))
    elif kind == 5 and isinstance(quantity, dict):
        quantity[draw(st.sampled_from(["unit", "code"]))] = draw(
            st.sampled_from(["Cel", "%", "", " ", "kg", "[degF]", 7, None, "x" * 70])
        )
    elif kind == 6:
        key = draw(
            st.sampled_from(
                [
                    "valueString",
                    "valueInteger",
                    "valueCodeableConcept",
                    "valueFoo",
                    "dataAbsentReason",
                ]
            )
        )
        resource[key] = draw(st.sampled_from([{"text": "unknown"}, "12", 12, None]))
    elif kind == 7:
        resource["component"] = draw(st.lists(_component(), max_size=3))
    elif kind == 8:
        resource["code"] = draw(
            st.sampled_from(
                [
                    {"text": "Temperature"},
                    {
                        "coding": [
                            {"system": LOINC, "code": "8867-4"},
                            {"system": LOINC, "code": "8310-5"},
                        ]
                    },
                    {"coding": [{"system": "urn:local", "code": "HR", "display": "Pulse rate"}]},
                    {"coding": [{"system": LOINC, "code": "8867-4", "extra": {"nested": [1, 2]}}]},
                    draw(_ODD_VALUES),
                ]
            )
        )
    elif kind == 9 and isinstance(quantity, dict):
        quantity["value"] = draw(_ODD_VALUES)
    elif kind == 10:
        resource["valueQuantity"] = draw(_ODD_VALUES)
    elif kind == 11:
        resource["subject"] = draw(
            st.sampled_from(
                [
                    {"reference": "Patient/other"},
                    {"reference": f"Patient/{PATIENT}/_history/2"},
                    {"display": "someone"},
                    "Patient/pat1",
                ]
            )
        )
    else:
        resource["id"] = "obs-dup"  # the same resource twice: read once


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 12).flatmap(
        lambda count: st.tuples(*(_observation(number) for number in range(count)))
    )
)
def test_generated_and_mutated_observations_map_alike(resources):
    _assert_alike(list(resources))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_demo_bundles_map_alike(data):
    """A demo chart with some of its resources mutated as above, so that fast and slow
    resources, skips and duplicates mix in one call."""
    case = data.draw(st.sampled_from(CASES))
    resources = [copy.deepcopy(entry["resource"]) for entry in load_bundle(case)["entry"]]
    observations_only = [r for r in resources if r["resourceType"] == "Observation"]
    for resource in data.draw(st.lists(st.sampled_from(observations_only), max_size=8)):
        _mutate(data.draw, resource)
    _assert_alike(resources, _patient_id(resources))


# --- the value readers of the decoded lane (worked out once per unit) -----------------------

_UNIT_TEXTS = sorted(
    {
        *observations.TEMPERATURE_TO_CELSIUS,
        *observations.PRESSURE_TO_MMHG,
        *observations.FLOW_TO_L_PER_MIN,
        *observations.WEIGHT_TO_KG,
        "%",
        "percent",
        "1",
        "{fraction}",
        "{ratio}",
        "/min",
        "beats/min",
        "Cel",
        "[degF]",
        "mm[Hg]",
        "kg",
        "[lb_av]",
        "L/min",
        "furlongs",
        "",
        " ",
    }
)
_VALUES = (
    -1.0, -0.0, 0.0, 0.2, 0.5, 1.0, 1.0000001, 9.9, 10.0, 19.9, 20.0, 24.9, 25.0, 37.2, 45.0,
    45.1, 98.6, 100.0, 100.5, 113.0, 650.0, 650.1, 1e6, 1.7e308,
)  # fmt: skip


@pytest.mark.parametrize("concept", sorted(observations._FAST_KINDS - {ObservationKind.BP_PANEL}))
def test_a_value_reader_reads_every_value_as_the_lane_result_does(concept):
    """The decoded lane reads a value through a reader made once per (code, unit) pair; it must
    give what ``_lane_result`` (``_fast_pressure`` for a blood pressure part) gives for the unit
    keys of that pair, for every unit of every table and every value, limits included."""
    part = concept in observations.BP_COMPONENTS
    unset = observations.UNSET
    pairs = [(unset, unset)] + [
        (code, unit) for code in (unset, *_UNIT_TEXTS) for unit in (unset, "mmHg", "Cel", "%")
    ]
    for units in pairs:
        code, unit = units
        keys = observations.unit_keys(
            None if code is unset else code, None if unit is unset else unit
        )
        reader = observations._value_reader(concept, part, units)
        for value in _VALUES:
            if part:
                expected = observations._fast_pressure((value, keys))
            else:
                expected = observations._lane_result(concept, value, keys)
            got = None if reader is None else reader(value)
            assert got == expected, (concept, units, value)
            assert (got is None) == (expected is None)


# --- the lab lane (decoded lab results, read once the Patient is mapped) ----------------------

_LAB_CODES = {
    "crp": ("1988-5", "mg/L"),
    "creatinine": ("2160-0", "mg/dL"),
    "lvef": ("10230-1", "%"),
    "anc": ("751-8", "/uL"),
    "platelets": ("777-3", "10*3/uL"),
    "fibrinogen": ("3255-7", "mg/dL"),
}


def _lab(number: int, test: str = "crp", **changes: Any) -> JSON:
    code, unit = _LAB_CODES[test]
    lab: JSON = {
        "resourceType": "Observation",
        "id": f"lab-{number}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-03-04T08:00:00Z",
        "valueQuantity": {"value": 12, "unit": unit, "system": UCUM, "code": unit},
    }
    for key, value in changes.items():
        if value is None:
            lab.pop(key, None)
        else:
            lab[key] = value
    return lab


def _range(low: Any = None, high: Any = None, unit: str | None = "mg/L", **more: Any) -> JSON:
    item: JSON = dict(more)
    for name, value in (("low", low), ("high", high)):
        if value is not None:
            item[name] = {"value": value} if unit is None else {"value": value, "unit": unit}
    return item


_MALE = {"coding": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}]}
_ADULT = {"low": {"value": 18, "unit": "a"}, "high": {"value": 120, "unit": "a"}}
_CHILD = {"low": {"value": 0, "unit": "a"}, "high": {"value": 17, "unit": "a"}}

#: Lab results of every shape the lab lane reads or must leave to the mappers.
_LAB_SHAPES: dict[str, JSON] = {
    "plain": _lab(1),
    "no range": _lab(2, referenceRange=None),
    "range high": _lab(3, referenceRange=[_range(high=8)]),
    "range in another unit": _lab(4, referenceRange=[_range(high=0.8, unit="mg/dL")]),
    "range without a unit": _lab(5, referenceRange=[_range(high=9, unit=None)]),
    "range in an unknown unit": _lab(6, referenceRange=[_range(high=9, unit="furlongs")]),
    "ranges by sex": _lab(
        7,
        referenceRange=[
            _range(high=7, appliesTo=[_MALE]),
            _range(high=6, appliesTo=[{"text": "women"}]),
        ],
    ),
    "ranges by age": _lab(
        8, referenceRange=[_range(high=5, age=_CHILD), _range(high=11, age=_ADULT)]
    ),
    "age in months": _lab(
        9, referenceRange=[_range(high=4, age={"low": {"value": 0, "unit": "mo"}})]
    ),
    "age in an unknown unit": _lab(
        10, referenceRange=[_range(high=4, age={"low": {"value": 0, "unit": "parsecs"}})]
    ),
    "range of another type": _lab(
        11,
        referenceRange=[
            _range(high=3, type={"coding": [{"code": "treatment"}]}),
            _range(high=9),
        ],
    ),
    "a limit that is no number": _lab(12, referenceRange=[_range(low="x", high=9)]),
    "ranges not a list": _lab(13, referenceRange={"high": {"value": 9}}),
    "less than": _lab(14, valueQuantity={"value": 5, "comparator": "<", "unit": "mg/L"}),
    "at least": _lab(15, valueQuantity={"value": 5, "comparator": ">=", "unit": "mg/L"}),
    "ad": _lab(16, valueQuantity={"value": 5, "comparator": "ad", "unit": "mg/L"}),
    "unknown comparator": _lab(17, valueQuantity={"value": 5, "comparator": "~", "unit": "mg/L"}),
    "number as text": _lab(18, valueQuantity={"value": "12", "unit": "mg/L"}),
    "implausible": _lab(19, valueQuantity={"value": 1e7, "unit": "mg/L"}),
    "huge integer": _lab(20, valueQuantity={"value": 10**20, "unit": "mg/L"}),
    "unknown unit": _lab(21, valueQuantity={"value": 5, "unit": "furlongs"}),
    "no unit": _lab(22, valueQuantity={"value": 5}),
    "valueInteger": _lab(23, valueQuantity=None, valueInteger=5),
    "absent for a reason": _lab(24, valueQuantity=None, dataAbsentReason={"text": "lost"}),
    "no value": _lab(25, valueQuantity=None),
    "two values": _lab(26, valueString="high"),
    "preliminary": _lab(27, status="preliminary"),
    "cancelled": _lab(28, status="cancelled"),
    "unknown status": _lab(29, status="done"),
    "no status": _lab(30, status=None),
    "date only": _lab(31, effectiveDateTime="2026-03-04"),
    "no zone": _lab(32, effectiveDateTime="2026-03-04T08:00:00"),
    "bad time": _lab(33, effectiveDateTime="yesterday"),
    "period": _lab(34, effectiveDateTime=None, effectivePeriod={"start": "2026-03-04T08:00:00Z"}),
    "issued only": _lab(35, effectiveDateTime=None, issued="2026-03-04T08:00:00Z"),
    "components": _lab(36, component=[{"code": {"text": "x"}, "valueQuantity": {"value": 1}}]),
    "named only": _lab(37, code={"text": "CRP"}),
    "two codings of one test": _lab(
        38,
        code={"coding": [{"system": LOINC, "code": "1988-5"}, {"system": LOINC, "code": "1988-5"}]},
    ),
    "creatinine in umol/L": _lab(
        39, "creatinine", valueQuantity={"value": 90, "unit": "umol/L"}
    ),
    "lvef as a fraction": _lab(40, "lvef", valueQuantity={"value": 0.45, "unit": "1"}),
    "lvef in percent": _lab(41, "lvef", referenceRange=[_range(low=55, unit="%")]),
    "anc in thousands": _lab(42, "anc", valueQuantity={"value": 0.4, "unit": "10*3/uL"}),
    "fibrinogen in g/L": _lab(
        43, "fibrinogen", valueQuantity={"value": 1.2, "unit": "g/L"},
        referenceRange=[_range(low=2, high=4, unit="g/L")],
    ),
    "another patient": _lab(44, subject={"reference": "Patient/other"}),
    # review finding, mcL units (SPEC 2.7, 2.10): counts in the unit spellings labs print
    "anc in K/mcL": _lab(45, "anc", valueQuantity={"value": 0.2, "unit": "K/mcL"}),
    "anc in cells/mm3": _lab(46, "anc", valueQuantity={"value": 200, "unit": "cells/mm3"}),
    "anc in x10(3)/uL, code 10*3/uL": _lab(
        47, "anc", valueQuantity={"value": 0.2, "unit": "x10(3)/uL", "code": "10*3/uL"}
    ),
    "platelets in 10³/µL": _lab(48, "platelets", valueQuantity={"value": 20, "unit": "10³/µL"}),
    "platelets in /mcL, range in K/mcL": _lab(
        49, "platelets", valueQuantity={"value": 20000, "unit": "/mcL"},
        referenceRange=[_range(low=150, high=400, unit="K/mcL")],
    ),
    "anc in a bare K": _lab(50, "anc", valueQuantity={"value": 0.2, "unit": "K"}),
}  # fmt: skip

_LAB_PATIENTS: dict[str, JSON | None] = {
    "no patient": None,
    "a man of 35": {"resourceType": "Patient", "id": PATIENT, "gender": "male",
                    "birthDate": "1990-06-15"},
    "a girl turning 18 that day": {"resourceType": "Patient", "id": PATIENT,
                                   "gender": "female", "birthDate": "2008-03-04"},
    "no birth date": {"resourceType": "Patient", "id": PATIENT, "gender": "female"},
}  # fmt: skip


@pytest.mark.parametrize("patient", list(_LAB_PATIENTS), ids=str)
def test_every_lab_shape_maps_alike_decoded(patient):
    """Each lab shape, alone and all together (their readings kept once per unit, range and
    day), decoded and read by the lab lane where it can, maps as the mappers map its dict."""
    person = _LAB_PATIENTS[patient]
    head = [person] if person is not None else []
    for lab in _LAB_SHAPES.values():
        _assert_decoded_alike([*head, copy.deepcopy(lab)], PATIENT)
    mapped = _assert_decoded_alike([*head, *copy.deepcopy(list(_LAB_SHAPES.values()))], PATIENT)
    assert mapped is not None and len(mapped.labs) >= 15  # the lane read most of them


def test_one_lab_over_days_keeps_its_limits_by_day():
    """A child's range by age: the same lab and range over the days around her 18th birthday
    read the child's limit before and the adult's from that day on, decoded as by the mappers."""
    patient = _LAB_PATIENTS["a girl turning 18 that day"]
    ranges = [_range(high=5, age=_CHILD), _range(high=11, age=_ADULT)]
    labs = [
        _lab(100 + day, referenceRange=ranges, effectiveDateTime=f"2026-03-{day:02d}T08:00:00Z")
        for day in range(2, 7)
    ]
    mapped = _assert_decoded_alike([patient, *labs], PATIENT)
    assert mapped is not None
    assert [lab.high for lab in mapped.labs] == [5.0, 5.0, 11.0, 11.0, 11.0]


def test_a_plain_lab_takes_the_lab_lane_and_an_odd_one_the_mappers():
    patient = _LAB_PATIENTS["a man of 35"]
    decoded = [read_resource(orjson.dumps(item)) for item in (_LAB_SHAPES["plain"],
               _LAB_SHAPES["unknown comparator"])]  # fmt: skip
    asked: list[str] = []
    original = DecodedObservation.as_dict

    def spy(self: DecodedObservation) -> JSON:
        asked.append(str(self.id))
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DecodedObservation, "as_dict", spy)
        mapped = map_patient_record([patient, *decoded], PATIENT)
    assert asked == ["lab-17"]  # only the one the lane left to the mappers was built
    assert [lab.reference for lab in mapped.labs] == ["Observation/lab-1"]
    assert [item.reference for item in mapped.skipped] == ["Observation/lab-17"]


_COUNT_SHAPES = [
    ("anc in K/mcL", 200.0),
    ("anc in cells/mm3", 200.0),
    ("anc in x10(3)/uL, code 10*3/uL", 200.0),
    ("platelets in 10³/µL", 20.0),
    ("platelets in /mcL, range in K/mcL", 20.0),
]


@pytest.mark.parametrize(
    ("shape", "expected"),
    _COUNT_SHAPES,
    ids=[
        f"review finding, mcL units: {shape} maps alike in both lanes" for shape, _ in _COUNT_SHAPES
    ],
)
def test_a_count_in_a_mcl_unit_maps_alike_and_takes_the_lab_lane(shape, expected):
    """SPEC 2.7, 2.10: the lanes read the count unit family from the mappers' one table, so a
    count in "K/mcL" is read (not skipped) alike by the mappers, the lane and the lab lane."""
    patient = _LAB_PATIENTS["a man of 35"]
    mapped = _assert_alike([patient, copy.deepcopy(_LAB_SHAPES[shape])])
    assert mapped.skipped == ()
    assert [lab.value for lab in mapped.labs] == [pytest.approx(expected)]
    asked: list[str] = []
    original = DecodedObservation.as_dict

    def spy(self: DecodedObservation) -> JSON:
        asked.append(str(self.id))
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DecodedObservation, "as_dict", spy)
        map_patient_record([patient, read_resource(orjson.dumps(_LAB_SHAPES[shape]))], PATIENT)
    assert asked == []  # the lab lane read it: the mappers never built its dict


def test_rows_that_change_subject_are_each_attributed_by_their_own():
    """The first pass keeps the previous row's subject and owner (rows repeat one subject):
    rows whose subject changes from one to the next (this patient, another, none, an absolute
    URL, one that is no reference) are each attributed by their own subject."""
    subjects: list[Any] = [
        {"reference": f"Patient/{PATIENT}"},
        {"reference": "Patient/other"},
        {"reference": f"Patient/{PATIENT}"},
        None,
        {"reference": f"Patient/{PATIENT}"},
        {"reference": f"https://elsewhere.example/fhir/Patient/{PATIENT}"},
        {"display": "no reference"},
        {"reference": f"Patient/{PATIENT}"},
        {"reference": f"Patient/{PATIENT}"},
    ]
    rows = []
    for number, subject in enumerate(subjects):
        row = _lab(200 + number, effectiveDateTime=f"2026-03-04T{number:02d}:00:00Z")
        row["code"] = {"coding": [{"system": LOINC, "code": "8867-4"}]}
        row["valueQuantity"] = {"value": 80 + number, "unit": "/min"}
        if subject is None:
            del row["subject"]
        else:
            row["subject"] = subject
        rows.append(row)
    mapped = _assert_decoded_alike([{"resourceType": "Patient", "id": PATIENT}, *rows], PATIENT)
    assert mapped is not None
    assert [reading.value for reading in mapped.heart_rates] == [80.0, 82.0, 84.0, 87.0, 88.0]
    assert len(mapped.skipped) == 4


@pytest.mark.parametrize(
    "options",
    [
        MappingOptions(validation=ValidationMode.MODELS),
        MappingOptions(default_timezone=timezone(timedelta(hours=14))),
        MappingOptions(default_timezone=timezone(timedelta(hours=-12))),
    ],
    ids=["models validation: the lanes stay closed", "zone +14", "zone -12"],
)
def test_labs_map_alike_decoded_under_other_options(options):
    """The lab lane under the other mapping options: closed while every resource is validated
    with the R4B models, and reading the limits of the same day as the mappers when times
    without a zone are read in a zone far from UTC (a range by age, on the 18th birthday)."""
    patient = _LAB_PATIENTS["a girl turning 18 that day"]
    ranges = [_range(high=5, age=_CHILD), _range(high=11, age=_ADULT)]
    labs = [
        _lab(300 + hour, referenceRange=ranges, effectiveDateTime=f"2026-03-04T{hour:02d}:30:00")
        for hour in (0, 6, 11, 12, 13, 18, 23)
    ]
    shapes = [copy.deepcopy(lab) for lab in _LAB_SHAPES.values()]
    # Plain for the lane, not for the R4B model (an element the lane does not read is bad):
    # skipped under models validation only.
    shapes.append(_lab(400, issued="yesterday"))
    mapped = _assert_decoded_alike([patient, *labs, *shapes], PATIENT, options)
    assert mapped is not None and mapped.labs
    skipped = {item.reference for item in mapped.skipped}
    assert ("Observation/lab-400" in skipped) is (options.validation is ValidationMode.MODELS)
