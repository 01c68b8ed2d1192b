"""FHIR R4 resources to typed, unit-normalised grading inputs (``crs_grading.inputs``); no I/O.

Public API::

    map_patient_record(resources, patient_id, options=MappingOptions()) -> GradingInputs
    map_draft_orders(draft_orders, options=MappingOptions())
        -> (tuple[DraftMedicationOrder, ...], tuple[SkippedResource, ...])
    MappingOptions, ValidationMode

Everything else is internal. The codes, units, status rules and defaults are documented in
docs/fhir-mapping.md.
"""

from .draft_orders import map_draft_orders
from .options import MappingOptions, ValidationMode
from .record import map_patient_record

__all__ = ["MappingOptions", "ValidationMode", "map_draft_orders", "map_patient_record"]
