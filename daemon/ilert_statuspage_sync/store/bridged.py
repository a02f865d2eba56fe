"""The rows of the status bridges' mirrored iLert objects; the caller commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.tables import BridgedRow

__all__ = ["add_row", "closed_rows", "open_rows", "open_rows_on_page", "pending_rows", "row_of"]


def open_rows(session: Session, bridge: str, kind: str) -> dict[int, BridgedRow]:
    """A bridge's open rows of one kind, by iLert id."""
    rows = session.scalars(
        sa.select(BridgedRow).where(
            BridgedRow.bridge == bridge, BridgedRow.kind == kind, BridgedRow.is_open.is_(True)
        )
    )
    return {row.ilert_id: row for row in rows}


def closed_rows(
    session: Session, bridge: str, kind: str, ilert_ids: Collection[int]
) -> dict[int, BridgedRow]:
    """A bridge's closed rows of one kind among ``ilert_ids`` (listed again), by iLert id."""
    if not ilert_ids:
        return {}
    rows = session.scalars(
        sa.select(BridgedRow).where(
            BridgedRow.bridge == bridge,
            BridgedRow.kind == kind,
            BridgedRow.is_open.is_(False),
            BridgedRow.ilert_id.in_(sorted(ilert_ids)),
        )
    )
    return {row.ilert_id: row for row in rows}


def open_rows_on_page(session: Session, page_id: str) -> list[BridgedRow]:
    """Every bridge's open rows on one page (the holds they put on its components)."""
    rows = session.scalars(
        sa.select(BridgedRow).where(BridgedRow.page_id == page_id, BridgedRow.is_open.is_(True))
    )
    return list(rows)


def pending_rows(session: Session, bridge: str) -> list[BridgedRow]:
    """A bridge's rows with an interrupted write (any state: a closing write may be one)."""
    rows = session.scalars(
        sa.select(BridgedRow).where(
            BridgedRow.bridge == bridge, BridgedRow.pending_call.is_not(None)
        )
    )
    return [row for row in rows if isinstance(row.pending_call, dict)]


def row_of(session: Session, bridge: str, kind: str, ilert_id: int) -> BridgedRow | None:
    """The row of one iLert object, open or closed."""
    return session.scalars(
        sa.select(BridgedRow).where(
            BridgedRow.bridge == bridge, BridgedRow.kind == kind, BridgedRow.ilert_id == ilert_id
        )
    ).first()


def add_row(
    session: Session, bridge: str, kind: str, ilert_id: int, page_id: str, now: datetime
) -> BridgedRow:
    """A new open row, not yet published (flushed, so its intent can be recorded)."""
    row = BridgedRow(
        bridge=bridge,
        kind=kind,
        ilert_id=ilert_id,
        page_id=page_id,
        is_open=True,
        held=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row
