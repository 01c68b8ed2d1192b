"""Left ventricular ejection fraction (SPEC 2.3, CTCAE v4.03 Ejection fraction decreased).

Sources: SPEC 3 (10230-1); 18043-0 carried over (verified when first added, issue 2).
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import CARRIED, SPEC, ObservationFamily, loinc

FAMILY = ObservationFamily(
    LabTest.LVEF,
    codes=(
        loinc("10230-1", "Left ventricular Ejection fraction", SPEC),
        loinc("18043-0", "Left ventricular Ejection fraction by US", CARRIED),
    ),
    names=(
        "left ventricular ejection fraction",
        "LV ejection fraction",
        "LV EF",
        "ejection fraction, LV",
        "ejection fraction, left ventricular",
    ),
    acronyms=("LVEF",),
    vetoes=("right", "RVEF", "goal", "target"),
)
