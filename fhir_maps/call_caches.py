"""Caches keyed by what a call's FHIR data say, emptied once the call is over (issue 13).

A chart repeats a handful of unit strings, time offsets and references thousands of times, so
their parsed forms are cached (``call_cache``). The cache's keys are the call's own strings,
though: made while the call's data were being read, they sit among them in pymalloc's 1 MiB
blocks (arenas), and while a cache keeps one of them alive the whole block stays with the
process: 6 of the 9 blocks a worker's first L call left behind (docs/performance.md, phase
6). ``clear_call_caches()`` empties every one of them; gunicorn runs it after each
request (``cds_service.gunicorn_conf.post_request``). The next call fills them again: a few
distinct values per call, each worked out once; emptying them takes 0.02 ms after an M call
and 0.3 ms after an XL one (measured after the call, in the benchmark's process).

Emptying a cache while another thread's call uses it is safe (``functools.lru_cache`` is
thread-safe): that call works the value out again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

__all__ = ["call_cache", "clear_call_caches"]

T = TypeVar("T")

_CACHES: list[_lru_cache_wrapper[object]] = []


def call_cache(maxsize: int) -> Callable[[Callable[..., T]], _lru_cache_wrapper[T]]:
    """``functools.lru_cache(maxsize)``, emptied by ``clear_call_caches()``."""

    def register(function: Callable[..., T]) -> _lru_cache_wrapper[T]:
        cached = lru_cache(maxsize=maxsize)(function)
        _CACHES.append(cached)
        return cached

    return register


def clear_call_caches() -> None:
    """Empty every ``call_cache``: what a finished call put in them is freed."""
    for cache in _CACHES:
        cache.cache_clear()
