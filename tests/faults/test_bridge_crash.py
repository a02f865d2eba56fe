"""Crash sweep for status bridge writes: the real `sync` process SIGKILLed at each step.

A bridge maps one iLert service to a component. An iLert incident on it is
published (a POST), then its status changes (a PATCH); an iLert maintenance
window becomes a scheduled maintenance (a POST). The process is killed before
the intent, after it, while the request is in flight (not applied), after
Statuspage applied it but before the answer, after the answer but before the
commit, and after the commit. After a restart the page holds one object per
iLert object, each change applied once, and one audit row per write.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import (
    BRIDGE,
    CRASH_POINTS,
    finish_sync,
    kill_at_and_restart,
    state_rows,
    write_bridge_config,
)
from tests.support.world import AUTO_PAGE

pytestmark = pytest.mark.slow

# Killed once Statuspage applied the write: the restart finds it there and adopts it.
_ADOPTED_AT = ("applied_unanswered", "answered")


def _public(statuspage: StatuspageSimulator) -> list[dict[str, Any]]:
    """The page's incidents and maintenances the bridge made."""
    return [
        i
        for i in statuspage.incidents(AUTO_PAGE)
        if (i.get("metadata") or {}).get("ilert", {}).get("bridge") == BRIDGE
    ]


def _answered(statuspage: StatuspageSimulator, method: str) -> int:
    """``method`` requests on incident paths that Statuspage applied and answered 2xx."""
    return sum(
        1
        for r in statuspage.requests
        if r.method == method and "/incidents" in r.path and 200 <= r.status < 300
    )


def _audit(config: Path) -> list[tuple[str, str]]:
    """The bridge's audit rows of its objects (not components): (event, outcome), in order."""
    rows = state_rows(
        config,
        "SELECT event, outcome FROM transitions "
        f"WHERE incident_action = '{BRIDGE}' AND event != 'component' ORDER BY id",
    )
    return [(row[0], row[1]) for row in rows]


def _statuses(incident: dict[str, Any]) -> list[str]:
    """An incident's updates' statuses, oldest first."""
    return [u["status"] for u in reversed(incident["incident_updates"])]


@pytest.fixture(name="bridged")
def _bridged(
    sims: tuple[IlertSimulator, StatuspageSimulator], tmp_path: Path
) -> tuple[Path, int, str]:
    """A process config with one bridge, activated by a first `sync`; the service and component."""
    config, services = write_bridge_config(tmp_path, sims, ("Public API",))
    finish_sync(config)
    ((service, component),) = services.items()
    return config, service, component


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_every_step_of_a_bridge_incident_create(point, sims, bridged):
    """After a SIGKILL at this point of the create and a restart: one public incident."""
    ilert, statuspage = sims
    config, service, component = bridged
    ilert.add_incident("API errors", message="Looking.", affected={service: "PARTIAL_OUTAGE"})
    kill_at_and_restart(config, statuspage, point, "bridge_create", method="POST")
    (public,) = _public(statuspage)
    assert public["name"] == "API errors" and _statuses(public) == ["investigating"]
    assert _answered(statuspage, "POST") == 1
    assert statuspage.component(component)["status"] == "partial_outage"
    outcome = "reconciled" if point in _ADOPTED_AT else "created"
    assert _audit(config) == [("bridge_created", outcome)]
    ((pending,),) = state_rows(
        config, "SELECT count(*) FROM bridged WHERE pending_call IS NOT NULL"
    )
    assert pending == 0


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_every_step_of_a_bridge_status_update(point, sims, bridged):
    """After a SIGKILL at this point of the status update and a restart: applied once."""
    ilert, statuspage = sims
    config, service, _component = bridged
    incident = ilert.add_incident("API errors", affected={service: "PARTIAL_OUTAGE"})
    finish_sync(config)
    ilert.update_incident(incident, status="IDENTIFIED", message="A bad deploy.")
    kill_at_and_restart(config, statuspage, point, "bridge_update", method="PATCH")
    (public,) = _public(statuspage)
    assert public["status"] == "identified"
    assert _statuses(public) == ["investigating", "identified"]
    assert public["incident_updates"][0]["body"] == "A bad deploy."
    assert _answered(statuspage, "POST") == 1
    assert _answered(statuspage, "PATCH") == 1
    outcome = "reconciled" if point in _ADOPTED_AT else "updated"
    assert _audit(config) == [("bridge_created", "created"), ("bridge_status", outcome)]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_every_step_of_a_maintenance_window_create(point, sims, bridged):
    """After a SIGKILL at this point of a window's create and a restart: one maintenance."""
    ilert, statuspage = sims
    config, service, component = bridged
    start = datetime.now(UTC) + timedelta(hours=1)
    ilert.add_window("Database upgrade", start, start + timedelta(hours=1), service_ids=[service])
    kill_at_and_restart(config, statuspage, point, "bridge_create", method="POST")
    (public,) = _public(statuspage)
    assert public["status"] == "scheduled" and public["name"] == "Database upgrade"
    assert [c["id"] for c in public["components"]] == [component]
    assert _answered(statuspage, "POST") == 1
    outcome = "reconciled" if point in _ADOPTED_AT else "created"
    assert _audit(config) == [("maintenance_scheduled", outcome)]
