"""The Statuspage simulator's scheduled maintenances, created and changed over real HTTP.

Checked against the spec's incident write (``scheduled_for``, ``scheduled_until``,
``scheduled_auto_in_progress``, ``scheduled_auto_completed``,
``auto_transition_to_maintenance_state``, ``auto_transition_to_operational_state``) and
the lists ``/incidents/scheduled``, ``/incidents/upcoming``, ``/incidents/active_maintenance``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ilert_statuspage_sync.simulators import StatuspageSimulator

TIMEOUT = 5.0
PAGE = "kctbh9vrtdwd"
AUTH = {"Authorization": "OAuth statuspage-sim-key"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _call(sim: StatuspageSimulator, method: str, path: str, body: Any = None) -> requests.Response:
    with requests.Session() as session:
        return session.request(
            method, f"{sim.url}/v1/pages/{PAGE}{path}", json=body, headers=AUTH, timeout=TIMEOUT
        )


class _Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _maintenance(sim: StatuspageSimulator, component: str, **changes: Any) -> dict[str, Any]:
    fields = {
        "name": "Database upgrade",
        "status": "scheduled",
        "body": "Postgres 17",
        "scheduled_for": (NOW + HOUR).isoformat(),
        "scheduled_until": (NOW + 2 * HOUR).isoformat(),
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
        "auto_transition_to_maintenance_state": True,
        "auto_transition_to_operational_state": True,
        "component_ids": [component],
        "metadata": {"ilert": {"window_id": "12"}},
    }
    answer = _call(sim, "POST", "/incidents", {"incident": {**fields, **changes}})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [incident["id"] for incident in answer.json()]


def test_a_maintenance_runs_on_the_simulators_clock(statuspage):
    """In progress (component under maintenance) at scheduled_for, completed at scheduled_until."""
    clock = _Clock()
    statuspage.set_clock(clock)
    db = statuspage.add_component(PAGE, "Database")
    created = _maintenance(statuspage, db)
    assert (created["status"], created["impact"]) == ("scheduled", "maintenance")
    assert created["metadata"] == {"ilert": {"window_id": "12"}}
    assert [c["id"] for c in created["components"]] == [db]
    assert statuspage.component(db)["status"] == "operational"

    clock.now = NOW + HOUR
    started = _call(statuspage, "GET", f"/incidents/{created['id']}").json()
    assert started["status"] == "in_progress"
    assert started["incident_updates"][0]["created_at"] == "2026-03-01T13:00:00.000Z"
    assert started["incident_updates"][0]["affected_components"][0]["new_status"] == (
        "under_maintenance"
    )
    assert _call(statuspage, "GET", f"/components/{db}").json()["status"] == "under_maintenance"

    clock.now = NOW + 3 * HOUR
    ended = statuspage.incident(created["id"])
    assert (ended["status"], ended["resolved_at"]) == ("completed", "2026-03-01T14:00:00.000Z")
    assert statuspage.component(db)["status"] == "operational"
    assert [u["status"] for u in ended["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
    ]


def test_without_the_switches_nothing_moves(statuspage):
    """Without scheduled_auto_* it stays scheduled; without auto_transition_* components stay."""
    clock = _Clock()
    statuspage.set_clock(clock)
    db, api = statuspage.add_component(PAGE, "Database"), statuspage.add_component(PAGE, "API")
    manual = _maintenance(statuspage, db, scheduled_auto_in_progress=False)
    quiet = _maintenance(
        statuspage,
        api,
        auto_transition_to_maintenance_state=False,
        auto_transition_to_operational_state=False,
    )
    clock.now = NOW + 90 * timedelta(minutes=1)
    assert statuspage.incident(manual["id"])["status"] == "scheduled"
    assert statuspage.incident(quiet["id"])["status"] == "in_progress"
    assert statuspage.component(api)["status"] == "operational"


def test_patch_moves_the_schedule_and_renames(statuspage):
    """A PATCH of scheduled_for, scheduled_until, name and body changes the maintenance."""
    clock = _Clock()
    statuspage.set_clock(clock)
    db = statuspage.add_component(PAGE, "Database")
    created = _maintenance(statuspage, db)
    later = {
        "scheduled_for": (NOW + 5 * HOUR).isoformat(),
        "scheduled_until": (NOW + 6 * HOUR).isoformat(),
        "name": "Database upgrade (moved)",
        "body": "Moved by five hours",
    }
    answer = _call(statuspage, "PATCH", f"/incidents/{created['id']}", {"incident": later})
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["scheduled_for"], moved["scheduled_until"]) == (
        "2026-03-01T17:00:00.000Z",
        "2026-03-01T18:00:00.000Z",
    )
    assert (moved["name"], moved["incident_updates"][0]["body"]) == (
        "Database upgrade (moved)",
        "Moved by five hours",
    )
    clock.now = NOW + 2 * HOUR
    assert statuspage.incident(created["id"])["status"] == "scheduled"
    backwards = {"incident": {"scheduled_until": (NOW + 4 * HOUR).isoformat()}}
    assert _call(statuspage, "PATCH", f"/incidents/{created['id']}", backwards).status_code == 422


def test_patch_completed_ends_it_early(statuspage):
    """PATCH status=completed ends an ongoing maintenance; its component is operational again."""
    clock = _Clock()
    statuspage.set_clock(clock)
    db = statuspage.add_component(PAGE, "Database")
    created = _maintenance(statuspage, db)
    clock.now = NOW + 90 * timedelta(minutes=1)
    assert statuspage.component(db)["status"] == "under_maintenance"
    body = {"incident": {"status": "completed", "body": "Done early"}}
    answer = _call(statuspage, "PATCH", f"/incidents/{created['id']}", body)
    assert answer.json()["status"] == "completed"
    assert answer.json()["resolved_at"] == "2026-03-01T13:30:00.000Z"
    assert statuspage.component(db)["status"] == "operational"
    clock.now = NOW + 3 * HOUR
    assert len(statuspage.incident(created["id"])["incident_updates"]) == 3


def test_equal_times_are_a_422(statuspage):
    """A maintenance whose scheduled_until equals its scheduled_for is refused, as observed."""
    at = (NOW + HOUR).isoformat()
    body = {"incident": {"name": "x", "scheduled_for": at, "scheduled_until": at}}
    assert _call(statuspage, "POST", "/incidents", body).status_code == 422
    flag = {"incident": {"name": "x", "scheduled_for": at, "scheduled_auto_completed": "yes"}}
    assert _call(statuspage, "POST", "/incidents", flag).status_code == 422


def test_the_maintenance_lists(statuspage):
    """scheduled lists every maintenance, upcoming the scheduled, active_maintenance the ongoing."""
    clock = _Clock()
    statuspage.set_clock(clock)
    db = statuspage.add_component(PAGE, "Database")
    ongoing = _maintenance(statuspage, db, scheduled_for=(NOW - HOUR).isoformat())["id"]
    upcoming = _maintenance(statuspage, db)["id"]
    done = _maintenance(
        statuspage,
        db,
        scheduled_for=(NOW - 3 * HOUR).isoformat(),
        scheduled_until=(NOW - 2 * HOUR).isoformat(),
    )["id"]
    realtime = _call(statuspage, "POST", "/incidents", {"incident": {"name": "API down"}})
    assert _ids(_call(statuspage, "GET", "/incidents/scheduled")) == [done, upcoming, ongoing]
    assert _ids(_call(statuspage, "GET", "/incidents/upcoming")) == [upcoming]
    assert _ids(_call(statuspage, "GET", "/incidents/active_maintenance")) == [ongoing]
    unresolved = _ids(_call(statuspage, "GET", "/incidents/unresolved"))
    assert unresolved == [realtime.json()["id"], upcoming, ongoing]
    assert _ids(_call(statuspage, "GET", "/incidents/upcoming?per_page=1&page=2")) == []
    with requests.Session() as session:
        elsewhere = f"{statuspage.url}/v1/pages/nope/incidents/upcoming"
        assert session.get(elsewhere, headers=AUTH, timeout=TIMEOUT).status_code == 404
