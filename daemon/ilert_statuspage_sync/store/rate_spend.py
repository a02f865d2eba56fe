"""What processes spent of an API key's rolling window (``rate_spend``); the caller commits."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.tables import RateSpend

__all__ = ["forget_all", "forget_before", "record_spend", "spent_since"]


def record_spend(session: Session, key_id: str, owner: str, sent: Iterable[float]) -> None:
    """One row per request ``owner`` sent with the key (epoch seconds)."""
    session.add_all(RateSpend(key_id=key_id, owner=owner, sent_at=at) for at in sent)


def spent_since(
    session: Session, key_id: str, since: float, until: float, but: str
) -> list[tuple[int, float]]:
    """(row id, epoch seconds) of the key's requests from ``since`` to ``until``, by owners
    but ``but``; a row past ``until`` is from a clock that since jumped back."""
    rows = session.execute(
        sa.select(RateSpend.id, RateSpend.sent_at).where(
            RateSpend.key_id == key_id,
            RateSpend.sent_at >= since,
            RateSpend.sent_at <= until,
            RateSpend.owner != but,
        )
    )
    return [(row_id, at) for row_id, at in rows]


def forget_before(session: Session, key_id: str, before: float, after: float) -> None:
    """Drop the key's rows older than ``before`` (no window holds them any more) and those
    newer than ``after`` (written before the clock jumped back: they would hold every
    window until the clock caught up)."""
    session.execute(
        sa.delete(RateSpend).where(
            RateSpend.key_id == key_id,
            sa.or_(RateSpend.sent_at < before, RateSpend.sent_at > after),
        )
    )


def forget_all(session: Session) -> None:
    """Every process's spend of every key (a world whose budgets change from here)."""
    session.execute(sa.delete(RateSpend))
