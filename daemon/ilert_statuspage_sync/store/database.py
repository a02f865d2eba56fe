"""Open the state database and bring its schema to the newest migration.

``upgrade`` runs the real Alembic migrations shipped inside the package, the
same ones ``alembic`` runs from a checkout, so tests and production build the
schema one way. Database URLs are only ever shown with the password hidden.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.errors import DatabaseReplacedError, StoreError

__all__ = [
    "check_database",
    "current_revision",
    "head_revision",
    "make_engine",
    "make_sessions",
    "safe_url",
    "upgrade",
]


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable database URL>"


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout for the CLI's readers."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError("database_url: not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StoreError(f"database_url: folder {folder} does not exist")
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            _watch_file(engine, Path(database).expanduser().resolve())
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except ImportError as error:
        raise StoreError(
            f"database_url: the driver for {parsed.drivername} is not installed ({error.name}); "
            "for PostgreSQL install ilert-statuspage-sync[postgres]"
        ) from None


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_checks: weakref.WeakKeyDictionary[sa.Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


def check_database(engine: sa.Engine) -> None:
    """Raise ``DatabaseReplacedError`` if the engine's SQLite file was deleted or replaced.

    No-op for PostgreSQL. Also runs before every commit and on every new connection.
    """
    check = _checks.get(engine)
    if check is not None:
        check()


def _watch_file(engine: sa.Engine, path: Path) -> None:
    """Remember the file's (st_dev, st_ino) at first connect; refuse to go on once it changes.

    Open SQLite connections keep writing to a deleted file's inode: every later
    commit would be lost, and the next start would forget every link. Stopping
    instead lets systemd restart the service on the file now at the path.
    """
    opened: list[tuple[int, int] | None] = []

    def identity() -> tuple[int, int] | None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def check() -> None:
        if not opened:
            return
        now = identity()
        if now != opened[0]:
            what = "deleted" if now is None else "replaced by another file"
            raise DatabaseReplacedError(
                f"the state database {path} was {what} while this process had it open; "
                "stopped so nothing is written to a file that is gone. Restart the service: "
                "on an empty database it rebuilds its links from Statuspage"
            )

    def on_connect(_connection: object, _record: object) -> None:
        if opened:
            check()
        else:
            opened.append(identity())

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "commit", lambda _connection: check())
    _checks[engine] = check


def make_sessions(engine: sa.Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (the runner reads them on)."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> AlembicConfig:
    location = resources.files("ilert_statuspage_sync.migrations")
    config = AlembicConfig()
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None when empty)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Apply pending migrations; return (revision before, revision after)."""
    before = current_revision(engine)
    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except sa.exc.OperationalError as error:
        raise StoreError(f"cannot migrate {safe_url(str(engine.url))}: {error.orig}") from None
    return before, current_revision(engine)
