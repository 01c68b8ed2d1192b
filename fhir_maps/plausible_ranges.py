"""Plausible ranges: values outside them are unit or entry errors, never evidence (SPEC 2.3, 3).

One place for every plausibility limit the mapping applies, after unit conversion (in the units
of ``crs_grading.inputs``). A value outside its range is not graded: an Observation is skipped
and reported; a vasopressor drip keeps counting as a vasopressor of unknown dose with a
``rate_gap`` (SPEC 2.3: a drip whose rate cannot be read still counts). Non-finite numbers
(NaN, infinity, an overflow after conversion) are outside every range.

The limits are ours, chosen to be generous: wider than any result a living patient or a
laboratory assay produces, so that no real result is lost, yet narrow enough to catch the
common unit errors (a value in umol/L sent as mg/dL, ug sent as mg, per hour sent as per
minute). Where a limit cannot catch an error without losing real results, the rationale says
so. Bounds are inclusive.
"""

from __future__ import annotations

import math

from crs_grading.inputs import LAB_UNITS, LabTest, RateBasis, Vasopressor

#: Body temperature, Celsius: outside it the value is a unit or entry error (98.6 sent with
#: unit Cel is a mislabelled Fahrenheit reading, not fever).
PLAUSIBLE_TEMPERATURE_C = (25.0, 45.0)

#: Lowest plausible percentages (the highest is 100); below them the value is a fraction sent
#: with unit "%" (0.4 % FiO2). FiO2: 20.9 % is room air. SpO2: oximeters do not read that low.
PLAUSIBLE_FIO2_LOW = 20.0
PLAUSIBLE_SPO2_LOW = 10.0

#: Body weight, kg: below the smallest surviving preterm infants (about 0.25 kg), above the
#: heaviest weight ever recorded (about 635 kg). Catches g sent as kg; lb sent as kg cannot be
#: told from a real weight.
PLAUSIBLE_WEIGHT_KG = (0.2, 650.0)

#: LabTest -> (low, high) in ``LAB_UNITS[test]``; one row per test, rationale beside it.
PLAUSIBLE_LAB_RANGES: dict[LabTest, tuple[float, float]] = {
    # U/L. Assays report down to about 3-5 U/L, so < 1 is a ukat/L value under a U/L unit;
    # fulminant hepatic necrosis reaches about 10,000-40,000 U/L.
    LabTest.AST: (1.0, 100_000.0),
    LabTest.ALT: (1.0, 100_000.0),  # as AST
    # mg/dL total bilirubin. Assays report down to about 0.1; the highest reported values
    # (neonatal, cholestatic failure) are about 50-80 mg/dL.
    LabTest.BILIRUBIN: (0.01, 100.0),
    # mg/dL. Enzymatic assays quantify down to about 0.05; the highest renal-failure and
    # rhabdomyolysis values are about 20-30. Catches umol/L sent as mg/dL (88 "mg/dL") and
    # stops a near-zero baseline making any later result "> 3 x baseline".
    LabTest.CREATININE: (0.05, 40.0),
    # mg/dL. Clauss assays do not report below about 10-30 mg/dL ("<" is sent as the bound);
    # acute-phase values reach about 1,000-1,200. The low limit catches g/L sent as mg/dL
    # (2.5 g/L read as 2.5 mg/dL would be CTCAE grade 4, "< 50 mg/dL").
    LabTest.FIBRINOGEN: (10.0, 2_000.0),
    # %. Below 5 is not measurable in a living patient (a fraction sent as %, 0.35); above 95
    # no ventricle ejects (hyperdynamic is about 75-85).
    LabTest.LVEF: (5.0, 95.0),
    # mg/L. Highest values in sepsis are about 500-600 mg/L.
    LabTest.CRP: (0.0, 1_000.0),
    # ng/mL. HLH and severe CRS reach a few 100,000 ng/mL.
    LabTest.FERRITIN: (0.0, 2_000_000.0),
    # pg/mL. Severe CRS reaches tens of thousands, rarely above 100,000 pg/mL.
    LabTest.IL6: (0.0, 1_000_000.0),
    # /uL. Hyperleukocytosis of myeloid leukaemia rarely gives neutrophil counts above
    # 300,000 /uL. Catches counts in /uL of 500 and more sent with a 10^3/uL unit.
    LabTest.ANC: (0.0, 500_000.0),
    # 10^3/uL. Extreme hyperleukocytosis (CLL, CML) is reported around 1,000 x10^3/uL.
    # Catches /uL counts sent as 10^3/uL (5,000 "x10^3/uL").
    LabTest.WBC: (0.0, 2_000.0),
    # mmol/L. Analysers report from about 0.1-0.3; survivors' peaks are about 25-30 mmol/L.
    LabTest.LACTATE: (0.1, 40.0),
    # ng/mL. Septic shock reaches a few hundred, assays about 1,000 with dilution.
    LabTest.PROCALCITONIN: (0.0, 10_000.0),
    # 10^9/L. Essential thrombocythaemia reaches a few thousand; catches counts per uL sent as
    # 10^9/L (150,000 "x10^9/L").
    LabTest.PLATELETS: (0.0, 5_000.0),
    # g/dL. Survivable values are about 1.5-25; catches g/L sent as g/dL (120 "g/dL").
    LabTest.HEMOGLOBIN: (1.0, 25.0),
    # U/L. Analysers report from about 20-50; HLH and haemolysis reach tens of thousands.
    LabTest.LDH: (10.0, 200_000.0),
}

#: Vasopressor -> {RateBasis: highest plausible rate}, after unit conversion. The per-kg
#: maximum is above the highest doses reported in refractory shock; the ug/min maximum is that
#: dose at 200 kg. Above it the rate is a unit error (mg for ug: 1000x; per hour charted per
#: minute: 60x) and becomes a rate gap.
PLAUSIBLE_VASOPRESSOR_MAXIMA: dict[Vasopressor, dict[RateBasis, float]] = {
    # usual 0.01-1 ug/kg/min; refractory shock reports reach about 3 ug/kg/min
    Vasopressor.NOREPINEPHRINE: {
        RateBasis.MICROGRAMS_PER_KG_PER_MIN: 5.0,
        RateBasis.MICROGRAMS_PER_MIN: 1_000.0,
    },
    # usual 0.01-1 ug/kg/min; as norepinephrine
    Vasopressor.EPINEPHRINE: {
        RateBasis.MICROGRAMS_PER_KG_PER_MIN: 5.0,
        RateBasis.MICROGRAMS_PER_MIN: 1_000.0,
    },
    # usual 2-20 ug/kg/min; labels and references stop at 20-50 ug/kg/min
    Vasopressor.DOPAMINE: {
        RateBasis.MICROGRAMS_PER_KG_PER_MIN: 50.0,
        RateBasis.MICROGRAMS_PER_MIN: 10_000.0,
    },
    # usual 0.5-3 ug/kg/min or 10-200 ug/min; septic shock reports reach about 9 ug/kg/min
    Vasopressor.PHENYLEPHRINE: {
        RateBasis.MICROGRAMS_PER_KG_PER_MIN: 20.0,
        RateBasis.MICROGRAMS_PER_MIN: 4_000.0,
    },
    # usual 0.03-0.04 units/min in shock; variceal-bleeding regimens went up to 0.8 units/min.
    # Catches units/h charted as units/min (2.4 "units/min").
    Vasopressor.VASOPRESSIN: {RateBasis.UNITS_PER_MIN: 1.0},
}


def within(value: float, limits: tuple[float, float]) -> bool:
    """True when ``value`` is finite and within the inclusive ``(low, high)`` limits."""
    low, high = limits
    return math.isfinite(value) and low <= value <= high


def number_text(value: float) -> str:
    """A limit as people write it: 0.05, 40, 100,000."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:g}"


def range_text(limits: tuple[float, float], unit: str) -> str:
    """``"0.05-40 mg/dL"``, ``"5-95 %"``."""
    low, high = limits
    return f"{number_text(low)}-{number_text(high)} {unit}"


def lab_range_text(test: LabTest) -> str:
    """The plausible range of a lab in its unit, for skip reasons and documentation."""
    return range_text(PLAUSIBLE_LAB_RANGES[test], LAB_UNITS[test])
