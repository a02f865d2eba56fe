"""Open the state database and bring its schema to the newest migration.

``upgrade`` runs the real Alembic migrations shipped inside the package, the
same ones ``alembic`` runs from a checkout, so tests and production build the
schema one way. Database URLs are only ever shown with the password hidden.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ilert_statuspage_sync.config.database_url import check_database_url
from ilert_statuspage_sync.errors import (
    ConfigError,
    DatabaseFailureError,
    DatabaseReplacedError,
    StoreError,
)
from ilert_statuspage_sync.store.diagnose import busy_timeout, explain
from ilert_statuspage_sync.store.schema import (
    READ_REVISION,
    VERSION_TABLE,
    head_revision,
    newer_schema,
    one_revision,
    require_database,
    require_revision,
    revisions,
)

if TYPE_CHECKING:  # Alembic loads only to migrate, the ORM only to open sessions: `status`
    from alembic.config import Config as AlembicConfig  # needs neither
    from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "atomic_sqlite",
    "check_database",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "make_sessions",
    "newer_schema",
    "require_database",
    "require_schema",
    "revisions",
    "upgrade",
]


def make_engine(url: str, *, origin: str | None = None) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout (``?timeout=``, 30 s).

    ``origin`` (the config file) prefixes messages about ``database_url``.
    """
    try:
        parsed = sa.make_url(check_database_url(url))
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}" if origin else str(error)) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout(url), origin)
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except ImportError as error:
        raise StoreError(
            f"database_url: the driver for {parsed.drivername} is not installed ({error.name}); "
            "install ilert-statuspage-sync[postgres]"
        ) from None


def _sqlite_engine(parsed: sa.URL, timeout: float, origin: str | None) -> sa.Engine:
    """WAL, a busy timeout, and a watch on the file (a folder that is missing is refused)."""
    database = parsed.database or ""
    on_disk = bool(database) and database != ":memory:"
    if on_disk:
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            where = f"{origin}: " if origin else ""
            raise StoreError(f"{where}database_url: folder {folder} does not exist")
    engine = sa.create_engine(
        parsed.difference_update_query(["timeout"]), connect_args={"timeout": timeout}
    )
    sa.event.listen(engine, "connect", functools.partial(_sqlite_pragmas, timeout))
    if on_disk:
        _watch_file(engine, Path(database).expanduser().resolve())
    return engine


def _sqlite_pragmas(timeout: float, connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
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
    watch = _FileWatch(path)
    sa.event.listen(engine, "connect", watch.on_connect)
    sa.event.listen(engine, "commit", lambda _connection: watch.check())
    _checks[engine] = watch.check


class _FileWatch:
    """The identity of one SQLite file as first opened, checked again on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened: list[tuple[int, int] | None] = []

    def identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def check(self) -> None:
        """Raise ``DatabaseReplacedError`` once the file at the path is not the one opened."""
        if not self.opened:
            return
        now = self.identity()
        if now != self.opened[0]:
            what = "deleted" if now is None else "replaced by another file"
            raise DatabaseReplacedError(
                f"the state database {self.path} was {what} while this process had it open; "
                "stopped so nothing is written to a file that is gone. Restart the service: "
                "on an empty database it rebuilds its links from Statuspage"
            )

    def on_connect(self, _connection: object, _record: object) -> None:
        if self.opened:
            self.check()
        else:
            self.opened.append(self.identity())


def make_sessions(engine: sa.Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (the pass reads them on)."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    location = resources.files("ilert_statuspage_sync.migrations")
    config = AlembicConfig()
    config.set_main_option("script_location", str(location))
    return config


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None when empty): Alembic's version table, read."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return None
        stored = list(connection.scalars(sa.text(READ_REVISION)))
    return one_revision(stored)


def require_schema(engine: sa.Engine, database_url: str) -> None:
    """Refuse, with the command to run, a database this version cannot read as it is."""
    require_database(database_url)
    require_revision(current_revision(engine), database_url)


@contextmanager
def atomic_sqlite(connection: sa.Connection) -> Iterator[None]:
    """Run a block in one real SQLite transaction, DDL included.

    pysqlite's legacy transaction handling commits before every DDL statement,
    so a migration killed half-way leaves half a schema. With the driver's own
    handling off (``isolation_level = None``) we issue ``BEGIN IMMEDIATE`` and
    the commit ourselves; SQLite's DDL is transactional, so a kill at any
    statement leaves the revision before the migration.
    """
    dbapi = connection.connection.dbapi_connection
    previous = getattr(dbapi, "isolation_level", "")
    dbapi.isolation_level = None  # type: ignore[union-attr]
    try:
        with connection.begin():
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
    finally:
        dbapi.isolation_level = previous  # type: ignore[union-attr]


def upgrade(
    engine: sa.Engine, *, on_statement: Callable[[int, str], None] | None = None
) -> tuple[str | None, str | None]:
    """Apply pending migrations in one transaction; return (revision before, revision after).

    ``on_statement(n, sql)`` is called before the n-th statement (a test seam).
    """
    url = engine.url.render_as_string(hide_password=False)
    try:
        before = current_revision(engine)
        if before is not None and before == head_revision():
            return before, before  # nothing to do: take no write lock
        if before is not None and before not in revisions():
            raise DatabaseFailureError(newer_schema(before, url))
        from alembic import command

        _migrate(engine, lambda config: command.upgrade(config, "head"), on_statement)
        return before, current_revision(engine)
    except sa.exc.SQLAlchemyError as error:
        raise DatabaseFailureError(f"cannot migrate: {explain(error, url)}") from None


def downgrade(engine: sa.Engine, revision: str) -> tuple[str | None, str | None]:
    """Undo migrations down to ``revision`` in one transaction; (revision before, after).

    For a rollback to an older release: only this (newer) release ships the
    scripts that undo its migrations, so it must run before the old one is
    reinstalled. What the undone migrations added (columns, tables) is dropped.
    """
    known = revisions()
    if revision not in known:
        raise StoreError(
            f"db downgrade: unknown revision {revision[:40]!r}; this version knows "
            f"{', '.join(known)}"
        )
    url = engine.url.render_as_string(hide_password=False)
    try:
        before = current_revision(engine)
        _check_downgrade(known, before, revision, url)
        if revision == before:
            return before, before
        from alembic import command

        _migrate(engine, lambda config: command.downgrade(config, revision))
        return before, current_revision(engine)
    except sa.exc.SQLAlchemyError as error:
        raise DatabaseFailureError(f"cannot migrate: {explain(error, url)}") from None


def _check_downgrade(known: list[str], before: str | None, revision: str, url: str) -> None:
    """Refuse a downgrade of a database never migrated, migrated by a newer release, or below."""
    if before is None:
        raise StoreError("db downgrade: the database was never migrated; nothing to undo")
    if before not in known:
        raise DatabaseFailureError(newer_schema(before, url))
    if known.index(revision) > known.index(before):
        raise StoreError(
            f"db downgrade: the database is at {before}, below {revision}; "
            "use `db upgrade` to move forward"
        )


def _migrate(
    engine: sa.Engine,
    step: Callable[[AlembicConfig], None],
    on_statement: Callable[[int, str], None] | None = None,
) -> None:
    """Run an Alembic command on one connection, all of it in one transaction."""
    config = _alembic_config()
    with engine.connect() as connection:
        if on_statement is not None:
            count = iter(range(1, 1 << 30))
            sa.event.listen(
                connection,
                "before_cursor_execute",
                lambda _c, _cur, sql, *_a: on_statement(next(count), sql),
            )
        config.attributes["connection"] = connection
        if connection.dialect.name == "sqlite":
            with atomic_sqlite(connection):
                step(config)
        else:
            with connection.begin():
                step(config)
