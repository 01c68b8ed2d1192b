"""FHIR R4 resources to typed, unit-normalised grading inputs (``crs_grading.inputs``); no I/O.

Public API::

    map_patient_record(resources, patient_id, options=MappingOptions(), *, fhir_server=None)
        -> GradingInputs
    map_draft_orders(draft_orders, options=MappingOptions(), *, patient_id=None,
                     fhir_server=None)
        -> (tuple[DraftMedicationOrder, ...], tuple[SkippedResource, ...])
    MappingOptions, ValidationMode
    parse_reference(reference, fhir_server=None) -> LiteralReference | None
    reference_owner(resource, patient_id, fhir_server=None) -> (ReferenceOwner, target)
    read_resource(raw) -> DecodedObservation | (what orjson.loads reads)
        an Observation of the graded types decoded into a struct (issue 13), whose
        fields the record mapping reads directly; ``as_dict()`` for the whole resource

    clear_call_caches()
        empty the caches keyed by a call's data (unit strings, time offsets, references),
        once the call is over (issue 13)

    blood_culture_loinc_codes(), lab_loinc_codes(tests) -> tuple[str, ...]
    neurologic_assessment_codes() -> tuple[(system, code), ...]

``parse_reference`` is the one strict reader of FHIR references (SPEC 3, References), shared
with ``cds_service.fhir_io``.

Everything else is internal. The codes, units, status rules and defaults are documented in
docs/fhir-mapping.md.
"""

from ._context import is_element_report
from .call_caches import clear_call_caches
from .decoded import DecodedObservation, read_resource
from .draft_orders import map_draft_orders
from .options import MappingOptions, ValidationMode
from .record import map_patient_record
from .references import LiteralReference, ReferenceOwner, parse_reference, reference_owner
from .search_codes import blood_culture_loinc_codes, lab_loinc_codes, neurologic_assessment_codes

__all__ = [
    "DecodedObservation",
    "LiteralReference",
    "MappingOptions",
    "ReferenceOwner",
    "ValidationMode",
    "blood_culture_loinc_codes",
    "clear_call_caches",
    "is_element_report",
    "lab_loinc_codes",
    "neurologic_assessment_codes",
    "map_draft_orders",
    "map_patient_record",
    "parse_reference",
    "read_resource",
    "reference_owner",
]
