"""FHIR R4 resources to typed grading inputs (``crs_grading.inputs``); no I/O."""
