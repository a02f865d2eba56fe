"""How commands open the state database and take (or are refused) the leader lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.errors import ConfigError, DatabaseFailureError
from ilert_statuspage_sync.store.database import (
    make_engine,
    require_database,
    require_schema,
)

if TYPE_CHECKING:  # the leader lock is for the commands that write; `status` never loads it
    from ilert_statuspage_sync.service.leadership import Leadership

__all__ = ["engine", "lead_or_refuse", "manual_action", "readable"]


def engine(config: Config) -> sa.Engine:
    """An engine on the configured database (created on first use)."""
    return make_engine(config.database_url, origin=str(config.path))


def readable(config: Config) -> sa.Engine:
    """An engine on an existing, migrated database; read-only commands never create one."""
    require_database(config.database_url)
    opened = engine(config)
    require_schema(opened, config.database_url)
    return opened


def lead_or_refuse(config: Config, command: str, leadership: Leadership) -> Leadership:
    """The leader lock, or a clear refusal: two writers on one database is never right.

    A runtime failure (exit 1), not a usage error (2): under systemd a ``run``
    refused because an operator's ``sync`` holds the lock for a moment is
    restarted (exit 2 is not: ``RestartPreventExitStatus=2``) and starts once
    the lock is free.
    """
    from ilert_statuspage_sync.service.leadership import FileLeadership, SqliteLeadership

    if leadership.try_acquire():
        return leadership
    holder = ""
    if isinstance(leadership, FileLeadership | SqliteLeadership):
        holder = f" (pid {leadership.holder()})"
    leadership.release()
    raise DatabaseFailureError(
        f"{command}: another ilert-statuspage-sync process holds {leadership.description}{holder} "
        f"for {safe_url(config.database_url)}; run one process per SQLite file, "
        "or use PostgreSQL for replicas"
    )


def manual_action(config: Config, name: str, command: str) -> IncidentAction:
    """The action called ``name``, which must be in manual trigger mode."""
    action = config.action(name)
    if not action.manual:
        raise ConfigError(
            f'incident action {action.name!r} has trigger_mode = "automatic"; '
            f'{command} only applies to actions with trigger_mode = "manual"'
        )
    return action
