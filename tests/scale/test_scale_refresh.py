"""Mirrored alerts stay fresh while the open-set listing spans passes (core.refresh).

Real daemon code, real HTTP to the simulators, a real migrated database. Thousands
of alerts are held off the page by ``publish_after`` so the open set needs several
passes to list; a few alerts are mirrored. The assertions count requests per pass
against the pass's iLert budget and passes until the page shows a change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from ilert_statuspage_sync.core.refresh import refresh_reads
from tests.support.harness import Harness
from tests.support.held import held_harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

HOUR = timedelta(hours=1)
RATE, INTERVAL = 240, 5  # a pass's iLert budget: 240 x 5 / 60 = 20 requests
BUDGET = RATE * INTERVAL // 60


def held(make_harness: Callable[..., Harness]) -> Harness:
    """The automatic action activated 2 h ago, holding alerts for 1 h, 20 requests a pass."""
    return held_harness(make_harness, rate=RATE, poll_interval=INTERVAL)


def mirror(harness: Harness, count: int) -> list[int]:
    """``count`` alerts reported 90 min ago (past publish_after), mirrored by one pass."""
    reported = datetime.now(UTC) - timedelta(minutes=90)
    alerts = [
        harness.ilert.create_alert(AUTO_SOURCE, f"mirrored {n}", report_time=reported)
        for n in range(count)
    ]
    harness.sync()
    assert len(harness.incidents()) == count
    return alerts


def seed_held(harness: Harness, count: int) -> None:
    """``count`` open alerts reported 10 min ago: held, listed before the mirrored ones."""
    newest = datetime.now(UTC) - timedelta(minutes=10)
    for n in range(count):
        moment = newest - timedelta(milliseconds=n)
        harness.ilert.create_alert(AUTO_SOURCE, f"held {n}", report_time=moment)


def ahead(offset: timedelta) -> datetime:
    """iLert's clock moved ``offset`` ahead."""
    return datetime.now(UTC) + offset


def by_id_reads(harness: Harness, alerts: list[int]) -> list[int]:
    """The alerts read by id (``GET /api/alerts/{id}``) since the requests were cleared."""
    paths = {f"/api/alerts/{alert_id}": alert_id for alert_id in alerts}
    return [paths[r.path] for r in harness.ilert.requests if r.path in paths]


def incident_of(harness: Harness, alert_id: int) -> dict[str, object]:
    """The incident mirroring ``alert_id``."""
    link = harness.link("public-api", alert_id)
    assert link is not None
    return next(i for i in harness.incidents(AUTO_PAGE) if i["id"] == link.statuspage_incident_id)


def start_a_long_cycle(harness: Harness) -> None:
    """Passes until the listing has just begun a new cycle that needs several more passes."""
    for _ in range(20):
        harness.sync()
        if harness.syncer.carry.cycle.start == 0:
            return
    raise AssertionError("the listing cycle never ended")


def test_a_mirrored_alerts_resolve_accept_and_comment_reach_the_page_within_two_passes(
    make_harness,
):
    """Listing cycle of 4+ passes: resolve, accept, comment on the page in 2, each in budget."""
    harness = held(make_harness)
    resolved, accepted, commented = mirror(harness, 3)
    seed_held(harness, 4_000)  # 40 pages: at most 16 a pass, the mirrored ones on the last
    start_a_long_cycle(harness)
    statuses = {a: incident_of(harness, a)["status"] for a in (resolved, accepted)}
    updates = len(incident_of(harness, commented)["incident_updates"])  # type: ignore[arg-type]
    harness.ilert.resolve(resolved)
    harness.ilert.accept(accepted)
    harness.ilert.comment(commented, "Failing over the API nodes.")

    for _ in range(2):
        harness.ilert.clear_requests()
        harness.sync()
        assert len(harness.ilert.requests) <= BUDGET
    assert incident_of(harness, resolved)["status"] == "resolved"
    assert incident_of(harness, accepted)["status"] != statuses[accepted]
    bodies = [u["body"] for u in incident_of(harness, commented)["incident_updates"]]  # type: ignore[attr-defined]
    assert len(bodies) > updates and "Failing over the API nodes." in bodies
    assert harness.syncer.carry.cycle.start != 0, "the cycle is still under way"


def test_by_id_reads_per_pass_are_bounded_and_every_mirrored_alert_takes_its_turn(make_harness):
    """12 mirrored alerts, 5 by-id reads a pass at most: each one read within 3 passes."""
    harness = held(make_harness)
    alerts = mirror(harness, 12)
    seed_held(harness, 4_000)
    start_a_long_cycle(harness)
    per_pass = refresh_reads(RATE, INTERVAL)
    assert per_pass == 5
    unread = set(alerts)
    for _ in range(3):
        harness.ilert.clear_requests()
        harness.sync()
        reads = by_id_reads(harness, alerts)
        assert len(reads) <= per_pass and len(set(reads)) == len(reads)
        assert len(harness.ilert.requests) <= BUDGET
        unread -= set(reads)
    assert not unread


def test_a_deleted_mirrored_alert_answers_404_to_its_refresh_and_counts_towards_deletion(
    make_harness,
):
    """A refresh's 404 is one of the deletion rule's reads: the incident waits, then resolves."""
    harness = held(make_harness)
    kept, deleted = mirror(harness, 2)
    seed_held(harness, 4_000)
    start_a_long_cycle(harness)
    harness.ilert.delete_alert(deleted)
    harness.sync()
    link = harness.link("public-api", deleted)
    assert link is not None and link.missing_reads == 1 and link.is_open
    for minutes in (6, 12):
        offset = timedelta(minutes=minutes)
        harness.clock_offset = offset
        harness.ilert.set_clock(partial(ahead, offset))
        harness.sync()
    assert incident_of(harness, deleted)["status"] == "resolved"
    assert incident_of(harness, kept)["status"] != "resolved"
