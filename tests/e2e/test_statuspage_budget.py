"""The Statuspage key's budget: quiet passes read a page of the list; bursts, restarts share it."""

from __future__ import annotations

import requests
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.clients.http import RateBudget
from ilert_statuspage_sync.core.sweep import passes_per_sweep
from ilert_statuspage_sync.store.tables import Link
from tests.support.clock import FakeClock
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, STATUSPAGE_KEY


def _seed_foreign(harness: Harness, count: int) -> None:
    """``count`` unresolved incidents someone else opened on the page (not the daemon's)."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"OAuth {STATUSPAGE_KEY}"
        for n in range(count):
            answer = http.post(
                f"{harness.statuspage.url}/v1/pages/{AUTO_PAGE}/incidents",
                json={"incident": {"name": f"other {n}", "status": "investigating"}},
                timeout=5,
            )
            answer.raise_for_status()


def _mirrored(harness: Harness, count: int) -> list[int]:
    alerts = [harness.ilert.create_alert(AUTO_SOURCE, f"mirrored {n}", "") for n in range(count)]
    assert harness.sync().ok
    return alerts


def _pass_requests(harness: Harness) -> int:
    harness.statuspage.clear_requests()
    assert harness.sync().ok
    return len(harness.statuspage.requests)


def test_a_quiet_pass_costs_at_most_three_statuspage_requests_at_1100_open(harness: Harness):
    """1,100 open incidents (5 mirrored): every quiet pass after the first costs <= 3 requests
    (was 11 list pages and 10 confirming reads: the list cut at 1,000 hid the rest)."""
    _mirrored(harness, 5)
    _seed_foreign(harness, 1_095)
    harness.syncer = harness.new_syncer()  # a restart: its first pass reads the list whole
    assert harness.sync().ok
    counts = [_pass_requests(harness) for _ in range(passes_per_sweep(1_100) + 1)]
    assert max(counts) <= 3, counts
    assert not any(link.human_override for link in _links(harness))


def test_a_persons_edit_deep_in_the_list_is_found_within_one_sweep(harness: Harness):
    """A person sets `monitoring` on a mirrored incident on page 3 of the list: found within
    one sweep (3 passes at 251 open), and the daemon then leaves its status alone."""
    (alert_id,) = _mirrored(harness, 1)
    _seed_foreign(harness, 250)  # newer: the mirrored incident is on the list's 3rd page
    assert harness.sync().ok
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    incident_id = link.statuspage_incident_id
    harness.statuspage.person_sets_status(incident_id, "monitoring")
    for _ in range(passes_per_sweep(251)):
        assert harness.sync().ok
    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override
    harness.ilert.accept(alert_id)
    assert harness.sync().ok
    assert harness.statuspage.incident(incident_id)["status"] == "monitoring"


def test_a_persons_resolve_is_found_when_the_sweep_ends_and_confirmed_by_a_read(
    harness: Harness,
):
    """A person resolves a mirrored incident: gone from the list, it is read on its own when a
    whole sweep missed it (within two sweeps) and taken as the person's."""
    (alert_id,) = _mirrored(harness, 1)
    _seed_foreign(harness, 150)
    assert harness.sync().ok
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    harness.statuspage.person_sets_status(link.statuspage_incident_id, "resolved")
    for _ in range(2 * passes_per_sweep(150)):
        assert harness.sync().ok
    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override
    assert link.statuspage_status == "resolved"


def test_a_duplicate_deep_in_the_list_is_resolved_within_one_sweep(harness: Harness):
    """A copy of a mirrored incident behind 150 newer ones is resolved within one sweep."""
    (alert_id,) = _mirrored(harness, 1)
    client = next(iter(harness.syncer.statuspage.values()))
    metadata = {"ilert": {"alert_id": str(alert_id), "incident_action": "public-api"}}
    copy = client.create_incident(
        AUTO_PAGE, {"name": "copy", "status": "identified", "metadata": metadata}
    ).id
    _seed_foreign(harness, 150)
    resolved = 0
    for _ in range(passes_per_sweep(152)):
        resolved += harness.sync().outcomes["duplicate_resolved"]
    assert resolved == 1
    assert harness.statuspage.incident(copy)["status"] == "resolved"


def _on_virtual_time(harness: Harness, clock: FakeClock) -> RateBudget:
    """A fresh syncer (a new process: its own budget) whose Statuspage key runs on ``clock``.

    The host's clock (``wall``) is the same virtual time, so the database's spend
    rows and the budget agree; the key's name in the database is the one
    ``budget_for`` gives it."""
    key_id = next(iter(harness.syncer.statuspage.values())).http.budget.key_id
    harness.syncer = harness.new_syncer()
    budget = RateBudget(60, 60.0, clock=clock, sleep=clock.sleep, wall=lambda: 1e9 + clock.now)
    budget.key_id = key_id
    for http in harness.services[-1].https:
        if http.service != "ilert":
            http.budget = budget
    return budget


def test_a_second_process_in_the_same_window_does_not_overspend_the_key(harness: Harness):
    """Two syncers (as two processes: separate budgets) on one database, one right after the
    other: the second waits for what the first sent to leave the window; in no rolling
    60 s more than 60 requests, 0 throttled. Vendor and budgets on one virtual clock."""
    clock = FakeClock(0.0)
    harness.statuspage.set_rate_limit(60, window=60.0, monotonic=clock)
    _on_virtual_time(harness, clock)
    for n in range(50):
        harness.ilert.create_alert(AUTO_SOURCE, f"first {n}", "")
    assert harness.sync().ok
    clock.advance(5.0)  # cron's next `sync`, or the service restarted
    second = _on_virtual_time(harness, clock)
    for n in range(10):
        harness.ilert.create_alert(AUTO_SOURCE, f"second {n}", "")
    with capture_logs() as logs:
        report = harness.sync()
    assert report.ok
    assert harness.statuspage.rate_limit_violations() == 0
    assert "api_throttled" not in [e["event"] for e in logs]
    assert len(harness.incidents()) == 60
    assert second.waited > 0  # it waited for the first process's requests to leave the window


def test_a_throttled_create_waits_and_the_pass_stays_ok(harness: Harness):
    """A 420 with Retry-After on a create: waited out, sent again, the pass ok (`sync` exits 0),
    no outage logged."""
    harness.statuspage.inject_fault(
        420,
        {"error": "Rate limit exceeded"},
        headers={"Retry-After": "1"},
        path_contains="/incidents",
        method="POST",
    )
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    with capture_logs() as logs:
        report = harness.sync()
    events = [e["event"] for e in logs]
    assert report.ok, report
    assert "service_unreachable" not in events and "api_throttled" in events
    assert report.outcomes["created"] == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    assert [r.status for r in harness.statuspage.writes()] == [420, 201]


def _links(harness: Harness) -> list[Link]:
    with harness.sessions() as session:
        return list(session.scalars(sa.select(Link)))
