"""The long-running ``run`` mode: leadership, passes, reloads, health reporting.

Each tick:

1. Reload the config if SIGHUP asked for it (a bad file is logged and ignored).
2. A follower tries the leader lock; on success it migrates the database
   (only the leader ever does) and becomes the leader. Otherwise it reports
   itself as a follower and waits for the next tick.
3. The leader checks it still holds the lock, runs one pass (every write is
   fenced by the same check), then reports: a heartbeat row for ``status``,
   READY/WATCHDOG/STATUS to systemd, and metrics.

A SQLite file deleted or replaced under the process (``check_database``, also
run before every commit) stops it with exit 1: systemd restarts it on the file
now at the path, where an empty database rebuilds its links from Statuspage.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import structlog

from ilert_statuspage_sync.config import Config, load_config
from ilert_statuspage_sync.config.database_url import check_database_url, safe_url
from ilert_statuspage_sync.errors import (
    ConfigError,
    DatabaseReplacedError,
    DatabaseUnreachableError,
    StoreError,
)
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.service.leadership import Leadership
from ilert_statuspage_sync.service.metrics import Metrics
from ilert_statuspage_sync.service.notify import Notifier
from ilert_statuspage_sync.service.wiring import Services, build_services, build_syncer
from ilert_statuspage_sync.store.core_reads import rows_of
from ilert_statuspage_sync.store.database import (
    check_database,
    make_sessions,
    upgrade,
)
from ilert_statuspage_sync.store.diagnose import explain
from ilert_statuspage_sync.store.overview import open_and_failing
from ilert_statuspage_sync.store.tables import Replica
from ilert_statuspage_sync.sync.syncer import PassReport, Syncer

__all__ = ["Daemon"]

log = structlog.get_logger(__name__)


class Daemon:
    """One ``run`` process."""

    def __init__(
        self,
        config: Config,
        engine: sa.Engine,
        leadership: Leadership,
        *,
        dry_run: bool = False,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.sessions = make_sessions(engine)
        self.leadership = leadership
        self.dry_run = dry_run
        self.notifier = notifier or Notifier()
        # A long pass pings the watchdog between requests and during budget waits.
        shutdown.set_keepalive(self.notifier.keepalive)
        self.metrics = metrics or Metrics(database=engine.dialect.name)
        self.instance_id = uuid.uuid4().hex
        self.started_at = datetime.now(UTC)
        self.leader = False
        self.services: Services = self._services(config)
        self.syncer: Syncer | None = None
        self._reload = threading.Event()
        self._said_follower = False
        # Set when the process must stop with exit 1 (the SQLite file was replaced).
        self.failure: str | None = None
        # Every textfile this process wrote (a reload may move it): deleted on close.
        self._textfiles: set[Path] = set()

    def request_reload(self) -> None:
        """Called from the SIGHUP handler: reload at the next tick."""
        self._reload.set()

    def interval(self) -> float:
        """The current poll interval (a reload may change it)."""
        return self.config.poll_interval

    def tick(self) -> None:
        """One scheduler tick; never raises for expected trouble.

        A database that fails (unreachable, locked, read-only, full, corrupt) is
        one ``database_error`` event naming the operation; the tick then sends
        neither READY nor WATCHDOG, so systemd never counts this replica healthy.
        A SQLite file deleted or replaced under the process stops it: writing on
        would go into a file that is gone; systemd restarts it (and it rebuilds).
        """
        if self.failure is not None:
            return
        operation = "leader_lock"
        try:
            check_database(self.engine)
            if self._reload.is_set():
                self._reload.clear()
                self._reload_config()
            if not self._lead():
                return
            operation = "pass"
            self._pass()
        except DatabaseReplacedError as error:
            self.failure = str(error)
            log.error("database_replaced", error=self.failure)
            os.kill(os.getpid(), signal.SIGTERM)
        except (StoreError, sa.exc.SQLAlchemyError, OSError) as error:
            self._database_error(operation, error)

    def _database_error(self, operation: str, error: BaseException) -> None:
        url = self.config.database_url
        reason = str(error) if isinstance(error, StoreError) else explain(error, url)
        log.error(
            "database_error",
            operation=operation,
            reason=reason or type(error).__name__,
            unreachable=isinstance(error, DatabaseUnreachableError),
        )
        self.metrics.set_leader(False)
        self.notifier.send(STATUS=f"database error ({operation}): {reason}"[:200])

    def _pass(self) -> None:
        assert self.syncer is not None
        report = self.syncer.run_pass()
        if report.lost_leadership:
            self._step_down("the leader lock was lost during the pass")
            return
        self._report(report)

    def close(self) -> None:
        """Release the lock and connections, and delete the metrics textfiles it wrote.

        A stopped or crash-looping daemon must not leave its last numbers behind: the
        textfile collector would serve them for ever, and ``absent(build_info)``
        (IlertStatuspageSyncMetricsMissing) could never fire.
        """
        self.notifier.stopping()
        shutdown.set_keepalive(None)
        self.services.close()
        self.leadership.release()
        for textfile in self._textfiles:
            # On the way out nothing else can be done about a refusal; under the unit
            # systemd removes the whole folder anyway.
            with contextlib.suppress(OSError):
                textfile.unlink(missing_ok=True)

    def _lead(self) -> bool:
        if self.leader and not self.leadership.holds():
            self._step_down("the leader lock is no longer held")
        if not self.leader and self.leadership.try_acquire():
            upgrade(self.engine)  # only the leader migrates, under the lock
            self.leader = True
            self._said_follower = False
            self.syncer = self._syncer()
            log.info("became_leader", lock=self.leadership.description, instance=self.instance_id)
        if not self.leader:
            self._follow()
        return self.leader

    def _follow(self) -> None:
        if not self._said_follower:
            log.info("waiting_as_follower", lock=self.leadership.description)
            self._said_follower = True
        status = f"follower: waiting for the leader lock ({self.leadership.description})"
        self.metrics.set_leader(False)
        self._heartbeat("follower", None)
        self.notifier.ready(status)
        self.notifier.watchdog(status)

    def _step_down(self, why: str) -> None:
        log.error("leadership_lost", reason=why, instance=self.instance_id)
        self.leader = False
        self.syncer = None

    def _report(self, report: PassReport) -> None:
        finished = datetime.now(UTC)
        self.metrics.set_leader(True)
        tracked, failing = self._counts()
        self.metrics.observe_pass(
            report, finished_at=finished, alerts_tracked=tracked, failing_items=failing
        )
        self._write_metrics()
        self._heartbeat("leader", report)
        state = "ok" if report.ok else "problems"
        status = (
            f"leader: last pass {state} at {finished:%H:%M:%S}Z, {report.alerts_seen} alerts, "
            f"{report.writes} writes, {failing} failing"
        )
        self.notifier.ready(status)
        self.notifier.watchdog(status)

    def _counts(self) -> tuple[int, int]:
        try:
            with self.sessions() as session:
                return open_and_failing(rows_of(session))
        except sa.exc.SQLAlchemyError:
            return 0, 0

    def _heartbeat(self, role: str, report: PassReport | None) -> None:
        if self.dry_run:
            return
        now = datetime.now(UTC)
        try:
            with self.sessions() as session:
                row = session.get(Replica, self.instance_id) or Replica(
                    instance_id=self.instance_id,
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=self.started_at,
                    poll_interval=self.config.poll_interval,
                )
                row.role, row.last_seen_at = role, now
                row.poll_interval = self.config.poll_interval
                if report is not None:
                    row.last_pass_at, row.last_pass_ok = report.started_at, report.ok
                session.merge(row)
                session.commit()
        except sa.exc.SQLAlchemyError as error:
            # Before the leader's first migration the table may not exist yet.
            log.debug("heartbeat_failed", error=type(error).__name__)

    def _write_metrics(self) -> None:
        target = self.config.metrics.textfile
        if target is None:
            return
        self._textfiles.add(target)
        try:
            self.metrics.write_textfile(target)
        except Exception as error:  # noqa: BLE001 - metrics must never stop syncing
            log.warning("metrics_write_failed", path=str(target), error=str(error))

    def _services(self, config: Config) -> Services:
        services = build_services(config, on_response=self.metrics.observe_response)
        self.metrics.watch_budgets((http.service, http.budget) for http in services.https)
        return services

    def _syncer(self) -> Syncer:
        return build_syncer(
            self.config,
            self.services,
            engine=self.engine,
            dry_run=self.dry_run,
            migrate=False,
            leadership=self.leadership,
            instance=self.instance_id,
            pace_writes=True,
        )

    def _reload_config(self) -> None:
        fresh = self._fresh_config()
        if fresh is None:
            return
        old_services = self.services
        self.config = fresh
        self.services = self._services(fresh)
        if self.leader:
            self.syncer = self._syncer()
        old_services.close()
        log.info(
            "config_reloaded",
            poll_interval=fresh.poll_interval,
            lifecycle=fresh.lifecycle,
            incident_actions=[action.name for action in fresh.incident_actions],
        )

    def _fresh_config(self) -> Config | None:
        """The config file as it is now, or None (logged) when it has mistakes.

        The database URL stays the one the process started with.
        """
        path = self.config.path
        assert path is not None
        try:
            fresh = load_config(Path(path))
            fresh = replace(fresh, database_url=check_database_url(fresh.database_url))
        except ConfigError as error:
            log.error(
                "config_reload_failed",
                error=str(error),
                errors=[scrub(line) for line in error.lines],  # every mistake, one item each
                kept="the running config",
            )
            return None
        if fresh.database_url != self.config.database_url:
            log.warning(
                "config_reload_database_unchanged",
                reason="database_url changes need a restart",
                kept=safe_url(self.config.database_url),
            )
            fresh = replace(fresh, database_url=self.config.database_url)
        return fresh
