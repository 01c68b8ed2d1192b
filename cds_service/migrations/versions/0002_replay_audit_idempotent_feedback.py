"""Issue 7: idempotent feedback, the shared JWT replay cache and the audit table.

- ``feedback.item_key``: SHA-256 of the item's content; unique, so a client that sends the
  same feedback again (a retry after a timeout) stores it once. Rows stored before this
  revision keep NULL (NULLs do not collide).
- ``jwt_replay``: one row per (issuer, jti) seen, keyed by their SHA-256, until the token
  expires; the primary key makes a replay fail on any worker or replica.
- ``audit``: one row per hook answer (issue 4): which patient (FHIR id only), grades, the
  cards and suggestions sent, when and how fast. No patient data beyond the id.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("item_key", sa.String(64), nullable=True))
        batch.create_index("ix_feedback_item_key", ["item_key"], unique=True)

    op.create_table(
        "jwt_replay",
        sa.Column("token_key", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_jwt_replay_expires_at", "jwt_replay", ["expires_at"])

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hook_instance", sa.String(256), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("patient_ref", sa.String(64), nullable=False),
        sa.Column("grade", sa.Integer, nullable=True),
        sa.Column("peak_grade", sa.Integer, nullable=True),
        sa.Column("card_uuids", sa.Text, nullable=False),
        sa.Column("suggestion_uuids", sa.Text, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_audit_hook_instance", "audit", ["hook_instance"])
    op.create_index("ix_audit_answered_at", "audit", ["answered_at"])
    op.create_index("ix_audit_patient_ref", "audit", ["patient_ref"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("jwt_replay")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_index("ix_feedback_item_key")
        batch.drop_column("item_key")
