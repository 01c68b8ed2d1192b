"""CRP, ferritin, IL-6 (SPEC 2.8 biomarkers) and procalcitonin (shown beside infection signs).

Sources: SPEC 3; LOINC long names in the GECCO laboratory value set and public LOINC-coded lab
lists. None of these changes a grade (SPEC 2.8).
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, SPEC, ObservationFamily, loinc

_LISTS = "public LOINC-coded lab lists (LOINC long name)"

CRP = ObservationFamily(
    LabTest.CRP,
    codes=(
        loinc("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", SPEC),
        loinc(
            "30522-7", "C reactive protein [Mass/volume] in S/P by High sensitivity method", GECCO
        ),
        loinc("71426-1", "C reactive protein [Mass/volume] in Blood by High sensitivity", GECCO),
    ),
    names=("C-reactive protein", "C reactive protein", "hs-CRP"),
    acronyms=("CRP",),
    vetoes=NOT_BLOOD,
)

FERRITIN = ObservationFamily(
    LabTest.FERRITIN,
    codes=(
        loinc("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", SPEC),
        loinc("20567-4", "Ferritin [Mass/volume] in Serum or Plasma by Immunoassay", GECCO),
        loinc("24373-3", "Ferritin [Mass/volume] in Blood", _LISTS),
    ),
    names=("ferritin",),
    vetoes=NOT_BLOOD,
)

IL6 = ObservationFamily(
    LabTest.IL6,
    codes=(loinc("26881-3", "Interleukin 6 [Mass/volume] in Serum or Plasma", SPEC),),
    names=("interleukin 6", "interleukin-6", "IL-6", "IL6"),
    vetoes=(*NOT_BLOOD, "receptor", "presence"),
)

PROCALCITONIN = ObservationFamily(
    LabTest.PROCALCITONIN,
    codes=(
        loinc("33959-8", "Procalcitonin [Mass/volume] in Serum or Plasma", SPEC),
        loinc("75241-0", "Procalcitonin [Mass/volume] in Serum or Plasma by Immunoassay", GECCO),
    ),
    names=("procalcitonin",),
    vetoes=NOT_BLOOD,
)

FAMILIES = (CRP, FERRITIN, IL6, PROCALCITONIN)
