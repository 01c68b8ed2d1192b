"""Every Observation family grading reads (SPEC 2.3-2.8, SPEC 3), gathered from their modules.

Each family (one module each: temperature, blood_pressure, vital_signs, oxygen, body_weight,
transaminases, bilirubin, creatinine, fibrinogen, neutrophils, lactate, biomarkers, cardiac,
neurologic_scores, blood_culture, and for IEC-HS blood_counts and ldh) holds its codes with
their sources and its names. Here they become the lookups the mapping uses: LOINC and SNOMED CT
codes to concepts, and one name matcher for Observations whose codes are all unknown (local
codes, text-only codings).
"""

from __future__ import annotations

from collections.abc import Sequence

from crs_grading.inputs import NeuroScoreKind

from .._names import MAX_MATCH_TEXTS, NameMatcher, Veto, surviving
from . import (
    bilirubin,
    biomarkers,
    blood_counts,
    blood_culture,
    blood_pressure,
    body_weight,
    cardiac,
    creatinine,
    fibrinogen,
    lactate,
    ldh,
    neurologic_scores,
    neutrophils,
    oxygen,
    temperature,
    transaminases,
    vital_signs,
)
from ._family import ObservationConcept, ObservationFamily, ObservationKind
from .systems import LOINC, SNOMED

__all__ = [
    "BP_COMPONENTS",
    "FAMILIES",
    "LOINC_OBSERVATIONS",
    "NEURO_SCORES",
    "ANY_VALUE_KINDS",
    "OBSERVATION_NAMES",
    "OXYGEN_COMPONENTS",
    "SNOMED_OBSERVATIONS",
    "ObservationConcept",
    "ObservationKind",
    "concept_by_name",
]

FAMILIES: tuple[ObservationFamily, ...] = (
    temperature.FAMILY,
    *blood_pressure.FAMILIES,
    *vital_signs.FAMILIES,
    *oxygen.FAMILIES,
    *body_weight.FAMILIES,
    *transaminases.FAMILIES,
    bilirubin.FAMILY,
    creatinine.FAMILY,
    fibrinogen.FAMILY,
    *neutrophils.FAMILIES,
    lactate.FAMILY,
    *biomarkers.FAMILIES,
    cardiac.FAMILY,
    *neurologic_scores.FAMILIES,
    blood_culture.FAMILY,
    *blood_counts.FAMILIES,  # SPEC 2.10 IEC-HS
    ldh.FAMILY,
)


def _codes(system: str) -> dict[str, ObservationConcept]:
    found: dict[str, ObservationConcept] = {}
    for family in FAMILIES:
        for code in family.codes:
            if code.system == system:
                if code.code in found:  # one code, one meaning
                    raise ValueError(f"{system} {code.code} is in two families")
                found[code.code] = family.concept
    return found


#: LOINC code -> what it measures.
LOINC_OBSERVATIONS: dict[str, ObservationConcept] = _codes(LOINC)
#: SNOMED CT observable -> what it measures.
SNOMED_OBSERVATIONS: dict[str, ObservationConcept] = _codes(SNOMED)

#: Names of every family and the words that veto them, for Observations with no known code.
OBSERVATION_NAMES: NameMatcher[ObservationConcept | Veto[ObservationConcept]] = NameMatcher(
    phrase for family in FAMILIES for phrase in family.phrases()
)


def concept_by_name(texts: Sequence[str]) -> ObservationConcept | None:
    """The one family the texts name, unvetoed; ``None`` when none or more than one."""
    found: list[ObservationConcept] = []
    for text in texts[:MAX_MATCH_TEXTS]:
        kept: list[ObservationConcept] = surviving(OBSERVATION_NAMES.find(text))
        for concept in kept:
            if concept not in found:
                found.append(concept)
    return found[0] if len(found) == 1 else None


#: Components of a blood-pressure panel.
BP_COMPONENTS = frozenset(
    {ObservationKind.SYSTOLIC, ObservationKind.DIASTOLIC, ObservationKind.MEAN_ARTERIAL}
)

#: Components read as oxygen support (US Core pulse oximetry; device observations; panels).
OXYGEN_COMPONENTS = frozenset({ObservationKind.FIO2, ObservationKind.O2_FLOW})

#: Scores and their valid ranges.
NEURO_SCORES: dict[ObservationKind, tuple[NeuroScoreKind, float, float]] = {
    ObservationKind.GCS: (NeuroScoreKind.GCS, 3.0, 15.0),  # Teasdale & Jennett: 3-15
}

#: Kinds whose value may be a number, a text, a concept, a reason or components (SPEC 2.9: a
#: screen "could not be done", RASS "-2 Light sedation", "Seizure activity: Yes").
ANY_VALUE_KINDS = frozenset(
    {
        ObservationKind.ICE,
        ObservationKind.CAPD,
        ObservationKind.RASS,
        ObservationKind.NEURO_SIGN,
    }
)
