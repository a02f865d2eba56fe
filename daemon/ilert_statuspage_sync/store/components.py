"""Reads of the component rows and the links the component step looks at; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.components import OPERATIONAL
from ilert_statuspage_sync.store.tables import ComponentRow, Link

__all__ = ["component_rows", "mirrored_on_page", "owned_pages"]


def owned_pages(session: Session) -> set[str]:
    """Pages where the daemon still owns a component status (one it set, not operational)."""
    owned = session.scalars(
        sa.select(ComponentRow.page_id)
        .where(ComponentRow.last_set.is_not(None), ComponentRow.last_set != OPERATIONAL)
        .distinct()
    )
    return set(owned)


def mirrored_on_page(session: Session, page_id: str, actions: Sequence[str]) -> list[Link]:
    """The open links of ``actions`` on the page that have an incident."""
    rows = session.scalars(
        sa.select(Link).where(
            Link.page_id == page_id,
            Link.is_open.is_(True),
            Link.statuspage_incident_id.is_not(None),
            Link.incident_action.in_(list(actions)),
        )
    )
    return list(rows)


def component_rows(session: Session, page_id: str) -> dict[str, ComponentRow]:
    """The page's component rows by component id."""
    rows = session.scalars(sa.select(ComponentRow).where(ComponentRow.page_id == page_id))
    return {row.component_id: row for row in rows}
