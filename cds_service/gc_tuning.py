"""The cycle collector's thresholds of every process that runs the service (issue 13).

A hook call of a week-long ICU stay parses a few hundred thousand dicts and lists that live for
the whole call and hold no reference cycles. With CPython's default thresholds (700, 10, 10)
they set off full collections that walk every object of the process several times per call:
25-40 % of the call, and about 80 % of ``orjson.loads`` of the body (measured in
``benchmarks/``, docs/performance.md). Collecting after 100,000 allocations instead removes
almost all of it; cyclic garbage is still collected, later.

``create_app()`` applies them, so that gunicorn workers, ``crs-cds`` commands, the watch, the
tests and the benchmarks all run the same way. What only a pre-forked worker can do stays in
``cds_service.gunicorn_conf`` (freezing what start-up allocated, after the fork).
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "tune_garbage_collector"]

#: Cycle-collector thresholds: generation 0 allocations, then generation 1 and 2 sweeps.
GC_THRESHOLDS: tuple[int, int, int] = (100_000, 50, 100)


def tune_garbage_collector() -> None:
    """Set ``GC_THRESHOLDS`` for this process (idempotent: the same values every time)."""
    gc.set_threshold(*GC_THRESHOLDS)
