"""Alembic environment: runs against the daemon's engine, or a URL for the alembic CLI.

The daemon passes its open connection in ``config.attributes["connection"]``;
the ``alembic`` command line reads ``-x url=...``, then ``ILERT_SYNC_DATABASE_URL``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from ilert_statuspage_sync.store.database import atomic_sqlite
from ilert_statuspage_sync.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("ILERT_SYNC_DATABASE_URL")
        or "sqlite:///state.db"
    )


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as fresh:
        if fresh.dialect.name == "sqlite":
            # One real transaction, DDL included (see atomic_sqlite).
            with atomic_sqlite(fresh):
                _run(fresh)
        else:
            _run(fresh)
    engine.dispose()
