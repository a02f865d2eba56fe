"""database_url normalisation and the one-line explanations of storage failures."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config.database_url import check_database_url
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.store.diagnose import busy_timeout, explain


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql+psycopg2://u:p@db/x", "postgresql+psycopg2://u:p@db/x"),
        ("sqlite:///state.db", "sqlite:///state.db"),
    ],
)
def test_postgres_urls_mean_the_shipped_driver(given: str, expected: str) -> None:
    """`postgres://` and a bare `postgresql://` use psycopg 3; explicit drivers are kept."""
    assert check_database_url(given) == expected


@pytest.mark.parametrize("url", ["mysql://u:secretpw@db/x", "oracle://db/x", "::nonsense"])
def test_unsupported_urls_are_config_errors_without_password(url: str) -> None:
    """Other databases and garbage are a ConfigError about database_url, never echoing it."""
    with pytest.raises(ConfigError, match=r"^database_url: ") as raised:
        check_database_url(url)
    assert "secretpw" not in str(raised.value)
    assert "[postgres]" not in str(raised.value)


def test_busy_timeout_from_the_url() -> None:
    """`?timeout=2.5` sets SQLite's busy timeout; nonsense falls back to 30 s."""
    assert busy_timeout("sqlite:///x.db?timeout=2.5") == 2.5
    assert busy_timeout("sqlite:///x.db") == 30.0
    assert busy_timeout("sqlite:///x.db?timeout=soon") == 30.0


def test_explain_never_shows_the_statement_or_its_parameters(tmp_path: Path) -> None:
    """A locked database's message holds the path and the fix, not SQL or bound values."""
    db = tmp_path / "state.db"
    url = f"sqlite:///{db}"
    orig = sqlite3.OperationalError("database is locked")
    orig.sqlite_errorname = "SQLITE_BUSY"
    error = sa.exc.OperationalError(
        "UPDATE links SET pending_call=?", ('{"body": "private comment"}',), orig
    )
    line = explain(error, url)
    assert line is not None
    assert line.startswith(f"database {db} is locked by another program (waited 30s)")
    assert "private comment" not in line and "UPDATE" not in line


def test_explain_os_errors_by_errno(tmp_path: Path) -> None:
    """ENOSPC says disk full, EROFS read-only filesystem, EACCES permission denied."""
    target = str(tmp_path / "state.db.lock")
    full = explain(OSError(errno.ENOSPC, "No space left on device", target), "")
    assert full is not None and full.startswith(f"disk full writing {target}")
    rofs = explain(OSError(errno.EROFS, "Read-only file system", target), "")
    assert rofs is not None and rofs.startswith(f"cannot write {target}: read-only filesystem")
    denied = explain(PermissionError(errno.EACCES, "Permission denied", target), "")
    assert denied is not None and denied.startswith(f"permission denied on {target}")
    assert explain(ValueError("not storage"), "") is None


def test_explain_cuts_the_sql_sqlalchemy_appends() -> None:
    """A wrapper error without a driver cause is cut before SQLAlchemy's `[SQL: ...]` part."""
    error = sa.exc.PendingRollbackError(
        "This Session's transaction has been rolled back. Original exception was: "
        "(sqlite3.OperationalError) database is locked [SQL: UPDATE links SET body='secret text']"
    )
    line = explain(error, "sqlite:////srv/state.db")
    assert (
        line
        == "/srv/state.db: PendingRollbackError: This Session's transaction has been rolled back."
    )
