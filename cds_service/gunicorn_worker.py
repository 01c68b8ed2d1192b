"""The gunicorn worker of the service: gthread that takes a new connection only when idle.

Grading is CPU-bound and each worker grades one call at a time (``CRS_CDS_MAX_IN_FLIGHT``), so
what matters for latency is that every worker has work. gunicorn's threaded worker accepts
connections whenever its main loop runs, busy or not, and keeps each kept-alive connection for
its lifetime: with two workers and two EHR connections, both connections could land on one
worker, which then grades the calls one after the other while the other worker idles (issue 13:
p99 1.1 s at concurrency 4, one worker idle at concurrency 2).

This worker stops listening while any connection of its own is being served, so a connection
opened meanwhile goes to an idle worker. When no worker is idle, a new connection is not left
waiting: a busy worker that sees one pending for ``OVERLOAD_WAIT_S`` (every worker busy, or an
idle one would have taken it) takes it, and load shedding (503 with ``Retry-After``) then works
on the calls queued inside the worker as before.

A client that connects and sends nothing holds its worker's listening off for up to gunicorn's
5 s data timeout; run the service behind a proxy (TLS termination, which CDS Hooks requires
anyway), which opens connections only to send requests.

Select it with ``worker_class`` in ``cds_service.gunicorn_conf`` (the README's production
command loads that file); it relies on ``gunicorn.workers.gthread.ThreadWorker``'s
``enqueue_req``, ``finish_request`` and ``set_accept_enabled`` (gunicorn 25-27), and
``tests/integration/test_worker_balance.py`` checks it against the installed gunicorn.
"""

from __future__ import annotations

import select
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

__all__ = ["OVERLOAD_WAIT_S", "BalancedThreadWorker"]

#: How long a new connection may wait for an idle worker before a busy one takes it. An idle
#: worker accepts within microseconds once it runs, but on a loaded machine (other processes on
#: the cores) it may not be scheduled for a few hundred milliseconds: at 0.1 s a busy worker
#: took such connections and kept them for their lifetime while the idle one never saw them.
OVERLOAD_WAIT_S = 0.5


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, accepting new connections only while none of its own is being served, or
    when one has waited ``OVERLOAD_WAIT_S`` for an idle worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections handed to the thread pool and not yet back; read and written only by
        # the main loop (enqueue_req, finish_request and set_accept_enabled all run there).
        self.serving = 0
        self._pending_since: float | None = None

    def enqueue_req(self, conn: Any) -> None:
        self.serving += 1
        self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.serving -= 1
        super().finish_request(conn, fs)  # may enqueue the connection again
        # The main loop turns listening back on at its next turn, through set_accept_enabled.

    def accept(self, listener: Any) -> None:
        self._pending_since = None
        super().accept(listener)

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and self.serving > 0:
            enabled = self._overloaded()
        super().set_accept_enabled(enabled)

    def _overloaded(self) -> bool:
        """True when a new connection has waited ``OVERLOAD_WAIT_S`` with no worker taking it.

        Called at every turn of the main loop, which wakes whenever a call ends (and at least
        once a second)."""
        try:
            pending, _, _ = select.select(self.sockets, [], [], 0)
        except (OSError, ValueError):  # a listener closed during shutdown
            return False
        if not pending:
            self._pending_since = None
            return False
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        return now - self._pending_since >= OVERLOAD_WAIT_S
