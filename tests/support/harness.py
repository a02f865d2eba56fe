"""The in-process harness: real daemon code against the simulators and a migrated database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ilert_statuspage_sync.clients.http import RetryPolicy
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.service.wiring import Services, build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions
from ilert_statuspage_sync.store.tables import Link, Transition
from ilert_statuspage_sync.sync.syncer import PassReport, Syncer
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_SOURCE, world_config


class Harness:
    """Real daemon code against the simulators and a real migrated database."""

    def __init__(
        self,
        config: Config,
        ilert: IlertSimulator,
        statuspage: StatuspageSimulator,
    ) -> None:
        self.config = config
        self.ilert = ilert
        self.statuspage = statuspage
        self.engine = make_engine(config.database_url)
        self.sessions = make_sessions(self.engine)
        self.services: list[Services] = []
        # Tests move the daemon's clock forward to get past retry delays.
        self.clock_offset = timedelta(0)
        self.syncer = self.new_syncer()

    def new_syncer(
        self,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        rate_window: float = 60.0,
        **changes: Any,
    ) -> Syncer:
        """A fresh syncer (as after a restart), optionally with config changes."""
        config = dataclasses.replace(self.config, **changes) if changes else self.config
        services = build_services(
            config,
            timeout=(2.0, 2.0),
            retry=retry or RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05),
            rate_window=rate_window,
        )
        self.services.append(services)
        syncer = build_syncer(config, services, engine=self.engine, dry_run=dry_run)
        syncer.clock = lambda: datetime.now(UTC) + self.clock_offset
        return syncer

    def sync(self) -> PassReport:
        return self.syncer.run_pass()

    def trigger(self, action: str, alert_id: int) -> None:
        with self.sessions() as session:
            page = self.config.action(action).page_id
            repo.trigger(session, action, alert_id, page, datetime.now(UTC))
            session.commit()

    def transitions(self, alert_id: int | None = None) -> list[tuple[str, str, str | None]]:
        with self.sessions() as session:
            rows = repo.history(session, alert_id=alert_id, limit=100_000)
        return [(row.event, row.outcome, row.to_status) for row in rows]

    def audit_rows(self) -> list[Transition]:
        with self.sessions() as session:
            return list(repo.history(session, limit=100_000))

    def link(self, action: str, alert_id: int) -> Link | None:
        with self.sessions() as session:
            return repo.find_link(session, action, alert_id)

    def incidents(self, page_id: str = AUTO_PAGE) -> list[dict[str, Any]]:
        return self.statuspage.incidents(page_id)

    def close(self) -> None:
        for services in self.services:
            services.close()
        self.engine.dispose()


@pytest.fixture(name="make_harness")
def _make_harness(ilert: IlertSimulator, statuspage: StatuspageSimulator, database_url: str):
    made: list[Harness] = []

    def make(lifecycle: str = "classic", **changes: Any) -> Harness:
        # The world's sources exist in iLert: a deletion is confirmed only while they answer.
        ilert.add_alert_source("Checkout API", source_id=AUTO_SOURCE)
        ilert.add_alert_source("Back office", source_id=MANUAL_SOURCE)
        config = world_config(lifecycle, ilert.url, statuspage.url, database_url)
        if changes:
            config = dataclasses.replace(config, **changes)
        harness = Harness(config, ilert, statuspage)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture(name="harness")
def _harness(make_harness) -> Harness:
    """A classic-lifecycle harness whose incident actions are already activated."""
    harness: Harness = make_harness("classic")
    harness.sync()
    return harness
