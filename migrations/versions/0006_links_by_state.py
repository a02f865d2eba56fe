"""Index links by (is_open, updated_at): a pass reads open links, never the closed history.

The index serves the open links a pass loads, the recently closed ones the
duplicate check reads and the expired ones retention prunes; it replaces the
index on is_open alone, which it covers. A partial index of the failing links
serves the failing-items count each pass reports.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

FAILING = sa.text("last_error IS NOT NULL")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_links_is_open_updated_at", "links", ["is_open", "updated_at"])
    op.drop_index("ix_links_is_open", table_name="links")
    op.create_index(
        "ix_links_failing", "links", ["id"], sqlite_where=FAILING, postgresql_where=FAILING
    )


def downgrade() -> None:
    op.drop_index("ix_links_failing", table_name="links")
    op.create_index("ix_links_is_open", "links", ["is_open"])
    op.drop_index("ix_links_is_open_updated_at", table_name="links")
