"""FHIR data access: the prefetch, else the client's FHIR server (SPEC section 5).

``FhirReader.read`` returns ``PatientData``: the Patient, every other resource raw and
unvalidated, and the problems met on the way. Only ``cds_service`` code imports this package;
``fhir_maps`` receives plain resource dicts.
"""

from __future__ import annotations

from cds_service.fhir_io.fetch import FhirEndpoint
from cds_service.fhir_io.reader import DataProblem, FhirReader, PatientData, render_template

__all__ = [
    "DataProblem",
    "FhirEndpoint",
    "FhirReader",
    "PatientData",
    "render_template",
]
