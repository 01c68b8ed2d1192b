"""gunicorn settings for production: ``gunicorn -c python:cds_service.gunicorn_conf ...``.

Only process settings live here; the flags of the README's command (bind, workers, threads,
timeouts) stay on the command line.

- **Garbage collector.** ``create_app()`` sets the collector's thresholds in every process
  (``cds_service.gc_tuning``); what only a forked worker can add is here: each worker freezes
  what start-up allocated (the app, the FHIR value sets) out of the collector's view, so that
  the rare full collections walk the call's objects only.
- **Order models built at start.** Each worker builds the FHIR models of a suggested order
  before it takes calls, not during its first order card (20 ms, and memory kept); and has
  orjson make FHIR's element names as keys (``fhir_io.json_keys``), not among its first call's
  data, where they kept memory.
- **Metrics of all workers.** Each worker writes its Prometheus values to files in
  ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up (``cds_service.metrics``). The
  folder is the variable's when set (emptied of old metric files at start: values of a previous
  run must not count), else a new temporary folder of this gunicorn, removed at exit, so that
  two instances on one host never mix their numbers. An exited worker is marked dead.
- **Workers that share the work.** ``worker_class`` is gthread that listens for new
  connections only while idle (``cds_service.gunicorn_worker``): kept-alive EHR connections
  no longer pile onto one worker while the other idles.
- **Freed memory given back.** After each request the worker empties the caches keyed by the
  call's data and the interpreter's attribute-lookup cache and makes FHIR's element names
  again as orjson keys, all of which kept small strings of the call alive and with them whole
  blocks of Python memory; collects, unless another request of the worker is running
  (``pre_request`` and ``post_request`` count them); and returns the C heap the call freed to
  the system (``gc_tuning.release_after_call``): a worker's first call leaves it 1-3 MB bigger
  (no object of the call but the JSON keys of names outside FHIR's), later calls nothing more
  when they come one at a time.
- **No control socket.** gunicorn 25.1 opens a control socket by default, in
  ``$XDG_RUNTIME_DIR`` or ``$HOME/.gunicorn/``: in the image the service user has no home (every
  start logged ``Permission denied: '/home/crs'``), and two instances on one host share the path
  and delete each other's socket. Nothing of ours uses it (gunicorn's ``gunicornc`` tool does).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from cds_service.cards.orders import prepare_order_models
from cds_service.fhir_io.json_keys import prepare_json_keys
from cds_service.gc_tuning import release_after_call
from fhir_maps import clear_call_caches

#: gunicorn >= 25.1: no control socket (older versions ignore the unknown setting).
control_socket_disable = True

#: gthread that takes a new connection only while idle, so that every worker has work
#: (``cds_service.gunicorn_worker``; ``--threads`` still sets its threads).
worker_class = "cds_service.gunicorn_worker.BalancedThreadWorker"

_METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: The temporary metrics folder this gunicorn made, removed at exit (None: the operator's).
_own_metrics_dir: str | None = None


def prepare_metrics_dir(environ: Mapping[str, str]) -> tuple[str, bool]:
    """The metrics folder for this run, empty of metric files; and whether it was made here."""
    configured = environ.get(_METRICS_VARIABLE, "").strip()
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # prometheus_client's files of an earlier run
            stale.unlink()
        return str(folder), False
    return tempfile.mkdtemp(prefix="crs-cds-metrics-"), True


def on_starting(server: Any) -> None:
    """gunicorn hook, in the master before any worker: the workers' shared metrics folder."""
    global _own_metrics_dir
    folder, made_here = prepare_metrics_dir(os.environ)
    os.environ[_METRICS_VARIABLE] = folder  # inherited by every worker forked from here
    _own_metrics_dir = folder if made_here else None


def post_worker_init(worker: Any) -> None:
    """gunicorn hook, in each worker after the app is loaded (``create_app()`` has set the
    collector's thresholds): the FHIR models of suggested orders built
    (``cards.orders.prepare_order_models``) and FHIR's element names made as orjson keys
    (``fhir_io.json_keys.prepare_json_keys``), then start-up objects out of the collector's
    view."""
    prepare_order_models()
    prepare_json_keys()
    gc.collect()
    gc.freeze()


class RunningCalls:
    """How many requests a worker's threads are answering (gunicorn's ``pre_request`` and
    ``post_request`` hooks bracket each one, in its thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0

    def start(self) -> None:
        with self._lock:
            self._running += 1

    def finish(self) -> int:
        """One request finished: how many others still run (a finish without a start, as a
        test or a benchmark calls ``post_request``, counts as the only one)."""
        with self._lock:
            self._running = max(0, self._running - 1)
            return self._running


_running_calls = RunningCalls()


def pre_request(worker: Any, req: Any) -> None:
    """gunicorn hook, in the worker's thread before each request: counted as running."""
    _running_calls.start()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """gunicorn hook, in the worker after each request (the answer is sent): what the call left
    behind given back: the caches keyed by its data emptied (``fhir_maps.clear_call_caches``),
    FHIR's element names read again by orjson (``fhir_io.json_keys.prepare_json_keys``: the
    keys the call made in their slots are let go), then ``gc_tuning.release_after_call`` (its
    full collection only when no other request of the worker is running)."""
    others_running = _running_calls.finish() > 0
    clear_call_caches()
    prepare_json_keys()
    release_after_call(others_running=others_running)


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, in the master when a worker exited: its live gauges stop counting (its
    counters stay: totals never go back)."""
    folder = os.environ.get(_METRICS_VARIABLE)
    if folder:
        multiprocess.mark_process_dead(worker.pid, folder)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """gunicorn hook, in the master at shutdown: remove the temporary metrics folder."""
    if _own_metrics_dir is not None:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
