"""What each process spent of an API key's rolling window, so the next one does not overspend.

One row per Statuspage request sent (epoch seconds, the sending process's
budget id, a hash naming the key, never the key); rows older than two windows
are pruned each pass.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_spend",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_spend")),
    )
    op.create_index("ix_rate_spend_key_id_sent_at", "rate_spend", ["key_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_spend_key_id_sent_at", table_name="rate_spend")
    op.drop_table("rate_spend")
