"""``db upgrade`` and ``db downgrade REVISION``: migrations, under the leader lock."""

from __future__ import annotations

import argparse
import os
import time

from ilert_statuspage_sync.commands.engines import engine
from ilert_statuspage_sync.commands.output import EXIT_OK
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.errors import ConfigError, StoreError
from ilert_statuspage_sync.service.leadership import Leadership, make_leadership
from ilert_statuspage_sync.service.wiring import PAUSE_ENV, migration_pause
from ilert_statuspage_sync.store.database import downgrade, require_database, upgrade

__all__ = ["db"]

# How long `db upgrade` waits for a leader to let go; a downgrade waits for nobody.
_UPGRADE_WAIT = 30


def db(config: Config, args: argparse.Namespace) -> int:
    """Migrate the database up to the newest revision or down to ``args.revision``."""
    if (args.db_command == "downgrade") != (args.revision is not None):
        raise ConfigError(
            "db downgrade needs a REVISION (e.g. 0004); db upgrade takes none (see --help)"
        )
    if args.db_command == "downgrade":
        require_database(config.database_url)  # never create a database to undo nothing
    opened = engine(config)
    leadership = make_leadership(config.database_url)
    _wait_for_lock(leadership, args.db_command)
    try:
        if args.db_command == "downgrade":
            before, after = downgrade(opened, args.revision)
        else:
            pause = migration_pause(os.environ.get(PAUSE_ENV))
            before, after = upgrade(opened, on_statement=pause)
    finally:
        leadership.release()
        opened.dispose()
    print(f"database {safe_url(config.database_url)}: {before or 'empty'} -> {after}")
    return EXIT_OK


def _wait_for_lock(leadership: Leadership, command: str) -> None:
    """Migrations run under the leader lock; a running leader has migrated already.

    A downgrade waits for nobody: a running daemon would only migrate back up.
    """
    deadline = time.monotonic() + (_UPGRADE_WAIT if command == "upgrade" else 0)
    while not leadership.try_acquire():
        if time.monotonic() >= deadline:
            leadership.release()
            raise StoreError(
                f"db {command}: {leadership.description} is held by a running daemon; "
                + (
                    "stop it (it applies pending migrations itself when it starts)"
                    if command == "upgrade"
                    else "stop it first, then downgrade and install the older release"
                )
            )
        time.sleep(1)
