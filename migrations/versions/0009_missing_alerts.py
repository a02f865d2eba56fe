"""Alerts iLert answers 404 for: since when, and how many reads in a row.

An open incident's alert is taken as deleted only once the 404 is confirmed
over time (``core.deletion``); these columns count the reads across passes and
restarts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("missing_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("missing_reads", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("missing_reads")
        batch.drop_column("missing_since")
