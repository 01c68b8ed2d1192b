"""The dose table of SPEC 2.6: rows, half-up rounding, the maxima, missing weight or age."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crs_grading.inputs import Immunosuppressant, Measurement
from crs_grading.treatment import DOSE_TABLE, Protocol, compute_dose, round_half_up
from crs_grading.treatment.dosing import has_protocol_dose

from .conftest import AS_OF

TOCI = Immunosuppressant.TOCILIZUMAB
DEX = Immunosuppressant.DEXAMETHASONE
MP = Immunosuppressant.METHYLPREDNISOLONE
LEE, FDA = Protocol.LEE_2014, Protocol.FDA_LABEL


def weight(kg: float) -> Measurement:
    return Measurement(AS_OF, kg, "Observation/w1")


# (drug, protocol, weight kg, age y, expected mg/kg, expected unrounded, rounded, dose, capped)
# fmt: off
DOSES = [
    pytest.param(
        TOCI, LEE, 70, 40, "4", "280", 280, 280, False,
        id="seed Tocilizumab: an adult gets 4 mg/kg, 70 kg -> 280 mg",
    ),
    pytest.param(
        TOCI, LEE, 29, 10, "8", "232", 232, 232, False,
        id="seed Tocilizumab: a child gets 8 mg/kg, 29 kg -> 232 mg",
    ),
    pytest.param(
        TOCI, LEE, 50, 18.0, "4", "200", 200, 200, False,
        id="seed Tocilizumab: exactly 18 y is an adult (4 mg/kg)",
    ),
    pytest.param(
        TOCI, LEE, 50, 17.99, "8", "400", 400, 400, False,
        id="seed Tocilizumab: 17.99 y is a child (8 mg/kg)",
    ),
    pytest.param(
        TOCI, LEE, 62.625, 40, "4", "250.5", 251, 251, False,
        id="SPEC 2.6 rounding: 4 mg/kg x 62.625 kg = 250.5 rounds half up to 251 mg",
    ),
    pytest.param(
        TOCI, LEE, 62.6, 40, "4", "250.4", 250, 250, False,
        id="SPEC 2.6 rounding: 250.4 mg rounds down to 250 mg",
    ),
    pytest.param(
        TOCI, LEE, 200.1, 40, "4", "800.4", 800, 800, False,
        id="tocilizumab USPI maximum: 800.4 mg rounds to 800 mg, at the cap but not capped",
    ),
    pytest.param(
        TOCI, LEE, 200.125, 40, "4", "800.5", 801, 800, True,
        id="tocilizumab USPI maximum: rounded first to 801 mg, then capped at 800 mg",
    ),
    pytest.param(
        TOCI, FDA, 120, 40, "8", "960", 960, 800, True,
        id="tocilizumab USPI: 8 mg/kg x 120 kg = 960 mg is capped at 800 mg",
    ),
    pytest.param(
        TOCI, FDA, 29.9, 40, "12", "358.8", 359, 359, False,
        id="tocilizumab USPI: 29.9 kg is under 30 kg, 12 mg/kg",
    ),
    pytest.param(
        TOCI, FDA, 30, 5, "8", "240", 240, 240, False,
        id="tocilizumab USPI: exactly 30 kg gets 8 mg/kg, whatever the age",
    ),
    pytest.param(
        TOCI, FDA, 20, None, "12", "240", 240, 240, False,
        id="tocilizumab USPI: the fda-label dose needs no age",
    ),
    pytest.param(
        DEX, LEE, 20, 40, "0.5", "10", 10, 10, False,
        id="seed Corticosteroids: dexamethasone 0.5 mg/kg x 20 kg = 10 mg, not capped",
    ),
    pytest.param(
        DEX, LEE, 21, 40, "0.5", "10.5", 11, 10, True,
        id="seed Corticosteroids: dexamethasone 10.5 mg rounds to 11, capped at 10 mg",
    ),
    pytest.param(
        DEX, FDA, 7, 1, "0.5", "3.5", 4, 4, False,
        id="seed Corticosteroids: dexamethasone 3.5 mg rounds half up to 4 mg (either protocol)",
    ),
    pytest.param(
        MP, LEE, 70, 40, "2", "140", 140, 140, False,
        id="seed Corticosteroids: methylprednisolone 2 mg/kg/day x 70 kg = 140 mg per day",
    ),
    pytest.param(
        MP, FDA, 300, 40, "2", "600", 600, 600, False,
        id="seed Corticosteroids: methylprednisolone has no maximum",
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("drug", "protocol", "kg", "age", "rate", "unrounded", "rounded", "dose", "capped"), DOSES
)
def test_protocol_dose(
    drug: Immunosuppressant,
    protocol: Protocol,
    kg: float,
    age: float | None,
    rate: str,
    unrounded: str,
    rounded: int,
    dose: int,
    capped: bool,
) -> None:
    calculation = compute_dose(drug, protocol, weight=weight(kg), age_years=age)
    assert calculation.rate == Decimal(rate)
    assert calculation.unrounded_mg == Decimal(unrounded)
    assert calculation.rounded_mg == rounded
    assert calculation.dose_mg == dose
    assert calculation.capped is capped
    assert calculation.weight_reference == "Observation/w1"
    assert calculation.missing is None
    assert f"= {dose} mg" in calculation.text


def test_dose_text_states_rule_and_arithmetic_for_the_order() -> None:
    """SPEC 4: dosageInstruction.text carries the dosing rule (seed Tocilizumab)."""
    calculation = compute_dose(TOCI, LEE, weight=weight(29), age_years=10)
    assert calculation.text.startswith(
        "tocilizumab 8 mg/kg IV over 1 h (Lee 2014, age < 18 y) = 232 mg for 29 kg"
    )
    assert "max 800 mg per dose" in calculation.text
    assert calculation.summary == "tocilizumab 232 mg IV over 1 h"


def test_capped_dose_text_says_it_was_capped() -> None:
    """tocilizumab USPI: the text shows the uncapped figure and the cap."""
    calculation = compute_dose(TOCI, FDA, weight=weight(120), age_years=40)
    assert "= 800 mg for 120 kg (960 mg, capped at the 800 mg maximum per dose)" in calculation.text


def test_methylprednisolone_is_a_daily_dose() -> None:
    """seed Corticosteroids: 2 mg/kg/day is per day, not per dose."""
    calculation = compute_dose(MP, LEE, weight=weight(70), age_years=40)
    assert calculation.mg_per_kg_per_day == Decimal(2)
    assert calculation.mg_per_kg is None
    assert calculation.per_day
    assert calculation.summary == "methylprednisolone 140 mg IV per day"
    assert "= 140 mg per day for 70 kg" in calculation.text


@pytest.mark.parametrize(
    ("drug", "protocol", "age"),
    [
        pytest.param(TOCI, LEE, 40, id="SPEC 2.6 no weight: tocilizumab gives mg/kg, no dose"),
        pytest.param(DEX, LEE, 40, id="SPEC 2.6 no weight: dexamethasone gives mg/kg, no dose"),
        pytest.param(MP, FDA, 40, id="SPEC 2.6 no weight: methylprednisolone gives mg/kg/day only"),
    ],
)
def test_no_weight_gives_the_rate_and_no_dose(
    drug: Immunosuppressant, protocol: Protocol, age: float
) -> None:
    calculation = compute_dose(drug, protocol, weight=None, age_years=age)
    assert calculation.dose_mg is None
    assert calculation.rounded_mg is None
    assert calculation.rate is not None
    assert calculation.missing == "no recent body weight recorded"
    assert "no dose is calculated" in calculation.text
    assert "mg/kg" in calculation.summary


@pytest.mark.parametrize(
    "kg",
    [
        pytest.param(0.0, id="SPEC 2.6: a zero weight is no weight"),
        pytest.param(-70.0, id="SPEC 2.6: a negative weight is no weight"),
        pytest.param(math.nan, id="SPEC 2.6: a NaN weight is no weight"),
    ],
)
def test_unusable_weight_gives_no_dose(kg: float) -> None:
    calculation = compute_dose(TOCI, LEE, weight=weight(kg), age_years=40)
    assert calculation.dose_mg is None
    assert "not a positive number" in (calculation.missing or "")


def test_unknown_age_under_lee2014_cannot_choose_the_dose() -> None:
    """seed Tocilizumab: 4 or 8 mg/kg depends on the age; unknown age -> no dose, say so."""
    calculation = compute_dose(TOCI, LEE, weight=weight(70), age_years=None)
    assert calculation.dose_mg is None
    assert calculation.rate is None
    assert calculation.missing == "age unknown, so the mg/kg dose cannot be chosen"
    assert "8 mg/kg if age < 18 y; 4 mg/kg if age >= 18 y" in calculation.text


def test_no_weight_under_fda_label_cannot_choose_the_dose() -> None:
    """tocilizumab USPI: 12 or 8 mg/kg depends on the weight; no weight -> list both."""
    calculation = compute_dose(TOCI, FDA, weight=None, age_years=40)
    assert calculation.dose_mg is None
    assert calculation.rate is None
    assert "12 mg/kg if weight < 30 kg; 8 mg/kg if weight >= 30 kg" in calculation.text


def test_no_dose_for_drugs_the_seed_does_not_dose() -> None:
    """seed: no hydrocortisone, anakinra or siltuximab dose; the table has no row for them."""
    for drug in (
        Immunosuppressant.HYDROCORTISONE,
        Immunosuppressant.ANAKINRA,
        Immunosuppressant.SILTUXIMAB,
    ):
        assert not has_protocol_dose(drug)
        with pytest.raises(ValueError, match="no lee2014 dose"):
            compute_dose(drug, LEE, weight=weight(70), age_years=40)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("250.5", 251, id="SPEC 2.6 half up: 250.5 -> 251 (round() gives 250)"),
        pytest.param("0.5", 1, id="SPEC 2.6 half up: 0.5 -> 1 (round() gives 0)"),
        pytest.param("2.5", 3, id="SPEC 2.6 half up: 2.5 -> 3 (round() gives 2)"),
        pytest.param("3.4999", 3, id="SPEC 2.6 half up: just under a half rounds down"),
    ],
)
def test_round_half_up(value: str, expected: int) -> None:
    assert round_half_up(Decimal(value)) == expected


def test_every_row_names_its_source_and_tocilizumab_rows_their_maximum() -> None:
    """SPEC 2.6: every dose row cites a source; every tocilizumab row caps at 800 mg (label)."""
    for row in DOSE_TABLE:
        assert row.source
        if row.drug is TOCI:
            assert row.maximum_mg == 800
            assert row.maximum_source is not None


@settings(max_examples=200, deadline=None)
@given(
    row_index=st.integers(min_value=0, max_value=len(DOSE_TABLE) - 1),
    kg=st.decimals(min_value="0.5", max_value="300", places=3),
)
def test_dose_never_exceeds_the_maximum_and_rounds_half_up(row_index: int, kg: Decimal) -> None:
    """SPEC 2.6 property: dose <= maximum, and below the cap equals round-half-up(rate x kg)."""
    row = DOSE_TABLE[row_index]
    protocol = next(iter(sorted(row.protocols)))
    # Pick an age and weight inside the row's band so that this row is the one chosen.
    age, weight_kg = 40.0, float(kg)
    if row.band is not None and row.band.measure == "age":
        age = 10.0 if row.band.below is not None else 40.0
    if row.band is not None and row.band.measure == "weight":
        assume((row.band.below is None) == (kg >= 30))
    calculation = compute_dose(row.drug, protocol, weight=weight(weight_kg), age_years=age)
    assert calculation.rate == row.mg_per_kg
    exact = Fraction(str(kg)) * Fraction(str(row.mg_per_kg))
    half_up = math.floor(exact + Fraction(1, 2))  # doses are positive: half up == floor(x + 1/2)
    if half_up == 0:  # below 0.5 mg: no absolute dose, never a 0 mg order
        assert calculation.dose_mg is None
        assert calculation.missing is not None and "rounds to 0 mg" in calculation.missing
        return
    assert calculation.dose_mg is not None
    if row.maximum_mg is not None:
        assert calculation.dose_mg <= row.maximum_mg
        assert calculation.dose_mg == min(half_up, row.maximum_mg)
        assert calculation.capped is (half_up > row.maximum_mg)
    else:
        assert calculation.dose_mg == half_up


def test_a_dose_that_rounds_to_0_mg_gives_no_absolute_dose() -> None:
    """SPEC 2.6 rounding and seed Corticosteroids: dexamethasone 0.5 mg/kg x 0.9 kg = 0.45 mg
    rounds to 0 mg. A 0 mg order is no dose: the card gives the mg/kg rate and says why."""
    calculation = compute_dose(DEX, LEE, weight=weight(0.9), age_years=0.1)
    assert calculation.dose_mg is None
    assert calculation.rate == Decimal("0.5")
    assert calculation.unrounded_mg == Decimal("0.45")
    assert calculation.missing == "the weight-based dose (0.45 mg) rounds to 0 mg"
    assert calculation.text.endswith("so no dose is calculated")
    assert calculation.summary == "dexamethasone 0.5 mg/kg IV"
