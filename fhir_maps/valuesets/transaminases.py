"""AST and ALT (SPEC 2.3 transaminitis, CTCAE v4.03), with and without pyridoxal 5'-phosphate.

Sources: SPEC 3; VSAC "Aspartate transaminase lab test" 2.16.840.1.113762.1.4.1248.224 (eCQM
2025-05: 1920-8, 30239-8, 88112-8); LOINC long names of the ALT codes in public LOINC-coded lab
lists (1743-4, 1744-2, 76625-3). Not added: 77144-4 and 48134-1 (listed with ALT by some
projects; their LOINC long names could not be confirmed).
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import NOT_BLOOD, SPEC, VSAC, ObservationFamily, loinc

_AST = f"{VSAC} 2.16.840.1.113762.1.4.1248.224"
_LISTS = "public LOINC-coded lab lists (LOINC long name)"
_NOT_AST_ALT = (*NOT_BLOOD, "isoenzyme", "isoenzymes", "mitochondrial")

AST = ObservationFamily(
    LabTest.AST,
    codes=(
        loinc("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] S/P", SPEC),
        loinc("30239-8", "Aspartate aminotransferase ... S/P by With P-5'-P", _AST),
        loinc("88112-8", "Aspartate aminotransferase ... S/P by No addition of P-5'-P", _AST),
    ),
    names=(
        "aspartate aminotransferase",
        "aspartate transaminase",
        "aspartate amino transferase",
        "SGOT",
    ),
    acronyms=("AST",),
    vetoes=_NOT_AST_ALT,
)

ALT = ObservationFamily(
    LabTest.ALT,
    codes=(
        loinc("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] S/P", SPEC),
        loinc("1743-4", "Alanine aminotransferase ... S/P by With P-5'-P", SPEC),
        loinc("1744-2", "Alanine aminotransferase ... S/P by No addition of P-5'-P", _LISTS),
        loinc("76625-3", "Alanine aminotransferase [Enzymatic activity/volume] in Blood", SPEC),
    ),
    names=(
        "alanine aminotransferase",
        "alanine transaminase",
        "alanine amino transferase",
        "SGPT",
    ),
    acronyms=("ALT",),
    vetoes=_NOT_AST_ALT,
)

FAMILIES = (AST, ALT)
