"""Body weight (SPEC 2.6 dosing): measured weights, and the stated weight as a last resort.

SPEC 3: 29463-7 and 3141-9 are weights; 3142-7 (stated by the patient) is used only when no
measured weight is in the window (``GradingInputs.stated_weights_kg``). Sources: SPEC 3; VSAC
"Body Weight" 2.16.840.1.113762.1.4.1045.159 (eCQM 2025-05). Left out on purpose: dry weight
(8341-0, a dialysis target), usual weight (75292-3) and first weight at an encounter (18833-4).
"""

from __future__ import annotations

from ._family import SPEC, VSAC, ObservationFamily, ObservationKind, loinc

_VS = f"{VSAC} 2.16.840.1.113762.1.4.1045.159"

#: Weights that are not today's body weight of the patient.
_NOT_BODY_WEIGHT = (
    "birth",
    "ideal",
    "IBW",
    "lean",
    "adjusted",
    "dosing",
    "usual",
    "dry",
    "goal",
    "target",
    "percentile",
    "change",
    "gain",
    "loss",
    "difference",
    "delta",
    "pre-pregnancy",
    "fetal",
    "estimated",
    "ratio",
    "for length",
    "for height",
    "BMI",
    "bearing",
)

WEIGHT = ObservationFamily(
    ObservationKind.WEIGHT,
    codes=(
        loinc("29463-7", "Body weight", SPEC),
        loinc("3141-9", "Body weight Measured", SPEC),
        loinc("8350-1", "Body weight Measured --with clothes", _VS),
        loinc("8351-9", "Body weight Measured --without clothes", _VS),
        loinc("8349-3", "Body weight Measured --preoperative", _VS),
        loinc("8346-9", "Body weight Measured --postoperative", _VS),
    ),
    names=("weight", "body weight", "weight measured", "measured weight"),
    acronyms=("Wt", "WT"),
    vetoes=(*_NOT_BODY_WEIGHT, "stated", "reported", "self-reported"),
)

WEIGHT_STATED = ObservationFamily(
    ObservationKind.WEIGHT_STATED,
    codes=(loinc("3142-7", "Body weight Stated", SPEC),),
    names=(
        "stated weight",
        "weight stated",
        "body weight stated",
        "reported weight",
        "weight reported",
        "self-reported weight",
        "patient reported weight",
    ),
    vetoes=_NOT_BODY_WEIGHT,
)

FAMILIES = (WEIGHT, WEIGHT_STATED)
