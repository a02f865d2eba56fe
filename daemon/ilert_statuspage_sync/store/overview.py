"""Whole-table reads for the ``status`` command and the daemon's health line."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.tables import Link, Replica

__all__ = ["all_links", "open_and_failing", "replicas"]


def all_links(session: Session) -> list[Link]:
    """Every link, by incident action then alert id."""
    return list(session.scalars(sa.select(Link).order_by(Link.incident_action, Link.alert_id)))


def replicas(session: Session) -> list[Replica]:
    """Every process that recorded itself, by role."""
    return list(session.scalars(sa.select(Replica).order_by(Replica.role)))


def open_and_failing(session: Session) -> tuple[int, int]:
    """How many links are open, and how many carry an error."""
    tracked = session.scalar(sa.select(sa.func.count()).where(Link.is_open)) or 0
    failing = session.scalar(sa.select(sa.func.count()).where(Link.last_error.is_not(None))) or 0
    return tracked, failing
