"""The state database's tables, as SQLAlchemy 2.0 typed models.

The Alembic migrations in ``migrations/`` build exactly this schema (a test runs
``alembic check``). Timestamps are stored as UTC and always read back aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ilert_statuspage_sync.store.types import MaskedText, UTCDateTime

__all__ = [
    "ActionState",
    "Base",
    "BridgedRow",
    "ComponentRow",
    "LeaderEpoch",
    "Link",
    "MaskedText",
    "RateSpend",
    "Replica",
    "Transition",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# An audit row's reason: also how a reason compares with one stored (``repo.stored_reason``).
REASON = MaskedText(1000)


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention Alembic relies on."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


class ActionState(Base):
    """Per incident action: since when it mirrors, and how far polling got."""

    __tablename__ = "action_state"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    activated_at: Mapped[datetime]
    last_poll_at: Mapped[datetime | None]


class Link(Base):
    """One alert as one incident action mirrors it, and its Statuspage incident.

    The ``mirror_*`` columns hold what has been mirrored so far (core ``Mirror``);
    ``pending_call`` records a write's intent before it is sent, so a crash
    between the call and the commit is found and reconciled, never repeated blindly.
    """

    __tablename__ = "links"
    __table_args__ = (
        sa.UniqueConstraint("incident_action", "alert_id"),
        # Serves a pass's open links and the closed ones by age (recently closed,
        # expired): no query of a pass scans the closed history.
        sa.Index("ix_links_is_open_updated_at", "is_open", "updated_at"),
        # The failing-items count of every pass reads this, not the whole table.
        sa.Index(
            "ix_links_failing",
            "id",
            sqlite_where=sa.text("last_error IS NOT NULL"),
            postgresql_where=sa.text("last_error IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_action: Mapped[str] = mapped_column(sa.String(200))
    alert_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    page_id: Mapped[str] = mapped_column(sa.String(64))
    # The alert's summary as iLert gave it, minus any piece of the daemon's keys.
    alert_summary: Mapped[str] = mapped_column(MaskedText(255), default="")
    statuspage_incident_id: Mapped[str | None] = mapped_column(sa.String(64))
    statuspage_status: Mapped[str | None] = mapped_column(sa.String(32))
    is_open: Mapped[bool] = mapped_column(default=True)
    triggered_at: Mapped[datetime | None]
    mirror_status: Mapped[str | None] = mapped_column(sa.String(32))
    mirror_priority: Mapped[str | None] = mapped_column(sa.String(32))
    mirror_responders: Mapped[list[str] | None] = mapped_column(sa.JSON)
    mirror_policy_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    mirror_rule_index: Mapped[int | None]
    mirror_next_escalation: Mapped[datetime | None]
    last_log_entry_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    pending_call: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(MaskedText(1000))
    next_attempt_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    # group = "action": the status the lifecycle gives this alert alone (its share).
    alert_status: Mapped[str | None] = mapped_column(sa.String(32))
    # A person changed the incident's status on Statuspage: the daemon no longer does.
    human_override: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # iLert answered 404 for the alert: since when, and reads in a row (core.deletion).
    missing_since: Mapped[datetime | None]
    missing_reads: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BridgedRow(Base):
    """One iLert incident or maintenance window a status bridge mirrors, and its public object.

    ``seen`` holds what was published (core ``bridge.Seen``); ``pending_call``
    a write's intent before it is sent, as ``Link.pending_call`` does.
    """

    __tablename__ = "bridged"
    __table_args__ = (
        sa.UniqueConstraint("bridge", "kind", "ilert_id"),
        sa.Index("ix_bridged_is_open", "is_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    bridge: Mapped[str] = mapped_column(sa.String(200))
    # "incident" or "maintenance".
    kind: Mapped[str] = mapped_column(sa.String(16))
    ilert_id: Mapped[int] = mapped_column(sa.BigInteger)
    page_id: Mapped[str] = mapped_column(sa.String(64))
    statuspage_id: Mapped[str | None] = mapped_column(sa.String(64))
    is_open: Mapped[bool] = mapped_column(default=True)
    # A person changed or closed the public object: the bridge leaves it alone.
    held: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # ``none_as_null``: None is SQL NULL, so "IS NOT NULL" finds the rows with an intent.
    seen: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    pending_call: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Transition(Base):
    """The audit trail: one row per detected event and the decision taken."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    alert_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    incident_action: Mapped[str] = mapped_column(sa.String(200))
    page_id: Mapped[str] = mapped_column(sa.String(64))
    statuspage_incident_id: Mapped[str | None] = mapped_column(sa.String(64))
    event: Mapped[str] = mapped_column(sa.String(32))
    outcome: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(REASON)
    # What the write showed the public (after templates, redaction and clipping).
    # Masked and clipped like every written text: a mask never makes it overflow.
    published_name: Mapped[str | None] = mapped_column(MaskedText(255))
    published_body: Mapped[str | None] = mapped_column(sa.Text)


class Replica(Base):
    """A running daemon (leader or follower) and how its passes go, for ``status``."""

    __tablename__ = "replicas"

    instance_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_pass_at: Mapped[datetime | None]
    last_pass_ok: Mapped[bool | None]
    poll_interval: Mapped[float]


class LeaderEpoch(Base):
    """One row: the leadership epoch, raised by each new leader under the leader lock.

    Every commit of a leader checks, in the same transaction, that the epoch is
    still the one it claimed; a deposed leader's commits are refused.
    """

    __tablename__ = "leader_epoch"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(sa.BigInteger)
    instance_id: Mapped[str] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime]


class ComponentRow(Base):
    """What the daemon last set on one Statuspage component (core ``ComponentState``).

    ``pending_call`` records a component write's intent before it is sent, as
    ``Link.pending_call`` does for incident writes.
    """

    __tablename__ = "component_states"

    page_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    component_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_set: Mapped[str | None] = mapped_column(sa.String(32))
    held_since: Mapped[str | None] = mapped_column(sa.String(32))
    holder_alert_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    holder_action: Mapped[str | None] = mapped_column(sa.String(200))
    pending_call: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime]


class RateSpend(Base):
    """One request sent with an API key: what later processes count against its window.

    ``key_id`` names the key by a hash (never the key); ``owner`` is the sending
    process's budget; ``sent_at`` is epoch seconds on the host's clock.
    """

    __tablename__ = "rate_spend"
    __table_args__ = (sa.Index("ix_rate_spend_key_id_sent_at", "key_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(sa.String(32))
    owner: Mapped[str] = mapped_column(sa.String(32))
    sent_at: Mapped[float] = mapped_column(sa.Float)
