"""SPEC 3 "Code families, not single codes": every code of every family, local codes read by
name, panels read through their components, the way EHR flowsheets send them (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from map_fixtures import LOINC, SNOMED, observation, quantity, record

from crs_grading.inputs import LabTest
from fhir_maps.valuesets.observations import FAMILIES, ObservationKind
from fhir_maps.valuesets.systems import LOINC as LOINC_SYSTEM

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # an EHR's own flowsheet-row code system

#: A plausible value and unit for one reading of each family.
SAMPLE: dict[object, tuple[float, str]] = {
    ObservationKind.TEMPERATURE: (38.4, "Cel"),
    ObservationKind.SYSTOLIC: (84, "mm[Hg]"),
    ObservationKind.DIASTOLIC: (44, "mm[Hg]"),
    ObservationKind.MEAN_ARTERIAL: (57, "mm[Hg]"),
    ObservationKind.HEART_RATE: (128, "/min"),
    ObservationKind.RESPIRATORY_RATE: (26, "/min"),
    ObservationKind.SPO2: (91, "%"),
    ObservationKind.FIO2: (35, "%"),
    ObservationKind.O2_FLOW: (6, "L/min"),
    ObservationKind.WEIGHT: (72.5, "kg"),
    ObservationKind.WEIGHT_STATED: (72.5, "kg"),
    ObservationKind.GCS: (14, "{score}"),
    LabTest.AST: (240, "U/L"),
    LabTest.ALT: (260, "U/L"),
    LabTest.BILIRUBIN: (2.4, "mg/dL"),
    LabTest.CREATININE: (1.9, "mg/dL"),
    LabTest.FIBRINOGEN: (140, "mg/dL"),
    LabTest.LVEF: (45, "%"),
    LabTest.CRP: (88, "mg/L"),
    LabTest.FERRITIN: (12000, "ng/mL"),
    LabTest.IL6: (450, "pg/mL"),
    LabTest.ANC: (300, "/uL"),
    LabTest.WBC: (0.9, "10*3/uL"),
    LabTest.LACTATE: (3.1, "mmol/L"),
    LabTest.PROCALCITONIN: (2.2, "ng/mL"),
}

_FIELD = {
    ObservationKind.TEMPERATURE: "temperatures_c",
    ObservationKind.SYSTOLIC: "blood_pressures",
    ObservationKind.DIASTOLIC: "blood_pressures",
    ObservationKind.MEAN_ARTERIAL: "blood_pressures",
    ObservationKind.HEART_RATE: "heart_rates",
    ObservationKind.RESPIRATORY_RATE: "respiratory_rates",
    ObservationKind.SPO2: "spo2_percent",
    ObservationKind.FIO2: "oxygen",
    ObservationKind.O2_FLOW: "oxygen",
    ObservationKind.WEIGHT: "weights_kg",
    ObservationKind.WEIGHT_STATED: "stated_weights_kg",
    ObservationKind.GCS: "neuro_scores",
}

CODED = [
    (family.concept, code)
    for family in FAMILIES
    for code in family.codes
    if family.concept in SAMPLE
]


def _read(inputs, concept):
    if isinstance(concept, LabTest):
        return [lab for lab in inputs.labs if lab.test is concept]
    return list(getattr(inputs, _FIELD[concept]))


@pytest.mark.parametrize(
    ("concept", "code"),
    CODED,
    ids=[
        f"SPEC 3 code families: {'LOINC' if c.system == LOINC_SYSTEM else 'SNOMED CT'} {c.code} "
        f"({c.source}) is read as {concept}"
        for concept, c in CODED
    ],
)
def test_every_code_of_every_family_is_read_beside_a_local_code(concept, code):
    """SPEC 3: a family code is read from any coding, also when a local code comes first."""
    value, unit = SAMPLE[concept]
    resource = observation(None, value, unit)
    resource["code"] = {
        "coding": [
            {"system": LOCAL, "code": "3040102", "display": "R EHR FLOWSHEET ROW"},
            {"system": code.system, "code": code.code, "display": code.display},
        ],
        "text": "flowsheet row",
    }
    inputs = record(resource)
    assert len(_read(inputs, concept)) == 1, inputs.skipped
    assert inputs.skipped == ()


BY_NAME = [
    ("Temperature", ObservationKind.TEMPERATURE, 101.3, "[degF]"),
    ("Temp", ObservationKind.TEMPERATURE, 38.6, "Cel"),
    ("TEMPERATURE (TYMPANIC)", ObservationKind.TEMPERATURE, 38.6, "Cel"),
    ("Temporal Artery Temp", ObservationKind.TEMPERATURE, 38.6, "Cel"),
    ("Tmax", ObservationKind.TEMPERATURE, 39.1, "Cel"),
    ("NIBP Systolic", ObservationKind.SYSTOLIC, 84, "mmHg"),
    ("ART Diastolic", ObservationKind.DIASTOLIC, 44, "mmHg"),
    ("Mean Arterial Pressure", ObservationKind.MEAN_ARTERIAL, 57, "mmHg"),
    ("Pulse", ObservationKind.HEART_RATE, 118, "/min"),
    ("Resp Rate", ObservationKind.RESPIRATORY_RATE, 24, "/min"),
    ("SpO2", ObservationKind.SPO2, 93, "%"),
    ("FiO2 (%)", ObservationKind.FIO2, 35, "%"),
    ("O2 Flow Rate (L/min)", ObservationKind.O2_FLOW, 6, "L/min"),
    ("Weight", ObservationKind.WEIGHT, 72.5, "kg"),
    ("Stated Weight", ObservationKind.WEIGHT_STATED, 72.5, "kg"),
    ("AST (SGOT)", LabTest.AST, 240, "U/L"),
    ("ALT (SGPT) P5P", LabTest.ALT, 260, "U/L"),
    ("Bilirubin, Total", LabTest.BILIRUBIN, 2.4, "mg/dL"),
    ("CREATININE", LabTest.CREATININE, 1.9, "mg/dL"),
    ("Fibrinogen (Clauss)", LabTest.FIBRINOGEN, 140, "mg/dL"),
    ("Absolute Neutrophil Count", LabTest.ANC, 0.3, "10*3/uL"),
    ("Neutrophils, Absolute", LabTest.ANC, 0.3, "10*3/uL"),
    ("Neutrophils (Absolute)", LabTest.ANC, 0.3, "10*3/uL"),
    ("Neutrophil Count, Absolute", LabTest.ANC, 0.3, "10*3/uL"),
    ("Blood Pressure, Systolic", ObservationKind.SYSTOLIC, 78, "mmHg"),
    ("Blood pressure systolic", ObservationKind.SYSTOLIC, 78, "mmHg"),
    ("Blood Pressure, Diastolic", ObservationKind.DIASTOLIC, 44, "mmHg"),
    ("Blood Pressure, Mean", ObservationKind.MEAN_ARTERIAL, 57, "mmHg"),
    ("Ejection Fraction, LV", LabTest.LVEF, 35, "%"),
    ("ANC", LabTest.ANC, 300, "/uL"),
    ("Lactic Acid, Arterial", LabTest.LACTATE, 3.1, "mmol/L"),
    ("POC Lactate, venous", LabTest.LACTATE, 3.1, "mmol/L"),
    ("Procalcitonin", LabTest.PROCALCITONIN, 2.2, "ng/mL"),
    ("IL-6", LabTest.IL6, 450, "pg/mL"),
]


@pytest.mark.parametrize(
    ("text", "concept", "value", "unit"),
    BY_NAME,
    ids=[f"SPEC 3: a local code named {case[0]!r} is read as {case[1]}" for case in BY_NAME],
)
def test_a_local_code_with_an_unambiguous_name_is_read_by_name(text, concept, value, unit):
    resource = observation("3040102", value, unit, system=LOCAL, text=text)
    inputs = record(resource)
    assert len(_read(inputs, concept)) == 1, inputs.skipped


NOT_OURS = [
    ("Temp Source", {"valueString": "Tympanic"}),
    ("Temperature Site", {"valueCodeableConcept": {"text": "Oral"}}),
    ("Room Temperature", {"valueQuantity": quantity(21, "Cel")}),
    ("Creatinine, Urine", {"valueQuantity": quantity(80, "mg/dL")}),
    ("Creatinine Clearance", {"valueQuantity": quantity(60, "mL/min")}),
    ("Bilirubin, Direct", {"valueQuantity": quantity(1.2, "mg/dL")}),
    ("AST/ALT Ratio", {"valueQuantity": quantity(1.2, "1")}),
    ("LD", {"valueQuantity": quantity(900, "U/L")}),  # LDH is read by name (IEC-HS), LD is not
    ("LDH Isoenzymes", {"valueQuantity": quantity(30, "%")}),
    ("Lactate, CSF", {"valueQuantity": quantity(3.0, "mmol/L")}),
    ("Neutrophils %", {"valueQuantity": quantity(80, "%")}),
    ("Birth Weight", {"valueQuantity": quantity(3.2, "kg")}),
    ("Dosing Weight", {"valueQuantity": quantity(70, "kg")}),
    ("PA Systolic", {"valueQuantity": quantity(40, "mmHg")}),
    ("Blood Pressure, Systolic, PA", {"valueQuantity": quantity(40, "mmHg")}),
    ("Ejection Fraction, RV", {"valueQuantity": quantity(40, "%")}),
    ("Neutrophils, Absolute, CSF", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Band Neutrophils, Absolute", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Band Neutrophils Absolute", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Neutrophils, Absolute, Bands", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Immature Neutrophils, Absolute", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Hypersegmented Neutrophils, Absolute", {"valueQuantity": quantity(0.1, "10*3/uL")}),
    ("Pulse Pressure", {"valueQuantity": quantity(40, "mmHg")}),
    ("Fibrin Degradation Products", {"valueQuantity": quantity(10, "ug/mL")}),
    ("Urine Culture", {"valueString": "E. coli > 100,000 CFU/mL"}),
    ("Blood Culture Time To Positivity", {"valueQuantity": quantity(14, "h")}),
    ("GCS Eye", {"valueInteger": 3}),
]


@pytest.mark.parametrize(
    ("text", "value"),
    NOT_OURS,
    ids=[f"a row named {case[0]!r} is not ours and is ignored silently" for case in NOT_OURS],
)
def test_names_that_only_resemble_a_family_are_vetoed(text, value):
    """SPEC 3: a code not in a family is read by name only where the name is unambiguous."""
    resource = observation("3040102", system=LOCAL, text=text, **value)
    inputs = record(resource)
    assert inputs.skipped == ()
    for field in (
        "temperatures_c",
        "blood_pressures",
        "heart_rates",
        "labs",
        "weights_kg",
        "blood_cultures",
        "neuro_scores",
        "oxygen",
    ):
        assert getattr(inputs, field) == (), (text, field)


def _component(system, code, value, unit, text=None):
    concept = {"coding": [{"system": system, "code": code}]} if code else {}
    if text:
        concept["text"] = text
    return {"code": concept, "valueQuantity": quantity(value, unit)}


def test_spec_3_a_temperature_component_of_the_vital_signs_panel_85353_1_is_a_temperature():
    panel = observation("85353-1", text="Vital signs")
    panel["component"] = [
        _component(LOINC, "8310-5", 38.9, "Cel"),
        _component(LOINC, "8867-4", 124, "/min"),
        _component(LOINC, "8480-6", 86, "mm[Hg]"),
        _component(LOINC, "8462-4", 48, "mm[Hg]"),
        _component(LOINC, "3150-0", 35, "%"),
        _component(LOINC, "29463-7", 70, "kg"),
    ]
    inputs = record(panel)
    assert [t.value for t in inputs.temperatures_c] == [38.9]
    assert [h.value for h in inputs.heart_rates] == [124]
    ((pressure),) = inputs.blood_pressures
    assert (pressure.systolic, pressure.diastolic) == (86, 48)
    (oxygen,) = inputs.oxygen
    assert oxygen.fio2_percent == 35
    assert [w.value for w in inputs.weights_kg] == [70]
    assert {r.reference for r in inputs.temperatures_c} == {"Observation/obs1"}


@pytest.mark.parametrize(
    ("code", "display"),
    [
        (
            "85353-1",
            "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel",
        ),
        ("34565-2", "Vital signs, weight and height panel"),
        ("34566-0", "Vital signs with method details panel"),
        ("8716-3", "Vital signs"),
    ],
)
def test_spec_3_a_vital_signs_panel_is_read_through_its_components_whatever_its_display(
    code, display
):
    """SPEC 3: a temperature may be a component of a vital-signs panel (85353-1, ...). A panel
    whose LOINC display names one of our vitals (oxygen saturation, weight) has no value of
    that vital: its components are read, not the panel dropped (found in review)."""
    panel = observation(code)
    panel["code"]["coding"][0]["display"] = display
    panel["component"] = [
        _component(LOINC, "8310-5", 39.0, "Cel"),
        _component(LOINC, "8480-6", 84, "mm[Hg]"),
        _component(LOINC, "8462-4", 46, "mm[Hg]"),
    ]
    inputs = record(panel)
    assert [t.value for t in inputs.temperatures_c] == [39.0]
    ((pressure),) = inputs.blood_pressures
    assert (pressure.systolic, pressure.diastolic) == (84, 46)
    assert inputs.spo2_percent == () and inputs.weights_kg == ()
    assert inputs.skipped == ()


def test_spec_3_a_local_flowsheet_panel_is_read_through_named_components():
    panel = observation("9999", system=LOCAL, text="Vitals")
    panel["component"] = [
        _component(LOCAL, "1", 101.8, "[degF]", text="Temp"),
        _component(LOCAL, "2", 84, "mmHg", text="BP Systolic"),
        _component(LOCAL, "3", 44, "mmHg", text="BP Diastolic"),
        {"code": {"text": "Temp Source"}, "valueString": "Oral"},
    ]
    inputs = record(panel)
    assert [round(t.value, 1) for t in inputs.temperatures_c] == [38.8]
    (pressure,) = inputs.blood_pressures
    assert (pressure.systolic, pressure.diastolic) == (84, 44)
    assert inputs.skipped == ()


def test_spec_3_one_unreadable_component_of_a_panel_loses_only_itself():
    panel = observation("85353-1", text="Vital signs")
    panel["component"] = [
        _component(LOINC, "8310-5", 38.9, "Cel"),
        {
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
            "valueQuantity": {"value": "x"},
        },
    ]
    inputs = record(panel)
    assert [t.value for t in inputs.temperatures_c] == [38.9]
    assert [s.reason for s in inputs.skipped] == [
        "component[1].valueQuantity.value is not a number: only this element was not used"
    ]


def test_a_panel_of_nothing_grading_reads_is_ignored_silently():
    panel = observation("9999", system=LOCAL, text="Glasgow breakdown")
    panel["component"] = [{"code": {"text": "Pupils"}, "valueString": "PERRL"}]
    assert record(panel).skipped == ()


@pytest.mark.parametrize(
    ("code", "value", "unit", "mmol"),
    [
        ("2524-7", 3.1, "mmol/L", 3.1),
        ("2518-9", 3.1, "mmol/L", 3.1),
        ("2519-7", 3.1, "mmol/L", 3.1),
        ("32693-4", 3.1, "mmol/L", 3.1),
        ("59032-3", 27.03, "mg/dL", 3.0),
        ("30242-2", 27.03, "mg/dL", 3.0),
        ("14118-4", 27.03, "mg/dL", 3.0),
    ],
    ids=lambda v: str(v),
)
def test_spec_2_7_lactate_from_every_specimen_in_mmol_or_mg_per_dl(code, value, unit, mmol):
    (lab,) = record(observation(code, value, unit)).labs
    assert lab.test is LabTest.LACTATE
    assert lab.value == pytest.approx(mmol)


def test_spec_2_7_lactate_in_mg_per_dl_is_divided_by_9_01():
    (lab,) = record(observation("2524-7", 18.02, "mg/dL")).labs
    assert lab.value == pytest.approx(2.0)


def test_spec_3_snomed_only_temperature_386725007_is_read():
    resource = observation("386725007", 38.7, "Cel", system=SNOMED)
    assert [t.value for t in record(resource).temperatures_c] == [38.7]
