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

``release_free_heap()`` gives the C heap a call freed back to the system (glibc's
``malloc_trim``): without it glibc keeps the freed blocks of a large body in its heap and a
worker stays several MB bigger after each large call (issue 13, docs/performance.md). gunicorn
runs it after each request (``gunicorn_conf.post_request``), once the answer is sent; it costs
about 0.03 ms with little to give back. Elsewhere (no glibc) it does nothing.

``release_after_call()`` is what gunicorn runs: a full collection when no other call runs
(below), the interpreter's attribute-lookup cache emptied, then the above. On CPython 3.11
(measured; 3.12 is treated alike, not measured) each of
that cache's 4,096 entries holds a reference to its attribute's name, and C code that looks a
method up by a C string makes a new name each time: the ``datetime`` module does for every
``utcoffset`` it asks a time zone (``astimezone``, the hash of an aware datetime, comparing
times of two zones). So a few hundred small strings made during a call outlived it, unreachable
from Python, each keeping the 1 MiB block of Python memory (pymalloc arena) it was made in:
after XL calls a worker stayed 30 MB bigger, 11 MB with the cache emptied
(docs/performance.md). Emptying it takes about 5 microseconds; the next call fills it again at
no measurable cost (M: 41.7-42.0 ms against 42.3-43.5 ms without, interleaved). CPython 3.13
deprecates the call: there it is skipped.

The full collection after a call (phase 6) frees what the call left in reference cycles (the
web framework's request and its environ refer to each other) and empties CPython's free lists
of tuples, lists, dicts and floats, which keep the last blocks of each kind a call freed, in
its arenas. After the start-up objects are frozen it walks only what is left: 0.3 ms after an
M call, about 2 ms after an XL one. It is skipped while another call of the worker runs: it
would walk that call's data, and the last call to finish collects; under a load where calls
always overlap it is skipped, and the thresholds above collect cycles as before. With it, the
call caches emptied and orjson's keys made again (``gunicorn_conf.post_request``), a worker's
first call leaves 1-3 MB instead of 5-9 (docs/performance.md, phase 6).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable

__all__ = ["GC_THRESHOLDS", "release_after_call", "release_free_heap", "tune_garbage_collector"]

#: Cycle-collector thresholds: generation 0 allocations, then generation 1 and 2 sweeps.
GC_THRESHOLDS: tuple[int, int, int] = (100_000, 50, 100)


def tune_garbage_collector() -> None:
    """Set ``GC_THRESHOLDS`` for this process (idempotent: the same values every time)."""
    gc.set_threshold(*GC_THRESHOLDS)


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_heap() -> bool:
    """Return the C heap's free memory to the system; False where that is not possible."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def release_after_call(*, others_running: bool = False) -> None:
    """Give back what a finished call left behind: when no other call of this process is
    running, a full collection (``others_running`` False; see below); the names the
    attribute-lookup cache kept (see above); then the C heap's free memory
    (``release_free_heap``). gunicorn's ``post_request`` first lets go of the caches of the
    call's data (``cds_service.gunicorn_conf``)."""
    if not others_running:
        gc.collect()
    if sys.version_info < (3, 13):
        sys._clear_type_cache()
    release_free_heap()
