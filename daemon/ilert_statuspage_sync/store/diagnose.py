"""One line for a failure of the state database or its filesystem.

SQLAlchemy's messages carry the SQL statement and its parameters (an intent's
JSON, a comment's text) and a link to its docs; the operator needs what failed
and what to do. ``explain`` turns the driver's error (or an ``OSError``) into
that line from the error code alone, never from the statement. A ``sqlite3``
error (``status`` reads a plain SQLite file without SQLAlchemy) gets the same line
as SQLAlchemy's wrapping of it, and this module loads SQLAlchemy only to explain
one of its errors.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.config.sqlite_url import plain_sqlite
from ilert_statuspage_sync.runtime.secrets import scrub

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["busy_timeout", "explain", "sqlite_path"]

DEFAULT_BUSY_TIMEOUT = 30.0
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UNREACHABLE_HINTS = (
    "connection",
    "could not connect",
    "server closed",
    "terminating connection",
    "could not translate host name",
    "timeout expired",
)


def sqlite_path(database_url: str) -> Path | None:
    """The absolute path of a SQLite file URL; None for other databases and in-memory ones."""
    plain = plain_sqlite(database_url)
    if plain is not None:
        return plain.path
    import sqlalchemy as sa

    try:
        url = sa.make_url(database_url)
    except sa.exc.ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def busy_timeout(database_url: str) -> float:
    """How long SQLite waits for a lock: the URL's ``?timeout=SECONDS``, else 30 s."""
    plain = plain_sqlite(database_url)
    if plain is not None:
        return _timeout(plain.timeout or DEFAULT_BUSY_TIMEOUT)
    import sqlalchemy as sa

    try:
        return _timeout(sa.make_url(database_url).query.get("timeout", DEFAULT_BUSY_TIMEOUT))
    except sa.exc.ArgumentError:
        return DEFAULT_BUSY_TIMEOUT


def _timeout(raw: str | float | tuple[str, ...]) -> float:
    try:
        value = float(raw if isinstance(raw, str | int | float) else raw[0])
    except (ValueError, TypeError):
        return DEFAULT_BUSY_TIMEOUT
    return value if 0 <= value <= 3600 else DEFAULT_BUSY_TIMEOUT


def explain(error: BaseException, database_url: str) -> str | None:
    """The operator's line for ``error``, or None when it is not a storage failure."""
    if isinstance(error, OSError):
        return scrub(_os(error))
    if isinstance(error, sqlite3.Error):
        return scrub(_driver(error, database_url))
    import sqlalchemy as sa

    if isinstance(error, sa.exc.DBAPIError):
        return scrub(_database(error, database_url))
    if isinstance(error, sa.exc.SQLAlchemyError):
        cause = _dbapi_cause(error)
        if cause is not None:
            return scrub(_database(cause, database_url))
        # Never the statement or its parameters, which SQLAlchemy appends after these.
        text = _first_line(error).split("[SQL", 1)[0].split(" Original exception was", 1)[0]
        return scrub(f"{_where(database_url)}: {type(error).__name__}: {text.strip()}")
    return None


def _dbapi_cause(error: BaseException) -> sa.exc.DBAPIError | None:
    import sqlalchemy as sa

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, sa.exc.DBAPIError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _database(error: sa.exc.DBAPIError, database_url: str) -> str:
    import sqlalchemy as sa

    orig = error.orig
    if isinstance(orig, sqlite3.Error) and sqlite_path(database_url) is not None:
        return _driver(orig, database_url)
    where = _where(database_url)
    message = _first_line(orig)
    lowered = message.lower()
    if isinstance(error, sa.exc.OperationalError) and any(
        hint in lowered for hint in _UNREACHABLE_HINTS
    ):
        return (
            f"cannot reach the database {where}: {message}; check that the server is "
            "running and reachable, and database_url"
        )
    if "does not exist" in lowered and ("relation" in lowered or "column" in lowered):
        return _not_migrated(where, message)
    return f"database {where} failed: {type(orig).__name__}: {message}"


def _driver(orig: sqlite3.Error, database_url: str) -> str:
    """The line for an error of the ``sqlite3`` driver, raw or as SQLAlchemy wrapped it."""
    where = _where(database_url)
    message = _first_line(orig)
    path = sqlite_path(database_url)
    if path is None:
        return f"database {where} failed: {type(orig).__name__}: {message}"
    code = getattr(orig, "sqlite_errorname", "") or ""
    return _sqlite(code, message, where, path, database_url)


def _sqlite(code: str, message: str, where: str, path: Path, database_url: str) -> str:
    folder = path.parent
    uid = os.geteuid()
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"database {where} is locked by another program (waited "
            f"{busy_timeout(database_url):g}s); find it with `fuser {path}`, stop it, and retry"
        )
    if code.startswith("SQLITE_READONLY"):
        return (
            f"database {where} is read-only (the file, its folder {folder}, or a read-only "
            f"filesystem); make them writable by uid {uid}"
        )
    if code.startswith("SQLITE_CANTOPEN"):
        return (
            f"cannot open database {where}: the folder {folder} must exist and be writable "
            f"by uid {uid} (SQLite also writes {path.name}-wal and {path.name}-shm there)"
        )
    if code.startswith("SQLITE_FULL"):
        return f"disk full writing database {where}: free space on the filesystem of {folder}"
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return (
            f"database {where} is not a valid SQLite database ({message}); restore it from "
            "a backup, or move it aside and run `db upgrade` to start a new one"
        )
    if code.startswith("SQLITE_IOERR"):
        return (
            f"disk I/O error on database {where} ({code}); check the filesystem of {folder} "
            "(read-only, full or failing)"
        )
    if message.startswith(("no such table", "no such column")):
        return _not_migrated(where, message)
    return f"database {where} failed: {code or 'sqlite error'}: {message}"


def _not_migrated(where: str, message: str) -> str:
    return (
        f"database {where} does not have this version's schema ({message}); "
        "run `ilert-statuspage-sync db upgrade`"
    )


def _os(error: OSError) -> str:
    target = error.filename if error.filename is not None else "a file"
    reason = error.strerror or type(error).__name__
    if error.errno in _DISK_FULL:
        return f"disk full writing {target} ({reason}): free space on its filesystem"
    if error.errno == errno.EROFS:
        return (
            f"cannot write {target}: read-only filesystem; remount it read-write "
            "or point database_url elsewhere"
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied on {target}: make it and its folder writable by uid {os.geteuid()}"
        )
    return f"{reason}: {target}"


def _where(database_url: str) -> str:
    path = sqlite_path(database_url)
    if path is not None:
        return str(path)
    return safe_url(database_url)


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else ""
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
