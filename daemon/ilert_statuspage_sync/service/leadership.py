"""Exactly one process syncs a database at a time: the leader lock.

- PostgreSQL: a session-level advisory lock held on a dedicated connection.
  PostgreSQL releases it the moment that session ends (the process dies, the
  connection is cut), so a waiting replica takes over on its next tick. The
  leader re-checks the lock in ``pg_locks`` before every Statuspage write: a
  leader that lost it mid-pass stops writing at once.
- SQLite: an exclusive ``flock`` on the database file itself; the kernel drops it
  when the process dies. No file an operator may clean up decides who writes:
  the database cannot be deleted or replaced under a running process without
  losing the state anyway. ``<database>.lock`` still names the holder's pid (and
  keeps a previous version, which locked only that file, out: deleted under the
  leader, it is locked afresh at the leader's next check). A second process on
  the same file refuses to start.

Migrations run only while holding the lock, so replicas never race on them.

The lock alone cannot stop a leader that lost it mid-write: its request may
still land, and its next commit may still reach the database. So each new
leader also raises a leadership epoch that every commit checks
(``store.epoch``), and waits out the flight time of writes another process
recorded (``core.intents``) before reconciling them.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
import structlog

from ilert_statuspage_sync.errors import DatabaseUnreachableError, LeadershipLostError, StoreError
from ilert_statuspage_sync.store.advisory_lock import (
    advisory_lock_held,
    advisory_unlock,
    try_advisory_lock,
)

__all__ = [
    "LOCK_KEY",
    "FileLeadership",
    "Leadership",
    "LeadershipLostError",
    "NoLeadership",
    "PostgresLeadership",
    "SqliteLeadership",
    "make_leadership",
]

log = structlog.get_logger(__name__)

# One advisory lock key for this program ("ilert-statuspage-sync" in spirit).
LOCK_KEY = 741_500_213


class Leadership(Protocol):
    """How a process becomes, and stays sure it is, the only one syncing."""

    description: str
    exclusive_file: bool
    # True when another process can lead the database while a write of ours is in flight.
    shared: bool

    def try_acquire(self) -> bool:
        """Take the lock if free; never blocks for long."""

    def holds(self) -> bool:
        """Whether the lock is still ours (checked against the database)."""

    def release(self) -> None:
        """Give the lock up."""


class NoLeadership:
    """For databases no second process can share (in-memory SQLite)."""

    description = "no lock (private database)"
    exclusive_file = False
    shared = False

    def try_acquire(self) -> bool:
        """Always the leader."""
        return True

    def holds(self) -> bool:
        """Always the leader."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class FileLeadership:
    """An exclusive flock next to a SQLite file."""

    exclusive_file = True
    shared = False  # the kernel drops the flock only when its process is gone

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self.description = f"lock file {self.path}"
        self._fd: int | None = None

    def try_acquire(self, *, record: bool = True) -> bool:
        """Take the flock, or learn who holds it; ``record``: write our pid into the file."""
        if self._fd is not None:
            if self.holds():
                return True
            self.release()  # our lock file was deleted or replaced: lock the one there now
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        if record:
            self.record()
        return True

    def record(self) -> None:
        """Write this process's pid into the file we hold (for another's refusal message)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def holder(self) -> str:
        """The pid written by the process holding the lock, for the refusal message."""
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def holds(self) -> bool:
        """Ours while the descriptor is open and the path still names the file we locked.

        A flock cannot be taken away, but the file can: once ``<db>.lock`` is
        deleted or replaced (a stale-lock clean-up), a second process locks a new
        file at the same path, so the lock we hold no longer excludes anyone.
        """
        return self._fd is not None and _names(self.path, self._fd)

    def release(self) -> None:
        """Close the descriptor, which drops the flock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SqliteLeadership:
    """An exclusive flock on the SQLite database file, beside the pid file's flock.

    The database's inode decides: deleting ``<db>.lock`` (a stale-lock clean-up)
    while a write is in flight lets no second process lead, so none reconciles
    that write's intent early and creates its incident again. SQLite locks with
    POSIX record locks, which a flock does not touch.
    """

    exclusive_file = True
    shared = False  # the kernel drops the flock only when its process is gone

    def __init__(self, database: Path) -> None:
        self.database = database
        self.pid_file = FileLeadership(database)
        self.path = self.pid_file.path
        self.description = f"database file {database}"
        self._fd: int | None = None
        self._unwritable_said = False  # a lock file that cannot be re-created: said once

    def try_acquire(self) -> bool:
        """Take the pid file's lock (its errors name it), then the database file's."""
        if self._fd is not None and self.holds():
            return True
        self.release()
        # The pid is written only once the database is ours: a process refused by the
        # database's lock must not leave its own pid where the holder's is looked up.
        if not self.pid_file.try_acquire(record=False):
            return False
        # Read-only: a flock needs no write access, so a read-only database is still
        # reported by SQLite as such. A new file is empty: an empty database.
        fd = os.open(self.database, os.O_RDONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self.pid_file.release()
            return False
        self._fd = fd
        self.pid_file.record()
        return True

    def holder(self) -> str:
        """The pid holding the database's flock (``/proc/locks``), else the pid file's."""
        try:
            info = os.stat(self.database)
            locks = Path("/proc/locks").read_text().splitlines()
        except OSError:
            return self.pid_file.holder()
        inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
        # "1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF"; pid 0: another
        # pid namespace.
        found = [
            fields[4]
            for fields in map(str.split, locks)
            if len(fields) > 5 and fields[1:3] == ["FLOCK", "ADVISORY"] and fields[5] == inode
        ]
        pid = next((pid for pid in found if pid.isdigit() and pid != "0"), None)
        return pid or self.pid_file.holder()

    def holds(self) -> bool:
        """Ours while the path still names the database file we locked, and the lock file ours.

        A previous version locks only ``<db>.lock``: once that file is deleted or
        replaced (a stale-lock clean-up), it could lead beside us. So each check
        (every pass, every write) also makes sure the file at that path is the one
        we hold, locking a new one there at once when it is not.
        """
        if self._fd is None or not _names(self.database, self._fd):
            return False
        return self.pid_file.holds() or self._relock()

    def _relock(self) -> bool:
        """Lock a new ``<db>.lock``; another process holding it there: we step down.

        Stepping down releases the database file too (said once: later checks
        find nothing held), so the next ``try_acquire`` starts from scratch.
        """
        self.pid_file.release()
        try:
            relocked = self.pid_file.try_acquire()
        except OSError as error:
            # The folder refuses a new file: a previous version (same user) cannot create
            # one either, and the database file's lock still keeps any newer one out.
            if not self._unwritable_said:
                log.warning("leader_lock_file_uncreatable", path=str(self.path), error=str(error))
                self._unwritable_said = True
            return True
        if relocked:
            log.warning("leader_lock_file_restored", path=str(self.path))
            self._unwritable_said = False
            return True
        holder = self.pid_file.holder()
        self.release()
        log.error(
            "leader_lock_file_taken",
            path=str(self.path),
            holder=holder,
            reason="the lock file was deleted and another process (an older version?) locked "
            "a new one: this process stops writing",
        )
        return False

    def release(self) -> None:
        """Close both descriptors, which drops both flocks."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.pid_file.release()


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        on_path = os.stat(path)
    except OSError:
        return False
    held = os.fstat(fd)
    return (on_path.st_dev, on_path.st_ino) == (held.st_dev, held.st_ino)


class PostgresLeadership:
    """A session-level advisory lock on a connection of its own."""

    exclusive_file = False
    shared = True

    def __init__(self, url: str) -> None:
        self.description = f"PostgreSQL advisory lock {LOCK_KEY}"
        # Keepalives and a short statement timeout: a cut or silent connection
        # is noticed within seconds, not after the kernel's default two hours.
        self._engine = sa.create_engine(
            url,
            poolclass=sa.pool.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": 5,
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
                "options": "-c statement_timeout=5000",
            },
        )
        self._connection: sa.Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        """Try the lock on the dedicated connection (opened on first use).

        Raises ``DatabaseUnreachableError`` when the server cannot be reached.
        """
        if self._held and self.holds():
            return True
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
        except sa.exc.DBAPIError as error:
            # Not reaching the server is not "someone else leads": say which.
            reason = str(error.orig).strip().splitlines()[0][:200] if error.orig else "?"
            raise DatabaseUnreachableError(
                f"cannot reach PostgreSQL at {self._engine.url!r}: {reason}; check that the "
                "server is running and reachable, and database_url"
            ) from None
        try:
            got = try_advisory_lock(self._connection, LOCK_KEY)
        except sa.exc.DBAPIError as error:
            self._drop(error)
            return False
        self._held = bool(got)
        return self._held

    def holds(self) -> bool:
        """Ask PostgreSQL whether this session still holds the lock."""
        if not self._held or self._connection is None:
            return False
        try:
            count = advisory_lock_held(self._connection, LOCK_KEY)
        except sa.exc.DBAPIError as error:
            self._drop(error)
            return False
        self._held = bool(count)
        return self._held

    def release(self) -> None:
        """Unlock and close the dedicated connection."""
        if self._connection is not None:
            try:
                advisory_unlock(self._connection, LOCK_KEY)
            except sa.exc.DBAPIError:
                log.debug("leader_unlock_failed")
            self._connection.close()
            self._connection = None
        self._held = False
        self._engine.dispose()

    def _drop(self, error: sa.exc.DBAPIError) -> None:
        log.warning("leader_connection_lost", error=type(error.orig).__name__)
        self._held = False
        if self._connection is not None:
            try:
                self._connection.close()
            except sa.exc.DBAPIError:
                log.debug("leader_connection_close_failed")
            self._connection = None


def make_leadership(database_url: str) -> Leadership:
    """The lock that fits the database."""
    url = sa.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresLeadership(database_url)
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            return NoLeadership()
        return SqliteLeadership(Path(url.database).expanduser().resolve())
    raise StoreError(f"database_url: {backend} is not supported (use sqlite or postgresql)")
