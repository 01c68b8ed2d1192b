"""The watch's job queue: huey, embedded on SQLite or distributed on Redis or PostgreSQL.

Why huey (3.5): one small, well-kept library whose same task code runs on an embedded SQLite
queue (no server: the default) and on Redis or PostgreSQL shared by workers on many machines;
it has retries with a delay that grows by ``retry_backoff``, scheduled tasks (for waits), and a
consumer that runs thread workers and stops gracefully on SIGTERM. What it does not promise
(a task running when its worker is killed is gone; no per-key coalescing; no dead-letter
list) the watch's own tables add on top (``cds_service.watch.store``): the database says
which patient still needs an evaluation, so a lost task is found and queued again.

Tasks (each names its subject only: a Patient id, an alert id, a reference):

- ``watch.evaluate(patient_id)``: read, grade, store, maybe alert;
- ``watch.deliver(alert_id)``: send an alert on every channel not yet done;
- ``watch.resolve(reference)``: read an id-only notification focus to find its patient;
- ``watch.catch-up(subscription_id, numbers)``: after a gap in event numbers.

Each retries ``CRS_CDS_WATCH_RETRIES`` times, the first after ``CRS_CDS_WATCH_RETRY_DELAY_S``,
each next one twice as late; then it is a dead letter (``crs-cds watch status``). A patient
held by another worker is not a failure: its task waits and tries again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from huey.exceptions import RetryTask

from cds_service.config import WatchSettings

__all__ = [
    "BUSY_RETRY_S",
    "QUEUE_NAME",
    "Jobs",
    "PatientBusy",
    "WatchQueue",
    "make_huey",
    "queue_kind",
    "run_in_thread",
]

logger = logging.getLogger(__name__)

QUEUE_NAME = "crs-cds-watch"
_SQLITE_FILE = "watch-queue.sqlite3"
#: A task for a patient another worker holds waits this long before it tries again.
BUSY_RETRY_S = 2
_BACKOFF = 2.0


class PatientBusy(Exception):
    """Another worker holds the patient: try again shortly (not a failure)."""


class Jobs(Protocol):
    """What the tasks run (``cds_service.watch.worker.Watcher``)."""

    def evaluate(self, patient_id: str, *, final_attempt: bool) -> str: ...

    def deliver(self, alert_id: int, *, final_attempt: bool) -> str: ...

    def resolve_focus(self, reference: str, *, final_attempt: bool) -> str: ...

    def catch_up(
        self, subscription_id: str, numbers: Sequence[int], *, final_attempt: bool
    ) -> str: ...


def queue_kind(queue_url: str | None) -> str:
    """``sqlite``, ``redis`` or ``postgresql``: the engine of a queue URL (None: SQLite)."""
    if queue_url is None:
        return "sqlite"
    scheme = urlsplit(queue_url).scheme.split("+", 1)[0]
    if scheme in ("redis", "rediss"):
        return "redis"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    return "sqlite"


def make_huey(queue_url: str | None, instance_path: str) -> Huey:
    """The huey instance of ``CRS_CDS_WATCH_QUEUE_URL`` (results are not kept)."""
    kind = queue_kind(queue_url)
    if kind == "redis":
        assert queue_url is not None  # noqa: S101 - queue_kind said so
        return RedisHuey(QUEUE_NAME, url=queue_url, results=False, utc=True)
    if kind == "postgresql":
        assert queue_url is not None  # noqa: S101 - queue_kind said so
        dsn = (
            "postgresql://" + queue_url.split("://", 1)[1]
        )  # psycopg takes a libpq URL, without "+driver"
        return PostgresHuey(QUEUE_NAME, dsn=dsn, results=False, utc=True)
    if queue_url is None:
        os.makedirs(instance_path, exist_ok=True)
        filename = os.path.join(instance_path, _SQLITE_FILE)
    else:
        filename = queue_url.removeprefix("sqlite:///")  # sqlite:////abs -> /abs
    return SqliteHuey(QUEUE_NAME, filename=filename, results=False, utc=True)


class WatchQueue:
    """The watch's tasks on one huey instance; ``serve(jobs)`` lets this process run them."""

    def __init__(self, huey: Huey, settings: WatchSettings) -> None:
        self.huey = huey
        self._jobs: Jobs | None = None
        retry = {
            "retries": settings.retries,
            "retry_delay": settings.retry_delay_s,
            "retry_backoff": _BACKOFF,
            "context": True,
        }
        self._evaluate = huey.task(name="watch.evaluate", **retry)(self._run_evaluate)
        self._deliver = huey.task(name="watch.deliver", **retry)(self._run_deliver)
        self._resolve = huey.task(name="watch.resolve", **retry)(self._run_resolve)
        self._catch_up = huey.task(name="watch.catch-up", **retry)(self._run_catch_up)

    def serve(self, jobs: Jobs) -> None:
        """Run tasks with ``jobs`` in this process (the worker; tests with ``immediate``)."""
        self._jobs = jobs

    # --- enqueueing -----------------------------------------------------------------------

    def evaluate(self, patient_id: str) -> None:
        self._evaluate(patient_id)

    def deliver(self, alert_id: int) -> None:
        self._deliver(alert_id)

    def resolve(self, reference: str) -> None:
        self._resolve(reference)

    def catch_up(self, subscription_id: str, numbers: Sequence[int], delay_s: int) -> None:
        self._catch_up.schedule(args=(subscription_id, list(numbers)), delay=delay_s)

    def depth(self) -> tuple[int, int]:
        """(tasks ready to run, tasks scheduled for later)."""
        return int(self.huey.pending_count()), int(self.huey.scheduled_count())

    # --- running --------------------------------------------------------------------------

    def _served(self) -> Jobs:
        if self._jobs is None:
            raise RuntimeError("this process does not run watch tasks (no Watcher attached)")
        return self._jobs

    def _run_evaluate(self, patient_id: str, task: Any = None) -> str:
        try:
            return self._served().evaluate(patient_id, final_attempt=_final(task))
        except PatientBusy:
            raise RetryTask(delay=BUSY_RETRY_S) from None

    def _run_deliver(self, alert_id: int, task: Any = None) -> str:
        return self._served().deliver(alert_id, final_attempt=_final(task))

    def _run_resolve(self, reference: str, task: Any = None) -> str:
        return self._served().resolve_focus(reference, final_attempt=_final(task))

    def _run_catch_up(self, subscription_id: str, numbers: list[int], task: Any = None) -> str:
        return self._served().catch_up(subscription_id, numbers, final_attempt=_final(task))


def _final(task: Any) -> bool:
    """Whether this run is the task's last try (huey counts retries left down to 0)."""
    return task is None or not getattr(task, "retries", 0)


def run_in_thread(
    queue: WatchQueue, stop: threading.Event, idle_s: float = 0.1
) -> threading.Thread:
    """Run ``queue``'s tasks in a daemon thread of this process until ``stop`` is set.

    For development only (``crs-cds demo``): huey's consumer takes over the process's signal
    handlers, which a command that stops on Ctrl+C cannot give away. Production runs
    ``crs-cds watch worker``. Tasks run exactly as there: retries, waits and dead letters.
    """
    huey = queue.huey

    def loop() -> None:
        while not stop.is_set():
            try:
                task = huey.dequeue()
                if task is None:
                    for due in huey.read_schedule():  # retries and waits whose time has come
                        huey.execute(due)
                    stop.wait(idle_s)
                    continue
                huey.execute(task)  # a failure is retried or dead-lettered by huey and the job
            except Exception as error:  # the queue itself failed: try again shortly
                logger.warning("watch task runner: %s", type(error).__name__)
                stop.wait(1.0)

    thread = threading.Thread(target=loop, name="watch-tasks", daemon=True)
    thread.start()
    return thread
