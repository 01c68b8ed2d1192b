"""Code systems and codes the demo data uses, each with what it means.

These are what an EHR would send; they are not the service's value sets (those live in
``fhir_maps``). LOINC, RxNorm, SNOMED CT and ICD-10-CM codes as published by their owners.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.demo._model import JSON

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#: Identifier and local code systems of the fictional hospital.
MRN_SYSTEM = "http://hospital.example.org/fhir/sid/mrn"
#: The hospital's flowsheet rows (like an EHR's own flowsheet ids): ICE and CAPD have no LOINC
#: code in wide use (ASTCT 2019), so EHRs send them under local codes with the row's name.
LOCAL_FLOWSHEET = "http://hospital.example.org/fhir/CodeSystem/flowsheet-rows"
LOCAL_PRODUCTS = "http://hospital.example.org/fhir/CodeSystem/investigational-products"
#: Base of every fullUrl, so that ``Type/id`` references resolve inside the Bundle.
FULL_URL_BASE = "http://example.org/fhir"

# Vital signs (LOINC)
TEMPERATURE = ("8310-5", "Body temperature")
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
MEAN_BP = ("8478-0", "Mean blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
RESP_RATE = ("9279-1", "Respiratory rate")
SPO2_PULSE_OX = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2 = ("2708-6", "Oxygen saturation in Arterial blood")
FIO2 = ("3150-0", "Inhaled oxygen concentration")
O2_FLOW = ("3151-8", "Inhaled oxygen flow rate")
BODY_WEIGHT = ("29463-7", "Body weight")
GCS_TOTAL = ("9269-2", "Glasgow coma score total")
BLOOD_CULTURE = ("600-7", "Bacteria identified in Blood by Culture")

# Neurologic checks (SPEC 2.9): ICE and CAPD as local flowsheet rows named as nurses chart them;
# RASS by SNOMED CT 457441000124102 "Richmond Agitation-Sedation Scale (assessment scale)" (the
# code fhir_maps reads; no RASS LOINC code could be verified), its value a charted choice.
ICE_ROW = ("ICE-TOTAL", "ICE score (Immune Effector Cell-Associated Encephalopathy)")
CAPD_ROW = ("CAPD-TOTAL", "Cornell Assessment of Pediatric Delirium (CAPD) score")
RASS = ("457441000124102", "Richmond Agitation-Sedation Scale (assessment scale)")
#: RASS choices as a flowsheet lists them.
RASS_CHOICES = {
    4: "+4 Combative",
    3: "+3 Very agitated",
    2: "+2 Agitated",
    1: "+1 Restless",
    0: "0 Alert and calm",
    -1: "-1 Drowsy",
    -2: "-2 Light sedation",
    -3: "-3 Moderate sedation",
    -4: "-4 Deep sedation",
    -5: "-5 Unarousable",
}

NO_GROWTH = ("264868006", "No growth (qualifier value)")


@dataclass(frozen=True, slots=True)
class LabCode:
    loinc: str
    display: str  # the LOINC long common name
    text: str  # what the lab report calls it


#: Laboratory tests (LOINC), keyed by the names the case modules use.
LAB_CODES: dict[str, LabCode] = {
    "crp": LabCode("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "CRP"),
    "ferritin": LabCode("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "Ferritin"),
    "il6": LabCode("26881-3", "Interleukin 6 [Mass/volume] in Serum or Plasma", "IL-6"),
    "ifng": LabCode(
        "27415-9", "Interferon gamma [Mass/volume] in Serum or Plasma", "Interferon gamma"
    ),
    "ast": LabCode(
        "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "AST"
    ),
    "alt": LabCode(
        "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "ALT"
    ),
    "bilirubin": LabCode(
        "1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "Bilirubin, total"
    ),
    # Results in umol/L carry the molar LOINC codes.
    "bilirubin-molar": LabCode(
        "14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma", "Bilirubin, total"
    ),
    "creatinine": LabCode("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinine"),
    "creatinine-molar": LabCode(
        "14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "Creatinine"
    ),
    "fibrinogen": LabCode(
        "3255-7",
        "Fibrinogen [Mass/volume] in Platelet poor plasma by Coagulation assay",
        "Fibrinogen",
    ),
    "anc": LabCode(
        "751-8", "Neutrophils [#/volume] in Blood by Automated count", "Absolute neutrophil count"
    ),
    "lactate": LabCode("2524-7", "Lactate [Moles/volume] in Serum or Plasma", "Lactate"),
}


@dataclass(frozen=True, slots=True)
class Drug:
    """A drug as the EHR's medication record names it: RxNorm ingredient plus order text."""

    rxnorm: str
    name: str
    text: str


DRUGS: dict[str, Drug] = {
    "norepinephrine": Drug("7512", "norepinephrine", "norepinephrine 4 mg in dextrose 5% 250 mL"),
    "dopamine": Drug("3628", "dopamine", "dopamine 400 mg in dextrose 5% 250 mL"),
    "phenylephrine": Drug(
        "8163", "phenylephrine", "phenylephrine 20 mg in sodium chloride 0.9% 250 mL"
    ),
    "tocilizumab": Drug("612865", "tocilizumab", "tocilizumab 20 mg/mL injection"),
    "methylprednisolone": Drug(
        "6902", "methylprednisolone", "methylprednisolone sodium succinate injection"
    ),
    "etanercept": Drug("214555", "etanercept", "etanercept 25 mg injection"),
    "vancomycin": Drug("11124", "vancomycin", "vancomycin injection"),
    "cefepime": Drug("20481", "cefepime", "cefepime injection"),
    "fludarabine": Drug("24698", "fludarabine", "fludarabine phosphate injection"),
    "cyclophosphamide": Drug("3002", "cyclophosphamide", "cyclophosphamide injection"),
    "rituximab": Drug("121191", "rituximab", "rituximab 10 mg/mL injection"),
    "sodium-chloride": Drug("9863", "sodium chloride", "sodium chloride 0.9% bolus"),
}

ROUTES: dict[str, tuple[str, str]] = {
    "iv": ("47625008", "Intravenous route"),
    "sc": ("34206005", "Subcutaneous route"),
}


def coding(system: str, code: str, display: str) -> JSON:
    return {"system": system, "code": code, "display": display}


def concept(text: str, *codings: JSON) -> JSON:
    """A CodeableConcept; with no codings it is free text only, as some EHRs send."""
    value: JSON = {}
    if codings:
        value["coding"] = list(codings)
    value["text"] = text
    return value


def loinc(code: tuple[str, str], text: str | None = None) -> JSON:
    return concept(text or code[1], coding(LOINC, code[0], code[1]))
