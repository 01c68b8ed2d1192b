"""The watch's database operations: coalescing, leases, evaluations, alerts, event numbers.

The job queue (huey) carries work to workers; this module keeps what must hold whatever the
queue does (a task lost with a killed worker, a task delivered twice, two workers at once):

- **Coalescing.** ``request_evaluation`` records that a patient needs an evaluation and says
  whether a job must be enqueued: only when none is waiting for that patient already.
- **One worker per patient.** ``claim`` takes a lease on the patient by a compare-and-set
  ``UPDATE``; a second job for the same patient finds it busy and waits (retried later).
- **Recovery.** A job lost with its worker leaves the patient with a request newer than its
  last evaluation, no job waiting and an expired lease: ``recoverable_patients`` finds it
  and marks it enqueued again (compare-and-set, so one sweeper wins).
- **Once per rise.** ``finish`` stores the evaluation, applies ``rules.transition`` to the
  state under the row's lock, and inserts the alert with the unique key (patient, rise
  number), all in one transaction: a retry or a second worker sees the rise already recorded.
- **Delivery.** An alert is sent by whoever holds its delivery lease; each channel is marked
  sent once done, so a retry sends only what is left.
- **Catch-up.** Missing event numbers stay recorded until a catch-up read covers them; a gap
  whose catch-up could not be scheduled, or was lost with the queue, is found by
  ``recoverable_gaps``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from cds_service.watch.rules import (
    WATCHED_MEASURES,
    AlertState,
    Observation,
    Reason,
    still_in_scope,
    transition,
)
from cds_service.watch.tables import (
    watch_alerts_table,
    watch_dead_letters_table,
    watch_evaluations_table,
    watch_patients_table,
    watch_subscriptions_table,
)

__all__ = [
    "AlertRecord",
    "Claim",
    "ClaimOutcome",
    "DeadLetter",
    "EvaluationRecord",
    "FinishedEvaluation",
    "QueueStatus",
    "WatchStore",
]

logger = logging.getLogger(__name__)

_patients = watch_patients_table
_evaluations = watch_evaluations_table
_alerts = watch_alerts_table
_subscriptions = watch_subscriptions_table
_dead = watch_dead_letters_table

#: Most missing event numbers remembered per Subscription (a broken feed must not grow a row).
_MAX_MISSING = 1000
_MAX_ERROR = 256


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """A stored time as UTC-aware (SQLite hands back naive values)."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's lease on one patient: evaluate it for requests up to ``target``."""

    patient_id: str
    token: str
    target: float
    attempts: int


class ClaimOutcome:
    """Why ``claim`` returned no ``Claim``."""

    BUSY = "busy"  # another worker holds the patient: try again after its lease
    NOTHING = "nothing"  # no request newer than the last evaluation (a duplicate job)


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One evaluation to store."""

    seen: Observation
    crs_peak_grade: int | None
    evidence: tuple[str, ...]
    summary: str = ""  # the assessment card's summary, kept with an alert


@dataclass(frozen=True, slots=True)
class FinishedEvaluation:
    """What ``finish`` stored: the evaluation's id and the alert raised with it, if any."""

    evaluation_id: int
    alert_id: int | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert as stored."""

    id: int
    patient_id: str
    rise_number: int
    raised_at: datetime
    reasons: tuple[dict[str, Any], ...]
    summary: str
    evidence: tuple[str, ...]
    deliveries: dict[str, dict[str, Any]]
    delivered: bool

    @property
    def key(self) -> str:
        """The alert's stable identity: the same for every attempt to send it."""
        return f"{self.patient_id}.{self.rise_number}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    task: str
    subject: str
    error: str
    attempts: int
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """What ``crs-cds watch status`` shows from the database."""

    waiting: int  # patients with a request newer than their last evaluation
    in_progress: int  # patients under a live lease
    failing: int  # patients whose last attempt failed and will be retried
    alerts_undelivered: int
    dead_letters: tuple[DeadLetter, ...]
    #: (Subscription id, seconds since its last notification): a heartbeat that stops
    #: coming is how a client sees broken communication (Backport IG, Errors).
    subscription_silence: tuple[tuple[str, float], ...] = ()


class WatchStore:
    """The watch's tables in the service's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # --- requests and coalescing ----------------------------------------------------------

    def request_evaluation(self, patient_id: str, reason: str, now: float) -> bool:
        """Record that ``patient_id`` needs an evaluation as of ``now``.

        True when the caller must enqueue a job (none waits for the patient); False when the
        request coalesced into a waiting job. A request clears a dead letter of the patient:
        new data deserves a new try.
        """
        newer = _newer(_patients.c.requested_at, now)
        for _ in range(2):
            with self._transaction() as connection:
                enqueue = connection.execute(
                    update(_patients)
                    .where(_patients.c.patient_id == patient_id, _patients.c.enqueued_at.is_(None))
                    .values(
                        requested_at=newer,
                        requested_reason=reason,
                        enqueued_at=now,
                        dead_at=None,
                        attempts=0,
                    )
                ).rowcount
                if enqueue:
                    return True
                coalesced = connection.execute(
                    update(_patients)
                    .where(_patients.c.patient_id == patient_id)
                    .values(requested_at=newer, requested_reason=reason)
                ).rowcount
                if coalesced:
                    return False
            try:
                with self._transaction() as connection:
                    connection.execute(
                        insert(_patients).values(
                            patient_id=patient_id,
                            requested_at=now,
                            requested_reason=reason,
                            enqueued_at=now,
                        )
                    )
                return True
            except IntegrityError:
                continue  # another process inserted the row first: update it
        raise RuntimeError("watch_patients row neither updated nor inserted")

    def recover_now(self, patient_id: str) -> None:
        """No job waits for the patient after all (the enqueue failed): forget the mark."""
        with self._transaction() as connection:
            connection.execute(
                update(_patients)
                .where(_patients.c.patient_id == patient_id)
                .values(enqueued_at=None)
            )

    def claim(self, patient_id: str, token: str, now: float, lease_s: float) -> Claim | str:
        """Take the lease on ``patient_id`` for a job, or say why not (``ClaimOutcome``)."""
        free = or_(_patients.c.claimed_until.is_(None), _patients.c.claimed_until < now)
        with self._transaction() as connection:
            taken = connection.execute(
                update(_patients)
                .where(_patients.c.patient_id == patient_id, free)
                .values(claimed_until=now + lease_s, claimed_by=token, enqueued_at=None)
            ).rowcount
            row = connection.execute(
                select(
                    _patients.c.requested_at,
                    _patients.c.done_through,
                    _patients.c.attempts,
                ).where(_patients.c.patient_id == patient_id)
            ).first()
            if row is None:
                return ClaimOutcome.NOTHING
            if not taken:
                return ClaimOutcome.BUSY
            requested, done = row.requested_at, row.done_through
            if requested is None or (done is not None and requested <= done):
                connection.execute(
                    update(_patients)
                    .where(_patients.c.patient_id == patient_id, _patients.c.claimed_by == token)
                    .values(claimed_until=None, claimed_by=None)
                )
                return ClaimOutcome.NOTHING
            return Claim(patient_id, token, float(requested), int(row.attempts))

    def finish(
        self, claim: Claim, record: EvaluationRecord, now: float, alert_grade: int
    ) -> FinishedEvaluation:
        """Store an evaluation, move the alert state, record the alert: one transaction."""
        seen = record.seen
        patient = claim.patient_id
        with self._transaction() as connection:
            # The first statement locks the patient's row (PostgreSQL) or the database
            # (SQLite) until commit: state reads and writes below are serialised per patient.
            connection.execute(
                update(_patients)
                .where(_patients.c.patient_id == patient)
                .values(done_through=_newer(_patients.c.done_through, claim.target), attempts=0)
            )
            connection.execute(
                update(_patients)
                .where(_patients.c.patient_id == patient, _patients.c.claimed_by == claim.token)
                .values(claimed_until=None, claimed_by=None)
            )
            row = connection.execute(
                select(_patients).where(_patients.c.patient_id == patient)
            ).one()
            state = _state_of(row)
            new_state, reasons = transition(state, seen, alert_grade)
            evaluation_id = _insert_id(
                connection,
                insert(_evaluations).values(
                    patient_id=patient,
                    as_of=_utc(seen.as_of),
                    requested_at=claim.target,
                    finished_at=now,
                    in_scope=seen.in_scope,
                    crs_peak_grade=record.crs_peak_grade,
                    warnings=_json(sorted(seen.warnings)),
                    evidence=_json(list(record.evidence)),
                    partial=seen.partial,
                    alerted=bool(reasons),
                    **{m.column: seen.grades.get(m.name) for m in WATCHED_MEASURES},
                ),
            )
            alert_id = None
            rise_count = int(row.rise_count)
            if reasons:
                rise_count += 1
                alert_id = _insert_id(
                    connection,
                    insert(_alerts).values(
                        patient_id=patient,
                        rise_number=rise_count,
                        evaluation_id=evaluation_id,
                        raised_at=_utc(seen.as_of),
                        reasons=_json([r.to_json() for r in reasons]),
                        summary=record.summary,
                        evidence=_json(list(record.evidence)),
                        deliveries="{}",
                        delivery_enqueued_at=now,
                    ),
                )
            if new_state is not state:
                connection.execute(
                    update(_patients)
                    .where(_patients.c.patient_id == patient)
                    .values(
                        state_as_of=_utc(new_state.as_of) if new_state.as_of else None,
                        in_scope=still_in_scope(row.in_scope, seen),
                        warnings=_json(sorted(new_state.warnings)),
                        rise_count=rise_count,
                        **{m.column: new_state.grades.get(m.name) for m in WATCHED_MEASURES},
                    )
                )
        return FinishedEvaluation(evaluation_id, alert_id, reasons)

    def fail(self, claim: Claim, now: float, *, final: bool) -> None:
        """Release a failed job's lease. Not final: a retry is scheduled (``enqueued_at``);
        final: the patient waits for new data or an operator (``dead_at``)."""
        with self._transaction() as connection:
            connection.execute(
                update(_patients)
                .where(_patients.c.patient_id == claim.patient_id)
                .values(
                    attempts=_patients.c.attempts + 1,
                    enqueued_at=None if final else now,
                    dead_at=now if final else None,
                )
            )
            connection.execute(
                update(_patients)
                .where(
                    _patients.c.patient_id == claim.patient_id,
                    _patients.c.claimed_by == claim.token,
                )
                .values(claimed_until=None, claimed_by=None)
            )

    def recoverable_patients(
        self, now: float, requeue_after_s: float, limit: int = 200
    ) -> list[str]:
        """Patients whose request no job will serve (its job was lost), each now marked
        enqueued: the caller enqueues a job for every id returned."""
        lost_job = or_(
            _patients.c.enqueued_at.is_(None), _patients.c.enqueued_at < now - requeue_after_s
        )
        condition = and_(
            _patients.c.dead_at.is_(None),
            _patients.c.requested_at.is_not(None),
            or_(
                _patients.c.done_through.is_(None),
                _patients.c.requested_at > _patients.c.done_through,
            ),
            or_(_patients.c.claimed_until.is_(None), _patients.c.claimed_until < now),
            lost_job,
        )
        with self.engine.connect() as connection:
            candidates = [
                str(r.patient_id)
                for r in connection.execute(
                    select(_patients.c.patient_id).where(condition).limit(limit)
                )
            ]
        recovered = []
        for patient_id in candidates:
            with self._transaction() as connection:
                marked = connection.execute(
                    update(_patients)
                    .where(_patients.c.patient_id == patient_id, condition)
                    .values(enqueued_at=now, requested_reason="recovery")
                ).rowcount
            if marked:
                recovered.append(patient_id)
        return recovered

    def in_scope_patients(self) -> list[str]:
        """Patients whose last evaluation found them in scope (for a catch-up read)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_patients.c.patient_id).where(_patients.c.in_scope.is_(True))
            )
            return [str(r.patient_id) for r in rows]

    # --- alerts ---------------------------------------------------------------------------

    def claim_alert(self, alert_id: int, now: float, lease_s: float) -> AlertRecord | None:
        """Take the delivery lease of an undelivered alert; None when delivered, dead or held."""
        free = or_(_alerts.c.delivering_until.is_(None), _alerts.c.delivering_until < now)
        with self._transaction() as connection:
            taken = connection.execute(
                update(_alerts)
                .where(
                    _alerts.c.id == alert_id,
                    _alerts.c.delivered_at.is_(None),
                    _alerts.c.dead_at.is_(None),
                    free,
                )
                .values(delivering_until=now + lease_s, delivery_enqueued_at=None)
            ).rowcount
            if not taken:
                return None
            row = connection.execute(select(_alerts).where(_alerts.c.id == alert_id)).one()
        return _alert_of(row)

    def mark_delivery(self, alert_id: int, channel: str, outcome: Mapping[str, Any]) -> None:
        """Record that ``channel`` delivered the alert (``outcome`` says when and where)."""
        with self._transaction() as connection:
            row = connection.execute(
                select(_alerts.c.deliveries).where(_alerts.c.id == alert_id)
            ).one()
            deliveries = orjson.loads(row.deliveries)
            deliveries[channel] = dict(outcome)
            connection.execute(
                update(_alerts).where(_alerts.c.id == alert_id).values(deliveries=_json(deliveries))
            )

    def finish_delivery(self, alert_id: int, now: float) -> None:
        with self._transaction() as connection:
            connection.execute(
                update(_alerts)
                .where(_alerts.c.id == alert_id)
                .values(delivered_at=now, delivering_until=None, last_error=None)
            )

    def fail_delivery(self, alert_id: int, now: float, error: str, *, final: bool) -> None:
        with self._transaction() as connection:
            connection.execute(
                update(_alerts)
                .where(_alerts.c.id == alert_id)
                .values(
                    attempts=_alerts.c.attempts + 1,
                    delivering_until=None,
                    delivery_enqueued_at=None if final else now,
                    dead_at=now if final else None,
                    last_error=error[:_MAX_ERROR],
                )
            )

    def recoverable_alerts(self, now: float, requeue_after_s: float, limit: int = 200) -> list[int]:
        """Undelivered alerts no job will send (lost with a worker), each marked enqueued."""
        condition = and_(
            _alerts.c.delivered_at.is_(None),
            _alerts.c.dead_at.is_(None),
            or_(_alerts.c.delivering_until.is_(None), _alerts.c.delivering_until < now),
            or_(
                _alerts.c.delivery_enqueued_at.is_(None),
                _alerts.c.delivery_enqueued_at < now - requeue_after_s,
            ),
        )
        with self.engine.connect() as connection:
            candidates = [
                int(r.id)
                for r in connection.execute(select(_alerts.c.id).where(condition).limit(limit))
            ]
        recovered = []
        for alert_id in candidates:
            with self._transaction() as connection:
                if connection.execute(
                    update(_alerts)
                    .where(_alerts.c.id == alert_id, condition)
                    .values(delivery_enqueued_at=now)
                ).rowcount:
                    recovered.append(alert_id)
        return recovered

    def alerts_of(self, patient_id: str, limit: int = 20) -> list[AlertRecord]:
        """The patient's alerts, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_alerts)
                .where(_alerts.c.patient_id == patient_id)
                .order_by(_alerts.c.rise_number.desc())
                .limit(limit)
            )
            return [_alert_of(row) for row in rows]

    def evaluations_of(self, patient_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The patient's evaluations, newest first, as plain dicts."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_evaluations)
                .where(_evaluations.c.patient_id == patient_id)
                .order_by(_evaluations.c.as_of.desc(), _evaluations.c.id.desc())
                .limit(limit)
            )
            return [_evaluation_of(row) for row in rows]

    # --- subscriptions and event numbers --------------------------------------------------

    def record_notification(
        self,
        subscription_id: str,
        *,
        kind: str,
        status: str | None,
        topic: str | None,
        events_since_start: int | None,
        event_numbers: Sequence[int],
        at: datetime,
    ) -> list[int]:
        """Track a Subscription's event numbers; return the numbers newly found missing.

        A handshake whose ``events_since_start`` is 0 (or absent: a new Subscription) starts
        the count; one with a higher count is read like a heartbeat. An event number above the
        highest seen + 1 leaves a gap; a number at or below it fills one (a late or repeated
        delivery). ``events_since_start`` above the highest number seen (on a heartbeat or a
        handshake too) means events were sent that never arrived.
        """
        for _ in range(2):
            try:
                return self._record_notification(
                    subscription_id, kind, status, topic, events_since_start, event_numbers, at
                )
            except IntegrityError:
                continue  # a concurrent first notification inserted the row
        raise RuntimeError("watch_subscriptions row neither updated nor inserted")

    def _record_notification(
        self,
        subscription_id: str,
        kind: str,
        status: str | None,
        topic: str | None,
        events_since_start: int | None,
        event_numbers: Sequence[int],
        at: datetime,
    ) -> list[int]:
        with self._transaction() as connection:
            touched = connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.subscription_id == subscription_id)
                .values(notifications=_subscriptions.c.notifications + 1)
            ).rowcount
            if not touched:
                connection.execute(
                    insert(_subscriptions).values(
                        subscription_id=subscription_id, notifications=1, missing="[]"
                    )
                )
            row = connection.execute(
                select(_subscriptions).where(_subscriptions.c.subscription_id == subscription_id)
            ).one()
            highest = row.highest_event
            missing = set(orjson.loads(row.missing))
            before = set(missing)
            if kind == "handshake" and not events_since_start:
                highest = 0  # a new Subscription (or one started over): count from 0
                missing = set()
            else:
                # A handshake with a count (a Subscription already running, e.g. reactivated
                # after an error) is read like a heartbeat: it neither drops open gaps nor hides
                # new ones (review finding).
                for number in sorted(event_numbers):
                    if highest is None:
                        highest = number
                    elif number > highest:
                        missing.update(_kept_gap(highest + 1, number))
                        highest = number
                    else:
                        missing.discard(number)
                if events_since_start is not None:
                    if highest is None:
                        highest = events_since_start
                    elif events_since_start > highest:
                        missing.update(_kept_gap(highest + 1, events_since_start + 1))
                        highest = events_since_start
            kept = sorted(missing)[-_MAX_MISSING:]
            new = sorted(set(kept) - before)
            # New numbers missing: no catch-up is scheduled for them yet (the caller schedules
            # one and says so by ``catch_up_scheduled``; if it cannot, the sweep will).
            gap = {"gap_opened_at": at.timestamp(), "catch_up_enqueued_at": None} if new else {}
            connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.subscription_id == subscription_id)
                .values(
                    highest_event=highest,
                    missing=_json(kept),
                    last_type=kind,
                    status=status or row.status,
                    topic=topic or row.topic,
                    last_notification_at=_utc(at),
                    gaps=_subscriptions.c.gaps + (1 if new else 0),
                    **gap,
                )
            )
        return new

    def catch_up_scheduled(self, subscription_id: str, now: float) -> None:
        """A catch-up task for the Subscription's missing numbers is scheduled as of ``now``."""
        with self._transaction() as connection:
            connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.subscription_id == subscription_id)
                .values(catch_up_enqueued_at=now)
            )

    def recoverable_gaps(
        self, now: float, gap_wait_s: float, lost_after_s: float, limit: int = 200
    ) -> list[tuple[str, list[int]]]:
        """Subscriptions with numbers missing for longer than ``gap_wait_s`` that no catch-up
        will read: none was scheduled (scheduling it failed), or the one scheduled more than
        ``gap_wait_s + lost_after_s`` ago was lost with the queue. Each is marked scheduled
        (compare-and-set, so one sweeper wins); the caller schedules a catch-up of the numbers
        returned with it."""
        s = _subscriptions.c
        condition = and_(
            s.missing != "[]",
            or_(s.gap_opened_at.is_(None), s.gap_opened_at <= now - gap_wait_s),
            or_(
                s.catch_up_enqueued_at.is_(None),
                s.catch_up_enqueued_at < now - gap_wait_s - lost_after_s,
            ),
        )
        with self.engine.connect() as connection:
            candidates = [
                str(r.subscription_id)
                for r in connection.execute(select(s.subscription_id).where(condition).limit(limit))
            ]
        recovered = []
        for subscription_id in candidates:
            with self._transaction() as connection:
                marked = connection.execute(
                    update(_subscriptions)
                    .where(s.subscription_id == subscription_id, condition)
                    .values(catch_up_enqueued_at=now)
                ).rowcount
                if marked:
                    missing = connection.execute(
                        select(s.missing).where(s.subscription_id == subscription_id)
                    ).scalar_one()
                    recovered.append((subscription_id, list(orjson.loads(missing))))
        return recovered

    def still_missing(self, subscription_id: str, numbers: Sequence[int]) -> list[int]:
        """Which of ``numbers`` have still not arrived."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(_subscriptions.c.missing).where(
                    _subscriptions.c.subscription_id == subscription_id
                )
            ).first()
        if row is None:
            return []
        missing = set(orjson.loads(row.missing))
        return [n for n in numbers if n in missing]

    def forget_missing(self, subscription_id: str, numbers: Sequence[int]) -> None:
        """The catch-up read covered ``numbers``."""
        with self._transaction() as connection:
            row = connection.execute(
                select(_subscriptions.c.missing).where(
                    _subscriptions.c.subscription_id == subscription_id
                )
            ).first()
            if row is None:
                return
            missing = [n for n in orjson.loads(row.missing) if n not in set(numbers)]
            connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.subscription_id == subscription_id)
                .values(missing=_json(missing))
            )

    def subscription_patient(self, subscription_id: str) -> str | None:
        """The patient a Subscription is about, when its filter names exactly one."""
        with self.engine.connect() as connection:
            value = connection.execute(
                select(_subscriptions.c.patient_id).where(
                    _subscriptions.c.subscription_id == subscription_id
                )
            ).scalar()
        return str(value) if value is not None else None

    def save_subscription(
        self, subscription_id: str, topic: str, patient_id: str | None, at: datetime
    ) -> None:
        """Remember a Subscription created by ``crs-cds watch subscribe``."""
        values = {"topic": topic, "patient_id": patient_id, "created_at": _utc(at)}
        with self._transaction() as connection:
            if not connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.subscription_id == subscription_id)
                .values(**values)
            ).rowcount:
                connection.execute(
                    insert(_subscriptions).values(
                        subscription_id=subscription_id, missing="[]", **values
                    )
                )

    # --- dead letters and status ----------------------------------------------------------

    def add_dead_letter(
        self, task: str, subject: str, error: str, attempts: int, at: datetime
    ) -> None:
        with self._transaction() as connection:
            connection.execute(
                insert(_dead).values(
                    task=task,
                    subject=subject[:256],
                    error=error[:_MAX_ERROR],
                    attempts=attempts,
                    failed_at=_utc(at),
                )
            )

    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """Dead letters not yet requeued, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_dead).where(_dead.c.requeued_at.is_(None)).order_by(_dead.c.id)
            )
            return tuple(
                DeadLetter(
                    id=int(r.id),
                    task=str(r.task),
                    subject=str(r.subject),
                    error=str(r.error),
                    attempts=int(r.attempts),
                    failed_at=_aware(r.failed_at) or datetime.min.replace(tzinfo=UTC),
                )
                for r in rows
            )

    def take_dead_letters(self, ids: Sequence[int] | None, at: datetime) -> list[DeadLetter]:
        """Mark dead letters requeued (all when ``ids`` is None); return them."""
        letters = [d for d in self.dead_letters() if ids is None or d.id in set(ids)]
        with self._transaction() as connection:
            for letter in letters:
                connection.execute(
                    update(_dead).where(_dead.c.id == letter.id).values(requeued_at=_utc(at))
                )
                if letter.task == "alert":
                    connection.execute(
                        update(_alerts)
                        .where(_alerts.c.id == int(letter.subject))
                        .values(dead_at=None, attempts=0, delivery_enqueued_at=None)
                    )
        return letters

    def status(self, now: float) -> QueueStatus:
        p = _patients.c

        def count(connection: Connection, table: Any, *conditions: Any) -> int:
            statement = select(func.count()).select_from(table).where(*conditions)
            return int(connection.execute(statement).scalar() or 0)

        with self.engine.connect() as connection:
            waiting = count(
                connection,
                _patients,
                p.dead_at.is_(None),
                p.requested_at.is_not(None),
                or_(p.done_through.is_(None), p.requested_at > p.done_through),
            )
            in_progress = count(
                connection, _patients, p.claimed_until.is_not(None), p.claimed_until >= now
            )
            failing = count(connection, _patients, p.attempts > 0, p.dead_at.is_(None))
            undelivered = count(connection, _alerts, _alerts.c.delivered_at.is_(None))
            heard = connection.execute(
                select(
                    _subscriptions.c.subscription_id, _subscriptions.c.last_notification_at
                ).where(_subscriptions.c.last_notification_at.is_not(None))
            ).all()
        silence = tuple(
            (
                str(row.subscription_id),
                max(
                    0.0,
                    now
                    - (
                        _aware(row.last_notification_at) or datetime.min.replace(tzinfo=UTC)
                    ).timestamp(),
                ),
            )
            for row in heard
        )
        return QueueStatus(
            waiting=waiting,
            in_progress=in_progress,
            failing=failing,
            alerts_undelivered=undelivered,
            dead_letters=self.dead_letters(),
            subscription_silence=silence,
        )


def _kept_gap(first: int, stop: int) -> range:
    """The missing numbers ``first`` to ``stop - 1`` that can be kept: the last ``_MAX_MISSING``
    only (review finding: a jump of millions built the whole range before it was trimmed)."""
    return range(max(first, stop - _MAX_MISSING), stop)


def _newer(column: Any, value: float) -> Any:
    """SQL for "the later of ``column`` and ``value``" (NULL counts as earlier)."""
    from sqlalchemy import case

    return case((or_(column.is_(None), column < value), value), else_=column)


def _insert_id(connection: Connection, statement: Any) -> int:
    result = connection.execute(statement)
    key = result.inserted_primary_key
    assert key is not None  # noqa: S101 - every insert here has an integer key
    return int(key[0])


def _state_of(row: Any) -> AlertState:
    grades = {m.name: getattr(row, m.column) for m in WATCHED_MEASURES}
    return AlertState(
        as_of=_aware(row.state_as_of),
        grades=grades,
        warnings=frozenset(orjson.loads(row.warnings)),
    )


def _alert_of(row: Any) -> AlertRecord:
    return AlertRecord(
        id=int(row.id),
        patient_id=str(row.patient_id),
        rise_number=int(row.rise_number),
        raised_at=_aware(row.raised_at) or datetime.min.replace(tzinfo=UTC),
        reasons=tuple(orjson.loads(row.reasons)),
        summary=str(row.summary),
        evidence=tuple(orjson.loads(row.evidence)),
        deliveries=orjson.loads(row.deliveries),
        delivered=row.delivered_at is not None,
    )


def _evaluation_of(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "asOf": _aware(row.as_of),
        "inScope": bool(row.in_scope),
        "grades": {m.name: getattr(row, m.column) for m in WATCHED_MEASURES},
        "crsPeakGrade": row.crs_peak_grade,
        "warnings": orjson.loads(row.warnings),
        "evidence": orjson.loads(row.evidence),
        "partial": bool(row.partial),
        "alerted": bool(row.alerted),
    }
