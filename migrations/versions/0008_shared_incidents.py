"""Alert storms and human edits: each alert's share in a shared incident, and the override flag.

``alert_status`` is the status the lifecycle gives the alert alone (its share in
a ``group = "action"`` incident); ``human_override`` marks an incident whose
status a person changed on Statuspage, which the daemon no longer changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("alert_status", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("human_override", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("human_override")
        batch.drop_column("alert_status")
