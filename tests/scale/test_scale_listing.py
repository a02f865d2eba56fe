"""The iLert open-alert listing at scale: no cap, minimum pages, resumable, stall-guarded.

Real daemon code, real HTTP to the iLert simulator, a real migrated database.
Thousands of alerts are held off the page by ``publish_after`` so that only
the listing is exercised; the assertions count requests and served alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ilert_statuspage_sync.core.clock import ACTIVATION_MARGIN
from ilert_statuspage_sync.simulators._wire import RecordedRequest
from ilert_statuspage_sync.store import repo
from tests.support.harness import Harness
from tests.support.held import held_harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

HOUR = timedelta(hours=1)


def seed(harness: Harness, count: int, newest: datetime) -> None:
    """``count`` open alerts, one millisecond apart, the newest reported at ``newest``."""
    for n in range(count):
        moment = newest - timedelta(milliseconds=n)
        harness.ilert.create_alert(AUTO_SOURCE, f"noise {n}", report_time=moment)


def open_listings(harness: Harness) -> list[RecordedRequest]:
    """The requests for the open set (``GET /api/alerts?states=PENDING&states=ACCEPTED``)."""
    return [
        r
        for r in harness.ilert.requests
        if r.path == "/api/alerts" and "PENDING" in r.query.get("states", [])
    ]


def alert_lists(harness: Harness) -> list[RecordedRequest]:
    """Every ``GET /api/alerts`` list request."""
    return [r for r in harness.ilert.requests if r.path == "/api/alerts"]


def mirrored(harness: Harness, summary: str) -> int:
    """An alert reported 90 min ago (after activation, past publish_after), mirrored."""
    reported = datetime.now(UTC) - timedelta(minutes=90)
    return harness.ilert.create_alert(AUTO_SOURCE, summary, report_time=reported)


def test_twenty_thousand_open_alerts_sync_and_mirror_the_new_ones(make_harness):
    """20,000 open alerts: one pass lists them all in ceil(N/100) pages and mirrors the new."""
    harness = held_harness(make_harness)
    # Listed (within the activation margin) but never mirrored: the listing alone is at scale.
    with harness.sessions() as session:
        activated = repo.action_states(session, [], datetime.now(UTC))["public-api"].activated_at
    assert timedelta(milliseconds=20_000) < ACTIVATION_MARGIN
    seed(harness, 20_000, activated - timedelta(milliseconds=1))
    new = [mirrored(harness, f"new {n}") for n in range(3)]
    harness.ilert.clear_requests()

    report = harness.sync()

    assert report.ok, report
    assert len(open_listings(harness)) == 201  # ceil(20,003 / 100): the minimum, no cap
    assert len(harness.incidents(AUTO_PAGE)) == 3
    assert all(harness.link("public-api", a).statuspage_incident_id for a in new)  # type: ignore[union-attr]


def test_alerts_reported_before_activation_are_never_fetched(make_harness):
    """10,000 open alerts reported before activation: not one of them is served to the daemon."""
    harness = held_harness(make_harness)
    seed(harness, 10_000, datetime.now(UTC) - 3 * HOUR)
    new = mirrored(harness, "after activation")
    served = harness.ilert.alerts_served
    harness.ilert.clear_requests()

    report = harness.sync()

    assert report.ok, report
    assert harness.ilert.alerts_served - served == 1  # only the one reported after activation
    assert len(alert_lists(harness)) == 2  # one open-set page, one page of newly resolved
    assert harness.link("public-api", new).statuspage_incident_id  # type: ignore[union-attr]


def test_a_short_page_ends_the_listing_and_the_open_set_is_not_read_twice(make_harness):
    """150 open alerts: 2 open-set pages, and the newly-reported query asks only for resolved."""
    harness = held_harness(make_harness)
    seed(harness, 150, datetime.now(UTC))
    harness.ilert.clear_requests()

    assert harness.sync().ok

    starts = [r.query["start-index"] for r in open_listings(harness)]
    assert starts == [["0"], ["100"]]  # the short page ended it: no empty page at 200
    others = [r for r in alert_lists(harness) if r not in open_listings(harness)]
    assert [r.query.get("states") for r in others] == [["RESOLVED"]]


def test_a_server_repeating_a_page_costs_only_that_passes_listing(make_harness):
    """The same page twice ends that pass's listing: what it read syncs, nothing looks closed."""
    harness = held_harness(make_harness)
    tracked = mirrored(harness, "tracked")
    harness.sync()
    seed(harness, 250, datetime.now(UTC))
    first: list[Any] = [harness.ilert.alert(n) for n in range(tracked + 1, tracked + 101)]
    # The count a listing past its first page asks, as iLert would answer it (queued first:
    # the repeated page's rule would otherwise answer it too).
    harness.ilert.inject_fault(200, {"count": 251}, path_contains="/api/alerts/count")
    harness.ilert.inject_fault(200, first, times=2, path_contains="/api/alerts", method="GET")
    harness.ilert.clear_requests()

    report = harness.sync()

    assert not report.ilert_ok  # the stall is reported...
    assert len(open_listings(harness)) == 2  # ...after the second copy of the page
    assert all(harness.link("public-api", a["id"]) for a in first)  # what it read is kept
    link = harness.link("public-api", tracked)
    assert link is not None and link.is_open  # unlisted, so not taken for closed
    # Mirrored: read by id once all the same (core.refresh), and answered open.
    assert len([r for r in harness.ilert.requests if r.path == f"/api/alerts/{tracked}"]) == 1
    assert harness.sync().ok  # the next pass lists anew


def test_a_listing_over_budget_resumes_next_pass(make_harness):
    """Over its page budget a pass keeps what it read; the next resumes where it stopped."""
    harness = held_harness(make_harness, rate=300, poll_interval=1)  # 5 requests a pass
    tracked = mirrored(harness, "tracked")
    harness.sync()
    seed(harness, 350, datetime.now(UTC) - timedelta(minutes=10))
    harness.ilert.clear_requests()

    report = harness.sync()  # the first pages of 4
    first = [r.query["start-index"][0] for r in open_listings(harness)]
    assert first[0] == "0" and 1 < len(first) < 4
    assert all(harness.link("public-api", a) for a in range(tracked + 1, tracked + 1 + 100))
    assert report.ok, report
    harness.ilert.clear_requests()

    harness.sync()  # resumed where the last pass stopped
    assert open_listings(harness)[0].query["start-index"] == [str(100 * len(first))]
