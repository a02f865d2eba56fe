"""``demo --keep DIR``'s folder: made ready, and only ever emptied of what the demo wrote.

Every file the demo writes there is new, private to its owner and written
through no link (`write_private`); its config.toml starts with a marker line
naming the digest of the rest, so an edited config is never taken for the demo's.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import ExitStack
from pathlib import Path

from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.service.leadership import FileLeadership, SqliteLeadership

__all__ = ["MARKER", "config_path", "prepare_folder", "with_marker", "write_private"]

# The first line of a config this module wrote, then the SHA-256 of the rest: only
# such a folder is reused. A kept config someone edited (a start for a real one) is theirs.
MARKER = "# written by `ilert-statuspage-sync demo --keep`"
_LOCKS = ("demo.lock", "state.db.lock")
_STARTING = "# the demo is starting; its config is written when ready\n"
_OWN_FILES = ("config.toml", "ilert_api_key", "statuspage_api_key", "state.db", "state.db.lock")


def prepare_folder(folder: Path, stack: ExitStack) -> Path:
    """DIR, created if missing and emptied of a previous ``--keep``'s files; absolute.

    A folder holding a config.toml this command did not write, or other files
    without one (``demo --keep .`` beside a real ``state.db``), is refused
    (exit 2): the demo never deletes what it did not write. So is a folder in use:
    another ``demo --keep`` serving from it (its ``demo.lock``, held until
    ``stack`` closes) or a ``run``/``sync`` holding its ``state.db``; deleting
    a database under a running daemon would stop it or worse.
    """
    folder = folder.expanduser().absolute()
    _refuse_foreign(folder)
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    _refuse_shared(folder)
    _take(FileLeadership(folder / "demo"), f"demo --keep {folder}: another demo", stack)
    _clear(folder)
    # Ours from now on: a demo killed before "ready" leaves a folder the next one reuses.
    write_private(config_path(folder), with_marker(_STARTING))
    return folder


def _refuse_shared(folder: Path) -> None:
    """Refuse a folder that is not the user's own, or that others may write."""
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o002:
        # Whoever else may write here could swap a key file for a link to one of ours.
        raise ConfigError(
            f"demo --keep {folder}: the folder is writable by other users or not yours; "
            "pick a folder of your own"
        )


def _clear(folder: Path) -> None:
    """Delete a previous ``--keep``'s files, while no daemon holds the database."""
    with ExitStack() as clearing:
        _take(SqliteLeadership(folder / "state.db"), f"demo --keep {folder}: a daemon", clearing)
        for name in (*_OWN_FILES, "state.db-wal", "state.db-shm", "state.db-journal"):
            (folder / name).unlink(missing_ok=True)


def config_path(folder: Path) -> Path:
    """The kept folder's config.toml."""
    return folder / "config.toml"


def _refuse_foreign(folder: Path) -> None:
    """Refuse a path that is no folder, or a folder holding files the demo did not write."""
    config = config_path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"demo --keep {folder}: not a folder")
    if any(not character.isprintable() for character in str(folder)):
        raise ConfigError(f"demo --keep {str(folder)!r}: pick a path without control characters")
    if config.exists() and not _ours(config):
        raise ConfigError(
            f"demo --keep {folder}: {config} exists and was not written by the demo; "
            "pick a new or empty folder"
        )
    others = sorted(p.name for p in _entries(folder) if p.name not in _LOCKS)
    if others and not config.exists():
        raise ConfigError(
            f"demo --keep {folder}: holds files the demo did not write ({others[0]}, ...); "
            "pick a new or empty folder"
        )


def _entries(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _take(lock: FileLeadership | SqliteLeadership, who: str, stack: ExitStack) -> None:
    """Hold ``lock`` until ``stack`` closes, or refuse naming the process that holds it."""
    if not lock.try_acquire():
        raise ConfigError(f"{who} (pid {lock.holder()}) is using this folder; stop it first")
    stack.callback(lock.release)


def _ours(config: Path) -> bool:
    """Written by the demo and unchanged since (the marker names the rest's digest)."""
    try:
        first, _, rest = config.read_bytes().partition(b"\n")
    except OSError:
        return False
    return first.decode("utf-8", "replace") == _marker(rest)


def _marker(rest: bytes) -> str:
    return f"{MARKER}, sha256 {hashlib.sha256(rest).hexdigest()}"


def with_marker(text: str) -> str:
    return f"{_marker(text.encode())}\n{text}"


def write_private(path: Path, text: str) -> None:
    """A new file only its owner reads; never through a link someone put there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
