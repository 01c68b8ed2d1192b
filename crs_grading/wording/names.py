"""Display names: how every lab, system, warning, drug and link is named to a clinician."""

from __future__ import annotations

from collections.abc import Mapping

from crs_grading.assessment import GradingSystem
from crs_grading.criteria import Criterion, OverrideReason, WarningCode
from crs_grading.inputs import LAB_NAMES as _LAB_NAMES
from crs_grading.inputs import LabTest
from crs_grading.tables.treatment import Protocol

__all__ = [
    "CRS",
    "ICANS_DOMAIN_NAMES",
    "LAB_NAMES",
    "OVERRIDE_REASONS",
    "PROTOCOL_NAMES",
    "SMART_APP_LINK",
    "SEED_PAPER_LINK",
    "SYSTEM_NAMES",
    "WARNING_NAMES",
]

#: The condition, as an order's reason names it.
CRS = "cytokine release syndrome"

#: How clinicians name each ``LabTest`` (driver texts, data gaps, skip reasons, cards, SMART):
#: defined beside ``LabTest`` in ``crs_grading.inputs`` (``fhir_maps`` reads only the input
#: types) and named here, its display role.
LAB_NAMES: Mapping[LabTest, str] = _LAB_NAMES

#: How a grading system is named on a card.
SYSTEM_NAMES: dict[GradingSystem, str] = {
    GradingSystem.LEE_2014: "Lee 2014",
    GradingSystem.ASTCT_2019: "ASTCT 2019",
}

#: Short names of the attribution warnings (SPEC 2.7).
WARNING_NAMES: dict[WarningCode, str] = {
    WarningCode.POSITIVE_BLOOD_CULTURE: "positive blood culture",
    WarningCode.NEUTROPENIA: "neutropenia",
    WarningCode.ELEVATED_LACTATE: "elevated lactate",
    WarningCode.INFECTION_DIAGNOSIS: "infection diagnosis",
    WarningCode.LATE_ONSET: "late onset",
    WarningCode.MASKED_FEVER: "masked fever",
    WarningCode.IEC_HS: "possible IEC-HS",
}

#: The ICANS domain of each ICANS criterion (ASTCT 2019, SPEC 2.9), for a card short of room.
ICANS_DOMAIN_NAMES: dict[Criterion, str] = {
    Criterion.ICANS_ICE_SCORE: "ICE score",
    Criterion.ICANS_CAPD_SCORE: "CAPD",
    Criterion.ICANS_DEPRESSED_CONSCIOUSNESS: "depressed consciousness",
    Criterion.ICANS_SEIZURE: "seizure",
    Criterion.ICANS_MOTOR_WEAKNESS: "motor weakness",
    Criterion.ICANS_CEREBRAL_EDEMA: "cerebral edema",
    Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE: "raised intracranial pressure",
}

#: How the tocilizumab dosing tables are named in dosing texts.
PROTOCOL_NAMES: dict[Protocol, str] = {
    Protocol.LEE_2014: "Lee 2014",
    Protocol.FDA_LABEL: "FDA label",
}

#: The card links (CDS Hooks Link labels).
SMART_APP_LINK = "CRS course over time (SMART app)"
SEED_PAPER_LINK = "Lee et al. 2014: revised CRS grading and treatment algorithm"

#: The display of each override reason (CDS Hooks requires one).
OVERRIDE_REASONS: dict[OverrideReason, str] = {
    OverrideReason.ATTRIBUTED_TO_INFECTION: "attributed to infection",
    OverrideReason.ATTRIBUTED_TO_CRS: "attributed to CRS rather than infection",
    OverrideReason.ALREADY_TREATED: "already treated",
    OverrideReason.INFECTION_BEING_TREATED: "infection already being treated",
    OverrideReason.RECORD_OUT_OF_DATE: "data in the record is wrong or out of date",
    OverrideReason.DOSE_INTENDED: "dose intended as ordered",
    OverrideReason.CLINICAL_JUDGEMENT: "clinical judgement",
    OverrideReason.PATIENT_PREFERENCE: "patient or family preference",
}
