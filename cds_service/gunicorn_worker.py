"""The gunicorn worker of the service: gthread that takes a new connection only when idle.

Grading is CPU-bound and each worker grades one call at a time (``CRS_CDS_MAX_IN_FLIGHT``), so
what matters for latency is that every worker has work. gunicorn's threaded worker accepts
connections whenever its main loop runs, busy or not, and keeps each kept-alive connection for
its lifetime: with two workers and two EHR connections, both connections could land on one
worker, which then grades the calls one after the other while the other worker idles (issue 13:
p99 1.1 s at concurrency 4, one worker idle at concurrency 2).

This worker stops listening while any connection of its own is being served, so a connection
opened meanwhile goes to an idle worker (or waits in the kernel's accept queue until one is
idle, which is no longer than the call in progress). Between two calls the worker listens
again, so under overload every waiting connection is still taken in turn, and load shedding
(503 with ``Retry-After``) works as before on the calls queued inside a worker.

A client that connects and sends nothing holds its worker's listening off for up to gunicorn's
5 s data timeout; run the service behind a proxy (TLS termination, which CDS Hooks requires
anyway), which opens connections only to send requests.

Select it with ``worker_class`` in ``cds_service.gunicorn_conf`` (the README's production
command loads that file); it relies on ``gunicorn.workers.gthread.ThreadWorker``'s
``enqueue_req``, ``finish_request`` and ``set_accept_enabled`` (gunicorn 25-27), and
``tests/integration/test_worker_balance.py`` checks it against the installed gunicorn.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

__all__ = ["BalancedThreadWorker"]


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, accepting new connections only while none of its own is being served."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections handed to the thread pool and not yet back; read and written only by
        # the main loop (enqueue_req and finish_request both run there).
        self.serving = 0

    def enqueue_req(self, conn: Any) -> None:
        self.serving += 1
        self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.serving -= 1
        super().finish_request(conn, fs)  # may enqueue the connection again
        # The main loop turns listening back on at its next turn, through set_accept_enabled.

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.serving == 0)
