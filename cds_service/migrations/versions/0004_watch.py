"""Issue 16: the watch's tables (patients, evaluations, alerts, subscriptions, dead letters).

``watch_evaluations.icans_grade`` and ``watch_patients.icans_grade`` exist from the start (NULL
until the ICANS grade of issue 15 is watched). ``watch_alerts`` is unique per (patient, rise
number) and per evaluation: the record that makes an alert happen once.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_patients",
        sa.Column("patient_id", sa.String(64), primary_key=True),
        sa.Column("requested_at", sa.Float, nullable=True),
        sa.Column("requested_reason", sa.String(32), nullable=True),
        sa.Column("done_through", sa.Float, nullable=True),
        sa.Column("enqueued_at", sa.Float, nullable=True),
        sa.Column("claimed_until", sa.Float, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("dead_at", sa.Float, nullable=True),
        sa.Column("state_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_scope", sa.Boolean, nullable=True),
        sa.Column("crs_grade", sa.Integer, nullable=True),
        sa.Column("icans_grade", sa.Integer, nullable=True),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("rise_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "watch_evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("in_scope", sa.Boolean, nullable=False),
        sa.Column("crs_grade", sa.Integer, nullable=True),
        sa.Column("crs_peak_grade", sa.Integer, nullable=True),
        sa.Column("icans_grade", sa.Integer, nullable=True),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("partial", sa.Boolean, nullable=False),
        sa.Column("alerted", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_watch_evaluations_patient_as_of", "watch_evaluations", ["patient_id", "as_of"]
    )
    op.create_table(
        "watch_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("rise_number", sa.Integer, nullable=False),
        sa.Column(
            "evaluation_id",
            sa.Integer,
            sa.ForeignKey("watch_evaluations.id", name="fk_watch_alerts_evaluation"),
            nullable=False,
        ),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("deliveries", sa.Text, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("delivery_enqueued_at", sa.Float, nullable=True),
        sa.Column("delivering_until", sa.Float, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("dead_at", sa.Float, nullable=True),
        sa.Column("last_error", sa.String(256), nullable=True),
        sa.UniqueConstraint("patient_id", "rise_number", name="uq_watch_alerts_patient_rise"),
        sa.UniqueConstraint("evaluation_id", name="uq_watch_alerts_evaluation"),
    )
    op.create_index("ix_watch_alerts_patient", "watch_alerts", ["patient_id"])
    op.create_table(
        "watch_subscriptions",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(1024), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("last_type", sa.String(32), nullable=True),
        sa.Column("highest_event", sa.BigInteger, nullable=True),
        sa.Column("missing", sa.Text, nullable=False, server_default="[]"),
        sa.Column("notifications", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gaps", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_notification_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "watch_dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("error", sa.String(256), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requeued_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("watch_dead_letters")
    op.drop_table("watch_subscriptions")
    op.drop_table("watch_alerts")
    op.drop_table("watch_evaluations")
    op.drop_table("watch_patients")
