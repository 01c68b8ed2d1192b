"""Plausible ranges (fhir_maps/plausible_ranges.py): a value outside them is a unit or entry
error, never evidence. Labs and weights are skipped and reported (SPEC 3); a vasopressor drip
with an unreadable or implausible rate still counts as a vasopressor of unknown dose (SPEC 2.3).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from map_fixtures import administration, load, observation, quantity, record, rxnorm

from crs_grading import assess
from crs_grading.inputs import LAB_UNITS, InfusionRate, LabTest, RateBasis, Vasopressor
from fhir_maps import MappingOptions, ValidationMode
from fhir_maps.plausible_ranges import (
    PLAUSIBLE_LAB_RANGES,
    PLAUSIBLE_VASOPRESSOR_MAXIMA,
    PLAUSIBLE_WEIGHT_KG,
    lab_range_text,
    range_text,
)

MODELS = MappingOptions(validation=ValidationMode.MODELS)

#: One LOINC code per LabTest (SPEC 3 reference codes), and how the reason names the test.
LAB_CODE = {
    LabTest.AST: ("1920-8", "AST"),
    LabTest.ALT: ("1742-6", "ALT"),
    LabTest.BILIRUBIN: ("1975-2", "bilirubin"),
    LabTest.CREATININE: ("2160-0", "creatinine"),
    LabTest.FIBRINOGEN: ("3255-7", "fibrinogen"),
    LabTest.LVEF: ("10230-1", "LVEF"),
    LabTest.CRP: ("1988-5", "CRP"),
    LabTest.FERRITIN: ("2276-4", "ferritin"),
    LabTest.IL6: ("26881-3", "IL-6"),
    LabTest.ANC: ("751-8", "ANC"),
    LabTest.WBC: ("6690-2", "WBC"),
    LabTest.LACTATE: ("2524-7", "lactate"),
    LabTest.PROCALCITONIN: ("33959-8", "procalcitonin"),
    LabTest.PLATELETS: ("777-3", "platelets"),
    LabTest.HEMOGLOBIN: ("718-7", "hemoglobin"),
    LabTest.LDH: ("2532-0", "LDH"),
}


def _reason(test: LabTest) -> str:
    name = LAB_CODE[test][1]
    return (
        f"valueQuantity.value is outside the plausible {name} range ({lab_range_text(test)})"
        ": likely a unit or entry error"
    )


def _only(values):
    assert len(values) == 1, values
    return values[0]


def test_every_lab_test_has_a_plausible_range():
    assert set(PLAUSIBLE_LAB_RANGES) == set(LabTest) == set(LAB_CODE)


# --- labs: boundaries of every row --------------------------------------------------------

INSIDE = [
    (test, value, edge)
    for test, (low, high) in PLAUSIBLE_LAB_RANGES.items()
    for value, edge in ((low, "lowest"), (high, "highest"))
]
OUTSIDE = [
    (test, value, edge)
    for test, (low, high) in PLAUSIBLE_LAB_RANGES.items()
    for value, edge in (
        (math.nextafter(low, -math.inf) if low > 0 else -1.0, "just below the lowest"),
        (math.nextafter(high, math.inf), "just above the highest"),
    )
]


@pytest.mark.parametrize(
    ("test", "value"),
    [case[:2] for case in INSIDE],
    ids=[f"{case[0].value} at the {case[2]} plausible value is a result" for case in INSIDE],
)
def test_a_lab_at_the_edge_of_its_plausible_range_is_a_result(test, value):
    inputs = record(observation(LAB_CODE[test][0], value, LAB_UNITS[test]))
    assert inputs.skipped == ()
    assert _only(inputs.labs).value == value


@pytest.mark.parametrize(
    ("test", "value"),
    [case[:2] for case in OUTSIDE],
    ids=[
        f"{case[0].value} {case[2]} plausible value is skipped and reported, never graded"
        for case in OUTSIDE
    ],
)
def test_a_lab_outside_its_plausible_range_is_skipped_and_reported(test, value):
    inputs = record(observation(LAB_CODE[test][0], value, LAB_UNITS[test]))
    assert inputs.labs == ()
    assert [(s.reference, s.reason) for s in inputs.skipped] == [
        ("Observation/obs1", _reason(test))
    ]


# --- labs: the unit errors the table is there for ------------------------------------------

UNIT_ERRORS = [
    (
        "2160-0",
        1e308,
        "mg/dL",
        _reason(LabTest.CREATININE),
        "a creatinine of 1e308 mg/dL is never a result, nor a baseline",
    ),
    (
        "2160-0",
        88,
        "mg/dL",
        _reason(LabTest.CREATININE),
        "a creatinine of 88 umol/L sent as mg/dL is a unit error",
    ),
    (
        "2160-0",
        0.01,
        "mg/dL",
        _reason(LabTest.CREATININE),
        "a near-zero creatinine cannot become a baseline that makes any later one > 3 x",
    ),
    (
        "3255-7",
        2.5,
        "mg/dL",
        _reason(LabTest.FIBRINOGEN),
        "fibrinogen 2.5 g/L sent as mg/dL is not CTCAE grade 4 (< 50 mg/dL)",
    ),
    (
        "3255-7",
        1e308,
        "g/dL",
        "valueQuantity.value is too large after unit conversion",
        "fibrinogen 1e308 g/dL overflows on conversion (x1000) and is not mapped",
    ),
    (
        "6690-2",
        5000,
        "10*3/uL",
        _reason(LabTest.WBC),
        "a WBC of 5000 /uL sent as 10^3/uL is a unit error",
    ),
    (
        "751-8",
        1.5,
        "/uL",
        None,
        "an ANC of 1.5 10^3/uL sent as /uL cannot be told from a real count: it stays",
    ),
    (
        "10230-1",
        0.35,
        "%",
        _reason(LabTest.LVEF),
        "an LVEF of 0.35 % (a fraction sent as %) is not CTCAE grade 4",
    ),
    ("10230-1", 120, "%", _reason(LabTest.LVEF), "an LVEF of 120 % is an entry error"),
    ("1920-8", 0.5, "U/L", _reason(LabTest.AST), "an AST of 0.5 ukat/L sent as U/L"),
    ("1742-6", -3, "U/L", _reason(LabTest.ALT), "a negative ALT is an entry error"),
]


@pytest.mark.parametrize(
    ("code", "value", "unit", "reason"),
    [case[:4] for case in UNIT_ERRORS],
    ids=[case[4] for case in UNIT_ERRORS],
)
def test_lab_unit_and_entry_errors(code, value, unit, reason):
    inputs = record(observation(code, value, unit))
    if reason is None:
        assert len(inputs.labs) == 1 and inputs.skipped == ()
        return
    assert inputs.labs == ()
    assert _only(inputs.skipped).reason == reason
    assert f"{value:g}" not in reason  # reasons are shown and logged: never the value


def test_a_reference_limit_that_overflows_falls_back_to_the_default():
    """A limit is not a result: an absurd one gives way to the default limit, never infinity."""
    resource = observation("3255-7", 150, "mg/dL")
    resource["referenceRange"] = [{"low": quantity(1e308, "g/dL"), "high": quantity(4, "g/L")}]
    lab = _only(record(resource).labs)
    assert (lab.low, lab.high) == (200.0, 400.0)


# --- non-finite numbers --------------------------------------------------------------------

NON_FINITE = [
    ("8310-5", math.nan, "Cel", "a temperature of NaN"),
    ("8310-5", math.inf, "Cel", "a temperature of infinity"),
    ("2160-0", math.inf, "mg/dL", "a creatinine of infinity"),
    ("2160-0", -math.inf, "mg/dL", "a creatinine of minus infinity"),
    ("29463-7", math.nan, "kg", "a body weight of NaN"),
    ("8867-4", math.inf, "/min", "a heart rate of infinity"),
    ("8480-6", math.nan, "mm[Hg]", "a systolic pressure of NaN"),
    ("3150-0", math.nan, "%", "an FiO2 of NaN"),
    ("9269-2", math.inf, None, "a GCS of infinity"),
    ("2160-0", 10**400, "mg/dL", "an integer too large for a float"),
]


NON_FINITE_CASES = [
    pytest.param(code, value, unit, mode, id=f"{why} is never mapped ({mode.value} mode)")
    for code, value, unit, why in NON_FINITE
    for mode in ValidationMode
    # a 400-digit integer is a valid FHIR decimal: the model accepts it, the reading refuses it
    if not (isinstance(value, int) and mode is ValidationMode.MODELS)
]


@pytest.mark.parametrize(("code", "value", "unit", "mode"), NON_FINITE_CASES)
def test_non_finite_numbers_are_never_mapped(code, value, unit, mode):
    """SPEC 3 (skipped and reported). NaN and infinity are not JSON, but Python's json module
    reads them; both modes refuse them alike (the R4B models reject them as decimals)."""
    inputs = record(observation(code, value, unit), options=MappingOptions(validation=mode))
    mapped = [
        inputs.temperatures_c,
        inputs.labs,
        inputs.weights_kg,
        inputs.heart_rates,
        inputs.blood_pressures,
        inputs.oxygen,
        inputs.neuro_scores,
    ]
    assert all(values == () for values in mapped)
    assert _only(inputs.skipped).reason == "valueQuantity.value is not a number"


# --- body weight ---------------------------------------------------------------------------

LOW_KG, HIGH_KG = PLAUSIBLE_WEIGHT_KG
WEIGHT_REASON = (
    f"valueQuantity.value is outside the plausible body weight range "
    f"({range_text(PLAUSIBLE_WEIGHT_KG, 'kg')}): likely a unit or entry error"
)
WEIGHTS = [
    (LOW_KG, "kg", LOW_KG, "the lowest plausible weight is a weight"),
    (HIGH_KG, "kg", HIGH_KG, "the highest plausible weight is a weight"),
    (70_000, "g", 70.0, "70,000 g is 70 kg"),
    (math.nextafter(LOW_KG, 0.0), "kg", None, "just below the lowest plausible weight"),
    (math.nextafter(HIGH_KG, math.inf), "kg", None, "just above the highest plausible weight"),
    (70_000, "kg", None, "70,000 kg (grams sent as kg)"),
    (0, "kg", None, "a weight of 0"),
    (-70, "kg", None, "a negative weight"),
]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [case[:3] for case in WEIGHTS],
    ids=[
        case[3] + (" is skipped and reported (no dose from it)" if case[2] is None else "")
        for case in WEIGHTS
    ],
)
def test_body_weight_plausibility(value, unit, expected):
    inputs = record(observation("29463-7", value, unit))
    if expected is None:
        assert inputs.weights_kg == ()
        assert _only(inputs.skipped).reason == WEIGHT_REASON
    else:
        assert inputs.skipped == ()
        assert _only(inputs.weights_kg).value == pytest.approx(expected)


# --- vasopressor rates (SPEC 2.3) ----------------------------------------------------------

_RX = {
    Vasopressor.NOREPINEPHRINE: "7512",
    Vasopressor.EPINEPHRINE: "3992",
    Vasopressor.DOPAMINE: "3628",
    Vasopressor.PHENYLEPHRINE: "8163",
    Vasopressor.VASOPRESSIN: "11149",
}
_UNIT = {
    RateBasis.MICROGRAMS_PER_MIN: "ug/min",
    RateBasis.MICROGRAMS_PER_KG_PER_MIN: "ug/kg/min",
    RateBasis.UNITS_PER_MIN: "U/min",
}
MAXIMA = [
    (agent, basis, maximum)
    for agent, limits in PLAUSIBLE_VASOPRESSOR_MAXIMA.items()
    for basis, maximum in limits.items()
]


def _implausible(agent, basis):
    maximum = PLAUSIBLE_VASOPRESSOR_MAXIMA[agent][basis]
    limit = f"{maximum:,.0f}" if maximum == int(maximum) else f"{maximum:g}"
    return f"rate above the plausible maximum of {limit} {basis} for {agent}: likely a unit error"


def _vasopressor(agent, value, unit):
    inputs = record(administration(rxnorm(_RX[agent]), rate=quantity(value, unit)))
    assert inputs.skipped == ()
    return _only(inputs.vasopressors)


def test_every_agent_has_a_plausible_maximum():
    assert set(PLAUSIBLE_VASOPRESSOR_MAXIMA) == set(Vasopressor)


@pytest.mark.parametrize(
    ("agent", "basis", "maximum"),
    MAXIMA,
    ids=[f"{a.value} at its plausible maximum of {m:g} {b.value} is a rate" for a, b, m in MAXIMA],
)
def test_a_rate_at_the_plausible_maximum_is_read(agent, basis, maximum):
    drip = _vasopressor(agent, maximum, _UNIT[basis])
    assert drip.rate == InfusionRate(maximum, basis) and drip.rate_gap is None


@pytest.mark.parametrize(
    ("agent", "basis", "maximum"),
    MAXIMA,
    ids=[
        f"SPEC 2.3: {a.value} just above {m:g} {b.value} is a unit error, still a vasopressor"
        for a, b, m in MAXIMA
    ],
)
def test_a_rate_above_the_plausible_maximum_is_a_gap_and_the_drip_still_counts(
    agent, basis, maximum
):
    drip = _vasopressor(agent, math.nextafter(maximum, math.inf), _UNIT[basis])
    assert drip.agent is agent
    assert drip.rate is None and drip.rate_gap == _implausible(agent, basis)


RATE_GAPS = [
    (
        Vasopressor.DOPAMINE,
        quantity(5000, "ug/kg/min"),
        _implausible(Vasopressor.DOPAMINE, RateBasis.MICROGRAMS_PER_KG_PER_MIN),
        "dopamine 5000 ug/kg/min (a unit error) is not a high dose",
    ),
    (
        Vasopressor.NOREPINEPHRINE,
        quantity(10, "mg/min"),
        _implausible(Vasopressor.NOREPINEPHRINE, RateBasis.MICROGRAMS_PER_MIN),
        "norepinephrine 10 mg/min (mg charted for ug) is not a high dose",
    ),
    (
        Vasopressor.NOREPINEPHRINE,
        quantity(1e308, "mg/min"),
        _implausible(Vasopressor.NOREPINEPHRINE, RateBasis.MICROGRAMS_PER_MIN),
        "a rate that overflows on conversion is not a rate",
    ),
    (
        Vasopressor.VASOPRESSIN,
        quantity(2.4, "U/min"),
        _implausible(Vasopressor.VASOPRESSIN, RateBasis.UNITS_PER_MIN),
        "vasopressin 2.4 U/h charted as U/min",
    ),
    (
        Vasopressor.NOREPINEPHRINE,
        quantity(-5, "ug/min"),
        "negative rate recorded",
        "a negative rate is unreadable",
    ),
    (
        Vasopressor.DOPAMINE,
        quantity(-5, "mL/h"),
        "negative rate recorded",
        "a negative volume rate is unreadable",
    ),
]


@pytest.mark.parametrize(
    ("agent", "rate", "gap"),
    [case[:3] for case in RATE_GAPS],
    ids=[f"SPEC 2.3: {case[3]}: the drip still counts with a gap" for case in RATE_GAPS],
)
def test_a_drip_whose_rate_cannot_be_read_still_counts(agent, rate, gap):
    """SPEC 2.3: a drip whose rate cannot be read still counts as a vasopressor of unknown dose
    (the administration is never dropped)."""
    resource = administration(rxnorm(_RX[agent]), rate=rate)
    for options in (MappingOptions(), MODELS):
        inputs = record(resource, options=options)
        assert inputs.skipped == ()
        drip = _only(inputs.vasopressors)
        assert (drip.agent, drip.rate, drip.rate_gap) == (agent, None, gap)
        assert drip.reference == "MedicationAdministration/ma1"


def test_a_rate_of_zero_is_a_paused_drip_not_a_gap():
    """Documented choice: 0 is a readable rate (titrated off, paused); the grader does not count
    a drip at rate 0 as running (crs_grading: "rate 0: the drip is stopped")."""
    drip = _vasopressor(Vasopressor.NOREPINEPHRINE, 0, "ug/min")
    assert drip.rate == InfusionRate(0.0, RateBasis.MICROGRAMS_PER_MIN) and drip.rate_gap is None


def test_a_negative_rate_ratio_and_a_ratio_over_no_time_are_gaps():
    resource = administration(rxnorm("7512"))
    del resource["dosage"]["rateQuantity"]
    resource["dosage"]["rateRatio"] = {
        "numerator": quantity(-5, "ug"),
        "denominator": quantity(1, "min"),
    }
    assert _only(record(resource).vasopressors).rate_gap == "negative rate recorded"
    resource["dosage"]["rateRatio"] = {
        "numerator": quantity(5, "ug"),
        "denominator": quantity(0, "min"),
    }
    drip = _only(record(resource).vasopressors)
    assert (drip.rate, drip.rate_gap) == (None, "rate ratio over a time that is not positive")


def _bag(strength_mg: float, rate_ml_h: float):
    """Norepinephrine mL/h from a contained Medication of ``strength_mg`` mg / 250 mL."""
    resource = load("medication-administration-contained.json")
    medication = resource["contained"][0]
    medication["ingredient"][0]["strength"]["numerator"]["value"] = strength_mg
    resource["dosage"]["rateQuantity"]["value"] = rate_ml_h
    return _only(record(resource).vasopressors)


def test_a_volume_rate_above_the_plausible_maximum_after_concentration_is_a_gap():
    """16 ug/mL x 5000 mL/h = 1,333 ug/min: above the norepinephrine maximum of 1,000."""
    assert _bag(4, 30).rate is not None
    drip = _bag(4, 5000)
    gap = _implausible(Vasopressor.NOREPINEPHRINE, RateBasis.MICROGRAMS_PER_MIN)
    assert (drip.rate, drip.rate_gap) == (None, gap)


def test_a_strength_of_zero_is_no_concentration_not_a_paused_drip():
    drip = _bag(0, 30)
    assert (drip.rate, drip.rate_gap) == (None, "rate in mL/h without a concentration")


def test_a_nan_rate_is_not_a_number_and_loses_only_the_rate():
    """NaN never reaches us from the service (orjson refuses it); from Python callers it is a
    rate that is not a number: the drip still counts with an unknown dose (SPEC 3). Full model
    validation refuses the whole resource, as the R4B model does."""
    resource = administration(rxnorm("7512"), rate=quantity(math.nan, "ug/min"))
    inputs = record(resource)
    (drip,) = inputs.vasopressors
    assert drip.rate is None
    assert _only(inputs.skipped).reason == (
        "dosage.rateQuantity.value is not a number: only this element was not used"
    )
    models = record(resource, options=MODELS)
    assert models.vasopressors == ()
    assert _only(models.skipped).reason == "dosage.rateQuantity.value is not a number"


# --- what grading makes of it (SPEC 2.3, seed Table 2 and 3) ---------------------------------

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the drip fixture starts at 06:00


def _graded(*drips):
    inputs = record(load("medication-administration-display-only.json"), *drips)
    return assess(inputs, AS_OF)


def test_an_implausible_rate_grades_as_one_vasopressor_of_unknown_dose_not_high_dose():
    """SPEC 2.3: a drip whose rate cannot be read still counts: grade 2 alone, with the gap."""
    dopamine = administration(
        rxnorm("3628"), rate=quantity(5000, "ug/kg/min"), id="dop", status="in-progress"
    )
    assessment = _graded(dopamine)  # 6 h at "5000 ug/kg/min" would be high-dose: grade 3
    assert assessment.current.grade == 2
    gap = _implausible(Vasopressor.DOPAMINE, RateBasis.MICROGRAMS_PER_KG_PER_MIN)
    assert any(gap in text for text in assessment.data_gaps)


def test_an_implausible_rate_with_another_vasopressor_grades_3():
    """SPEC 2.3: two or more vasopressors at the same time are grade 3, whatever the doses."""
    dopamine = administration(rxnorm("3628"), rate=quantity(5000, "ug/kg/min"), id="dop")
    norepinephrine = administration(rxnorm("7512"), rate=quantity(2, "ug/min"), id="ne")
    assert _graded(dopamine, norepinephrine).current.grade == 3


def test_a_negative_rate_keeps_the_vasopressor_in_the_grade():
    """SPEC 2.3: the running vasopressor does not disappear because its rate is unreadable."""
    assert _graded(administration(rxnorm("7512"), rate=quantity(-5, "ug/min"))).current.grade == 2
