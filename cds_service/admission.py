"""Load shedding: at most ``max_in_flight`` hook computations per process, others wait briefly.

Grading is CPU-bound and Python runs one thread at a time, so two gradings in one worker only
slow each other down. Under overload an EHR is better served by a fast 503 with
``Retry-After`` than by an answer after its own timeout (CDS Hooks asks for answers "on the
order of 500 ms"). A call waits at most ``queue_wait_s`` for a slot; the slot is held while
the request is parsed and while it is graded, and released while FHIR data is fetched (I/O
does not need the CPU).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cds_service.errors import ServiceUnavailable

__all__ = ["Admission"]

#: What a shed call is told: try again in this many seconds.
RETRY_AFTER_S = 1


class Admission:
    """A per-process gate in front of CPU-heavy work."""

    def __init__(self, max_in_flight: int, queue_wait_s: float) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self.queue_wait_s = queue_wait_s

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the ``with`` body, or raise ``ServiceUnavailable`` (503) when none
        frees up within ``queue_wait_s``."""
        if not self._slots.acquire(timeout=self.queue_wait_s):
            raise ServiceUnavailable(
                "the service is at capacity; retry shortly", retry_after_s=RETRY_AFTER_S
            )
        try:
            yield
        finally:
            self._slots.release()
