"""Review of the watch: a catch-up read owed for a gap in a Subscription's event numbers is not
lost when scheduling it fails or the queue loses it.

- ``watch_subscriptions.gap_opened_at``: when event numbers last went missing (POSIX seconds);
  NULL for gaps recorded before this revision (the sweep treats them as old enough).
- ``watch_subscriptions.catch_up_enqueued_at``: when a catch-up task was last scheduled for the
  Subscription (NULL: none). The recovery sweep schedules one for a gap open longer than
  ``CRS_CDS_WATCH_GAP_WAIT_S`` with none scheduled, or with one scheduled so long ago that it
  was lost.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watch_subscriptions") as batch:
        batch.add_column(sa.Column("gap_opened_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("catch_up_enqueued_at", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watch_subscriptions") as batch:
        batch.drop_column("catch_up_enqueued_at")
        batch.drop_column("gap_opened_at")
