"""Heart rate, respiratory rate and SpO2: vital signs whose presence the data gaps check (SPEC
2.2 "no vital signs in the last 24 h"); none of them grades.

Sources: SPEC 3; VSAC "Heart Rate" 2.16.840.1.113883.3.526.3.1176 and "Oxygen Saturation by
Pulse Oximetry" 2.16.840.1.113762.1.4.1045.151 (eCQM 2025-05).
"""

from __future__ import annotations

from ._family import SPEC, VSAC, ObservationFamily, ObservationKind, loinc

_HR = f"{VSAC} 2.16.840.1.113883.3.526.3.1176"
_SPO2 = f"{VSAC} 2.16.840.1.113762.1.4.1045.151"

HEART_RATE = ObservationFamily(
    ObservationKind.HEART_RATE,
    codes=(
        loinc("8867-4", "Heart rate", SPEC),
        loinc("68999-2", "Heart rate --supine", _HR),
        loinc("69000-8", "Heart rate --sitting", _HR),
        loinc("69001-6", "Heart rate --standing", _HR),
    ),
    names=("heart rate", "pulse", "pulse rate"),
    # Not "HR": lab names use it for hours ("24 HR urine").
    # "Pulse pressure" is a pressure; "pulse oximetry" is read as SpO2 (longer name wins).
    vetoes=(
        "pressure",
        "rhythm",
        "quality",
        "site",
        "location",
        "deficit",
        "fetal",
        "variability",
        "goal",
        "target",
    ),
)

RESPIRATORY_RATE = ObservationFamily(
    ObservationKind.RESPIRATORY_RATE,
    codes=(loinc("9279-1", "Respiratory rate", SPEC),),
    names=("respiratory rate", "resp rate", "respirations", "breath rate", "breathing rate"),
    vetoes=("set", "mandatory", "ventilator rate", "goal", "target"),
)

SPO2 = ObservationFamily(
    ObservationKind.SPO2,
    codes=(
        loinc("2708-6", "Oxygen saturation in Arterial blood", SPEC),
        loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", SPEC),
        loinc("59410-1", "Oxygen saturation ... by Pulse oximetry --on room air", _SPO2),
        loinc("59417-6", "Oxygen saturation ... by Pulse oximetry --resting", _SPO2),
    ),
    names=("SpO2", "pulse oximetry", "pulse ox", "oxygen saturation", "O2 saturation", "O2 sat"),
    vetoes=("venous", "ScvO2", "SvO2", "cerebral", "goal", "target"),
)

FAMILIES = (HEART_RATE, RESPIRATORY_RATE, SPO2)
