"""Build the shell's collaborators (clients, engine, syncer) from a ``Config``."""

from __future__ import annotations

import functools
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.clients.http import HttpService, RetryPolicy, budget_for
from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, ConnectorConfig, IlertConfig
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.runtime.collector import tune_collector
from ilert_statuspage_sync.runtime.secrets import register_secrets
from ilert_statuspage_sync.service.leadership import Leadership
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from ilert_statuspage_sync.store.epoch import claim_epoch, fence_sessions
from ilert_statuspage_sync.sync.syncer import Syncer

__all__ = ["Services", "build_services", "build_syncer", "migration_pause"]

Observer = Callable[[str, int | None, float], None]


@dataclass
class Services:
    """The API clients of one configuration."""

    ilert: IlertClient
    statuspage: dict[str, StatuspageClient]
    https: list[HttpService] = field(default_factory=list)

    def close(self) -> None:
        """Release pooled connections."""
        for http in self.https:
            http.close()


def build_services(
    config: Config,
    *,
    timeout: tuple[float, float] | None = None,
    retry: RetryPolicy | None = None,
    on_response: Observer | None = None,
    rate_window: float = 60.0,
) -> Services:
    """One client per API key; clients sharing a key share its rate budget."""
    if not config.keys_loaded:
        # A command that calls no vendor loaded the config without its keys.
        raise RuntimeError("build_services needs a config loaded with keys=True")
    register_secrets(
        [config.ilert.api_key.reveal(), *(c.api_key.reveal() for c in config.connectors.values())]
    )
    http = functools.partial(
        _http, rate_window=rate_window, timeout=timeout, retry=retry, on_response=on_response
    )
    ilert_http = http("ilert", "Bearer", config.ilert)
    https = [ilert_http]
    statuspage: dict[str, StatuspageClient] = {}
    for name, connector in config.connectors.items():
        https.append(http("statuspage", "OAuth", connector))
        statuspage[name] = StatuspageClient(https[-1])
    return Services(IlertClient(ilert_http), statuspage, https)


def _http(
    service: str,
    scheme: str,
    settings: IlertConfig | ConnectorConfig,
    *,
    rate_window: float,
    timeout: tuple[float, float] | None,
    retry: RetryPolicy | None,
    on_response: Observer | None,
) -> HttpService:
    """The HTTP layer of one API key, with the budget every client of that key shares."""
    key = settings.api_key
    return HttpService(
        service,
        settings.api_url,
        f"{scheme} {key.reveal()}",
        budget_for(service, key, settings.requests_per_minute, rate_window),
        timeout=timeout,
        retry=retry,
        on_response=on_response,
    )


def build_syncer(
    config: Config,
    services: Services,
    *,
    engine: sa.Engine | None = None,
    dry_run: bool = False,
    migrate: bool = True,
    guard: Callable[[], bool] | None = None,
    leadership: Leadership | None = None,
    instance: str | None = None,
    pace_writes: bool = False,
    one_shot: bool = False,
) -> Syncer:
    """A syncer on a migrated database.

    With the ``leadership`` this process holds, the syncer is fenced: it claims a
    new leadership epoch, every commit checks it, and every write first checks
    the lock (``guard``). ``pace_writes`` spreads a burst of Statuspage writes over
    passes (``core.pacing``): the daemon's passes do, a one-shot ``sync`` does not;
    ``one_shot`` (``sync``) reads the whole open set and whole timelines in its one pass.
    The process's collector runs less often (``runtime.collector``).
    """
    tune_collector()
    engine = engine or make_engine(config.database_url)
    if migrate:
        upgrade(engine)
    sessions = make_sessions(engine)
    writer = Writer(instance or uuid.uuid4().hex)
    if leadership is not None:
        guard = leadership.holds
        sessions, writer = _fenced(engine, sessions, writer, leadership, dry_run=dry_run)
    return Syncer(
        config,
        sessions,
        services.ilert,
        services.statuspage,
        dry_run=dry_run,
        checkpoint=pause_checkpoint(os.environ.get(PAUSE_ENV)),
        guard=guard,
        writer=writer,
        pace_writes=pace_writes,
        one_shot=one_shot,
    )


def _fenced(
    engine: sa.Engine,
    sessions: sessionmaker[Session],
    writer: Writer,
    leadership: Leadership,
    *,
    dry_run: bool,
) -> tuple[sessionmaker[Session], Writer]:
    """Sessions whose commits check a newly claimed epoch, and the writer that carries it."""
    epoch = None if dry_run else claim_epoch(engine, writer.instance)
    if epoch is not None:
        sessions = fence_sessions(sessions, epoch)
    return sessions, Writer(writer.instance, epoch, sole=not leadership.shared)


PAUSE_ENV = "ILERT_SYNC_TEST_PAUSE_AT"


def pause_checkpoint(names: str | None) -> Callable[[str], None] | None:
    """Test seam for the crash-point sweep: stop at the named step boundaries.

    With ``ILERT_SYNC_TEST_PAUSE_AT=intent_create`` (comma-separated names from
    ``apply.Applier``: ``before_*``, ``intent_*``, ``answered_*``, ``committed_*``
    for ``create``/``update``, and ``reconciled``) the process prints
    ``paused at NAME`` on stderr and waits there, so a test can SIGKILL it at
    exactly that point. Never set in production.
    """
    if not names:
        return None
    wanted = {name.strip() for name in names.split(",")}

    def pause(name: str) -> None:
        if name in wanted:
            _pause_here(name)

    return pause


def _pause_here(name: str) -> None:
    """Say where the process stopped, then wait there for the test's SIGKILL."""
    sys.stderr.write(f"paused at {name}\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)


def migration_pause(names: str | None) -> Callable[[int, str], None] | None:
    """Test seam for the migration kill sweep: stop before the N-th migration write.

    With ``ILERT_SYNC_TEST_PAUSE_AT=migration:N`` ``db upgrade`` prints
    ``paused at migration:N`` on stderr before the N-th statement that changes
    the database (reads are not counted) and waits there, so a test can
    SIGKILL it mid-migration. Never set in production.
    """
    wanted = {
        int(name.split(":", 1)[1])
        for name in (names or "").split(",")
        if name.strip().startswith("migration:")
    }
    if not wanted:
        return None
    writes = 0

    def pause(_number: int, statement: str) -> None:
        nonlocal writes
        if statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN")):
            return
        writes += 1
        if writes in wanted:
            _pause_here(f"migration:{writes}")

    return pause
