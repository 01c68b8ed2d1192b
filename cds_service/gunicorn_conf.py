"""gunicorn settings for production: ``gunicorn -c python:cds_service.gunicorn_conf ...``.

Only process tuning lives here; the flags of the README's command (bind, workers, threads,
timeouts) stay on the command line. A hook call of a week-long ICU stay builds a few hundred
thousand short-lived objects; CPython's default cycle-collector thresholds then spend 25-40% of
the call in collections (measured in benchmarks/, see docs/performance.md). Each worker freezes
what start-up allocated (the app, the FHIR value sets) out of the collector's view and collects
less often.
"""

from __future__ import annotations

import gc
from typing import Any

#: Cycle-collector thresholds of a worker (generation 0 allocations, then 1 and 2 sweeps).
GC_THRESHOLDS = (100_000, 50, 100)


def post_worker_init(worker: Any) -> None:
    """gunicorn hook, in each worker after the app is loaded."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
