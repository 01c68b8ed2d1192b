"""Platelets and hemoglobin (SPEC 2.10 IEC-HS cytopenia).

Counts and concentrations in blood (automated, manual, estimated, by specimen); never platelet
indices (MPV, PDW), platelet function or antibodies, or hemoglobin fractions and derivatives
(A1c, fetal, carboxy-, met-, plasma-free hemoglobin, MCH, MCHC). Sources: US Core 7.0.0 example
"cbc-platelets" (777-3); LOINC long names in the GECCO laboratory value set (the rest).
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

from ._family import GECCO, NOT_BLOOD, ObservationFamily, loinc

US_CORE = "US Core 7.0.0 Observation cbc-platelets (LOINC long name)"

PLATELETS = ObservationFamily(
    LabTest.PLATELETS,
    codes=(
        loinc("777-3", "Platelets [#/volume] in Blood by Automated count", US_CORE),
        loinc("26515-7", "Platelets [#/volume] in Blood", GECCO),
        loinc("778-1", "Platelets [#/volume] in Blood by Manual count", GECCO),
        loinc("49497-1", "Platelets [#/volume] in Blood by Estimate", GECCO),
        loinc("74464-9", "Platelets [#/volume] in Capillary blood by Manual count", GECCO),
    ),
    names=("platelet count", "platelets", "platelet", "thrombocytes", "thrombocyte count"),
    acronyms=("PLT", "Plt"),
    vetoes=(
        *NOT_BLOOD,
        "mean platelet",
        "MPV",
        "PDW",
        "distribution width",
        "immature",
        "large",
        "function",
        "aggregation",
        "antibody",
        "antibodies",
        "transfusion",
        "apheresis",
        "units",
        "percent",
        "plasma",
    ),
)

HEMOGLOBIN = ObservationFamily(
    LabTest.HEMOGLOBIN,
    codes=(
        loinc("718-7", "Hemoglobin [Mass/volume] in Blood", GECCO),
        loinc("20509-6", "Hemoglobin [Mass/volume] in Blood by calculation", GECCO),
        loinc("55782-7", "Hemoglobin [Mass/volume] in Blood by Oximetry", GECCO),
        loinc("30313-1", "Hemoglobin [Mass/volume] in Arterial blood", GECCO),
        loinc("14775-1", "Hemoglobin [Mass/volume] in Arterial blood by Oximetry", GECCO),
        loinc("30350-3", "Hemoglobin [Mass/volume] in Venous blood", GECCO),
        loinc("76769-9", "Hemoglobin [Mass/volume] in Venous blood by Oximetry", GECCO),
        loinc("30351-1", "Hemoglobin [Mass/volume] in Mixed venous blood", GECCO),
        loinc("76768-1", "Hemoglobin [Mass/volume] in Mixed venous blood by Oximetry", GECCO),
        loinc("30352-9", "Hemoglobin [Mass/volume] in Capillary blood", GECCO),
        loinc("59260-0", "Hemoglobin [Moles/volume] in Blood", GECCO),
        loinc("75928-2", "Hemoglobin [Moles/volume] in Arterial blood", GECCO),
    ),
    names=("hemoglobin", "haemoglobin", "total hemoglobin", "blood hemoglobin"),
    acronyms=("Hgb", "HGB", "Hb", "HB", "tHb"),
    vetoes=(
        *NOT_BLOOD,
        "A1c",
        "HbA1c",
        "glycated",
        "glycosylated",
        "fetal",
        "hemoglobin F",
        "hemoglobin S",
        "hemoglobin A2",
        "HbF",
        "HbS",
        "HbA2",
        "Hb F",
        "Hb S",
        "electrophoresis",
        "variant",
        "free",
        "carboxyhemoglobin",
        "carboxy",
        "COHb",
        "methemoglobin",
        "MetHb",
        "oxyhemoglobin",
        "saturation",
        "mean corpuscular",
        "MCH",
        "MCHC",
        "reticulocyte",
        "CHr",
    ),
)

FAMILIES = (PLATELETS, HEMOGLOBIN)
