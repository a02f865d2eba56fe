"""Whether this version can read a database as it is: its recorded migration, judged.

Apart from the engine (``store.database``) so that ``status`` on a SQLite file
judges the revision it read through ``sqlite3`` with the same lines, without
loading SQLAlchemy or Alembic.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.errors import DatabaseFailureError
from ilert_statuspage_sync.store.diagnose import sqlite_path

__all__ = [
    "READ_REVISION",
    "VERSION_TABLE",
    "head_revision",
    "newer_schema",
    "one_revision",
    "require_database",
    "require_revision",
    "revisions",
]

# Alembic's table: one row, the migration the database is at.
VERSION_TABLE = "alembic_version"
READ_REVISION = "SELECT version_num FROM alembic_version"


def revisions() -> list[str]:
    """Every shipped migration, oldest first.

    Read from the file names (``NNNN_what.py`` holds revision ``NNNN``, each
    one's ``down_revision`` the one before: a test holds it to Alembic's own
    walk), so checking a database's revision does not load Alembic.
    """
    versions = resources.files("ilert_statuspage_sync.migrations").joinpath("versions")
    names = [entry.name for entry in versions.iterdir() if entry.name.endswith(".py")]
    return sorted(name.split("_", 1)[0] for name in names if name[:1].isdigit())


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    shipped = revisions()
    return shipped[-1] if shipped else None


def one_revision(stored: Sequence[str]) -> str | None:
    """The revision of the version table's rows (None when empty); several is a broken table."""
    if len(stored) > 1:
        raise DatabaseFailureError(
            f"the database records {len(stored)} migration heads; restore it from a backup"
        )
    return stored[0] if stored else None


def require_database(database_url: str) -> None:
    """Refuse a SQLite file that does not exist (read-only commands must not create it)."""
    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        raise DatabaseFailureError(
            f"no database at {path}; run `ilert-statuspage-sync db upgrade` "
            "or start the daemon first"
        )


def require_revision(revision: str | None, database_url: str) -> None:
    """Refuse, with the command to run, a database at ``revision`` this version cannot read."""
    head = head_revision()
    if revision is not None and revision not in revisions():
        raise DatabaseFailureError(newer_schema(revision, database_url))
    if revision != head:
        where = sqlite_path(database_url) or safe_url(database_url)
        raise DatabaseFailureError(
            f"database {where} is at revision {revision or 'none (never migrated)'}, "
            f"this version needs {head}; run `ilert-statuspage-sync db upgrade`"
        )


def newer_schema(revision: str, database_url: str) -> str:
    """The line for a database a newer release migrated: this one can neither read nor undo it."""
    where = sqlite_path(database_url) or safe_url(database_url)
    return (
        f"database {where} is at revision {revision[:40]}, newer than this version knows "
        f"(up to {head_revision()}); install the release that migrated it, or run its "
        f"`db downgrade {head_revision()}` first"
    )
