"""Issue 5: the SMART app's launch state and tokens, shared by workers and replicas.

Before this revision the SMART store created ``smart_launch_store`` itself on first use, so a
database may already hold it: then only the revision moves.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("smart_launch_store"):
        return
    op.create_table(
        "smart_launch_store",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_smart_launch_store_expires_at", "smart_launch_store", ["expires_at"])


def downgrade() -> None:
    op.drop_table("smart_launch_store")
