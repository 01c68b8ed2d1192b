"""The clinical core: CRS grading (Lee 2014, ASTCT 2019, CTCAE v4.03) and treatment.

Pure Python: no Flask, requests or FHIR imports. Inputs are the frozen dataclasses of
``crs_grading.inputs``; the result is an ``Assessment`` (``crs_grading.assessment``).
"""
