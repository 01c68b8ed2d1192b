"""Weight-based doses of the CRS-directed drugs: how a dose is computed from the dose table.

The table, one row per dosing rule with its source, and the maxima (the 800 mg tocilizumab cap
among them) are data in ``crs_grading.tables.treatment`` (SPEC 2.6); this module applies them.

A dose is mg/kg x the latest body weight, rounded to the nearest whole mg with halves rounded up
(``ROUND_HALF_UP``: 250.5 mg -> 251 mg; Python's ``round`` would give 250), and only then capped
at the maximum. Without a usable weight, or without the age or weight that picks the row, there is
no absolute dose: ``DoseCalculation.dose_mg`` is ``None`` and ``missing`` says why, so no order can
be built from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from crs_grading import wording
from crs_grading.inputs import Immunosuppressant, Measurement
from crs_grading.tables.sources import RuleSource
from crs_grading.tables.treatment import (
    DOSE_TABLE,
    RXNORM,
    Band,
    DoseRow,
    DrugCode,
    PatientMeasure,
    Protocol,
)

__all__ = [
    "DOSE_TABLE",
    "RXNORM",
    "Band",
    "DoseCalculation",
    "DoseRow",
    "DrugCode",
    "PatientMeasure",
    "Protocol",
    "administration_text",
    "band_text",
    "compute_dose",
    "has_protocol_dose",
    "rate_text",
    "round_half_up",
]


def band_text(band: Band) -> str:
    """ "age < 18 y", "weight >= 30 kg", "age 1 to < 18 y"."""
    measure, unit = band.measure, band.measure.unit
    if band.at_least is not None and band.below is not None:
        return f"{measure} {wording.number(band.at_least)} to < {wording.number(band.below)} {unit}"
    if band.below is not None:
        return f"{measure} < {wording.number(band.below)} {unit}"
    if band.at_least is not None:
        return f"{measure} >= {wording.number(band.at_least)} {unit}"
    return f"any {measure}"


def rate_text(row: DoseRow) -> str:
    """ "8 mg/kg" or "2 mg/kg/day"."""
    return f"{wording.number(row.mg_per_kg)} mg/kg{'/day' if row.per_day else ''}"


def administration_text(row: DoseRow) -> str:
    """How a row's dose is given: "IV over 1 h", "IV"."""
    if row.infusion is None:
        return "IV"
    return f"IV over {wording.duration(row.infusion)}"


#: The data gap when the assessment holds no weight (it keeps only a recent one, SPEC 2.6).
_NO_WEIGHT = "no recent body weight recorded"

_BOTH_PROTOCOLS = frozenset(Protocol)


@dataclass(frozen=True, slots=True)
class DoseCalculation:
    """How one protocol dose was worked out, every step kept for the card and the order.

    ``mg_per_kg`` is the per-dose rate and ``mg_per_kg_per_day`` the daily rate; exactly one of
    them is set once the dosing row is chosen, neither when it cannot be (age or weight unknown).
    ``weight_kg`` (with its reference and time) is set whenever the weight is usable.
    ``unrounded_mg`` = rate x ``weight_kg``; ``rounded_mg`` = that, rounded half up to a whole mg;
    ``dose_mg`` = ``rounded_mg`` capped at ``maximum_mg`` (``capped`` says whether the cap acted),
    or ``None`` when no absolute dose can be given (``missing`` says why: no weight, no age, or
    a dose that rounds to 0 mg). ``text`` is the dosing
    rule and its arithmetic in one line, suitable for ``dosageInstruction.text``.
    """

    drug: Immunosuppressant
    protocol: Protocol
    rule: str
    text: str
    source: RuleSource
    administration: str
    mg_per_kg: Decimal | None = None
    mg_per_kg_per_day: Decimal | None = None
    maximum_mg: int | None = None
    maximum_source: RuleSource | None = None
    weight_kg: Decimal | None = None
    weight_reference: str | None = None
    weight_time: datetime | None = None
    unrounded_mg: Decimal | None = None
    rounded_mg: int | None = None
    capped: bool = False
    dose_mg: int | None = None
    missing: str | None = None
    chosen_by: PatientMeasure | None = None  # the measure that chose the row (age, weight)

    @property
    def per_day(self) -> bool:
        return self.mg_per_kg_per_day is not None

    @property
    def rate(self) -> Decimal | None:
        """The chosen mg/kg rate, per dose or per day."""
        return self.mg_per_kg if self.mg_per_kg is not None else self.mg_per_kg_per_day

    @property
    def arithmetic(self) -> str | None:
        """The dose worked out in a few words: "8 mg/kg × 36.4 kg", "2 mg/kg/day × 70 kg",
        "0.5 mg/kg × 55.6 kg = 27.8 mg, capped at 10 mg"; ``None`` without a dose."""
        rate = self.rate
        if self.dose_mg is None or rate is None or self.weight_kg is None:
            return None
        unit = "mg/kg/day" if self.per_day else "mg/kg"
        text = f"{wording.number(rate)} {unit} × {wording.number(self.weight_kg)} kg"
        if self.capped and self.unrounded_mg is not None:
            text += f" = {wording.number(self.unrounded_mg)} mg, capped at {self.maximum_mg} mg"
        return text

    @property
    def summary(self) -> str:
        """A short label: "tocilizumab 280 mg IV over 1 h", "methylprednisolone 140 mg IV per
        day", or the rate alone without a dose: "dexamethasone 0.5 mg/kg IV"."""
        per_day = " per day" if self.per_day else ""
        if self.dose_mg is not None:
            return f"{self.drug} {self.dose_mg} mg {self.administration}{per_day}"
        rate = self.rate
        if rate is not None:
            unit = "mg/kg/day" if self.per_day else "mg/kg"
            return f"{self.drug} {wording.number(rate)} {unit} {self.administration}"
        return f"{self.drug} {self.administration}"


def round_half_up(value: Decimal) -> int:
    """The nearest whole number, halves away from zero: 250.5 -> 251 (SPEC 2.6).

    Never ``round()``: Python rounds halves to even, so ``round(250.5)`` is 250.
    """
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def has_protocol_dose(drug: Immunosuppressant) -> bool:
    """True when the dose table has a row for ``drug`` (hydrocortisone, anakinra, siltuximab:
    the seed gives no dose)."""
    return any(row.drug is drug for row in DOSE_TABLE)


def compute_dose(
    drug: Immunosuppressant,
    protocol: Protocol,
    *,
    weight: Measurement | None,
    age_years: float | None,
) -> DoseCalculation:
    """The protocol dose of ``drug`` for a patient of this weight and age.

    Raises ``ValueError`` for a drug without a row (see ``has_protocol_dose``).
    """
    rows = tuple(row for row in DOSE_TABLE if row.drug is drug and protocol in row.protocols)
    if not rows:
        raise ValueError(f"no {protocol} dose for {drug} in the dose table")
    weight_kg, weight_gap = _usable_weight(weight)
    measures: dict[PatientMeasure, Decimal | None] = {
        PatientMeasure.WEIGHT: weight_kg,
        PatientMeasure.AGE: _usable_age(age_years),
    }

    row = _choose_row(rows, measures)
    if row is None:
        # The row depends on a measure we do not have: list the choices, give no dose.
        measure = _band_measure(rows)
        gap = weight_gap if measure is PatientMeasure.WEIGHT else "age unknown"
        if measure is PatientMeasure.AGE and weight_gap is not None:
            gap = f"age unknown and {weight_gap}"
        choices = "; ".join(
            f"{rate_text(row)} if {band_text(row.band)}" for row in rows if row.band is not None
        )
        rule = (
            f"{drug} {administration_text(rows[0])} ({wording.PROTOCOL_NAMES[protocol]}): {choices}"
        )
        if rows[0].maximum_mg is not None:
            rule += f"; max {rows[0].maximum_mg} mg per dose"
        missing = f"{gap}, so the mg/kg dose cannot be chosen"
        return DoseCalculation(
            drug=drug,
            protocol=protocol,
            rule=rule,
            text=f"{rule}; {missing}; no dose is calculated",
            source=rows[0].source,
            administration=administration_text(rows[0]),
            maximum_mg=rows[0].maximum_mg,
            maximum_source=rows[0].maximum_source,
            weight_kg=weight_kg,
            weight_reference=None if weight_kg is None or weight is None else weight.reference,
            weight_time=None if weight_kg is None or weight is None else weight.time,
            missing=missing,
        )

    rule = _rule_text(row, protocol)
    without_weight = DoseCalculation(
        drug=drug,
        protocol=protocol,
        rule=rule,
        text=rule,
        source=row.source,
        administration=administration_text(row),
        mg_per_kg=None if row.per_day else row.mg_per_kg,
        mg_per_kg_per_day=row.mg_per_kg if row.per_day else None,
        maximum_mg=row.maximum_mg,
        maximum_source=row.maximum_source,
        chosen_by=None if row.band is None else row.band.measure,
    )
    maximum = "" if row.maximum_mg is None else f"max {row.maximum_mg} mg per dose"
    if weight_kg is None or weight is None:
        missing = weight_gap or _NO_WEIGHT
        limit = f", {maximum}" if maximum else ""
        return replace(
            without_weight,
            text=f"{rule}{limit}; {missing}, so no dose is calculated",
            missing=missing,
        )

    unrounded = row.mg_per_kg * weight_kg
    rounded = round_half_up(unrounded)
    if rounded == 0:
        # Below 0.5 mg (a patient under 1 kg): 0 mg is no dose and 1 mg would be more than
        # double it, so no absolute dose; the card gives the mg/kg rate.
        missing = f"the weight-based dose ({wording.number(unrounded)} mg) rounds to 0 mg"
        return replace(
            without_weight,
            text=f"{rule}; {missing}, so no dose is calculated",
            weight_kg=weight_kg,
            weight_reference=weight.reference,
            weight_time=weight.time,
            unrounded_mg=unrounded,
            rounded_mg=rounded,
            missing=missing,
        )
    capped = row.maximum_mg is not None and rounded > row.maximum_mg
    dose = row.maximum_mg if capped and row.maximum_mg is not None else rounded
    per_day = " per day" if row.per_day else ""
    notes = []
    if capped:
        notes.append(
            f"{wording.number(unrounded)} mg, capped at the {row.maximum_mg} mg maximum per dose"
        )
    else:
        if unrounded != rounded:
            notes.append(f"{wording.number(unrounded)} mg rounded")
        if maximum:
            notes.append(maximum)
    arithmetic = f" = {dose} mg{per_day} for {wording.number(weight_kg)} kg"
    if notes:
        arithmetic += f" ({'; '.join(notes)})"
    return replace(
        without_weight,
        text=rule + arithmetic,
        weight_kg=weight_kg,
        weight_reference=weight.reference,
        weight_time=weight.time,
        unrounded_mg=unrounded,
        rounded_mg=rounded,
        capped=capped,
        dose_mg=dose,
    )


def _rule_text(row: DoseRow, protocol: Protocol) -> str:
    """ "tocilizumab 8 mg/kg IV over 1 h (lee2014, age < 18 y)"."""
    text = f"{row.drug} {rate_text(row)} {administration_text(row)}"
    qualifiers = []
    if row.protocols != _BOTH_PROTOCOLS:
        qualifiers.append(wording.PROTOCOL_NAMES[protocol])
    if row.band is not None:
        qualifiers.append(band_text(row.band))
    if qualifiers:
        text += f" ({', '.join(qualifiers)})"
    return text


def _choose_row(
    rows: tuple[DoseRow, ...], measures: dict[PatientMeasure, Decimal | None]
) -> DoseRow | None:
    for row in rows:
        if row.band is None:
            return row
        value = measures[row.band.measure]
        if value is not None and row.band.contains(value):
            return row
    return None


def _band_measure(rows: tuple[DoseRow, ...]) -> PatientMeasure:
    for row in rows:
        if row.band is not None:
            return row.band.measure
    raise AssertionError("a row without a band always applies")  # pragma: no cover


def _usable_weight(weight: Measurement | None) -> tuple[Decimal | None, str | None]:
    """The weight in kg, or None and the reason it cannot be used."""
    if weight is None:
        return None, _NO_WEIGHT
    if not math.isfinite(weight.value) or weight.value <= 0:
        return None, "the recorded body weight is not a positive number"
    return wording.exact_decimal(weight.value), None


def _usable_age(age_years: float | None) -> Decimal | None:
    if age_years is None or not math.isfinite(age_years) or age_years < 0:
        return None
    return wording.exact_decimal(age_years)
