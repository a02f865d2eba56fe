"""PostgreSQL's session-level advisory lock: the statements behind the leader lock."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["advisory_lock_held", "advisory_unlock", "try_advisory_lock"]


def try_advisory_lock(connection: sa.Connection, key: int) -> bool:
    """Take the lock if no other session holds it; True when this session has it."""
    got = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    return bool(got)


def advisory_lock_held(connection: sa.Connection, key: int) -> bool:
    """Whether this session still holds the lock, as ``pg_locks`` sees it."""
    count = connection.execute(
        sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND objid = :key AND granted"
        ),
        {"key": key},
    ).scalar()
    return bool(count)


def advisory_unlock(connection: sa.Connection, key: int) -> None:
    """Release the lock this session holds."""
    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
