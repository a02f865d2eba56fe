"""The ``overview`` reads on a plain SQLite file through ``sqlite3``: ``status`` without SQLAlchemy.

``status`` runs as a fresh process every few seconds, and importing SQLAlchemy
costs about ten times an interpreter's start. The file is opened read-only
(``mode=ro``: the probe never creates nor writes it) with the URL's busy
timeout, and refused as ``store.schema`` refuses it on any engine: missing,
never migrated, behind or ahead of this version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from typing import Any

from ilert_statuspage_sync.config.sqlite_url import PlainSqlite
from ilert_statuspage_sync.store.diagnose import busy_timeout
from ilert_statuspage_sync.store.overview import Run
from ilert_statuspage_sync.store.schema import (
    READ_REVISION,
    VERSION_TABLE,
    one_revision,
    require_database,
    require_revision,
)

__all__ = ["sqlite_reads"]

_HAS_TABLE = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"


@contextmanager
def sqlite_reads(database_url: str, plain: PlainSqlite) -> Iterator[Run]:
    """A ``Run`` on the migrated file of ``database_url`` (``plain``: what it names), read-only."""
    require_database(database_url)
    uri = f"{plain.path.as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=busy_timeout(database_url))) as opened:

        def run(
            sql: str, params: Mapping[str, object] | None = None, /, *, stream: bool = False
        ) -> Iterable[Sequence[Any]]:
            # A cursor yields rows as SQLite steps through them: streamed whatever ``stream``.
            return opened.execute(sql, dict(params or {}))

        require_revision(_revision(run), database_url)
        yield run


def _revision(run: Run) -> str | None:
    """The migration the file is at (None when never migrated), as Alembic recorded it."""
    (has_table,) = next(iter(run(_HAS_TABLE, {"name": VERSION_TABLE})))
    if not has_table:
        return None
    return one_revision([revision for (revision,) in run(READ_REVISION)])
