"""Crash-point sweep: the real `sync` process is SIGKILLed at every step boundary of a write.

For a create, a status change and a body update, the process is killed
before the intent is recorded, after it, while the request is in flight
(before Statuspage applied it), after Statuspage applied it but before the
answer arrived, after the answer but before the outcome was committed, and
after the commit. A restart must leave Statuspage exactly as without the
crash: one incident, the right status, every update once. The same holds for
the writes of a storm (``group = "action"``): an alert joining the shared
incident, and the last alert resolving it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import (
    CRASH_POINTS,
    finish_sync,
    kill_at_and_restart,
    state_rows,
    write_config,
)
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = pytest.mark.slow

COMMENT = "Mitigation deployed; watching error rates."


@dataclass(frozen=True)
class Scenario:
    """Bring the alert to the state before the write under test, then cause that write."""

    method: str
    kind: str
    prepare: Callable[[IlertSimulator], int]
    cause: Callable[[IlertSimulator, int], object]
    status: str


def _new(ilert: IlertSimulator) -> int:
    return ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")


SCENARIOS = {
    "create": Scenario("POST", "create", lambda _i: 0, lambda i, _a: _new(i), "identified"),
    "status": Scenario("PATCH", "update", _new, lambda i, a: i.accept(a), "in_progress"),
    "body": Scenario("PATCH", "update", _new, lambda i, a: i.comment(a, COMMENT), "identified"),
}


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_kill_at_every_step_boundary(scenario, point, sims, config_path):
    """After a SIGKILL at this point and a restart, Statuspage holds exactly what it should."""
    ilert, statuspage = sims
    case = SCENARIOS[scenario]
    finish_sync(config_path)  # activates the incident action
    alert_id = case.prepare(ilert)
    if alert_id:
        finish_sync(config_path)
    case.cause(ilert, alert_id)
    kill_at_and_restart(config_path, statuspage, point, case.kind, method=case.method)

    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert incident["status"] == case.status
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count("5xx on /checkout") == 1
    if scenario == "body":
        assert bodies.count(COMMENT) == 1
    creates = [w for w in statuspage.writes() if w.method == "POST" and w.status == 201]
    assert len(creates) == 1
    # The audit trail records each applied decision exactly once.
    outcomes = state_rows(config_path, "SELECT event, outcome FROM transitions ORDER BY id")
    applied = [tuple(row) for row in outcomes if row[1] != "failed"]
    expected = {
        "create": [("created", "created")],
        "status": [("created", "created"), ("accepted", "status_changed")],
        "body": [("created", "created"), ("comment_added", "body_updated")],
    }[scenario]
    assert applied == expected


def _storm_alert(ilert: IlertSimulator, summary: str) -> int:
    return ilert.create_alert(AUTO_SOURCE, summary, "5xx on /checkout")


def _prepare_two(ilert: IlertSimulator) -> int:
    _storm_alert(ilert, "Checkout errors")
    return _storm_alert(ilert, "Disk full")


STORM_SCENARIOS = {
    # The second alert of the action joins the open incident: one update.
    "join": Scenario(
        "PATCH",
        "update",
        lambda i: _storm_alert(i, "Checkout errors"),
        lambda i, _a: _storm_alert(i, "Disk full"),
        "identified",
    ),
    # The last open alert resolves: the shared incident resolves.
    "last_resolve": Scenario(
        "PATCH",
        "update",
        _prepare_two,
        lambda i, a: i.resolve(a),
        "resolved",
    ),
}


@pytest.fixture(name="storm_config")
def _storm_config(tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]) -> Path:
    ilert, statuspage = sims
    url = f"sqlite:///{tmp_path / 'state.db'}"
    return write_config(tmp_path, ilert.url, statuspage.url, url, action_extra='group = "action"')


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("scenario", list(STORM_SCENARIOS))
def test_kill_at_every_step_boundary_of_a_storm(scenario, point, sims, storm_config):
    """A storm's write killed at this point: one shared incident, each update once."""
    ilert, statuspage = sims
    case = STORM_SCENARIOS[scenario]
    finish_sync(storm_config)
    alert_id = case.prepare(ilert)
    finish_sync(storm_config)
    if scenario == "last_resolve":
        # Resolve the first alert alone: no write, the incident stays for the second.
        ilert.resolve(alert_id - 1)
        finish_sync(storm_config)
    case.cause(ilert, alert_id)
    kill_at_and_restart(storm_config, statuspage, point, case.kind, method=case.method)

    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert incident["status"] == case.status
    updates = incident["incident_updates"]
    assert [u["body"] for u in updates].count("Also affected: Disk full") == 1
    assert [u["status"] for u in updates].count("resolved") == (scenario == "last_resolve")
    creates = [w for w in statuspage.writes() if w.method == "POST" and w.status == 201]
    assert len(creates) == 1
    rows = state_rows(storm_config, "SELECT event, outcome FROM transitions ORDER BY id")
    linked = state_rows(storm_config, "SELECT DISTINCT statuspage_incident_id FROM links")
    assert [tuple(row) for row in linked] == [(incident["id"],)]
    applied = [tuple(row) for row in rows if row[1] != "failed"]
    expected = [("created", "created"), ("created", "joined")]
    if scenario == "last_resolve":
        expected += [("resolved", "no_change"), ("resolved", "status_changed")]
    assert applied == expected
