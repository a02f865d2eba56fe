"""What status bridges cost a quiet pass, in requests to each vendor.

Real daemon code, real HTTP to the simulators, a real migrated database; counted
in requests, never timed. Three bridges, each mapping three services and each
with an open incident and an upcoming window: a quiet pass reads each bridge's
open incidents once, the maintenance windows once for all bridges, the services
at most once a minute, and writes nothing to Statuspage.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ilert_statuspage_sync.config import StatusBridge
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.world import AUTO_PAGE

BRIDGES = 3
SERVICES = 3


class _Clock:
    """The bridges' monotonic clock, moved by the test (the services' once-a-minute read)."""

    now = 0.0

    def __call__(self) -> float:
        return self.now


def _bridges(ilert: IlertSimulator, statuspage: StatuspageSimulator) -> tuple[StatusBridge, ...]:
    """BRIDGES bridges of SERVICES services each; each has an open incident and a window."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    bridges = []
    for b in range(BRIDGES):
        names = [f"b{b} service {s}" for s in range(SERVICES)]
        services = {ilert.add_service(n): statuspage.add_component(AUTO_PAGE, n) for n in names}
        first, second, _third = services
        ilert.add_incident(f"b{b} errors", affected={first: "PARTIAL_OUTAGE"})
        ilert.add_window(f"b{b} upgrade", soon, soon + timedelta(hours=1), service_ids=[second])
        bridges.append(StatusBridge(f"bridge-{b}", "main", AUTO_PAGE, services))
    return tuple(bridges)


def _gets(ilert: IlertSimulator, path: str) -> int:
    return sum(1 for r in ilert.requests if r.method == "GET" and r.path.startswith(path))


def test_a_quiet_pass_with_three_bridges_costs_the_minimum(
    make_harness: Any, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """Quiet, 3 bridges: 3 incidents reads, 1 windows read, no services read, no page write."""
    harness = make_harness("classic", status_bridges=_bridges(ilert, statuspage))
    clock = _Clock()
    harness.syncer.bridges._monotonic = clock
    harness.sync()
    harness.sync()
    assert len(statuspage.incidents(AUTO_PAGE)) == 2 * BRIDGES  # published, then settled
    ilert.clear_requests()
    statuspage.clear_requests()
    clock.now = 59.0  # within the minute of the services' read
    harness.sync()
    assert _gets(ilert, "/api/incidents") == BRIDGES  # one listing per bridge, none by id
    assert _gets(ilert, "/api/maintenance-windows") == 1  # shared by the bridges
    assert _gets(ilert, "/api/services") == 0
    assert [r for r in statuspage.requests if r.method != "GET"] == []
    ilert.clear_requests()
    clock.now = 60.0
    harness.sync()
    assert _gets(ilert, "/api/services") == 1  # once a minute, for every bridge
