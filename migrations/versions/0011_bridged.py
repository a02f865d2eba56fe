"""Status bridges: one row per iLert incident or maintenance window mirrored on a page.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bridged",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bridge", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ilert_id", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.String(length=64), nullable=False),
        sa.Column("statuspage_id", sa.String(length=64), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=True),
        sa.Column("pending_call", sa.JSON(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridged")),
        sa.UniqueConstraint("bridge", "kind", "ilert_id", name=op.f("uq_bridged_bridge")),
    )
    op.create_index("ix_bridged_is_open", "bridged", ["is_open"])


def downgrade() -> None:
    op.drop_index("ix_bridged_is_open", table_name="bridged")
    op.drop_table("bridged")
