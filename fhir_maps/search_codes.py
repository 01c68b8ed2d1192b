"""LOINC codes of the value sets, for code-filtered FHIR searches (the prefetch templates).

A template that names codes must ask for exactly the codes ``fhir_maps`` reads, so it is built
from the same value sets (SPEC 4: every Observation template names a category or codes). Codes
come in the order of the value-set module, so a template changes only when a code is added.
"""

from __future__ import annotations

from collections.abc import Iterable

from crs_grading.inputs import LabTest

from .valuesets import neurologic_scores
from .valuesets.observations import LOINC_OBSERVATIONS, ObservationConcept, ObservationKind

__all__ = ["blood_culture_loinc_codes", "lab_loinc_codes", "neurologic_assessment_codes"]


def _codes_of(concepts: frozenset[ObservationConcept]) -> tuple[str, ...]:
    return tuple(code for code, concept in LOINC_OBSERVATIONS.items() if concept in concepts)


def blood_culture_loinc_codes() -> tuple[str, ...]:
    """Every LOINC code read as a blood culture (SPEC 2.7 ``positive-blood-culture``)."""
    return _codes_of(frozenset({ObservationKind.BLOOD_CULTURE}))


def lab_loinc_codes(tests: Iterable[LabTest]) -> tuple[str, ...]:
    """Every LOINC code read as one of ``tests``."""
    return _codes_of(frozenset(tests))


def neurologic_assessment_codes() -> tuple[tuple[str, str], ...]:
    """Every (system, code) read as a neurologic assessment (GCS, RASS, neurologic signs;
    SPEC 2.5, 2.9), for a code-filtered search where a server refuses the category ``survey``.
    ICE and CAPD have no code in wide use: such a search cannot find them."""
    return tuple(
        (code.system, code.code) for family in neurologic_scores.FAMILIES for code in family.codes
    )
