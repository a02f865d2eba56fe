"""Remember what the daemon last set on each Statuspage component.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "component_states",
        sa.Column("page_id", sa.String(length=64), nullable=False),
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.Column("last_set", sa.String(length=32), nullable=True),
        sa.Column("held_since", sa.String(length=32), nullable=True),
        sa.Column("holder_alert_id", sa.BigInteger(), nullable=True),
        sa.Column("holder_action", sa.String(length=200), nullable=True),
        sa.Column("pending_call", sa.JSON(), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("page_id", "component_id", name=op.f("pk_component_states")),
    )


def downgrade() -> None:
    op.drop_table("component_states")
