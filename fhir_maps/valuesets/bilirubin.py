"""Total bilirubin (SPEC 2.3, CTCAE v4.03 Blood bilirubin increased) in serum, plasma or blood.

Sources: SPEC 3; VSAC "Bilirubin lab test" 2.16.840.1.113762.1.4.1248.223 (eCQM 2025-05).
Direct, indirect, conjugated and neonatal transcutaneous bilirubin are not total bilirubin.
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import NOT_BLOOD, SPEC, VSAC, ObservationFamily, loinc

_VS = f"{VSAC} 2.16.840.1.113762.1.4.1248.223"

FAMILY = ObservationFamily(
    LabTest.BILIRUBIN,
    codes=(
        loinc("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", SPEC),
        loinc("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma", _VS),
        loinc("42719-5", "Bilirubin.total [Mass/volume] in Blood", _VS),
        loinc("54363-7", "Bilirubin.total [Moles/volume] in Blood", _VS),
        loinc("59827-6", "Bilirubin.total [Mass/volume] in Arterial blood", _VS),
        loinc("59828-4", "Bilirubin.total [Mass/volume] in Venous blood", _VS),
        loinc("77137-8", "Bilirubin.total [Moles/volume] in Serum, Plasma or Blood", _VS),
        loinc("89871-8", "Bilirubin.total [Moles/volume] in Venous blood", _VS),
        loinc("89872-6", "Bilirubin.total [Moles/volume] in Arterial blood", _VS),
        loinc("97770-2", "Bilirubin.total [Moles/volume] in Capillary blood", _VS),
    ),
    names=("bilirubin", "total bilirubin", "bilirubin total", "T bili", "Tbili", "T. bili"),
    vetoes=(
        *NOT_BLOOD,
        "direct",
        "indirect",
        "conjugated",
        "unconjugated",
        "delta",
        "transcutaneous",
        "presence",
    ),
)
