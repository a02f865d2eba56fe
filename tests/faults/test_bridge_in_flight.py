"""A status bridge's write that got no answer may still land: it is never sent again meanwhile.

Real ``Syncer``, real HTTP to both simulators, a migrated SQLite or PostgreSQL
database. The Statuspage simulator holds the bridge's request past the client's
2 s read timeout and applies it at 4 s, as a slow vendor would; the passes in
between wait for it (own intent, no answer: in flight) instead of sending it
again, and the pass after it landed adopts it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config import StatusBridge
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.tables import BridgedRow, Transition
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE

pytestmark = pytest.mark.slow

HELD_S = 4.0  # past the harness client's 2 s read timeout


@pytest.fixture(name="bridged")
def _bridged(
    make_harness: Any, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> tuple[Harness, int]:
    """A harness with one bridge mapping one service, after its first pass; the service."""
    service = ilert.add_service("Public API")
    component = statuspage.add_component(AUTO_PAGE, "Public API")
    bridge = StatusBridge("platform", "main", AUTO_PAGE, {service: component})
    harness: Harness = make_harness("classic", status_bridges=(bridge,))
    harness.sync()
    return harness, service


def _posts(statuspage: StatuspageSimulator) -> int:
    """Incident creates Statuspage received (answered or not)."""
    return sum(1 for r in statuspage.requests if r.method == "POST" and "/incidents" in r.path)


def _settled(harness: Harness) -> tuple[list[tuple[str, str]], int]:
    """The bridge's audit rows of its objects (event, outcome) and its rows still pending."""
    with harness.sessions() as session:
        audit = session.scalars(
            sa.select(Transition)
            .where(Transition.incident_action == "platform", Transition.event != "component")
            .order_by(Transition.id)
        )
        events = [(row.event, row.outcome) for row in audit]
        pending = session.scalars(sa.select(BridgedRow).where(BridgedRow.pending_call.is_not(None)))
        return events, len(list(pending))


def _wait_out_the_held_request(harness: Harness) -> None:
    """Two passes while the request is held, then one after it landed."""
    harness.sync()  # the client gives up after 2 s; the server applies it at HELD_S
    harness.sync()
    time.sleep(HELD_S + 0.5)
    harness.sync()


@pytest.mark.parametrize(
    "make",
    ["incident", "window"],
)
def test_a_create_answered_after_the_read_timeout_is_not_sent_twice(
    bridged: tuple[Harness, int], ilert: IlertSimulator, statuspage: StatuspageSimulator, make: str
) -> None:
    """An incident's or a window's create held past the timeout: one POST, one public object."""
    harness, service = bridged
    if make == "incident":
        ilert.add_incident("API errors", affected={service: "PARTIAL_OUTAGE"})
    else:
        soon = datetime.now(UTC) + timedelta(hours=1)
        ilert.add_window("Upgrade", soon, soon + timedelta(hours=1), service_ids=[service])
    statuspage.delay_next(HELD_S, method="POST", path_contains="/incidents")
    _wait_out_the_held_request(harness)
    assert _posts(statuspage) == 1
    assert len(statuspage.incidents(AUTO_PAGE)) == 1
    event = "bridge_created" if make == "incident" else "maintenance_scheduled"
    assert _settled(harness) == ([(event, "reconciled")], 0)  # adopted once it landed


def test_a_status_update_answered_after_the_read_timeout_is_not_sent_twice(
    bridged: tuple[Harness, int], ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """A status update's PATCH held past the timeout: one PATCH, one update on the page."""
    harness, service = bridged
    incident = ilert.add_incident("API errors", affected={service: "PARTIAL_OUTAGE"})
    harness.sync()
    ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    statuspage.delay_next(HELD_S, method="PATCH", path_contains="/incidents")
    _wait_out_the_held_request(harness)
    patches = [r for r in statuspage.requests if r.method == "PATCH" and "/incidents" in r.path]
    assert len(patches) == 1
    (public,) = statuspage.incidents(AUTO_PAGE)
    assert public["status"] == "identified"
    assert [u["status"] for u in public["incident_updates"]] == ["identified", "investigating"]
    events, pending = _settled(harness)
    assert events == [("bridge_created", "created"), ("bridge_status", "reconciled")]
    assert pending == 0
