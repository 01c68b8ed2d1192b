"""Serum creatinine (SPEC 2.3, CTCAE v4.03 Creatinine increased) in serum, plasma or blood.

Sources: SPEC 3; VSAC "Creatinine Lab Test" 2.16.840.1.113883.3.666.5.2363 (eCQM 2025-05).
Left out on purpose: the pre- and post-dialysis codes of that value set (11041-1, 11042-9,
51619-5, 51620-3), whose values depend on the dialysis, not on kidney injury.
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import NOT_BLOOD, SPEC, VSAC, ObservationFamily, loinc

_VS = f"{VSAC} 2.16.840.1.113883.3.666.5.2363"

FAMILY = ObservationFamily(
    LabTest.CREATININE,
    codes=(
        loinc("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", SPEC),
        loinc("38483-4", "Creatinine [Mass/volume] in Blood", SPEC),
        loinc("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", SPEC),
        loinc("21232-4", "Creatinine [Mass/volume] in Arterial blood", _VS),
        loinc("59826-8", "Creatinine [Moles/volume] in Blood", _VS),
        loinc("77140-2", "Creatinine [Moles/volume] in Serum, Plasma or Blood", _VS),
        loinc("101475-2", "Creatinine [Moles/volume] in Venous blood", _VS),
    ),
    names=("creatinine", "creat", "serum creatinine"),
    vetoes=(
        *NOT_BLOOD,
        "clearance",
        "CrCl",
        "GFR",
        "eGFR",
        "excretion",
        "index",
        "dialysis",
        "kinase",
    ),
)
