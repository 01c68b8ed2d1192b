"""Platelets, hemoglobin and LDH, the labs of the IEC-HS flag (SPEC 2.10), as EHRs send them:
every LOINC code of each family, local codes read by name, the units labs use, and the names
that only resemble them."""

from __future__ import annotations

import pytest
from map_fixtures import observation, quantity, record

from crs_grading.inputs import LabTest
from fhir_maps.valuesets import blood_counts, ldh

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an Epic-style local code system

CODES = [
    (code.code, family.concept, code.display)
    for family in (*blood_counts.FAMILIES, ldh.FAMILY)
    for code in family.codes
]


@pytest.mark.parametrize(
    ("code", "test", "display"),
    CODES,
    ids=[f"LOINC {c} ({d}) is {t}" for c, t, d in CODES],
)
def test_every_loinc_code_of_the_family_is_read(code, test, display):
    unit = {LabTest.PLATELETS: "10*3/uL", LabTest.HEMOGLOBIN: "g/dL", LabTest.LDH: "U/L"}[test]
    value = {LabTest.PLATELETS: 42, LabTest.HEMOGLOBIN: 7.4, LabTest.LDH: 880}[test]
    (result,) = record(observation(code, value, unit)).labs
    assert (result.test, result.value) == (test, value)


UNITS = [
    (LabTest.PLATELETS, "777-3", 42, "10*9/L", 42),
    (LabTest.PLATELETS, "777-3", 42, "K/uL", 42),
    (LabTest.PLATELETS, "777-3", 42000, "/uL", 42),
    (LabTest.HEMOGLOBIN, "718-7", 74, "g/L", 7.4),
    (LabTest.HEMOGLOBIN, "59260-0", 4.6, "mmol/L", 4.6 * 1.6114),
    (LabTest.LDH, "2532-0", 14.5, "ukat/L", 870),
    (LabTest.LDH, "2532-0", 870, "IU/L", 870),
]


@pytest.mark.parametrize(
    ("test", "code", "value", "unit", "expected"),
    UNITS,
    ids=[f"{t} in {u}" for t, _, _, u, _ in UNITS],
)
def test_units_convert_to_the_lab_unit(test, code, value, unit, expected):
    (result,) = record(observation(code, value, unit)).labs
    assert result.test is test
    assert result.value == pytest.approx(expected)


def test_a_count_per_ul_sent_as_10_9_per_l_is_skipped_as_implausible():
    inputs = record(observation("777-3", 150000, "10*9/L"))
    assert inputs.labs == ()
    assert "outside the plausible platelets range" in inputs.skipped[0].reason


def test_the_ldh_reference_range_is_kept_and_defaults_to_250():
    ranged = observation("2532-0", 880, "U/L", referenceRange=[{"high": quantity(225, "U/L")}])
    assert record(ranged).labs[0].high == 225
    assert record(observation("2532-0", 880, "U/L")).labs[0].high == 250


BY_NAME = [
    ("Platelet Count", LabTest.PLATELETS, "10*3/uL", 35),
    ("PLT", LabTest.PLATELETS, "K/uL", 35),
    ("Hemoglobin", LabTest.HEMOGLOBIN, "g/dL", 7.1),
    ("HGB", LabTest.HEMOGLOBIN, "g/dL", 7.1),
    ("Lactate Dehydrogenase", LabTest.LDH, "U/L", 900),
    ("LDH", LabTest.LDH, "U/L", 900),
    ("LDH, Total", LabTest.LDH, "U/L", 900),
]


@pytest.mark.parametrize(
    ("text", "test", "unit", "value"),
    BY_NAME,
    ids=[f"a local code named {t!r} is {test}" for t, test, _, _ in BY_NAME],
)
def test_local_codes_are_read_by_name(text, test, unit, value):
    (result,) = record(observation("31234", value, unit, system=LOCAL, text=text)).labs
    assert (result.test, result.value) == (test, value)


NOT_OURS = [
    ("Mean Platelet Volume", 10.2, "fL"),
    ("Immature Platelet Fraction", 4.0, "%"),
    ("Platelet Antibody Screen", None, None),
    ("Hemoglobin A1c", 6.1, "%"),
    ("Hb S", 40.0, "%"),
    ("Carboxyhemoglobin", 2.0, "%"),
    ("MCHC", 33.0, "g/dL"),
    ("LDH, Pleural Fluid", 900, "U/L"),
    ("LDH Isoenzymes", 30, "%"),
    ("Lactate", 1.2, "mmol/L"),
]


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    NOT_OURS,
    ids=[f"a row named {t!r} is not an IEC-HS lab" for t, _, _ in NOT_OURS],
)
def test_names_that_only_resemble_them_are_not_read_as_them(text, value, unit):
    inputs = record(observation("31234", value, unit, system=LOCAL, text=text))
    assert all(
        r.test not in (LabTest.PLATELETS, LabTest.HEMOGLOBIN, LabTest.LDH) for r in inputs.labs
    )


def test_body_fluid_ldh_codes_are_not_serum_ldh():
    """LOINC 14803-1 and 60017-1 (LDH in body fluid, GECCO) are not the serum result."""
    for code in ("14803-1", "60017-1"):
        assert record(observation(code, 900, "U/L")).labs == ()
