"""Unit conversions: every unit the mapping accepts and how it becomes the grading unit.

One place for all of them (STYLE "one concept, one place"). Units are looked up by a normalised
key: trimmed, spaces removed, lower case, micro sign and Greek mu as "u" (UCUM is case-sensitive,
but EHRs send "mg/dl" and "MG/DL" as often as "mg/dL"; no two units we accept differ only by case).
A Quantity's UCUM ``code`` is tried first, then its human ``unit``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from crs_grading.inputs import LabTest

from .call_caches import call_cache

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Linear:
    """``value * factor + offset``."""

    factor: float
    offset: float = 0.0

    def __call__(self, value: float) -> float:
        return value * self.factor + self.offset


SAME = Linear(1.0)


#: Unit strings longer than this are keyed without the cache: a cache keyed by whole strings
#: keeps what it holds alive (issue 11: 8 MB strings grew a worker by 300 MiB), and no unit we
#: know is this long.
_CACHED_UNIT_CHARS = 64


def unit_key(text: str) -> str:
    """The lookup key of a unit string (short ones cached: payloads repeat a few units)."""
    if len(text) > _CACHED_UNIT_CHARS:
        return _unit_key(text)
    return _cached_unit_key(text)


def _unit_key(text: str) -> str:
    return text.strip().replace(" ", "").replace("\u00b5", "u").replace("\u03bc", "u").lower()


_cached_unit_key = call_cache(maxsize=512)(_unit_key)


def quantity_unit_keys(quantity: Mapping[str, Any]) -> list[str]:
    """Lookup keys of a Quantity's ``code`` then ``unit`` (empty: the Quantity has no unit)."""
    code = quantity.get("code")
    unit = quantity.get("unit")
    return unit_keys(
        code if isinstance(code, str) else None, unit if isinstance(unit, str) else None
    )


def unit_keys(code_text: str | None, unit_text: str | None) -> list[str]:
    """``quantity_unit_keys`` of a Quantity's ``code`` and ``unit`` texts."""
    if (code_text is not None and len(code_text) > _CACHED_UNIT_CHARS) or (
        unit_text is not None and len(unit_text) > _CACHED_UNIT_CHARS
    ):
        return list(_unit_keys(code_text, unit_text))
    return list(_cached_unit_keys(code_text, unit_text))


def _unit_keys(code: str | None, unit: str | None) -> tuple[str, ...]:
    """Keys of a (code, unit) pair, each once (cached: payloads repeat a handful of pairs)."""
    keys: list[str] = []
    for text in (code, unit):
        if text is not None and text.strip():
            key = unit_key(text)
            if key not in keys:
                keys.append(key)
    return tuple(keys)


_cached_unit_keys = call_cache(maxsize=512)(_unit_keys)


class UnitProblem(Exception):
    """The unit is missing (``missing``) or not one the table knows."""

    def __init__(self, missing: bool) -> None:
        super().__init__("missing unit" if missing else "unknown unit")
        self.missing = missing


def lookup(keys: list[str], table: Mapping[str, T]) -> T:
    """The table entry of the first key found; ``UnitProblem`` when none is."""
    if not keys:
        raise UnitProblem(missing=True)
    for key in keys:
        entry = table.get(key)
        if entry is not None:
            return entry
    raise UnitProblem(missing=False)


# --- vital signs ------------------------------------------------------------------------------

_FAHRENHEIT_TO_CELSIUS = Linear(5.0 / 9.0, -32.0 * 5.0 / 9.0)

#: Body temperature to degrees Celsius. UCUM: Cel, [degF]; the rest are common non-UCUM forms.
TEMPERATURE_TO_CELSIUS: dict[str, Linear] = {
    "cel": SAME,
    "\u00b0c": SAME,
    "degc": SAME,
    "c": SAME,
    "celsius": SAME,
    "[degf]": _FAHRENHEIT_TO_CELSIUS,
    "degf": _FAHRENHEIT_TO_CELSIUS,
    "\u00b0f": _FAHRENHEIT_TO_CELSIUS,
    "f": _FAHRENHEIT_TO_CELSIUS,
    "fahrenheit": _FAHRENHEIT_TO_CELSIUS,
    "k": Linear(1.0, -273.15),
}

_POUND_KG = 0.45359237  # international avoirdupois pound, exact

#: Body weight to kilograms. UCUM: kg, g, [lb_av], [oz_av].
WEIGHT_TO_KG: dict[str, Linear] = {
    "kg": SAME,
    "g": Linear(0.001),
    "[lb_av]": Linear(_POUND_KG),
    "lb": Linear(_POUND_KG),
    "lbs": Linear(_POUND_KG),
    "[oz_av]": Linear(_POUND_KG / 16.0),
    "oz": Linear(_POUND_KG / 16.0),
}

#: Blood pressure to mmHg (1 kPa = 7.50062 mmHg). A BP without a unit is read as mmHg.
PRESSURE_TO_MMHG: dict[str, Linear] = {
    "mm[hg]": SAME,
    "mmhg": SAME,
    "kpa": Linear(7.50062),
}

#: Oxygen flow to L/min.
FLOW_TO_L_PER_MIN: dict[str, Linear] = {
    "l/min": SAME,
    "lpm": SAME,
    "liters/min": SAME,
    "litres/min": SAME,
    "l/minute": SAME,
    "ml/min": Linear(0.001),
}

_PERCENT_UNITS = frozenset({"%", "percent"})
_FRACTION_UNITS = frozenset({"1", "{fraction}", "{ratio}"})


def percent(value: float, keys: list[str]) -> float:
    """A percentage from a value in % or as a fraction.

    Unit "%" (or "percent"): the value as is. Unit "1" or no unit: a value <= 1.0 is a fraction
    (0.4 -> 40 %), a larger one is already a percentage (no real FiO2, SpO2 or LVEF is <= 1 %).
    ``UnitProblem`` for any other unit.
    """
    if not keys:
        return value * 100.0 if value <= 1.0 else value
    for key in keys:
        if key in _PERCENT_UNITS:
            return value
        if key in _FRACTION_UNITS:
            return value * 100.0 if value <= 1.0 else value
    raise UnitProblem(missing=False)


# --- laboratory -------------------------------------------------------------------------------

# Cell counts (ANC, WBC, platelets) in every spelling EHRs send (SPEC 3: build for the class;
# review finding: "K/mcL" and "/mcL" were refused, and neutropenia (SPEC 2.7) and the IEC-HS
# cytopenia (SPEC 2.10) lost with them). A count unit is [a thousand][what is counted]/[a
# microlitre], or a power of ten per litre; the spellings of each part are listed once below.

#: A microlitre: UCUM uL (``unit_key`` writes the micro sign and the Greek mu as "u"), "mcL" (a
#: common US form), the words; and the cubic millimetre, which is one microlitre: mm3, mm^3,
#: mm³, "cu mm" and "cumm" (``unit_key`` drops spaces), "cmm".
_MICROLITRE = ("ul", "mcl", "microliter", "microlitre", "mm3", "mm^3", "mm\u00b3", "cumm", "cmm")
#: What is counted, written before the "/": nothing, "cells", UCUM's annotation {cells}, "#".
_COUNTED = ("", "cells", "{cells}", "#")
#: A thousand: UCUM 10*3 and the ways reports print it (10^3, 10³, 10E3, 10(3), 1000), each
#: alone or after "x" or "×"; "K" and "thou" as US reports print them ("K/uL"), never a bare "K".
_THOUSAND = (
    *(
        f"{times}{number}"
        for times in ("", "x", "\u00d7")
        for number in ("10*3", "10^3", "10\u00b3", "10e3", "10(3)", "1000")
    ),
    "k",
    "thou",
)
#: 10^9 per litre (= 10^3 per microlitre): UCUM 10*9/L printed as the thousands are, with or
#: without what is counted; "G/L" (giga per litre), the European form. "/L" without a power is
#: cells per litre: never read as a count per microlitre.
_GIGA_PER_LITRE = (
    *(
        f"{times}{number}{counted}/l"
        for times in ("", "x", "\u00d7")
        for number in ("10*9", "10^9", "10\u2079", "10e9", "10(9)")
        for counted in _COUNTED
    ),
    "g/l",
)

#: Cells per microlitre ("/uL", "cells/mcL", "/cu mm", ...).
_PER_UL = {f"{counted}/{volume}": SAME for counted in _COUNTED for volume in _MICROLITRE}
#: Thousands of cells per microlitre ("10*3/uL", "K/mcL", "x10(3)/uL", "10^9/L", "G/L", ...).
_THOUSANDS_PER_UL = {
    **{
        f"{thousand}{counted}/{volume}": SAME
        for thousand in _THOUSAND
        for counted in _COUNTED
        for volume in _MICROLITRE
    },
    **{key: SAME for key in _GIGA_PER_LITRE},
}

#: Laboratory results to the unit of ``crs_grading.inputs.LAB_UNITS``.
LAB_TO_STANDARD: dict[LabTest, dict[str, Linear]] = {
    LabTest.AST: {
        "u/l": SAME,
        "iu/l": SAME,
        "[iu]/l": SAME,
        "units/l": SAME,
        "ukat/l": Linear(60.0),
    },
    LabTest.ALT: {
        "u/l": SAME,
        "iu/l": SAME,
        "[iu]/l": SAME,
        "units/l": SAME,
        "ukat/l": Linear(60.0),
    },
    # 1 mg/dL bilirubin = 17.1 umol/L (SPEC 2.3)
    LabTest.BILIRUBIN: {"mg/dl": SAME, "umol/l": Linear(1.0 / 17.1)},
    # 1 mg/dL creatinine = 88.4 umol/L (SPEC 2.3)
    LabTest.CREATININE: {
        "mg/dl": SAME,
        "umol/l": Linear(1.0 / 88.4),
        "mmol/l": Linear(1000.0 / 88.4),
    },
    # 1 g/L = 100 mg/dL (SPEC 2.3)
    LabTest.FIBRINOGEN: {
        "mg/dl": SAME,
        "g/l": Linear(100.0),
        "mg/l": Linear(0.1),
        "g/dl": Linear(1000.0),
    },
    LabTest.LVEF: {"%": SAME},  # read through percent(); listed for the documentation
    # 1 mg/dL = 10 mg/L; ug/mL = mg/L
    LabTest.CRP: {"mg/l": SAME, "ug/ml": SAME, "mg/dl": Linear(10.0)},
    LabTest.FERRITIN: {"ng/ml": SAME, "ug/l": SAME},  # ug/L = ng/mL
    LabTest.IL6: {"pg/ml": SAME, "ng/l": SAME},  # ng/L = pg/mL
    LabTest.ANC: {**_PER_UL, **{key: Linear(1000.0) for key in _THOUSANDS_PER_UL}},
    LabTest.WBC: {**_THOUSANDS_PER_UL, **{key: Linear(0.001) for key in _PER_UL}},
    # lactate: mg/dL / 9.01 = mmol/L (SPEC 2.7; molar mass 90.08 g/mol); mEq/L = mmol/L
    LabTest.LACTATE: {"mmol/l": SAME, "meq/l": SAME, "mg/dl": Linear(1.0 / 9.01)},
    LabTest.PROCALCITONIN: {"ng/ml": SAME, "ug/l": SAME},
    # platelets as 10^9/L (= 10^3/uL); a count per uL / 1000 (SPEC 2.10)
    LabTest.PLATELETS: {**_THOUSANDS_PER_UL, **{key: Linear(0.001) for key in _PER_UL}},
    # hemoglobin g/dL; g/L / 10; mmol/L (monomer, 16.114 g/mmol) x 1.6114 (SPEC 2.10)
    LabTest.HEMOGLOBIN: {
        "g/dl": SAME,
        "g/l": Linear(0.1),
        "mg/dl": Linear(0.001),
        "mmol/l": Linear(1.6114),
    },
    # LDH as AST and ALT: enzyme activity per litre; 1 ukat/L = 60 U/L
    LabTest.LDH: {
        "u/l": SAME,
        "iu/l": SAME,
        "[iu]/l": SAME,
        "units/l": SAME,
        "ukat/l": Linear(60.0),
    },
}


# --- doses and infusion rates -----------------------------------------------------------------

#: A dose to milligrams.
DOSE_TO_MG: dict[str, Linear] = {
    "mg": SAME,
    "g": Linear(1000.0),
    "ug": Linear(0.001),
    "mcg": Linear(0.001),
}

#: A weight-based dose to mg/kg.
DOSE_TO_MG_PER_KG: dict[str, Linear] = {
    "mg/kg": SAME,
    "g/kg": Linear(1000.0),
    "ug/kg": Linear(0.001),
    "mcg/kg": Linear(0.001),
}

MASS, UNITS, VOLUME = "mass", "units", "volume"

#: Amount units of a rate or a concentration: (what it measures, factor to ug, units or mL).
_AMOUNTS: dict[str, tuple[str, float]] = {
    "ug": (MASS, 1.0),
    "mcg": (MASS, 1.0),
    "mg": (MASS, 1000.0),
    "g": (MASS, 1_000_000.0),
    "ng": (MASS, 0.001),
    "u": (UNITS, 1.0),
    "[u]": (UNITS, 1.0),
    "unit": (UNITS, 1.0),
    "units": (UNITS, 1.0),
    "{units}": (UNITS, 1.0),
    "[iu]": (UNITS, 1.0),
    "iu": (UNITS, 1.0),
    "mu": (UNITS, 0.001),
    "m[iu]": (UNITS, 0.001),
    "milliunits": (UNITS, 0.001),
    "ml": (VOLUME, 1.0),
    "l": (VOLUME, 1000.0),
}

#: Time units of a rate: factor to "per minute".
_PER_TIME: dict[str, float] = {
    "min": 1.0,
    "minute": 1.0,
    "h": 1.0 / 60.0,
    "hr": 1.0 / 60.0,
    "hour": 1.0 / 60.0,
    "s": 60.0,
    "sec": 60.0,
    "d": 1.0 / 1440.0,
    "day": 1.0 / 1440.0,
}


@dataclass(frozen=True, slots=True)
class RateUnit:
    """A parsed infusion-rate unit: ``value * factor`` is in ug, units or mL per (kg per) min."""

    measure: str  # MASS, UNITS or VOLUME
    factor: float
    per_kg: bool


_ATTACHED_ANNOTATION = re.compile(r"(?<=[a-z\]])\{[^}]*\}")


def _strip_annotations(key: str) -> str:
    """Drop UCUM annotations glued to a unit ("ug/kg/min{drip}" -> "ug/kg/min")."""
    return _ATTACHED_ANNOTATION.sub("", key)


def parse_rate_unit(key: str) -> RateUnit | None:
    """Parse a normalised rate unit such as ``ug/kg/min``, ``mg/h``, ``units/min``, ``ml/hr``.

    Accepted shapes: amount/time, amount/kg/time, amount/time/kg, amount/(kg.time). ``None`` for
    anything else.
    """
    key = _strip_annotations(key).replace("(kg.", "kg/").replace(".kg)", "/kg").replace(")", "")
    parts = [part for part in key.split("/") if part]
    if len(parts) < 2 or len(parts) > 3:
        return None
    amount = _AMOUNTS.get(parts[0])
    if amount is None:
        return None
    rest = parts[1:]
    per_kg = "kg" in rest
    if per_kg:
        rest.remove("kg")
    if len(rest) != 1:
        return None
    per_time = _PER_TIME.get(rest[0])
    if per_time is None:
        return None
    measure, amount_factor = amount
    return RateUnit(measure, amount_factor * per_time, per_kg)


def parse_amount_unit(key: str) -> tuple[str, float] | None:
    """An amount unit (numerator of a concentration): (measure, factor to ug, units or mL)."""
    return _AMOUNTS.get(key)
