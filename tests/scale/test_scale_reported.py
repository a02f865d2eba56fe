"""The "reported since" listing after a restart stays inside the pass's budget (core.listing).

Real daemon code, real HTTP to the simulators, a real migrated database. Thousands
of alerts, held off the page by ``publish_after``, are reported inside the overlap
while the daemon is down; the assertions count list requests per pass and check
that every alert was read, the resolved ones included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from ilert_statuspage_sync.core.listing import reported_pages
from ilert_statuspage_sync.simulators._wire import RecordedRequest
from ilert_statuspage_sync.store import repo
from tests.support.harness import Harness
from tests.support.held import held_harness
from tests.support.world import AUTO_SOURCE

HOUR = timedelta(hours=1)
RATE, INTERVAL = 240, 5  # a pass's iLert budget: 240 x 5 / 60 = 20 requests
BUDGET = RATE * INTERVAL // 60


def ahead(offset: timedelta) -> datetime:
    """iLert's clock moved ``offset`` ahead."""
    return datetime.now(UTC) + offset


def held(make_harness: Callable[..., Harness]) -> Harness:
    """The automatic action activated 2 h ago, holding alerts for 1 h, 20 requests a pass."""
    harness = held_harness(make_harness, rate=RATE, poll_interval=INTERVAL)
    harness.sync()  # the cursor is now
    return harness


def reported_lists(harness: Harness) -> list[RecordedRequest]:
    """The "reported since" requests: list pages and counts not of the open set."""
    return [
        r
        for r in harness.ilert.requests
        if r.path in ("/api/alerts", "/api/alerts/count")
        and "PENDING" not in r.query.get("states", [])
    ]


def move_clocks(harness: Harness, offset: timedelta) -> None:
    """The daemon's and iLert's clocks ``offset`` ahead."""
    harness.clock_offset = offset
    harness.ilert.set_clock(partial(ahead, offset))


def test_a_restart_lists_the_reported_since_window_over_passes_inside_the_budget(make_harness):
    """3,000 reported in the overlap while down: a share of each pass, resumed, none lost."""
    harness = held(make_harness)
    harness.syncer = harness.new_syncer(rate_window=1.0)  # a restart: nothing carried
    newest = datetime.now(UTC) - timedelta(seconds=1)
    alerts = [
        harness.ilert.create_alert(
            AUTO_SOURCE, f"while down {n}", report_time=newest - timedelta(milliseconds=n)
        )
        for n in range(3_000)
    ]
    for alert_id in alerts[::10]:  # resolved before any pass saw them: only this listing has them
        harness.ilert.resolve(alert_id)
    share = reported_pages(RATE, INTERVAL, 0, resumes=True)
    passes = 0
    while True:
        harness.ilert.clear_requests()
        harness.sync()
        passes += 1
        # The open set's count (once a cycle) is its listing's, not this one's.
        assert len([r for r in harness.ilert.requests if r.path != "/api/alerts/count"]) <= BUDGET
        assert len(reported_lists(harness)) <= share
        if harness.syncer.carry.reported is None:
            break
        assert passes < 10
    # 30 pages, 1 the first pass, then 9 a pass (one more page for what came since).
    assert passes == 5
    assert all(harness.link("public-api", alert_id) is not None for alert_id in alerts)
    for alert_id in alerts[::10]:
        link = harness.link("public-api", alert_id)
        assert link is not None and not link.is_open

    # The next window lists the overlap once more (over passes); after that a page a pass.
    move_clocks(harness, timedelta(minutes=6))
    for _ in range(6):
        harness.ilert.clear_requests()
        harness.sync()
        assert len(reported_lists(harness)) <= share
        if harness.syncer.carry.reported is None:
            break
    harness.ilert.clear_requests()
    harness.sync()
    assert len(reported_lists(harness)) == 1


def test_an_unfinished_window_holds_the_cursor_so_a_restart_loses_nothing(make_harness):
    """Stopped mid-window: the stored cursor did not move past it, the next start lists it."""
    harness = held(make_harness)
    with harness.sessions() as session:
        cursor = repo.action_states(session, [], datetime.now(UTC))["public-api"].last_poll_at
    harness.syncer = harness.new_syncer(rate_window=1.0)
    newest = datetime.now(UTC) - timedelta(seconds=1)
    alerts = [
        harness.ilert.create_alert(
            AUTO_SOURCE, f"while down {n}", report_time=newest - timedelta(milliseconds=n)
        )
        for n in range(1_500)
    ]
    for alert_id in alerts:
        harness.ilert.resolve(alert_id)
    harness.sync()
    harness.sync()  # the window is unfinished
    assert harness.syncer.carry.reported is not None
    with harness.sessions() as session:
        held_at = repo.action_states(session, [], datetime.now(UTC))["public-api"].last_poll_at
    assert held_at == cursor

    harness.syncer = harness.new_syncer(rate_window=1.0)  # stopped mid-window, started again
    for _ in range(6):
        harness.sync()
        if harness.syncer.carry.reported is None:
            break
    assert all(harness.link("public-api", alert_id) is not None for alert_id in alerts)
