"""Observation codes and result values that grading reads (SPEC 2.3-2.8, SPEC 3).

Sources: "SPEC 3" marks the reference codes of the product specification; "verified" marks
LOINC equivalents checked against LOINC term listings and public FHIR implementation guides
(US Core, HL7 vital-signs) while writing this module. Codes we could not verify are left out
and matched by name where that is safe (see docs/fhir-mapping.md).
"""

from __future__ import annotations

import enum

from crs_grading.inputs import LabTest, NeuroScoreKind

from .._names import NameMatcher, phrases


class ObservationKind(enum.StrEnum):
    """What an Observation (or one of its components) measures, apart from the labs."""

    TEMPERATURE = "temperature"
    BP_PANEL = "bp-panel"
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL = "mean-arterial"
    HEART_RATE = "heart-rate"
    RESPIRATORY_RATE = "respiratory-rate"
    SPO2 = "spo2"
    FIO2 = "fio2"
    O2_FLOW = "o2-flow"
    O2_DEVICE = "o2-device"
    WEIGHT = "weight"
    BLOOD_CULTURE = "blood-culture"
    GCS = "gcs"
    ICE = "ice"


ObservationConcept = ObservationKind | LabTest

#: LOINC code -> what it measures.
LOINC_OBSERVATIONS: dict[str, ObservationConcept] = {
    # body temperature
    "8310-5": ObservationKind.TEMPERATURE,  # Body temperature (SPEC 3)
    "8331-1": ObservationKind.TEMPERATURE,  # Oral temperature (verified)
    "8328-7": ObservationKind.TEMPERATURE,  # Axillary temperature (verified)
    "8332-9": ObservationKind.TEMPERATURE,  # Rectal temperature (verified)
    "8329-5": ObservationKind.TEMPERATURE,  # Body temperature - Core (verified)
    # blood pressure
    "85354-9": ObservationKind.BP_PANEL,  # BP panel with all children optional (SPEC 3)
    "55284-4": ObservationKind.BP_PANEL,  # BP systolic and diastolic (US Core STU1)
    "8480-6": ObservationKind.SYSTOLIC,  # Systolic blood pressure (SPEC 3)
    "8462-4": ObservationKind.DIASTOLIC,  # Diastolic blood pressure (SPEC 3)
    "8478-0": ObservationKind.MEAN_ARTERIAL,  # Mean blood pressure (SPEC 3)
    "76534-7": ObservationKind.SYSTOLIC,  # Systolic blood pressure by Noninvasive (verified)
    "76215-3": ObservationKind.SYSTOLIC,  # Invasive Systolic BP (verified; arterial line)
    "76213-8": ObservationKind.DIASTOLIC,  # Invasive Diastolic blood pressure (verified)
    "76214-6": ObservationKind.MEAN_ARTERIAL,  # Invasive Mean blood pressure (verified)
    # heart and respiration
    "8867-4": ObservationKind.HEART_RATE,  # Heart rate (SPEC 3)
    "9279-1": ObservationKind.RESPIRATORY_RATE,  # Respiratory rate (SPEC 3)
    "2708-6": ObservationKind.SPO2,  # Oxygen saturation in Arterial blood (SPEC 3, US Core)
    "59408-5": ObservationKind.SPO2,  # ... by Pulse oximetry (SPEC 3, US Core pulse oximetry)
    "3150-0": ObservationKind.FIO2,  # Inhaled oxygen concentration (SPEC 3, US Core component)
    "3151-8": ObservationKind.O2_FLOW,  # Inhaled oxygen flow rate (SPEC 3, US Core component)
    "29463-7": ObservationKind.WEIGHT,  # Body weight (SPEC 3)
    # neurology
    "9269-2": ObservationKind.GCS,  # Glasgow coma score total (SPEC 3)
    # blood cultures
    "600-7": ObservationKind.BLOOD_CULTURE,  # Bacteria identified in Blood by Culture (SPEC 3)
    "17928-3": ObservationKind.BLOOD_CULTURE,  # ... in Blood by Aerobe culture (verified)
    "17934-1": ObservationKind.BLOOD_CULTURE,  # ... in Blood by Anaerobe culture (verified)
    # laboratory (SPEC 2.3 organ toxicity, 2.7 infection signals, 2.8 biomarkers)
    "1920-8": LabTest.AST,  # Aspartate aminotransferase [Enzymatic activity/volume] S/P (SPEC 3)
    "1742-6": LabTest.ALT,  # Alanine aminotransferase [Enzymatic activity/volume] S/P (SPEC 3)
    "1975-2": LabTest.BILIRUBIN,  # Bilirubin.total [Mass/volume] S/P (SPEC 3)
    "14631-6": LabTest.BILIRUBIN,  # Bilirubin.total [Moles/volume] S/P (verified; umol/L)
    "2160-0": LabTest.CREATININE,  # Creatinine [Mass/volume] S/P (SPEC 3)
    "38483-4": LabTest.CREATININE,  # Creatinine [Mass/volume] in Blood (verified)
    "14682-9": LabTest.CREATININE,  # Creatinine [Moles/volume] S/P (verified; umol/L)
    "3255-7": LabTest.FIBRINOGEN,  # Fibrinogen [Mass/volume] PPP by Coagulation assay (SPEC 3)
    "10230-1": LabTest.LVEF,  # Left ventricular Ejection fraction (SPEC 3)
    "18043-0": LabTest.LVEF,  # Left ventricular Ejection fraction by US (verified)
    "1988-5": LabTest.CRP,  # C reactive protein [Mass/volume] S/P (SPEC 3)
    "2276-4": LabTest.FERRITIN,  # Ferritin [Mass/volume] S/P (SPEC 3)
    "26881-3": LabTest.IL6,  # Interleukin 6 [Mass/volume] S/P (SPEC 3)
    "751-8": LabTest.ANC,  # Neutrophils [#/volume] in Blood by Automated count (SPEC 3)
    "753-4": LabTest.ANC,  # Neutrophils [#/volume] in Blood by Manual count (verified)
    "26499-4": LabTest.ANC,  # Neutrophils [#/volume] in Blood (verified)
    "6690-2": LabTest.WBC,  # Leukocytes [#/volume] in Blood by Automated count (SPEC 3)
    "26464-8": LabTest.WBC,  # Leukocytes [#/volume] in Blood (verified)
    "2524-7": LabTest.LACTATE,  # Lactate [Moles/volume] S/P (SPEC 3)
    "32693-4": LabTest.LACTATE,  # Lactate [Moles/volume] in Blood (verified)
    "33959-8": LabTest.PROCALCITONIN,  # Procalcitonin [Mass/volume] S/P (SPEC 3)
}

#: Components of a blood-pressure panel.
BP_COMPONENTS = frozenset(
    {ObservationKind.SYSTOLIC, ObservationKind.DIASTOLIC, ObservationKind.MEAN_ARTERIAL}
)

#: Components of a pulse-oximetry (US Core) or oxygen-device observation read as oxygen support.
OXYGEN_COMPONENTS = frozenset({ObservationKind.FIO2, ObservationKind.O2_FLOW})

#: Scores and their valid ranges.
NEURO_SCORES: dict[ObservationKind, tuple[NeuroScoreKind, float, float]] = {
    ObservationKind.GCS: (NeuroScoreKind.GCS, 3.0, 15.0),  # Teasdale & Jennett: 3-15
    ObservationKind.ICE: (NeuroScoreKind.ICE, 0.0, 10.0),  # ASTCT 2019 ICE score: 0-10
}

#: Observations known by name only (no code we could verify):
#: - the ICE score has no LOINC code (ASTCT 2019 consensus, Lee et al. BBMT 2019);
#: - oxygen delivery devices: LOINC 41925-9 could not be verified as "oxygen delivery system",
#:   so the device observation is recognised by its name and its value is read as text.

OBSERVATION_NAMES: NameMatcher[ObservationKind] = NameMatcher(
    phrases(
        ObservationKind.ICE,
        "ICE score",
        "ICE assessment",
        "Immune Effector Cell-associated Encephalopathy",
        "Immune Effector Cell Encephalopathy",
    )
    + phrases(
        ObservationKind.O2_DEVICE,
        # Not "oxygen delivery" alone: that is also the DO2 index (mL/min/m2) of ICU flowsheets.
        "oxygen delivery device",
        "oxygen delivery system",
        "oxygen delivery method",
        "oxygen delivery mode",
        "method of oxygen delivery",
        "O2 delivery device",
        "O2 delivery method",
        "O2 delivery mode",
        "oxygen device",
        "O2 device",
    )
)


# --- blood culture results --------------------------------------------------------------------

#: SNOMED CT qualifier values of a culture result. Any other SNOMED code in a culture's
#: valueCodeableConcept names an organism (600-7 is "Bacteria identified") and is positive.
CULTURE_SNOMED: dict[str, bool | None] = {
    "10828004": True,  # Positive (qualifier value)
    "260373001": True,  # Detected (qualifier value)
    "52101004": True,  # Present (qualifier value)
    "260385009": False,  # Negative (qualifier value)
    "260415000": False,  # Not detected (qualifier value)
    "264868006": False,  # No growth (qualifier value)
    "2667000": False,  # Absent (qualifier value)
    "82334004": None,  # Indeterminate (qualifier value)
    "419984006": None,  # Inconclusive (qualifier value)
}

#: v3 ObservationInterpretation codes (HL7 terminology) used when the value says nothing.
CULTURE_INTERPRETATION: dict[str, bool] = {
    "POS": True,  # Positive
    "DET": True,  # Detected
    "A": True,  # Abnormal
    "AA": True,  # Critical abnormal
    "NEG": False,  # Negative
    "ND": False,  # Not detected
    "N": False,  # Normal
}

#: Words of a culture result in text, checked in this order: an organism or Gram stain first
#: ("Gram negative rods" is a positive culture), then negatives, then pending, then positives.
CULTURE_ORGANISM_WORDS: NameMatcher[str] = NameMatcher(
    phrases(
        "organism identified",
        "gram positive",
        "gram negative",
        "gram variable",
        "cocci",
        "bacilli",
        "rods",
        "yeast",
        "staphylococcus",
        "streptococcus",
        "enterococcus",
        "escherichia",
        "E. coli",
        "klebsiella",
        "pseudomonas",
        "enterobacter",
        "acinetobacter",
        "serratia",
        "proteus",
        "citrobacter",
        "stenotrophomonas",
        "bacteroides",
        "clostridium",
        "candida",
        "bacillus",
        "corynebacterium",
        "micrococcus",
    )
)
CULTURE_RESULT_WORDS: NameMatcher[bool | None] = NameMatcher(
    phrases(False, "no growth", "not detected", "negative", "no organisms", "none detected")
    + phrases(None, "pending", "in progress", "incubating", "to follow")
    + phrases(True, "positive", "detected", "growth", "isolated")
)
