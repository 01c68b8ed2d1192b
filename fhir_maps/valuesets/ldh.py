"""Lactate dehydrogenase (SPEC 2.10 IEC-HS: LDH > 2 x ULN), in serum or plasma.

Sources: LOINC long names in the GECCO laboratory value set. Body-fluid LDH (14803-1, 60017-1)
and isoenzymes are not the serum result; lactate is another test (its family vetoes "LDH").
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, ObservationFamily, loinc

FAMILY = ObservationFamily(
    LabTest.LDH,
    codes=(
        loinc(
            "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", GECCO
        ),
        loinc(
            "14804-9",
            "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma by Lactate to "
            "pyruvate reaction",
            GECCO,
        ),
        loinc(
            "14805-6",
            "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma by Pyruvate to "
            "lactate reaction",
            GECCO,
        ),
    ),
    names=("lactate dehydrogenase", "lactic dehydrogenase", "lactic acid dehydrogenase"),
    acronyms=("LDH",),  # not "LD": vetoed for lactate, and too short to be sure
    vetoes=(
        *NOT_BLOOD,
        "isoenzyme",
        "isoenzymes",
        "isoform",
        "isoforms",
        "LD1",
        "LD2",
        "LD3",
        "LD4",
        "LD5",
    ),
)
