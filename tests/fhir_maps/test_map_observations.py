"""Observations -> vitals, oxygen, weight, labs, cultures, neurologic scores (SPEC 2.3-2.8, 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from map_fixtures import LOINC, SNOMED, load, observation, quantity, record

from crs_grading.inputs import (
    Comparator,
    EncephalopathyTool,
    LabTest,
    NeuroScoreKind,
    OxygenDevice,
)

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # the temperature fixture's time (08:00+01:00)


def _only(values: tuple, name: str):
    assert len(values) == 1, f"expected one {name}, got {values}"
    return values[0]


# --- codes: every reference code of SPEC 3 and the verified equivalents -----------------------

VITAL_CODES = [
    ("8310-5", 38.2, "Cel", "temperatures_c", 38.2, "SPEC 3 body temperature 8310-5"),
    ("8331-1", 38.2, "Cel", "temperatures_c", 38.2, "LOINC oral temperature 8331-1"),
    ("8328-7", 38.2, "Cel", "temperatures_c", 38.2, "LOINC axillary temperature 8328-7"),
    ("8332-9", 38.2, "Cel", "temperatures_c", 38.2, "LOINC rectal temperature 8332-9"),
    ("8329-5", 38.2, "Cel", "temperatures_c", 38.2, "LOINC core temperature 8329-5"),
    ("8867-4", 121, "/min", "heart_rates", 121.0, "SPEC 3 heart rate 8867-4"),
    ("9279-1", 28, "/min", "respiratory_rates", 28.0, "SPEC 3 respiratory rate 9279-1"),
    ("2708-6", 92, "%", "spo2_percent", 92.0, "SPEC 3 SpO2 2708-6"),
    ("59408-5", 92, "%", "spo2_percent", 92.0, "SPEC 3 SpO2 by pulse oximetry 59408-5"),
    ("29463-7", 70.5, "kg", "weights_kg", 70.5, "SPEC 3 body weight 29463-7"),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "field", "expected"),
    [case[:5] for case in VITAL_CODES],
    ids=[f"{case[5]} is mapped to {case[3]}" for case in VITAL_CODES],
)
def test_vital_sign_codes_are_mapped(code, value, unit, field, expected):
    inputs = record(observation(code, value, unit))
    measurement = _only(getattr(inputs, field), field)
    assert measurement.value == pytest.approx(expected)
    assert measurement.time == T0
    assert measurement.reference == "Observation/obs1"


BP_CODES = [
    ("8480-6", "systolic", "SPEC 3 systolic 8480-6"),
    ("8462-4", "diastolic", "SPEC 3 diastolic 8462-4"),
    ("8478-0", "mean", "SPEC 3 mean arterial pressure 8478-0"),
    ("76534-7", "systolic", "LOINC noninvasive systolic 76534-7"),
    ("76215-3", "systolic", "LOINC invasive (arterial line) systolic 76215-3"),
    ("76213-8", "diastolic", "LOINC invasive diastolic 76213-8"),
    ("76214-6", "mean", "LOINC invasive mean 76214-6"),
]


@pytest.mark.parametrize(
    ("code", "part"),
    [case[:2] for case in BP_CODES],
    ids=[f"standalone {case[2]} is a blood pressure part" for case in BP_CODES],
)
def test_standalone_blood_pressure_codes(code, part):
    bp = _only(record(observation(code, 64, "mm[Hg]")).blood_pressures, "blood pressure")
    assert getattr(bp, part) == 64.0
    assert [getattr(bp, other) for other in ("systolic", "diastolic", "mean") if other != part] == [
        None,
        None,
    ]


LAB_CODES = [
    ("1920-8", LabTest.AST, 85, "U/L", 85.0),
    ("1742-6", LabTest.ALT, 120, "U/L", 120.0),
    ("1975-2", LabTest.BILIRUBIN, 2.4, "mg/dL", 2.4),
    ("14631-6", LabTest.BILIRUBIN, 34.2, "umol/L", 2.0),
    ("2160-0", LabTest.CREATININE, 1.8, "mg/dL", 1.8),
    ("38483-4", LabTest.CREATININE, 1.8, "mg/dL", 1.8),
    ("14682-9", LabTest.CREATININE, 176.8, "umol/L", 2.0),
    ("3255-7", LabTest.FIBRINOGEN, 150, "mg/dL", 150.0),
    ("10230-1", LabTest.LVEF, 35, "%", 35.0),
    ("18043-0", LabTest.LVEF, 35, "%", 35.0),
    ("1988-5", LabTest.CRP, 120, "mg/L", 120.0),
    ("2276-4", LabTest.FERRITIN, 4500, "ng/mL", 4500.0),
    ("26881-3", LabTest.IL6, 222, "pg/mL", 222.0),
    ("751-8", LabTest.ANC, 400, "/uL", 400.0),
    ("753-4", LabTest.ANC, 400, "/uL", 400.0),
    ("26499-4", LabTest.ANC, 400, "/uL", 400.0),
    ("6690-2", LabTest.WBC, 1.2, "10*3/uL", 1.2),
    ("26464-8", LabTest.WBC, 1.2, "10*3/uL", 1.2),
    ("2524-7", LabTest.LACTATE, 3.1, "mmol/L", 3.1),
    ("32693-4", LabTest.LACTATE, 3.1, "mmol/L", 3.1),
    ("33959-8", LabTest.PROCALCITONIN, 0.8, "ng/mL", 0.8),
]


@pytest.mark.parametrize(
    ("code", "test", "value", "unit", "expected"),
    LAB_CODES,
    ids=[f"LOINC {case[0]} is the lab {case[1].value}" for case in LAB_CODES],
)
def test_lab_codes_are_mapped(code, test, value, unit, expected):
    lab = _only(record(observation(code, value, unit)).labs, "lab")
    assert lab.test is test
    assert lab.value == pytest.approx(expected)


def test_codes_are_read_from_every_coding_not_only_the_first():
    """SPEC 3: read codes from every coding."""
    resource = observation("8310-5", 38.6, "Cel")
    resource["code"]["coding"].insert(0, {"system": "urn:oid:1.2.3.4.5", "code": "TEMP"})
    assert _only(record(resource).temperatures_c, "temperature").value == 38.6


def test_loinc_by_its_oid_is_read_as_loinc():
    resource = observation("8310-5", 38.6, "Cel", system="urn:oid:2.16.840.1.113883.6.1")
    assert len(record(resource).temperatures_c) == 1


def test_a_loinc_code_under_another_system_is_not_read_as_loinc():
    resource = observation("8310-5", 38.6, "Cel", system="http://example.org/local-codes")
    inputs = record(resource)
    assert inputs.temperatures_c == () and inputs.skipped == ()


def test_codings_of_two_different_measurements_are_skipped_and_reported():
    resource = observation("8310-5", 38.6, "Cel")
    resource["code"]["coding"].append({"system": LOINC, "code": "8867-4"})
    inputs = record(resource)
    assert inputs.temperatures_c == () and inputs.heart_rates == ()
    assert inputs.skipped[0].reason == "code has codings of different measurements"


def test_unrelated_observations_are_dropped_silently():
    inputs = record(observation("2951-2", 140, "mmol/L", text="Sodium"))
    assert inputs.labs == () and inputs.skipped == ()


# --- unit conversions (SPEC 2.3 and 3) --------------------------------------------------------

CONVERSIONS = [
    ("8310-5", 101.3, "[degF]", "temperatures_c", 38.5, "101.3 [degF] is 38.5 C (SPEC 3)"),
    ("8310-5", 100.4, "degF", "temperatures_c", 38.0, "100.4 degF (non-UCUM) is 38.0 C"),
    ("8310-5", 311.15, "K", "temperatures_c", 38.0, "311.15 K is 38.0 C"),
    ("29463-7", 154, "[lb_av]", "weights_kg", 69.853, "154 [lb_av] is 69.85 kg"),
    ("29463-7", 154, "lb", "weights_kg", 69.853, "154 lb is 69.85 kg"),
    ("29463-7", 3500, "g", "weights_kg", 3.5, "3500 g is 3.5 kg"),
    ("8480-6", 12, "kPa", "blood_pressures", 90.007, "12 kPa is 90 mmHg"),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "field", "expected"),
    [case[:5] for case in CONVERSIONS],
    ids=[case[5] for case in CONVERSIONS],
)
def test_vital_sign_unit_conversions(code, value, unit, field, expected):
    item = _only(getattr(record(observation(code, value, unit)), field), field)
    read = item.systolic if field == "blood_pressures" else item.value
    assert read == pytest.approx(expected, abs=0.001)


LAB_CONVERSIONS = [
    ("1975-2", 34.2, "umol/L", 2.0, "bilirubin 34.2 umol/L is 2.0 mg/dL (/17.1, SPEC 2.3)"),
    ("2160-0", 88.4, "umol/L", 1.0, "creatinine 88.4 umol/L is 1.0 mg/dL (/88.4, SPEC 2.3)"),
    ("3255-7", 1.5, "g/L", 150.0, "fibrinogen 1.5 g/L is 150 mg/dL (x100, SPEC 2.3)"),
    ("1988-5", 12, "mg/dL", 120.0, "CRP 12 mg/dL is 120 mg/L (x10)"),
    ("2276-4", 800, "ug/L", 800.0, "ferritin 800 ug/L is 800 ng/mL"),
    ("751-8", 0.4, "10*3/uL", 400.0, "ANC 0.4 10*3/uL is 400 /uL (x1000)"),
    ("751-8", 0.4, "10*9/L", 400.0, "ANC 0.4 10*9/L is 400 /uL (x1000)"),
    ("751-8", 0.4, "K/uL", 400.0, "ANC 0.4 K/uL is 400 /uL"),
    ("6690-2", 1200, "/uL", 1.2, "WBC 1200 /uL is 1.2 10*3/uL"),
    ("2524-7", 27.0, "mg/dL", 2.997, "lactate 27 mg/dL is 3.0 mmol/L (/9.01, SPEC 2.7)"),
    ("1920-8", 1.0, "ukat/L", 60.0, "AST 1 ukat/L is 60 U/L"),
    ("10230-1", 0.35, "1", 35.0, "LVEF 0.35 as a fraction is 35 %"),
    ("2160-0", 1.8, "MG/DL", 1.8, "units are matched without regard to case"),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected"),
    [case[:4] for case in LAB_CONVERSIONS],
    ids=[case[4] for case in LAB_CONVERSIONS],
)
def test_lab_unit_conversions(code, value, unit, expected):
    lab = _only(record(observation(code, value, unit)).labs, "lab")
    assert lab.value == pytest.approx(expected, abs=0.001)


MISSING_UNITS = [
    ("8310-5", "valueQuantity has no unit (needed for temperature)", "a temperature"),
    ("29463-7", "valueQuantity has no unit (needed for body weight)", "a body weight"),
    ("2160-0", "valueQuantity has no unit (needed for creatinine)", "a creatinine"),
    ("3151-8", "valueQuantity has no unit (needed for oxygen flow)", "an oxygen flow"),
]


@pytest.mark.parametrize(
    ("code", "reason"),
    [case[:2] for case in MISSING_UNITS],
    ids=[f"{case[2]} without a unit is skipped and reported" for case in MISSING_UNITS],
)
def test_values_whose_unit_matters_need_a_unit(code, reason):
    inputs = record(observation(code, 38.5, None))
    assert inputs.temperatures_c == () and inputs.labs == () and inputs.oxygen == ()
    assert [(item.reference, item.reason) for item in inputs.skipped] == [
        ("Observation/obs1", reason)
    ]


def test_an_unsupported_unit_is_skipped_and_reported():
    inputs = record(observation("2160-0", 1.2, "mg/L"))
    assert inputs.labs == ()
    assert inputs.skipped[0].reason == "valueQuantity.unit is not a supported creatinine unit"


@pytest.mark.parametrize(
    ("code", "unit"),
    [("8867-4", None), ("9279-1", None), ("8480-6", None), ("2708-6", None)],
    ids=[
        "a heart rate needs no unit",
        "a respiratory rate needs no unit",
        "a blood pressure without a unit is mmHg",
        "an SpO2 without a unit is a percentage",
    ],
)
def test_values_whose_unit_does_not_matter(code, unit):
    inputs = record(observation(code, 88, unit))
    assert inputs.skipped == ()
    assert (
        len(
            inputs.heart_rates
            + inputs.respiratory_rates
            + inputs.blood_pressures
            + inputs.spo2_percent
        )
        == 1
    )


def test_a_fahrenheit_reading_sent_as_celsius_is_not_graded_as_fever():
    """98.6 with unit Cel is a mislabelled normal temperature, not 98.6 C."""
    inputs = record(observation("8310-5", 98.6, "Cel"))
    assert inputs.temperatures_c == ()
    assert inputs.skipped[0].reason == (
        "valueQuantity.value is outside the plausible range of a body temperature"
    )


# --- FiO2, flow, devices (SPEC 2.3 oxygen, 2.4 devices) ---------------------------------------

FIO2 = [
    (40, "%", 40.0, "FiO2 40 % is 40 %"),
    (0.4, "1", 40.0, "FiO2 0.4 with unit 1 is a fraction: 40 %"),
    (0.4, None, 40.0, "FiO2 0.4 without a unit is a fraction: 40 %"),
    (1.0, None, 100.0, "FiO2 1.0 without a unit is 100 %"),
    (40, None, 40.0, "FiO2 40 without a unit is a percentage"),
]


@pytest.mark.parametrize(
    ("value", "unit", "expected"), [case[:3] for case in FIO2], ids=[case[3] for case in FIO2]
)
def test_fio2_percent_or_fraction(value, unit, expected):
    reading = _only(record(observation("3150-0", value, unit)).oxygen, "oxygen reading")
    assert reading.fio2_percent == pytest.approx(expected)
    assert reading.flow_l_per_min is None and reading.device is None


def test_fio2_below_room_air_is_skipped_and_reported():
    """0.4 with unit % is 0.4 %, which no patient breathes: an entry error."""
    inputs = record(observation("3150-0", 0.4, "%"))
    assert inputs.oxygen == ()
    assert inputs.skipped[0].reason == "valueQuantity.value is outside 20-100 % for FiO2"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(4, "L/min", 4.0), (500, "mL/min", 0.5), (6, "LPM", 6.0)],
    ids=["4 L/min", "500 mL/min is 0.5 L/min", "6 LPM (non-UCUM) is 6 L/min"],
)
def test_oxygen_flow(value, unit, expected):
    reading = _only(record(observation("3151-8", value, unit)).oxygen, "oxygen reading")
    assert reading.flow_l_per_min == pytest.approx(expected)


def test_us_core_pulse_oximetry_gives_spo2_and_an_oxygen_reading():
    """US Core pulse-oximetry profile: SpO2 value plus flow (3151-8) and FiO2 (3150-0) parts."""
    inputs = record(load("observation-pulse-oximetry.json"))
    assert _only(inputs.spo2_percent, "SpO2").value == 91.0
    reading = _only(inputs.oxygen, "oxygen reading")
    assert (reading.fio2_percent, reading.flow_l_per_min) == (36.0, 4.0)
    assert reading.reference == "Observation/spo2-1"


DEVICES = [
    ("High flow nasal cannula", OxygenDevice.HIGH_FLOW_NASAL_CANNULA),
    ("HFNC", OxygenDevice.HIGH_FLOW_NASAL_CANNULA),
    ("Nasal cannula", OxygenDevice.NASAL_CANNULA),
    ("NC", OxygenDevice.NASAL_CANNULA),
    ("Non-rebreather mask", OxygenDevice.NON_REBREATHER),
    ("Venturi mask 40%", OxygenDevice.VENTURI_MASK),
    ("Simple face mask", OxygenDevice.SIMPLE_FACEMASK),
    ("BiPAP", OxygenDevice.BIPAP),
    ("Non-invasive ventilation", OxygenDevice.BIPAP),
    ("CPAP", OxygenDevice.CPAP),
    ("Room air", OxygenDevice.ROOM_AIR),
    ("Blow-by", OxygenDevice.BLOW_BY),
    ("Ventilator", OxygenDevice.INVASIVE_VENTILATION),
]


@pytest.mark.parametrize(
    ("text", "device"),
    DEVICES,
    ids=[f"'{text}' is the device {device.value}" for text, device in DEVICES],
)
def test_oxygen_device_observation_by_value_text(text, device):
    resource = observation(None, text="Oxygen delivery device")
    resource["valueCodeableConcept"] = {"text": text}
    reading = _only(record(resource).oxygen, "oxygen reading")
    assert reading.device is device
    assert reading.fio2_percent is None


def test_oxygen_device_as_value_string_with_flow_component():
    resource = observation(None, text="O2 device")
    resource["valueString"] = "high-flow nasal cannula"
    resource["component"] = [
        {
            "code": {"coding": [{"system": LOINC, "code": "3151-8"}]},
            "valueQuantity": quantity(40, "L/min"),
        }
    ]
    reading = _only(record(resource).oxygen, "oxygen reading")
    assert (reading.device, reading.flow_l_per_min) == (OxygenDevice.HIGH_FLOW_NASAL_CANNULA, 40.0)


def test_an_unrecognised_oxygen_device_is_skipped_and_reported():
    resource = observation(None, text="Oxygen delivery device")
    resource["valueCodeableConcept"] = {"text": "tent of unknown kind"}
    inputs = record(resource)
    assert inputs.oxygen == ()
    assert (
        inputs.skipped[0].reason
        == "valueCodeableConcept is not a recognised oxygen delivery device"
    )


_FIO2_50 = {
    "code": {"coding": [{"system": LOINC, "code": "3150-0"}]},
    "valueQuantity": quantity(50, "%"),
}
_FLOW_10 = {
    "code": {"coding": [{"system": LOINC, "code": "3151-8"}]},
    "valueQuantity": quantity(10, "L/min"),
}


def test_spec_3_an_unreadable_spo2_value_loses_only_itself_not_its_oxygen_parts():
    """SPEC 3: one unreadable element loses only that element. US Core pulse oximetry (59408-5)
    with an SpO2 in mmHg (not a saturation unit) and FiO2 50% and 10 L/min as components: the
    oxygen reading (grade 3 by FiO2 >= 40%) is kept (found in review: it was dropped)."""
    resource = observation("59408-5")
    resource["valueQuantity"] = quantity(70, "mm[Hg]")
    resource["component"] = [_FIO2_50, _FLOW_10]
    inputs = record(resource)
    assert inputs.spo2_percent == ()
    reading = _only(inputs.oxygen, "oxygen reading")
    assert (reading.fio2_percent, reading.flow_l_per_min) == (50.0, 10.0)
    ((skipped),) = inputs.skipped
    assert skipped.reason.startswith("valueQuantity.unit is not a supported SpO2 unit")
    assert skipped.reason.endswith("only this element was not used")


def test_spec_3_an_spo2_charted_as_a_bound_is_kept_beside_its_oxygen_parts():
    """SPEC 3 "Comparators": SpO2 "<70" (below the oximeter's range) is a bound, kept with its
    comparator; the FiO2 and flow components count as before."""
    resource = observation("59408-5")
    resource["valueQuantity"] = {**quantity(70, "%"), "comparator": "<"}
    resource["component"] = [_FIO2_50, _FLOW_10]
    inputs = record(resource)
    spo2 = _only(inputs.spo2_percent, "SpO2")
    assert (spo2.value, spo2.comparator) == (70.0, Comparator.BELOW)
    assert _only(inputs.oxygen, "oxygen reading").fio2_percent == 50.0
    assert inputs.skipped == ()


def test_spec_3_an_unrecognised_device_loses_only_itself_not_its_oxygen_parts():
    """SPEC 3: a device row naming no device we know, with FiO2 50% as a component: the FiO2
    counts, the device is reported."""
    resource = observation(None, text="Oxygen delivery device")
    resource["valueString"] = "Trach collar"
    resource["component"] = [_FIO2_50]
    inputs = record(resource)
    reading = _only(inputs.oxygen, "oxygen reading")
    assert (reading.fio2_percent, reading.device) == (50.0, None)
    assert [s.reason for s in inputs.skipped] == [
        "valueString is not a recognised oxygen delivery device: only this element was not used"
    ]


def test_an_unreadable_spo2_value_without_parts_still_skips_the_resource():
    resource = observation("59408-5")
    resource["valueQuantity"] = quantity(70, "mm[Hg]")
    inputs = record(resource)
    assert inputs.spo2_percent == () and inputs.oxygen == ()
    ((skipped),) = inputs.skipped
    assert not skipped.reason.endswith("only this element was not used")


# --- blood pressure panels --------------------------------------------------------------------


def test_blood_pressure_panel_components():
    bp = _only(record(load("observation-bp-panel.json")).blood_pressures, "blood pressure")
    assert (bp.systolic, bp.diastolic, bp.mean) == (86.0, 48.0, None)


def test_the_us_core_stu1_panel_code_55284_4_is_a_blood_pressure_panel():
    resource = load("observation-bp-panel.json")
    resource["code"]["coding"][0]["code"] = "55284-4"
    assert len(record(resource).blood_pressures) == 1


def test_a_panel_component_with_data_absent_reason_is_left_out():
    resource = load("observation-bp-panel.json")
    del resource["component"][1]["valueQuantity"]
    resource["component"][1]["dataAbsentReason"] = {"text": "not measured"}
    bp = _only(record(resource).blood_pressures, "blood pressure")
    assert (bp.systolic, bp.diastolic) == (86.0, None)


def test_a_panel_without_pressure_components_is_skipped_and_reported():
    resource = load("observation-bp-panel.json")
    del resource["component"]
    inputs = record(resource)
    assert inputs.blood_pressures == ()
    assert inputs.skipped[0].reason == "component has no systolic, diastolic or mean pressure"


def test_a_malformed_component_names_its_position_and_loses_only_itself():
    """SPEC 3: one unreadable element (a value sent as a string) loses only that element."""
    resource = load("observation-bp-panel.json")
    resource["component"][1]["valueQuantity"]["value"] = "48"
    inputs = record(resource)
    assert inputs.skipped[0].reason == (
        "component[1].valueQuantity.value is not a number: only this element was not used"
    )
    (pressure,) = inputs.blood_pressures
    assert pressure.systolic is not None and pressure.diastolic is None


# --- labs: reference ranges (SPEC 2.3 ULN/LLN) ------------------------------------------------


def test_reference_range_is_converted_to_the_result_unit():
    lab = _only(record(load("observation-lab-creatinine.json")).labs, "lab")
    assert lab.value == pytest.approx(2.0)
    assert lab.low == pytest.approx(44 / 88.4)
    assert lab.high == pytest.approx(97 / 88.4)


def test_reference_range_without_units_takes_the_unit_of_the_value():
    resource = observation("3255-7", 1.5, "g/L")
    resource["referenceRange"] = [{"low": {"value": 2.0}, "high": {"value": 4.0}}]
    lab = _only(record(resource).labs, "lab")
    assert (lab.value, lab.low, lab.high) == (150.0, 200.0, 400.0)


DEFAULT_LIMITS = [
    ("1920-8", 50, "U/L", None, 40.0, "AST ULN defaults to 40 U/L"),
    ("1742-6", 50, "U/L", None, 40.0, "ALT ULN defaults to 40 U/L"),
    ("1975-2", 2.0, "mg/dL", None, 1.2, "bilirubin ULN defaults to 1.2 mg/dL"),
    ("2160-0", 2.0, "mg/dL", None, 1.2, "creatinine ULN defaults to 1.2 mg/dL"),
    ("3255-7", 150, "mg/dL", 200.0, 400.0, "fibrinogen LLN defaults to 200 mg/dL"),
    ("2276-4", 800, "ng/mL", None, None, "ferritin has no default range"),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "low", "high"),
    [case[:5] for case in DEFAULT_LIMITS],
    ids=[f"{case[5]} (fhir_maps default, adult)" for case in DEFAULT_LIMITS],
)
def test_default_reference_limits_without_a_reference_range(code, value, unit, low, high):
    lab = _only(record(observation(code, value, unit)).labs, "lab")
    assert (lab.low, lab.high) == (low, high)


def test_a_range_with_only_a_high_limit_keeps_the_default_low_limit():
    resource = observation("3255-7", 150, "mg/dL")
    resource["referenceRange"] = [{"high": quantity(450, "mg/dL")}]
    lab = _only(record(resource).labs, "lab")
    assert (lab.low, lab.high) == (200.0, 450.0)


def test_a_therapeutic_range_is_not_read_as_the_normal_range():
    resource = observation("1920-8", 50, "U/L")
    resource["referenceRange"] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/referencerange-meaning",
                        "code": "treatment",
                    }
                ]
            },
            "high": quantity(100, "U/L"),
        }
    ]
    assert _only(record(resource).labs, "lab").high == 40.0


# --- blood cultures (SPEC 2.7 positive-blood-culture) -----------------------------------------


def _culture(**value):
    resource = load("observation-blood-culture.json")
    del resource["valueCodeableConcept"]
    resource.update(value)
    return _only(record(resource).blood_cultures, "culture")


CULTURE_VALUES = [
    (
        {
            "valueCodeableConcept": {
                "coding": [
                    {"system": SNOMED, "code": "3092008", "display": "Staphylococcus aureus"}
                ]
            }
        },
        True,
        "an organism code is a positive culture",
    ),
    (
        {
            "valueCodeableConcept": {
                "coding": [{"system": SNOMED, "code": "264868006", "display": "No growth"}]
            }
        },
        False,
        "SNOMED no growth is negative",
    ),
    (
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260373001"}]}},
        True,
        "SNOMED detected is positive",
    ),
    (
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260415000"}]}},
        False,
        "SNOMED not detected is negative",
    ),
    (
        {"valueCodeableConcept": {"text": "Gram negative rods"}},
        True,
        "text Gram negative rods is positive",
    ),
    ({"valueString": "No growth at 5 days"}, False, "text no growth is negative"),
    (
        {"valueString": "Positive: gram positive cocci in clusters"},
        True,
        "text positive is positive",
    ),
    ({"valueString": "Pending"}, None, "a pending result is unknown"),
    (
        {
            "interpretation": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": "POS",
                        }
                    ]
                }
            ]
        },
        True,
        "interpretation POS is positive",
    ),
    (
        {
            "interpretation": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": "NEG",
                        }
                    ]
                }
            ]
        },
        False,
        "interpretation NEG is negative",
    ),
    (
        {
            "interpretation": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": "A",
                        }
                    ]
                }
            ]
        },
        True,
        "interpretation A (abnormal) is positive",
    ),
    ({}, None, "no value yet is unknown"),
]


@pytest.mark.parametrize(
    ("value", "positive"),
    [case[:2] for case in CULTURE_VALUES],
    ids=[case[2] for case in CULTURE_VALUES],
)
def test_blood_culture_results(value, positive):
    assert _culture(**value).positive is positive


def test_a_positive_culture_names_the_organism():
    culture = _only(record(load("observation-blood-culture.json")).blood_cultures, "culture")
    assert (culture.positive, culture.organism) == (True, "Staphylococcus aureus")


@pytest.mark.parametrize(
    "code", ["17928-3", "17934-1"], ids=["aerobe bottle 17928-3", "anaerobe bottle 17934-1"]
)
def test_other_blood_culture_codes(code):
    resource = load("observation-blood-culture.json")
    resource["code"]["coding"][0]["code"] = code
    assert len(record(resource).blood_cultures) == 1


# --- neurologic scores (SPEC 2.5) -------------------------------------------------------------


def test_gcs_total_9269_2():
    score = _only(record(observation("9269-2", 13, "{score}")).neuro_scores, "score")
    assert (score.kind, score.value) == (NeuroScoreKind.GCS, 13.0)


def test_gcs_as_value_integer():
    resource = observation("9269-2")
    resource["valueInteger"] = 9
    assert _only(record(resource).neuro_scores, "score").value == 9.0


@pytest.mark.parametrize(
    "text",
    ["ICE score", "Immune Effector Cell-associated Encephalopathy (ICE) score", "ice score total"],
    ids=["ICE score", "the long name", "lower case"],
)
def test_ice_score_is_recognised_by_name_without_a_code(text):
    """ASTCT 2019 ICE score has no LOINC code: matched by code text (docs/fhir-mapping.md);
    it is an ICANS screen (SPEC 2.9), not a neuro score."""
    resource = observation(None, 7, None, text=text)
    inputs = record(resource)
    screen = _only(inputs.encephalopathy_screens, "screen")
    assert (screen.tool, screen.total, inputs.neuro_scores) == (EncephalopathyTool.ICE, 7.0, ())


@pytest.mark.parametrize(
    ("code", "value"), [("9269-2", 2), ("9269-2", 16)], ids=["GCS 2", "GCS 16"]
)
def test_scores_out_of_range_are_skipped_and_reported(code, value):
    inputs = record(observation(code, value, None))
    assert inputs.neuro_scores == ()
    assert inputs.skipped[0].reason == "value is outside the GCS range 3-15"


# --- status rules (SPEC 3) ---------------------------------------------------------------------

STATUSES = [
    ("final", True),
    ("preliminary", True),
    ("amended", True),
    ("corrected", True),
    ("unknown", True),
    ("registered", False),
    ("cancelled", False),
    ("entered-in-error", False),
]


@pytest.mark.parametrize(
    ("status", "counts"),
    STATUSES,
    ids=[
        f"status {status} {'counts' if counts else 'is ignored'} (SPEC 3)"
        for status, counts in STATUSES
    ],
)
def test_observation_status_rules(status, counts):
    inputs = record(observation("8310-5", 38.5, "Cel", status=status))
    assert len(inputs.temperatures_c) == (1 if counts else 0)
    assert inputs.skipped == ()


def test_a_status_that_is_not_a_fhir_code_is_skipped_and_reported():
    inputs = record(observation("8310-5", 38.5, "Cel", status="done"))
    assert inputs.skipped[0].reason == "status is not a known status code"


# --- times (SPEC 3: effective[x], issued only when nothing else) ------------------------------

TIMES = [
    (
        {"effectiveDateTime": "2026-11-20T10:00:00Z"},
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "effectiveDateTime",
    ),
    (
        {"effectiveDateTime": "2026-11-20T10:00:00.250-05:00"},
        datetime(2026, 11, 20, 15, 0, 0, 250000, tzinfo=UTC),
        "effectiveDateTime with an offset is converted to UTC",
    ),
    (
        {"effectivePeriod": {"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T11:00:00Z"}},
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "effectivePeriod start",
    ),
    (
        {"effectivePeriod": {"end": "2026-11-20T11:00:00Z"}},
        datetime(2026, 11, 20, 11, tzinfo=UTC),
        "effectivePeriod end when there is no start",
    ),
    (
        {"effectiveInstant": "2026-11-20T10:00:00Z"},
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "effectiveInstant",
    ),
    (
        {"issued": "2026-11-20T12:00:00Z"},
        datetime(2026, 11, 20, 12, tzinfo=UTC),
        "issued when there is no effective time",
    ),
    (
        {"effectiveDateTime": "2026-11-20T10:00:00Z", "issued": "2026-11-20T12:00:00Z"},
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "effective time before issued",
    ),
]


@pytest.mark.parametrize(
    ("times", "expected"), [case[:2] for case in TIMES], ids=[case[2] for case in TIMES]
)
def test_observation_time(times, expected):
    resource = observation("8310-5", 38.5, "Cel")
    del resource["effectiveDateTime"]
    resource.update(times)
    assert _only(record(resource).temperatures_c, "temperature").time == expected


BAD_TIMES = [
    ({}, "effective[x] is missing and there is no issued time", "no time at all"),
    (
        {"effectiveDateTime": "2026-11"},
        "effectiveDateTime is not precise to the day",
        "a month only",
    ),
    (
        {"effectiveDateTime": "20/11/2026"},
        "effectiveDateTime is not a valid FHIR dateTime",
        "not a FHIR dateTime",
    ),
    (
        {"effectiveDateTime": "2026-02-30T10:00:00Z"},
        "effectiveDateTime is not a valid FHIR dateTime",
        "30 February",
    ),
    (
        {
            "effectiveDateTime": "2026-11-20T10:00:00Z",
            "effectivePeriod": {"start": "2026-11-20T10:00:00Z"},
        },
        "effective[x] has more than one type",
        "two effective[x]",
    ),
]


@pytest.mark.parametrize(
    ("times", "reason"),
    [case[:2] for case in BAD_TIMES],
    ids=[f"{case[2]} is skipped and reported" for case in BAD_TIMES],
)
def test_observation_without_a_usable_time(times, reason):
    resource = observation("8310-5", 38.5, "Cel")
    del resource["effectiveDateTime"]
    resource.update(times)
    inputs = record(resource)
    assert inputs.temperatures_c == ()
    assert inputs.skipped[0].reason == reason


# --- malformed values (SPEC 3: skipped and reported with a value-free reason) -----------------

BAD_VALUES = [
    (
        {"valueQuantity": {"value": "38.5", "unit": "Cel"}},
        "valueQuantity.value is not a number",
        "a number as a string",
    ),
    (
        {"valueQuantity": {"value": True, "unit": "Cel"}},
        "valueQuantity.value is not a number",
        "a boolean",
    ),
    (
        {"valueQuantity": {"unit": "Cel"}},
        "valueQuantity.value is missing",
        "a Quantity without a value",
    ),
    ({"valueQuantity": 38.5}, "valueQuantity is not a Quantity", "a bare number"),
    (
        {"valueString": "38.5"},
        "valueString is not a number with a unit (valueQuantity)",
        "a valueString",
    ),
    (
        {"valueQuantity": {"value": 38.5, "unit": "Cel"}, "valueString": "38.5"},
        "value[x] has more than one type",
        "two value[x]",
    ),
    ({}, "valueQuantity is missing", "no value and no dataAbsentReason"),
]


@pytest.mark.parametrize(
    ("value", "reason"),
    [case[:2] for case in BAD_VALUES],
    ids=[f"{case[2]} is skipped and reported" for case in BAD_VALUES],
)
def test_malformed_values(value, reason):
    resource = observation("8310-5")
    resource.update(value)
    inputs = record(resource)
    assert inputs.temperatures_c == ()
    assert inputs.skipped[0].reason == reason
    assert "38" not in inputs.skipped[0].reason  # never the value


def test_a_value_absent_for_a_stated_reason_is_ignored_silently():
    resource = observation("8310-5", dataAbsentReason={"text": "patient refused"})
    inputs = record(resource)
    assert inputs.temperatures_c == () and inputs.skipped == ()


PERCENT_ERRORS = [
    (
        "10230-1",
        0.35,
        "%",
        "valueQuantity.value is outside the plausible LVEF range (5-95 %): likely a unit or "
        "entry error",
        "LVEF 0.35 % (a fraction sent as %) would be grade 4",
    ),
    (
        "59408-5",
        0.95,
        "%",
        "valueQuantity.value is outside 10-100 % for SpO2",
        "SpO2 0.95 % (a fraction sent as %)",
    ),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "reason"),
    [case[:4] for case in PERCENT_ERRORS],
    ids=[f"{case[4]} is skipped and reported" for case in PERCENT_ERRORS],
)
def test_implausible_percentages(code, value, unit, reason):
    inputs = record(observation(code, value, unit))
    assert inputs.labs == () and inputs.spo2_percent == ()
    assert inputs.skipped[0].reason == reason


def test_an_oxygen_delivery_index_is_not_a_device():
    """DO2 (mL/min/m2) shares the words 'oxygen delivery'; a number is never a device."""
    inputs = record(observation(None, 520, "mL/min/m2", text="Oxygen delivery index (DO2I)"))
    assert inputs.oxygen == () and inputs.skipped == ()


def test_a_device_observation_with_a_number_is_not_a_device():
    inputs = record(observation(None, 4, "L/min", text="O2 delivery device"))
    assert inputs.oxygen == () and inputs.skipped == ()
