"""Cell counts (ANC, WBC, platelets) in every unit spelling EHRs send (SPEC 3: build for the
class). Review finding, mcL units: "K/mcL", "/mcL", "cells/mm3", "x10(3)/uL" and the like were
refused, the result skipped, and the neutropenia warning (SPEC 2.7) or the IEC-HS cytopenia
(SPEC 2.10) lost with it. Each spelling is listed here as charted, with where it comes from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from map_fixtures import LOINC, PATIENT_ID, observation, quantity, record

from crs_grading import WarningCode, assess
from crs_grading.inputs import LAB_NAMES, LabTest
from fhir_maps import MappingOptions, map_patient_record
from fhir_maps.units import LAB_TO_STANDARD

#: Thousands of cells per microlitre (= 10^9/L), as charted, with their source.
THOUSANDS = [
    ("10*3/uL", "UCUM"),
    ("10*3{cells}/uL", "UCUM with its annotation"),
    ("K/uL", "US reports"),
    ("K/mcL", "US 'mcL' for microlitre"),
    ("k/mcL", "lower case"),
    ("K/\u00b5L", "micro sign"),
    ("K/\u03bcL", "Greek mu"),
    ("K cells/uL", "US reports"),
    ("x10^3/mcL", "US reports"),
    ("10^3/uL", "US reports"),
    ("10\u00b3/\u00b5L", "superscript three"),
    ("\u00d710\u00b3/\u03bcL", "multiplication sign"),
    ("x10(3)/uL", "reports without superscripts"),
    ("x 10E3/uL", "E notation"),
    ("1000/uL", "US reports"),
    ("thou/uL", "US reports"),
    ("thou/cu mm", "cubic millimetre"),
    ("K/cumm", "cubic millimetre"),
    ("10^3/mm3", "cubic millimetre"),
    ("10*9/L", "UCUM, per litre"),
    ("10^9/L", "SI reports"),
    ("x10E9/L", "E notation, per litre"),
    ("\u00d710\u2079/L", "superscript nine"),
    ("10*9{cells}/L", "UCUM with its annotation, per litre"),
    ("G/L", "giga per litre, European reports"),
]

#: Cells per microlitre, as charted, with their source.
PER_MICROLITRE = [
    ("/uL", "UCUM"),
    ("/mcL", "US 'mcL' for microlitre"),
    ("cells/mcL", "US 'mcL' for microlitre"),
    ("cells/uL", "US reports"),
    ("{cells}/uL", "UCUM with its annotation"),
    ("#/uL", "count sign"),
    ("cells/\u00b5L", "micro sign"),
    ("cells/\u03bcL", "Greek mu"),
    ("/mm3", "cubic millimetre"),
    ("cells/mm3", "cubic millimetre"),
    ("/mm\u00b3", "superscript three"),
    ("cells/cu mm", "cubic millimetre"),
    ("/cumm", "cubic millimetre"),
    ("cells/microliter", "in words"),
]

#: (test, LOINC, rule, value in thousands, the grading value of it, the grading unit)
LABS = [
    (LabTest.ANC, "751-8", "SPEC 2.7 neutropenia", 0.2, 200.0, "/uL"),
    (LabTest.PLATELETS, "777-3", "SPEC 2.10 IEC-HS", 20, 20.0, "x10^9/L"),
    (LabTest.WBC, "6690-2", "SPEC 3 build for the class", 1.2, 1.2, "10^3/uL"),
]

CASES = [
    pytest.param(
        code,
        thousands,
        unit,
        expected,
        id=f"{rule}: {LAB_NAMES[test]} {thousands:g} {unit} ({source}) is {expected:g} {target}",
    )
    for test, code, rule, thousands, expected, target in LABS
    for unit, source in THOUSANDS
] + [
    pytest.param(
        code,
        thousands * 1000,
        unit,
        expected,
        id=f"{rule}: {LAB_NAMES[test]} {thousands * 1000:g} {unit} ({source}) is "
        f"{expected:g} {target}",
    )
    for test, code, rule, thousands, expected, target in LABS
    for unit, source in PER_MICROLITRE
]


@pytest.mark.parametrize(("code", "value", "unit", "expected"), CASES)
def test_every_count_unit_spelling_is_read(code, value, unit, expected):
    inputs = record(observation(code, value, unit))
    assert inputs.skipped == ()
    (lab,) = inputs.labs
    assert lab.value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("code", "value", "unit"),
    [
        pytest.param("751-8", 0.2, "K", id="SPEC 3: a bare K says no volume: ANC 0.2 K skipped"),
        pytest.param("751-8", 200, "/L", id="SPEC 3: /L without a power is cells per litre"),
        pytest.param("751-8", 200, "cells/L", id="SPEC 3: cells/L is not cells per microlitre"),
        pytest.param("751-8", 0.2, "mcL", id="SPEC 3: mcL alone is a volume, not a count"),
        pytest.param("777-3", 4.5, "10*6/uL", id="SPEC 3: 10*6/uL (millions) is no platelet unit"),
        pytest.param("6690-2", 4.5, "10*12/L", id="SPEC 3: 10*12/L (red cells) is no WBC unit"),
    ],
)
def test_an_ambiguous_or_foreign_count_unit_is_skipped_and_reported(code, value, unit):
    inputs = record(observation(code, value, unit))
    assert inputs.labs == ()
    (skipped,) = inputs.skipped
    assert skipped.reason.startswith("valueQuantity.unit is not a supported")


@pytest.mark.parametrize("test", [LabTest.ANC, LabTest.WBC, LabTest.PLATELETS], ids=str)
def test_every_count_lab_reads_one_family_of_units(test):
    """One concept, one place: the three counts accept the same units, each scaled to its own
    grading unit (ANC per uL; WBC and platelets per nL), and no unit is both."""
    table = LAB_TO_STANDARD[test]
    assert set(table) == set(LAB_TO_STANDARD[LabTest.ANC])
    per_ul = 1.0 if test is LabTest.ANC else 0.001
    assert {entry.factor for entry in table.values()} == {per_ul, per_ul * 1000}
    assert table["k/mcl"].factor == per_ul * 1000 and table["cells/mcl"].factor == per_ul


# --- end to end: the warnings these units carry --------------------------------------------

DAY0 = "2026-11-18T10:00:00Z"
AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # day 8
MORNING = "2026-11-26T06:00:00Z"


def _cart() -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": "cart1",
        "status": "completed",
        "medicationCodeableConcept": {"text": "tisagenlecleucel"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": DAY0,
    }


def _lab(id: str, code: str, value: float, unit: str, **fields: Any) -> dict[str, Any]:
    resource = observation(code, value, unit, id=id, effectiveDateTime=MORNING, **fields)
    resource["code"]["coding"][0]["system"] = LOINC
    return resource


def _warnings(*labs: dict[str, Any]):
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1970-05-01"}
    inputs = map_patient_record([patient, _cart(), *labs], PATIENT_ID, MappingOptions())
    return {w.code: w for w in assess(inputs, AS_OF).attribution_warnings}


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        pytest.param(0.2, "K/mcL", id="SPEC 2.7 neutropenia: ANC 0.2 K/mcL is 200 /uL"),
        pytest.param(0.2, "x10(3)/uL", id="SPEC 2.7 neutropenia: ANC 0.2 x10(3)/uL is 200 /uL"),
        pytest.param(200, "cells/mm3", id="SPEC 2.7 neutropenia: ANC 200 cells/mm3 is 200 /uL"),
    ],
)
def test_neutropenia_warns_for_an_anc_charted_in_mcl_units(value, unit):
    warning = _warnings(_lab("anc1", "751-8", value, unit))[WarningCode.NEUTROPENIA]
    assert warning.evidence == ("Observation/anc1",)
    assert "ANC 200 /uL" in warning.text


def test_iec_hs_flags_platelets_charted_in_k_per_mcl():
    """SPEC 2.10 IEC-HS: ferritin > 2 x ULN with platelets 20 K/mcL (< 50 x10^9/L)."""
    ferritin = _lab(
        "fer1", "2276-4", 900, "ng/mL", referenceRange=[{"high": quantity(300, "ng/mL")}]
    )
    platelets = _lab("plt1", "777-3", 20, "K/mcL")
    flag = _warnings(ferritin, platelets)[WarningCode.IEC_HS]
    assert "Observation/plt1" in flag.evidence
    assert "platelets 20" in flag.text
