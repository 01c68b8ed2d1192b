"""Benchmarks of the CRS CDS Hooks service (issues 6, 13); run them: ``python -m benchmarks``.

- ``payloads``: ``crs-patient-view`` request bodies as an EHR sends them (sizes S, M, L, XL: a
  day to a month of monitor-rate vitals) from the demo cases.
- ``inprocess``: the whole call through the WSGI app against the fair floor (``orjson.loads``
  of the same body, same process, production GC settings, interleaved rounds), the stages one
  by one, growth, peak and retained memory in fresh processes.
- ``http_load``: gunicorn with the README's production command on 127.0.0.1 and a bounded
  load generator at rising concurrency, with each worker's share of the CPU.
- ``report``: every issue 13 target with met / not met, the markdown tables written to
  docs/performance.md and the README summary.
- ``watch``: the watch's throughput (``python -m benchmarks.watch``, issue 16).

Nothing here is imported by the service or the tests' timing: performance lives here only.
"""
