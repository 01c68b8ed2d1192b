"""Fibrinogen (SPEC 2.3, CTCAE v4.03 Fibrinogen decreased).

Sources: SPEC 3; LOINC long names in the GECCO laboratory value set (48664-7 Coagulation.derived,
30902-1 Heat denaturation). Fibrin(ogen) degradation products and D-dimer are not fibrinogen.
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, SPEC, ObservationFamily, loinc

FAMILY = ObservationFamily(
    LabTest.FIBRINOGEN,
    codes=(
        loinc("3255-7", "Fibrinogen [Mass/volume] in Platelet poor plasma by Coagulation", SPEC),
        loinc("48664-7", "Fibrinogen [Mass/volume] in PPP by Coagulation.derived", GECCO),
        loinc("30902-1", "Fibrinogen [Mass/volume] in PPP by Heat denaturation", GECCO),
    ),
    names=("fibrinogen", "Clauss fibrinogen", "fibrinogen activity", "fibrinogen level"),
    vetoes=(
        *NOT_BLOOD,
        "degradation",
        "FDP",
        "split",
        "dimer",
        "D-dimer",
        "presence",
        "receptor",
        "functional/antigen",
    ),
)
