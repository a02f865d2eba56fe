"""The ``overview`` reads through SQLAlchemy: a ``Run`` on a Core connection or an ORM session.

PostgreSQL, and every SQLite URL that is not a plain file, read this way; so
does the daemon, on its own sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ilert_statuspage_sync.store.overview import STREAM_CHUNK, Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["rows_of"]


def rows_of(reads: sa.Connection | Session) -> Run:
    """A ``Run`` on ``reads``; a streamed statement is fetched ``STREAM_CHUNK`` rows at a time."""

    def run(
        sql: str, params: Mapping[str, object] | None = None, /, *, stream: bool = False
    ) -> Iterable[Sequence[Any]]:
        options = {"yield_per": STREAM_CHUNK} if stream else {}
        return reads.execute(sa.text(sql), dict(params or {}), execution_options=options)

    return run
