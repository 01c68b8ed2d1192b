"""Benchmarks of the CRS CDS Hooks service (issue 6); run them with ``python -m benchmarks``.

- ``payloads``: realistic ``crs-patient-view`` request bodies (sizes S, M, L) from the demo cases.
- ``inprocess``: handling time through the WSGI app (parse, fhir_io, fhir_maps, grading, cards)
  against ``orjson.loads`` of the same body, growth from S to L, peak memory.
- ``http_load``: gunicorn with the README's production settings on 127.0.0.1 and a bounded
  load generator at rising concurrency.
- ``report``: the markdown tables written to docs/performance.md and the README summary.

Nothing here is imported by the service or the tests' timing: performance lives here only.
"""
