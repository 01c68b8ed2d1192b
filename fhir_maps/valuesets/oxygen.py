"""Oxygen support observations (SPEC 2.3, 2.4): FiO2, oxygen flow, and the delivery device row.

Sources: SPEC 3 and US Core pulse oximetry (3150-0, 3151-8); 19994-3 is the ventilator's
inspired-oxygen setting, the FiO2 of the patient on a ventilator or high-flow system (LOINC
long name "Oxygen/Inspired gas setting [Volume Fraction] Ventilator", confirmed in public LOINC
tables). The device row has no code we could verify (LOINC 41925-9 could not be confirmed as
"oxygen delivery system") and is read by name; its value is read with the device names of
``devices.py``.
"""

from __future__ import annotations

from ._family import SPEC, ObservationFamily, ObservationKind, loinc

_LOINC_TABLES = "public LOINC tables (ventilator settings)"

FIO2 = ObservationFamily(
    ObservationKind.FIO2,
    codes=(
        loinc("3150-0", "Inhaled oxygen concentration", SPEC),
        loinc("19994-3", "Oxygen/Inspired gas setting [Volume Fraction] Ventilator", _LOINC_TABLES),
    ),
    names=(
        "FiO2",
        "fraction of inspired oxygen",
        "inspired oxygen concentration",
        "inhaled oxygen concentration",
        "oxygen concentration",
        "O2 concentration",
    ),
    vetoes=("goal", "target", "limit", "alarm"),
)

O2_FLOW = ObservationFamily(
    ObservationKind.O2_FLOW,
    codes=(loinc("3151-8", "Inhaled oxygen flow rate", SPEC),),
    names=(
        "O2 flow",
        "O2 flow rate",
        "oxygen flow",
        "oxygen flow rate",
        "O2 L/min",
        "oxygen L/min",
        "liter flow",
        "litre flow",
    ),
    vetoes=("goal", "target", "limit", "alarm", "peak", "expiratory"),
)

O2_DEVICE = ObservationFamily(
    ObservationKind.O2_DEVICE,
    codes=(),
    # Not "oxygen delivery" alone: that is also the DO2 index (mL/min/m2) of ICU flowsheets.
    names=(
        "oxygen delivery device",
        "oxygen delivery system",
        "oxygen delivery method",
        "oxygen delivery mode",
        "method of oxygen delivery",
        "O2 delivery device",
        "O2 delivery method",
        "O2 delivery mode",
        "oxygen device",
        "O2 device",
        "oxygen therapy device",
    ),
)

FAMILIES = (FIO2, O2_FLOW, O2_DEVICE)
