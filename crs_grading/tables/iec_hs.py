"""IEC-HS, the immune effector cell-associated HLH-like syndrome, as a flag (SPEC 2.10; Hines et
al., Transplant Cell Ther 2023;29(7):438.e1-438.e16).

Never a grade: a warning with its evidence, raised when ferritin is high or rising (one of the
``FERRITIN_ROWS``) AND at least one of the ``FEATURE_ROWS`` is present. Each result is the latest
of its test within the lab window (SPEC 2.2: 72 h).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from crs_grading.inputs import LabTest
from crs_grading.tables.common import Comparison

HINES = "Hines et al. TCT 2023 (IEC-HS)"


class FerritinArm(enum.StrEnum):
    """How ferritin meets SPEC 2.10."""

    ABOVE_ULN = "above-uln"  # > 2 x ULN (baseline not already high)
    ABOVE_HIGH_BASELINE = "above-high-baseline"  # > 2 x a pre-infusion baseline above ULN
    DOUBLED = "doubled"  # at least doubled within 48 h


@dataclass(frozen=True, slots=True)
class FerritinRow:
    arm: FerritinArm
    comparison: Comparison
    factor: float
    source: str


FERRITIN_ROWS: dict[FerritinArm, FerritinRow] = {
    FerritinArm.ABOVE_ULN: FerritinRow(
        FerritinArm.ABOVE_ULN,
        Comparison.ABOVE,
        2.0,
        f"SPEC 2.10, {HINES}: ferritin > 2 x ULN",
    ),
    FerritinArm.ABOVE_HIGH_BASELINE: FerritinRow(
        FerritinArm.ABOVE_HIGH_BASELINE,
        Comparison.ABOVE,
        2.0,
        f"SPEC 2.10, {HINES}: ferritin > 2 x its pre-infusion baseline when that was already "
        "above ULN (then 2 x ULN is not enough)",
    ),
    FerritinArm.DOUBLED: FerritinRow(
        FerritinArm.DOUBLED,
        Comparison.AT_LEAST,
        2.0,
        f"SPEC 2.10, {HINES}: ferritin rapidly rising (doubled within 48 h)",
    ),
}

#: SPEC 2.10: "doubled within 48 h": the latest ferritin against the lowest of the 48 h before it.
DOUBLING_WINDOW = timedelta(hours=48)


class FeatureMeasure(enum.StrEnum):
    """What a feature compares."""

    VALUE = "value"
    ULN_MULTIPLE = "uln-multiple"
    FRACTION_OF_PEAK = "fraction-of-peak"  # of the highest value since day 0


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One accompanying feature of SPEC 2.10: ``test`` meets ``measure comparison threshold``."""

    name: str  # how the card names it
    test: LabTest
    measure: FeatureMeasure
    comparison: Comparison
    threshold: float
    source: str


FEATURE_ROWS: tuple[FeatureRow, ...] = (
    FeatureRow(
        "neutropenia",
        LabTest.ANC,
        FeatureMeasure.VALUE,
        Comparison.BELOW,
        500.0,
        f"SPEC 2.10, {HINES}: cytopenia, ANC < 500 /uL",
    ),
    FeatureRow(
        "thrombocytopenia",
        LabTest.PLATELETS,
        FeatureMeasure.VALUE,
        Comparison.BELOW,
        50.0,
        f"SPEC 2.10, {HINES}: cytopenia, platelets < 50 x10^9/L",
    ),
    FeatureRow(
        "falling platelets",
        LabTest.PLATELETS,
        FeatureMeasure.FRACTION_OF_PEAK,
        Comparison.BELOW,
        0.5,
        f"SPEC 2.10, {HINES}: cytopenia, platelets below half their highest since day 0",
    ),
    FeatureRow(
        "anemia",
        LabTest.HEMOGLOBIN,
        FeatureMeasure.VALUE,
        Comparison.BELOW,
        8.0,
        f"SPEC 2.10, {HINES}: cytopenia, hemoglobin < 8 g/dL",
    ),
    FeatureRow(
        "transaminitis",
        LabTest.AST,
        FeatureMeasure.ULN_MULTIPLE,
        Comparison.ABOVE,
        5.0,
        f"SPEC 2.10, {HINES}: hepatic transaminases, AST > 5 x ULN",
    ),
    FeatureRow(
        "transaminitis",
        LabTest.ALT,
        FeatureMeasure.ULN_MULTIPLE,
        Comparison.ABOVE,
        5.0,
        f"SPEC 2.10, {HINES}: hepatic transaminases, ALT > 5 x ULN",
    ),
    FeatureRow(
        "hypofibrinogenemia",
        LabTest.FIBRINOGEN,
        FeatureMeasure.VALUE,
        Comparison.BELOW,
        150.0,
        f"SPEC 2.10, {HINES}: fibrinogen < 150 mg/dL",
    ),
    FeatureRow(
        "raised LDH",
        LabTest.LDH,
        FeatureMeasure.ULN_MULTIPLE,
        Comparison.ABOVE,
        2.0,
        f"SPEC 2.10, {HINES}: LDH > 2 x ULN",
    ),
)
