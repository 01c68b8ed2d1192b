"""``crs-cds watch``: subscribe, poll, worker, status, requeue.

Each command builds the app from the environment (``create_app``: the same settings, database
and migrations as the service) and uses its watch; ``CRS_CDS_WATCH_FHIR_URL`` must be set.

- ``subscribe`` creates the topic-based Subscription on the EHR's FHIR server
  (``subscriptions.py``), with the watch's SMART Backend Services token;
- ``poll`` asks for an evaluation of each ``CRS_CDS_WATCH_POLL_PATIENTS`` patient every
  ``CRS_CDS_WATCH_POLL_INTERVAL_S`` (``--once``: one round, for cron);
- ``worker`` runs a huey consumer with ``--threads`` worker threads, plus the recovery sweep
  that queues again what a killed worker or a lost queue lost (patients, alerts, catch-up
  reads of missed notifications); SIGTERM or SIGINT stop it after the jobs in
  hand (a second signal stops it at once);
- ``status`` prints the queue depth, the patients waiting, in progress and failing, the
  undelivered alerts and the dead letters (``--json`` for scripts);
- ``requeue`` gives dead letters another try (``--all`` or their numbers).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from cds_service import create_app
from cds_service.watch.runtime import WatchRuntime, find_watch

__all__ = ["PollRound", "add_watch_command", "poll_once", "run_sweeper"]

logger = logging.getLogger(__name__)


class CommandError(Exception):
    """A watch command cannot run; the message says why (exit status 2)."""


def _runtime() -> WatchRuntime:
    app = create_app()
    runtime = find_watch(app)
    if runtime is None:
        raise CommandError("the watch is off: set CRS_CDS_WATCH_FHIR_URL")
    return runtime


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- subscribe ------------------------------------------------------------------------------


def _subscribe(args: argparse.Namespace) -> int:
    from cds_service.watch.subscriptions import SubscriptionError, create_subscription

    runtime = _runtime()
    try:
        created = create_subscription(
            runtime,
            endpoint=args.endpoint,
            subscription_id=args.id,
        )
    except SubscriptionError as error:
        raise CommandError(str(error)) from None
    _say(f"Subscription/{created.subscription_id} created on {runtime.watcher.fhir_base}")
    _say(f"  topic {created.topic}; notifications go to {created.endpoint}")
    if created.secret_header:
        _say("  its notifications carry the configured shared secret for this id")
    else:
        _say(
            "  no shared secret is configured for it: its notifications must carry a JWT of "
            "a trusted issuer (CRS_CDS_TRUSTED_ISSUERS)"
        )
    return 0


# --- poll -----------------------------------------------------------------------------------


def _poll(args: argparse.Namespace) -> int:
    runtime = _runtime()
    patients = runtime.settings.watch.poll_patients
    if not patients:
        raise CommandError("CRS_CDS_WATCH_POLL_PATIENTS is empty: nothing to poll")
    interval = runtime.settings.watch.poll_interval_s
    stop = threading.Event()
    while True:
        polled = poll_once(runtime, patients)
        waiting = len(patients) - polled.queued - polled.failed
        _say(
            f"polled {len(patients)} patients: {polled.queued} queued, {waiting} waiting, "
            f"{polled.failed} failed"
        )
        if args.once or stop.wait(interval):
            return 0


class PollRound(NamedTuple):
    """What one round of ``poll`` did: new jobs queued, and requests that failed."""

    queued: int
    failed: int


def poll_once(runtime: WatchRuntime, patients: Sequence[str]) -> PollRound:
    """Ask for an evaluation of each patient. One that fails (the database or the queue) is
    logged and the round goes on (review finding: the first error ended the round); a request
    recorded before the queue failed is queued by the recovery sweep, else by the next round."""
    queued = failed = 0
    for patient_id in patients:
        try:
            queued += runtime.watcher.request(patient_id, "poll")
        except Exception as error:  # the database or the queue: the others still get polled
            failed += 1
            logger.warning(
                "watch poll: evaluation not requested",
                extra={"fields": {"patient": patient_id, "error": type(error).__name__}},
            )
    return PollRound(queued, failed)


# --- worker ---------------------------------------------------------------------------------


def run_sweeper(
    recover: Callable[[], object], interval_s: float, stop: threading.Event
) -> threading.Thread:
    """A daemon thread calling ``recover`` every ``interval_s`` until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                recover()
            except Exception as error:  # a database hiccup must not end the sweeps
                logger.warning("watch recovery sweep failed: %s", type(error).__name__)

    thread = threading.Thread(target=loop, name="watch-sweeper", daemon=True)
    thread.start()
    return thread


def _worker(args: argparse.Namespace) -> int:
    runtime = _runtime()
    if args.metrics_port:
        from prometheus_client import start_http_server

        # This process's watch counters and the queue gauges.
        start_http_server(args.metrics_port, addr=args.metrics_host, registry=runtime.registry)
    logging.getLogger("huey").setLevel(logging.WARNING)
    lease = runtime.settings.watch.lease_s
    stop = threading.Event()
    runtime.watcher.recover()  # work lost while no worker ran
    run_sweeper(runtime.watcher.recover, max(1.0, min(15.0, lease / 2)), stop)
    consumer = runtime.queue.huey.create_consumer(
        workers=args.threads,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=1.0,
        check_worker_health=True,
        graceful_signal="TERM",
    )
    logger.info(
        "watch worker started",
        extra={"fields": {"queue": runtime.queue_kind, "threads": args.threads}},
    )
    try:
        consumer.run()
    finally:
        stop.set()
    return 0


# --- status and requeue ---------------------------------------------------------------------


def status_document(runtime: WatchRuntime) -> dict[str, Any]:
    """What ``crs-cds watch status --json`` prints."""
    ready, scheduled = runtime.queue.depth()
    state = runtime.store.status(time.time())
    return {
        "queue": {"engine": runtime.queue_kind, "ready": ready, "scheduled": scheduled},
        "patients": {
            "waiting": state.waiting,
            "inProgress": state.in_progress,
            "failing": state.failing,
        },
        "alertsUndelivered": state.alerts_undelivered,
        "deadLetters": [
            {
                "id": letter.id,
                "task": letter.task,
                "subject": letter.subject,
                "error": letter.error,
                "attempts": letter.attempts,
                "failedAt": letter.failed_at.isoformat(),
            }
            for letter in state.dead_letters
        ],
    }


def _status(args: argparse.Namespace) -> int:
    document = status_document(_runtime())
    if args.json:
        _say(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return 0
    queue, patients = document["queue"], document["patients"]
    _say(f"queue ({queue['engine']}): {queue['ready']} ready, {queue['scheduled']} scheduled")
    _say(
        f"patients: {patients['waiting']} waiting, {patients['inProgress']} in progress, "
        f"{patients['failing']} failing"
    )
    _say(f"alerts not yet delivered: {document['alertsUndelivered']}")
    letters = document["deadLetters"]
    _say(f"dead letters: {len(letters)}")
    for letter in letters:
        _say(
            f"  #{letter['id']} {letter['task']} {letter['subject']}: {letter['error']} "
            f"({letter['attempts']} attempts, {letter['failedAt']})"
        )
    return 0


def _requeue(args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        raise CommandError("name dead letters by number, or --all")
    runtime = _runtime()
    letters = runtime.store.take_dead_letters(None if args.all else args.ids, datetime.now(UTC))
    watcher = runtime.watcher
    for letter in letters:
        if letter.task == "evaluate":
            watcher.request(letter.subject, "requeue")
        elif letter.task == "alert":
            runtime.queue.deliver(int(letter.subject))
        elif letter.task == "resolve":
            runtime.queue.resolve(letter.subject)
        else:  # catch-up: re-read everyone in scope
            for patient_id in runtime.store.in_scope_patients():
                watcher.request(patient_id, "requeue")
    _say(f"{len(letters)} dead letters queued again")
    return 0


# --- registration ---------------------------------------------------------------------------


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CommandError as error:
            sys.stderr.write(f"crs-cds watch: {error}\n")
            return 2

    return run


def add_watch_command(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``crs-cds watch`` and its actions."""
    watch = subcommands.add_parser(
        "watch",
        help="watch patients without an open chart (Subscriptions, queue, alerts)",
        description="The watch: re-grade patients when the EHR files new data, alert on a "
        "rise (docs/watch.md).",
    )
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")

    subscribe = actions.add_parser(
        "subscribe",
        help="create the topic-based Subscription on the EHR's FHIR server",
        description="Create the Subscription (R4, Subscriptions Backport IG) on "
        "CRS_CDS_WATCH_FHIR_URL with CRS_CDS_WATCH_TOPIC, CRS_CDS_WATCH_FILTERS and "
        "CRS_CDS_WATCH_PAYLOAD, authorized by SMART Backend Services.",
    )
    subscribe.add_argument(
        "--endpoint",
        help="where notifications go (default: CRS_CDS_PUBLIC_URL/fhir/subscription-notification)",
    )
    subscribe.add_argument(
        "--id",
        help="create it with this id (PUT); the shared secret of this id in "
        "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS goes into its channel header",
    )
    subscribe.set_defaults(handler=_guarded(_subscribe))

    poll = actions.add_parser(
        "poll",
        help="re-read CRS_CDS_WATCH_POLL_PATIENTS on a schedule (EHRs without Subscriptions)",
        description="Queue an evaluation of each patient of CRS_CDS_WATCH_POLL_PATIENTS every "
        "CRS_CDS_WATCH_POLL_INTERVAL_S seconds.",
    )
    poll.add_argument("--once", action="store_true", help="one round, then exit")
    poll.set_defaults(handler=_guarded(_poll))

    worker = actions.add_parser(
        "worker",
        help="run a worker: evaluate patients, send alerts",
        description="Run a huey consumer on CRS_CDS_WATCH_QUEUE_URL. Run several, on one "
        "machine or many (Redis or PostgreSQL queue), to share the load.",
    )
    worker.add_argument("--threads", type=int, default=1, help="worker threads (default 1)")
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port"
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of the metrics port (127.0.0.1)"
    )
    worker.set_defaults(handler=_guarded(_worker))

    status = actions.add_parser(
        "status",
        help="queue depth, failures and dead letters",
        description="Show the queue depth, the patients waiting, in progress and failing, "
        "undelivered alerts and the dead-letter list.",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_guarded(_status))

    requeue = actions.add_parser(
        "requeue",
        help="give dead letters another try",
        description="Queue dead letters again (their numbers as `watch status` shows them).",
    )
    requeue.add_argument("ids", nargs="*", type=int, help="dead letter numbers")
    requeue.add_argument("--all", action="store_true", help="every dead letter")
    requeue.set_defaults(handler=_guarded(_requeue))
