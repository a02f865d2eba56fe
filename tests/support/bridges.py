"""A harness with one status bridge: the ``world`` fixture of the bridge tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config import StatusBridge
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.tables import BridgedRow, Transition
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE


@dataclasses.dataclass
class BridgeWorld:
    """A harness with one bridge ("platform") mapping two iLert services to two components."""

    harness: Harness
    ilert: IlertSimulator
    statuspage: StatuspageSimulator
    api: int
    web: int
    components: dict[str, str]
    bridge: StatusBridge

    def sync(self) -> Any:
        """One pass."""
        return self.harness.sync()

    def public(self) -> list[dict[str, Any]]:
        """The page's incidents that a bridge made (newest first)."""
        return [
            i
            for i in self.statuspage.incidents(AUTO_PAGE)
            if (i.get("metadata") or {}).get("ilert", {}).get("bridge")
        ]

    def component(self, name: str) -> str:
        """A component's status on the page."""
        return str(self.statuspage.component(self.components[name])["status"])

    def rows(self) -> list[BridgedRow]:
        """The bridges' stored rows."""
        with self.harness.sessions() as session:
            return list(session.scalars(sa.select(BridgedRow).order_by(BridgedRow.id)))

    def events(self) -> list[tuple[str, str]]:
        """The bridges' audit rows of their objects (not components): (event, outcome), in order."""
        with self.harness.sessions() as session:
            rows = session.scalars(
                sa.select(Transition)
                .where(Transition.event.like("bridge%") | Transition.event.like("maint%"))
                .order_by(Transition.id)
            )
            return [(row.event, row.outcome) for row in rows]

    def ilert_reads(self, path: str) -> int:
        """GET requests iLert answered on ``path`` (and its ids) so far."""
        return sum(1 for r in self.ilert.requests if r.method == "GET" and r.path.startswith(path))

    def statuspage_writes(self) -> int:
        """Writes Statuspage answered so far."""
        return sum(1 for r in self.statuspage.requests if r.method in ("POST", "PATCH", "PUT"))

    def reconfigure(self, **changes: Any) -> None:
        """A restart with a changed config."""
        self.harness.config = dataclasses.replace(self.harness.config, **changes)
        self.harness.syncer = self.harness.new_syncer()


def updates(incident: dict[str, Any]) -> list[tuple[str, str]]:
    """An incident's updates as (status, body), oldest first."""
    return [(u["status"], u["body"]) for u in reversed(incident["incident_updates"])]


@pytest.fixture(name="world")
def _world(
    make_harness: Any, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> BridgeWorld:
    """Two iLert services, two components on the auto page, one bridge; activated."""
    api = ilert.add_service("Public API")
    web = ilert.add_service("Website")
    components = {
        "api": statuspage.add_component(AUTO_PAGE, "Public API"),
        "web": statuspage.add_component(AUTO_PAGE, "Website"),
    }
    bridge = StatusBridge(
        "platform", "main", AUTO_PAGE, {api: components["api"], web: components["web"]}
    )
    harness: Harness = make_harness("classic", status_bridges=(bridge,))
    harness.sync()
    return BridgeWorld(harness, ilert, statuspage, api, web, components, bridge)
