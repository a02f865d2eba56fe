"""Keep the name and body each write published, for `history --alert ID`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("published_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("published_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("published_body")
        batch.drop_column("published_name")
