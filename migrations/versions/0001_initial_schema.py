"""Initial schema: action state, alert-to-incident links, the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "action_state",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("activated_at", _TIME, nullable=False),
        sa.Column("last_poll_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_action_state")),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_action", sa.String(200), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.String(64), nullable=False),
        sa.Column("alert_summary", sa.String(255), nullable=False),
        sa.Column("statuspage_incident_id", sa.String(64), nullable=True),
        sa.Column("statuspage_status", sa.String(32), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("triggered_at", _TIME, nullable=True),
        sa.Column("mirror_status", sa.String(32), nullable=True),
        sa.Column("mirror_priority", sa.String(32), nullable=True),
        sa.Column("mirror_responders", sa.JSON(), nullable=True),
        sa.Column("mirror_policy_id", sa.BigInteger(), nullable=True),
        sa.Column("mirror_rule_index", sa.Integer(), nullable=True),
        sa.Column("mirror_next_escalation", _TIME, nullable=True),
        sa.Column("last_log_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_call", sa.JSON(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("next_attempt_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("incident_action", "alert_id", name=op.f("uq_links_incident_action")),
    )
    op.create_index(op.f("ix_links_alert_id"), "links", ["alert_id"])
    op.create_index(op.f("ix_links_is_open"), "links", ["is_open"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("incident_action", sa.String(200), nullable=False),
        sa.Column("page_id", sa.String(64), nullable=False),
        sa.Column("statuspage_incident_id", sa.String(64), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    op.create_index(op.f("ix_transitions_alert_id"), "transitions", ["alert_id"])
    op.create_index(op.f("ix_transitions_at"), "transitions", ["at"])


def downgrade() -> None:
    op.drop_table("transitions")
    op.drop_table("links")
    op.drop_table("action_state")
