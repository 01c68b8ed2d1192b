"""Lactate (SPEC 2.7 elevated-lactate) from venous, arterial, capillary or unspecified blood, in
mmol/L or mg/dL.

Sources: SPEC 3 (2524-7, 2518-9, 2519-7, 32693-4, 59032-3); LOINC long names in the GECCO
laboratory value set (30242-2, 14118-4, 19240-1, 19239-3). Cerebrospinal-fluid lactate
(2520-5, 27941-4) is not a sepsis sign; lactate dehydrogenase (LDH) is another test.
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, SPEC, ObservationFamily, loinc

FAMILY = ObservationFamily(
    LabTest.LACTATE,
    codes=(
        loinc("2524-7", "Lactate [Moles/volume] in Serum or Plasma", SPEC),
        loinc("2518-9", "Lactate [Moles/volume] in Arterial blood", SPEC),
        loinc("2519-7", "Lactate [Moles/volume] in Venous blood", SPEC),
        loinc("32693-4", "Lactate [Moles/volume] in Blood", SPEC),
        loinc("59032-3", "Lactate [Mass/volume] in Blood", SPEC),
        loinc("30242-2", "Lactate [Mass/volume] in Arterial blood", GECCO),
        loinc("14118-4", "Lactate [Mass/volume] in Serum or Plasma", GECCO),
        loinc("19240-1", "Lactate [Moles/volume] in Mixed venous blood", GECCO),
        loinc("19239-3", "Lactate [Moles/volume] in Capillary blood", GECCO),
    ),
    names=(
        "lactate",
        "lactic acid",
        "lactate arterial",
        "lactate venous",
        "whole blood lactate",
        "blood lactate",
        "POC lactate",
    ),
    # "LDH" is the LDH family's own acronym (valuesets/ldh.py); "lactate dehydrogenase" is
    # longer than "lactate" and wins there.
    vetoes=(*NOT_BLOOD, "dehydrogenase", "LD", "pyruvate", "D-lactate", "D-lactic"),
)
