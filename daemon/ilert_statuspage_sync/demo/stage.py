"""The world the demo's scenes act on: seeded simulators, a migrated database, a syncer.

`world` builds one (and stops it on exit); `Stage` is what a scene sees of it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.demo.demo_config import demo_components, demo_config
from ilert_statuspage_sync.service.wiring import Services, build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.simulators.seed import (
    ILERT_KEY,
    STATUSPAGE_KEY,
    seed_accounts,
    seed_scene_sources,
)
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions
from ilert_statuspage_sync.store.tables import Transition
from ilert_statuspage_sync.sync.syncer import Syncer

__all__ = ["Stage", "audit", "world"]


@dataclass
class Stage:
    """The world a scene acts on: both simulators, the config, the daemon, named alerts."""

    lifecycle: str
    ilert: IlertSimulator
    statuspage: StatuspageSimulator
    config: Config
    folder: Path
    syncer: Syncer
    sessions: sessionmaker[Session]
    alerts: dict[str, int] = field(default_factory=dict)
    # Statuspage incident id -> "#n", in the order the demo first met them.
    labels: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def trigger(self, action: str, alert_id: int) -> None:
        """What `ilert-statuspage-sync trigger ACTION ALERT_ID` stores."""
        with self.sessions() as session:
            page = self.config.action(action).page_id
            repo.trigger(session, action, alert_id, page, datetime.now(UTC))
            session.commit()

    def label(self, incident_id: str | None) -> str:
        """The demo's short name for an incident (#1, #2, ...)."""
        if incident_id is None:
            return ""
        return self.labels.setdefault(incident_id, f"#{len(self.labels) + 1}")

    def reset_clocks(self) -> None:
        """Every clock back to the real one (a scene may have moved them forward)."""
        self.ilert.set_clock(lambda: datetime.now(UTC))
        self.statuspage.set_clock(lambda: datetime.now(UTC))
        self.syncer.clock = lambda: datetime.now(UTC)

    def close_daemon(self) -> None:
        """Release the demo's own clients and database, so another process may take them."""
        while self.closers:
            self.closers.pop()()


@contextmanager
def world(lifecycle: str, folder: Path | None) -> Iterator[Stage]:
    """Seeded simulators, a migrated database and a syncer; all stopped on exit."""
    with ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ilert-demo-")))
        ilert = stack.enter_context(IlertSimulator(api_key=ILERT_KEY))
        statuspage = stack.enter_context(StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=()))
        seed_accounts(ilert, statuspage)
        seed_scene_sources(ilert)
        stage = _stage(lifecycle, ilert, statuspage, folder)
        stack.callback(stage.close_daemon)
        yield stage


def _stage(
    lifecycle: str, ilert: IlertSimulator, statuspage: StatuspageSimulator, folder: Path
) -> Stage:
    """The daemon's side of a world: config, clients, database and syncer."""
    database_url = f"sqlite:///{folder / 'state.db'}"
    components = demo_components(statuspage)
    config = demo_config(lifecycle, ilert.url, statuspage.url, database_url, components=components)
    services: Services = build_services(config)
    engine: sa.Engine = make_engine(database_url)
    syncer = build_syncer(config, services, engine=engine)
    sessions = make_sessions(engine)
    closers = [engine.dispose, services.close]
    return Stage(lifecycle, ilert, statuspage, config, folder, syncer, sessions, closers=closers)


def audit(stage: Stage) -> list[Transition]:
    """Every audit row the daemon wrote in this world, oldest first."""
    with stage.sessions() as session:
        return list(repo.history(session, limit=1_000_000))
