"""The watch's tables (SPEC 4b "Record"), on the service's one ``MetaData``.

Alembic revision 0004 creates them (0005 adds the catch-up times of ``watch_subscriptions``);
``cds_service.storage.metadata`` holds them so that a new database is built at head and the
migration test compares them too. Coordination times
(``requested_at``, ``enqueued_at``, ``claimed_until``, ...) are POSIX seconds (floats compare
the same on SQLite and PostgreSQL); clinical times are UTC ``DateTime`` values.

- ``watch_patients``: one row per watched patient: the latest request to evaluate it, whether
  a job waits for it or a worker holds it (a lease), and the alert state (the last grade of
  each watched measure, the infection warnings, how many rises were alerted).
- ``watch_evaluations``: every evaluation a worker stored (grades, time, evidence references).
- ``watch_alerts``: every alert, unique per (patient, rise number): the "rise seen" record that
  makes an alert happen once whatever retries, concurrent workers or a killed worker do.
- ``watch_subscriptions``: per Subscription, the highest event number seen, the missing ones,
  when they went missing and when a catch-up read was last scheduled for them.
- ``watch_dead_letters``: jobs that failed after every retry, for the operator.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cds_service.storage import metadata

__all__ = [
    "watch_alerts_table",
    "watch_dead_letters_table",
    "watch_evaluations_table",
    "watch_patients_table",
    "watch_subscriptions_table",
]

watch_patients_table = Table(
    "watch_patients",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    # Coordination (POSIX seconds).
    Column("requested_at", Float, nullable=True),  # latest notification or poll asking for it
    Column("requested_reason", String(32), nullable=True),
    Column("done_through", Float, nullable=True),  # requested_at covered by the last evaluation
    Column("enqueued_at", Float, nullable=True),  # a job waits in the queue (or a retry) since
    Column("claimed_until", Float, nullable=True),  # a worker evaluates it until (lease)
    Column("claimed_by", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("dead_at", Float, nullable=True),
    # Alert state: what the last evaluation that moved it saw.
    Column("state_as_of", DateTime(timezone=True), nullable=True),
    Column("in_scope", Boolean, nullable=True),
    Column("crs_grade", Integer, nullable=True),
    Column("icans_grade", Integer, nullable=True),
    Column("warnings", Text, nullable=False, server_default="[]"),  # JSON list of codes
    Column("rise_count", Integer, nullable=False, server_default="0"),
)

watch_evaluations_table = Table(
    "watch_evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(64), nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("requested_at", Float, nullable=True),
    Column("finished_at", Float, nullable=False),
    Column("in_scope", Boolean, nullable=False),
    Column("crs_grade", Integer, nullable=True),
    Column("crs_peak_grade", Integer, nullable=True),
    Column("icans_grade", Integer, nullable=True),  # issue 15 fills it
    Column("warnings", Text, nullable=False),  # JSON list of infection warning codes
    Column("evidence", Text, nullable=False),  # JSON list of Type/id references
    Column("partial", Boolean, nullable=False),  # some of the record could not be read
    Column("alerted", Boolean, nullable=False),
    Index("ix_watch_evaluations_patient_as_of", "patient_id", "as_of"),
)

watch_alerts_table = Table(
    "watch_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(64), nullable=False),
    Column("rise_number", Integer, nullable=False),
    Column(
        "evaluation_id",
        Integer,
        ForeignKey("watch_evaluations.id", name="fk_watch_alerts_evaluation"),
        nullable=False,
    ),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of {"kind", "measure"/"code", ...}
    Column("summary", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of Type/id references
    Column("deliveries", Text, nullable=False),  # JSON {channel: {"status": sent/failed, ...}}
    Column("delivered_at", Float, nullable=True),  # every channel done
    Column("delivery_enqueued_at", Float, nullable=True),
    Column("delivering_until", Float, nullable=True),  # a worker sends it until (lease)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("dead_at", Float, nullable=True),
    Column("last_error", String(256), nullable=True),
    UniqueConstraint("patient_id", "rise_number", name="uq_watch_alerts_patient_rise"),
    UniqueConstraint("evaluation_id", name="uq_watch_alerts_evaluation"),
    Index("ix_watch_alerts_patient", "patient_id"),
)

watch_subscriptions_table = Table(
    "watch_subscriptions",
    metadata,
    Column("subscription_id", String(64), primary_key=True),
    Column("topic", String(1024), nullable=True),
    Column("status", String(32), nullable=True),
    Column("last_type", String(32), nullable=True),
    Column("highest_event", BigInteger, nullable=True),
    Column("missing", Text, nullable=False, server_default="[]"),  # JSON list of event numbers
    Column("notifications", Integer, nullable=False, server_default="0"),
    Column("gaps", Integer, nullable=False, server_default="0"),
    Column("last_notification_at", DateTime(timezone=True), nullable=True),
    Column("patient_id", String(64), nullable=True),  # when its filter names one patient
    Column("created_at", DateTime(timezone=True), nullable=True),  # by `crs-cds watch subscribe`
    # Catch-up (POSIX seconds; revision 0005): when numbers last went missing, and when a
    # catch-up task was last scheduled for them (NULL: none; the recovery sweep schedules it).
    Column("gap_opened_at", Float, nullable=True),
    Column("catch_up_enqueued_at", Float, nullable=True),
)

watch_dead_letters_table = Table(
    "watch_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(32), nullable=False),
    Column("subject", String(256), nullable=False),  # a patient id, alert id or Subscription id
    Column("error", String(256), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Column("requeued_at", DateTime(timezone=True), nullable=True),
)
