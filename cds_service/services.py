"""The three CDS services of the public contract (SPEC section 4) and their prefetch templates.

Prefetch templates use root-level context tokens only (CDS Hooks 2.0.1 section Prefetch tokens).
MedicationAdministrations are never filtered by code: EHRs send CAR T-cell products and drips
as free text or product codes that no code list would catch, so the service reads every
administration and checks codes and names itself (SPEC section 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "CONDITIONS_KEY",
    "ESSENTIAL_KEYS",
    "MEDICATIONS_KEY",
    "OBSERVATIONS_KEY",
    "PATIENT_KEY",
    "PREFETCH_TEMPLATES",
    "PROCEDURES_KEY",
    "SERVICES",
    "SERVICES_BY_ID",
    "CdsService",
    "discovery_document",
]

# Prefetch keys: other code (fhir_io, fhir_maps, the demo) refers to them by these names.
PATIENT_KEY = "patient"
OBSERVATIONS_KEY = "observations"
MEDICATIONS_KEY = "medications"
CONDITIONS_KEY = "conditions"
PROCEDURES_KEY = "procedures"

#: Keys without which no grade can be given: missing both ways -> HTTP 412 (SPEC section 4).
ESSENTIAL_KEYS: frozenset[str] = frozenset({PATIENT_KEY, OBSERVATIONS_KEY})

PREFETCH_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        PATIENT_KEY: "Patient/{{context.patientId}}",
        OBSERVATIONS_KEY: "Observation?patient={{context.patientId}}&_sort=-date&_count=1000",
        MEDICATIONS_KEY: (
            "MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time"
            "&_count=500&_include=MedicationAdministration:medication"
        ),
        CONDITIONS_KEY: "Condition?patient={{context.patientId}}&_count=200",
        PROCEDURES_KEY: "Procedure?patient={{context.patientId}}&_sort=-date&_count=200",
    }
)


@dataclass(frozen=True, slots=True)
class CdsService:
    """One entry of the discovery document."""

    id: str
    hook: str
    hook_version: str
    title: str
    description: str
    prefetch: Mapping[str, str]

    def discovery_entry(self) -> dict[str, Any]:
        """This service as CDS Hooks discovery lists it."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }


SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="crs-patient-view",
        hook="patient-view",
        hook_version="1.0",
        title="Cytokine release syndrome grade and next step",
        description=(
            "For patients who received CAR T-cell, TCR, T-cell engager or other CRS-associated "
            "therapy in the last 30 days: the CRS grade now and at its peak (revised Lee 2014, "
            "with ASTCT 2019 beside it) with its evidence, the next step of the treatment "
            "algorithm with a weight-based dose, and warnings where infection or sepsis could "
            "explain the picture."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
    CdsService(
        id="crs-order-select",
        hook="order-select",
        hook_version="1.0",
        title="CRS treatment order check",
        description=(
            "Checks draft tocilizumab, corticosteroid, anakinra and siltuximab orders against "
            "the patient's CRS grade, weight-based dose limits and infection warnings."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
    CdsService(
        id="crs-order-sign",
        hook="order-sign",
        hook_version="1.1",
        title="CRS treatment order check at signing",
        description=(
            "The CRS treatment order checks at signing: warnings and critical findings only."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
)

SERVICES_BY_ID: Mapping[str, CdsService] = MappingProxyType({s.id: s for s in SERVICES})


def discovery_document() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [service.discovery_entry() for service in SERVICES]}
