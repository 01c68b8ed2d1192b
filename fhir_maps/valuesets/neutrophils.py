"""Absolute neutrophil count (SPEC 2.7 neutropenia) and white blood cells.

ANC and its equivalents: automated, manual and method-unspecified neutrophil counts per volume,
and the segmented-neutrophil count that some laboratories report as the ANC (it leaves out
bands, so it is at most the ANC: never a missed neutropenia). Percentages are not counts.
Sources: SPEC 3; GECCO laboratory value set and public LOINC-coded lab lists (LOINC long
names); VSAC "White Blood Cells Count Lab Test" 2.16.840.1.113762.1.4.1045.129 (eCQM 2025-05).
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, SPEC, VSAC, ObservationFamily, loinc

_LISTS = "public LOINC-coded lab lists (LOINC long name)"
_WBC = f"{VSAC} 2.16.840.1.113762.1.4.1045.129"
_NOT_A_COUNT = (*NOT_BLOOD, "percent", "per 100", "100 leukocytes", "fraction")

ANC = ObservationFamily(
    LabTest.ANC,
    codes=(
        loinc("751-8", "Neutrophils [#/volume] in Blood by Automated count", SPEC),
        loinc("753-4", "Neutrophils [#/volume] in Blood by Manual count", GECCO),
        loinc("26499-4", "Neutrophils [#/volume] in Blood", GECCO),
        loinc("30451-9", "Segmented neutrophils [#/volume] in Blood", _LISTS),
    ),
    names=(
        "absolute neutrophil count",
        "absolute neutrophils",
        "neutrophils absolute",
        "neutrophil absolute",
        "neutrophils abs",
        "abs neutrophils",
        "abs neut",
        "absolute neut",
        "neutrophil count absolute",
        # Inverted as lab systems list them ("Neutrophils, Absolute"): the comma must be there.
        "neutrophils, absolute",
        "neutrophils (absolute)",
        "neutrophil count, absolute",
        "neutrophils, abs",
    ),
    acronyms=("ANC",),
    # Subsets of the neutrophils, not the ANC: a band count of 0.1 is no neutropenia.
    vetoes=(*_NOT_A_COUNT, "band", "bands", "immature", "hypersegmented"),
)

WBC = ObservationFamily(
    LabTest.WBC,
    codes=(
        loinc("6690-2", "Leukocytes [#/volume] in Blood by Automated count", SPEC),
        loinc("26464-8", "Leukocytes [#/volume] in Blood", _WBC),
        loinc("804-5", "Leukocytes [#/volume] in Blood by Manual count", _WBC),
        loinc("49498-9", "Leukocytes [#/volume] in Blood by Estimate", _WBC),
        loinc("33256-9", "Leukocytes [#/volume] corrected for nucleated erythrocytes ...", _WBC),
        loinc(
            "12227-5", "Leukocytes [#/volume] corrected for nucleated erythrocytes in Blood", _WBC
        ),
    ),
    names=("white blood cell count", "white blood cells", "white cell count", "leukocyte count"),
    acronyms=("WBC",),
    vetoes=(*_NOT_A_COUNT, "esterase", "clumps", "cast", "casts"),
)

FAMILIES = (ANC, WBC)
