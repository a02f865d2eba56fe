"""At the vendors' limits: comment latency at its bound, bursts paced, budgets kept.

Real daemon code, real HTTP to the simulators, a real migrated database. The
assertions count requests and passes; where a vendor's window matters, the
client and the simulator share a virtual clock, so nothing waits for real.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.clients.http import RateBudget, Slot
from ilert_statuspage_sync.runtime import shutdown
from tests.support.clock import FakeClock
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE


def limited(harness: Harness, *, ilert_rate: int, poll_interval: float) -> None:
    """From now on the daemon runs with this iLert budget and interval (a fresh syncer)."""
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=ilert_rate)
    harness.config = dataclasses.replace(harness.config, ilert=ilert, poll_interval=poll_interval)
    # A compressed window: a pass spends its budget without waiting for the next minute.
    harness.syncer = harness.new_syncer(rate_window=0.05)


def activated_two_hours_ago(harness: Harness) -> None:
    """The daemon's first pass ran (and activated it) two hours ago; the clocks are back to now."""
    clock = harness.ilert._clock
    harness.ilert.set_clock(lambda: clock() - timedelta(hours=2))
    harness.clock_offset = -timedelta(hours=2)
    harness.sync()
    harness.clock_offset = timedelta(0)
    harness.ilert.set_clock(clock)


def long_timeline(harness: Harness, alert_id: int, entries: int) -> None:
    """The alert's timeline: a comment "Root cause found" (oldest), then notifications to
    ``entries`` in all."""
    comment = {
        "id": 1_000_000,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "logEntryType": "AlertCommentAddedLogEntry",
        "text": "Root cause found",
        "alertId": alert_id,
        "vars": {"comment": "Root cause found", "author": "Ada"},
    }
    noise = [
        {**comment, "id": 1_000_001 + n, "logEntryType": "NotificationLogEntry", "vars": {}}
        for n in range(entries - 1)
    ]
    harness.ilert.set_raw_log_entries(alert_id, [comment, *noise])  # oldest first


def timeline_reads(harness: Harness) -> set[int]:
    """Ids of the alerts whose log entries were read since the last clear."""
    return {
        int(r.path.split("/")[3])
        for r in harness.ilert.requests
        if r.path.endswith("/log-entries") and r.status == 200
    }


def test_every_timeline_is_read_within_the_bound(harness: Harness):
    """208 mirrored alerts, nothing changing: all timelines read in ceil(N / (B - list)) passes."""
    alerts = [harness.ilert.create_alert(AUTO_SOURCE, f"quiet {n}") for n in range(208)]
    assert harness.sync().ok  # mirrored, every timeline read once
    limited(harness, ilert_rate=120, poll_interval=15)  # 30 requests a pass
    harness.ilert.clear_requests()

    passes, read, counts = 0, set[int](), 0
    while not read >= set(alerts):
        harness.ilert.clear_requests()
        assert harness.sync().ok
        passes += 1
        read |= timeline_reads(harness)
        assert len(harness.ilert.requests) <= 30  # never over the pass's budget
        lists = sum(1 for r in harness.ilert.requests if r.path == "/api/alerts")
        counts += sum(1 for r in harness.ilert.requests if r.path == "/api/alerts/count")
        assert passes < 50

    assert lists == 4  # 3 open-set pages (100, 100, 8) and 1 of newly resolved
    assert counts == 1  # the open set's bound, counted once (core.listing) and kept
    bound = math.ceil((len(alerts) + counts) / (30 - lists))
    assert passes <= 1.05 * bound, (passes, bound)


class VirtualTime(FakeClock):
    """The one clock of the client's budgets and the simulators' limiters; moves when waited on."""

    def __init__(self) -> None:
        super().__init__(0.0)


class RecordingBudget(RateBudget):
    """A budget on virtual time that notes when each of its requests went out."""

    def __init__(self, limit: int, time: VirtualTime, *, fixed_windows: bool) -> None:
        super().__init__(limit, 60.0, clock=time, sleep=time.sleep, fixed_windows=fixed_windows)
        self.sends: list[float] = []

    def take(self) -> Slot:
        slot = super().take()
        self.sends.append(self._clock())
        return slot


def at_the_limits(harness: Harness, time: VirtualTime) -> tuple[RateBudget, RecordingBudget]:
    """Defaults (iLert 120/min, Statuspage 60/min), a paced syncer, windows on virtual time."""
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=120)
    connectors = {
        name: dataclasses.replace(c, requests_per_minute=60)
        for name, c in harness.config.connectors.items()
    }
    harness.config = dataclasses.replace(
        harness.config, ilert=ilert, connectors=connectors, poll_interval=30
    )
    harness.syncer = harness.new_syncer()
    harness.syncer.pace_writes = True  # as the daemon runs it
    ilert_budget = RecordingBudget(120, time, fixed_windows=True)
    statuspage_budget = RecordingBudget(60, time, fixed_windows=False)
    for http in harness.services[-1].https:
        http.budget = ilert_budget if http.service == "ilert" else statuspage_budget
    harness.ilert.set_rate_limit(120, window=60.0, monotonic=time)
    harness.statuspage.set_rate_limit(60, window=60.0, monotonic=time)
    return ilert_budget, statuspage_budget


def open_pages(harness: Harness) -> int:
    """Requests for the open set since the last clear."""
    return sum(
        1
        for r in harness.ilert.requests
        if r.path == "/api/alerts" and "PENDING" in r.query.get("states", [])
    )


def test_a_burst_runs_at_the_statuspage_ceiling_paced_across_passes(harness: Harness):
    """150 new alerts: 0 throttled, >= 0.95 of 1 req/s, iLert listed anew each pass at the minimum,
    an alert resolved mid-burst reaches the page with the burst's next batch, and the
    watchdog hears from every pass at least once a second, budget waits included.

    (bench/bench_scale.py runs the burst of 300; 150 spans the same three kinds of pass.)"""
    time = VirtualTime()
    _, statuspage_budget = at_the_limits(harness, time)
    alerts = [harness.ilert.create_alert(AUTO_SOURCE, f"burst {n}") for n in range(150)]
    pings: list[float] = []
    shutdown.set_keepalive(lambda: pings.append(time.now))  # the daemon's WATCHDOG=1
    due, passes, mirrored, longest = 0.0, [], 0, 0.0
    while mirrored < 150:
        time.now = max(time.now, due)  # the scheduler: every interval, at once when overrun
        harness.ilert.clear_requests()
        began, pings[:] = time.now, []
        report = harness.sync()
        moments = [began, *pings, time.now]  # the daemon pings after each pass too
        longest = max(longest, *(b - a for a, b in itertools.pairwise(moments)))
        assert report.ok, report
        assert open_pages(harness) == 2  # the minimum, every pass: 100 and 50 (then 49)
        mirrored = len(harness.incidents())
        passes.append((report.writes, report.paced_items, mirrored))
        if len(passes) == 1:
            harness.ilert.resolve(alerts[0])  # a change made during the burst...
        if len(passes) == 3:  # ...is on the page with the burst's next batch
            resolved = harness.link("public-api", alerts[0])
            assert resolved is not None and not resolved.is_open and mirrored < 150
        due = max(due + 30, time.now)
        assert len(passes) < 20

    assert longest <= 1.0 + 1e-9  # never a watchdog gap, though passes waited a minute
    assert harness.statuspage.rate_limit_violations() == 0
    assert harness.ilert.rate_limit_violations() == 0
    # Paced: 60 requests a minute (the page's unresolved list is read once, before the first
    # create, to adopt an incident the page already shows; the resolve is one of the 2nd
    # batch, and its page of the list is read before it, so a person's edit is seen before
    # the write; creates never wait behind a read), none in between: a pass on a spent
    # budget does not wait for its window.
    assert [p[0] for p in passes] == [59, 0, 59, 0, 33]
    # Of the 1 request/s ceiling, on the vendor's own clock: the least time these requests
    # can take under 60 per rolling 60 s (the first 60 at once), over the time they took.
    sends = statuspage_budget.sends
    least = (math.ceil(len(sends) / 60) - 1) * 60.0
    assert least / (sends[-1] - sends[0]) >= 0.95, (len(sends), sends[0], sends[-1])


def test_a_timeline_longer_than_a_pass_is_read_on_next_pass_without_a_cap(harness: Harness):
    """5,050 timeline entries: the incident is created at once, the read resumes next pass
    (50 pages, then 1, and the head once more) and the oldest comment reaches the page."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "noisy")
    long_timeline(harness, alert_id, 5_050)  # oldest first
    path = f"/api/alerts/{alert_id}/log-entries"
    harness.ilert.clear_requests()

    assert harness.sync().ok  # a pass's budget: 600 x 5 / 60 = 50 pages
    first = [r.query["start-index"] for r in harness.ilert.requests if r.path == path]
    (incident,) = harness.incidents()
    assert len(first) == 50  # the incident exists; the timeline is half read
    assert not any("Root cause" in u["body"] for u in incident["incident_updates"])
    harness.ilert.clear_requests()

    assert harness.sync().ok
    rest = [r.query["start-index"] for r in harness.ilert.requests if r.path == path]
    assert rest == [["5000"], ["0"]]  # the rest, then the head again: nothing new there
    (incident,) = harness.incidents()
    assert any("Root cause found" in u["body"] for u in incident["incident_updates"])


def test_timeline_reads_reach_alerts_listed_earlier_in_a_cycle(make_harness):
    """A listing cycle spanning passes: a pass also reads timelines of alerts an earlier pass
    of the cycle listed (their latest snapshot), so reads spread over every open alert.

    (bench/bench_scale.py measures the bound this gives at N = 10,000.)"""
    harness = make_harness("classic")
    activated_two_hours_ago(harness)
    # Reported before the "newly reported" window (5 min), so only the open set lists them.
    reported = datetime.now(UTC) - timedelta(minutes=30)
    alerts = [
        harness.ilert.create_alert(AUTO_SOURCE, f"quiet {n}", report_time=reported)
        for n in range(150)
    ]
    newest_first = sorted(alerts, reverse=True)  # the simulator's order (same report time)
    assert harness.sync().ok
    limited(harness, ilert_rate=36, poll_interval=5)  # 3 a pass: 1 page, 1 resolved, 1 read
    harness.sync()  # the first pass lists both pages; then one a pass
    unlisted_reads = 0
    for _ in range(4):
        harness.ilert.clear_requests()
        harness.sync()
        (start,) = [
            int(r.query["start-index"][0])
            for r in harness.ilert.requests
            if r.path == "/api/alerts" and "PENDING" in r.query.get("states", [])
        ]
        listed = set(newest_first[start : start + 100])
        assert len(listed) in (50, 100)  # one page of the open set a pass
        unlisted_reads += len(timeline_reads(harness) - listed)

    assert unlisted_reads >= 1


def test_an_alert_resolved_mid_way_through_a_long_timeline_keeps_its_comments(make_harness):
    """An alert reported before the "newly reported" window, resolved while its long timeline is
    still being read: the resolve waits for the read, so the comment in it reaches the page."""
    harness = make_harness("classic")
    activated_two_hours_ago(harness)
    reported = datetime.now(UTC) - timedelta(minutes=30)  # only the open set lists it
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "noisy", report_time=reported)
    long_timeline(harness, alert_id, 2_050)
    limited(harness, ilert_rate=120, poll_interval=5)  # 10 pages a read: three passes

    harness.sync()  # the incident is created, the timeline a third read
    harness.ilert.resolve(alert_id)
    harness.sync()  # resolved in iLert, the timeline two thirds read: the resolve waits
    (incident,) = harness.incidents()
    assert incident["status"] != "resolved"
    harness.sync()

    (incident,) = harness.incidents()
    bodies = [u["body"] for u in incident["incident_updates"]]
    assert incident["status"] == "resolved"
    assert any("Root cause found" in body for body in bodies), bodies


def test_a_comment_made_while_a_long_timeline_is_read_goes_out_before_the_later_resolve(
    make_harness,
):
    """Newest first, a read spread over three passes: a comment and then the resolve arrive at
    the head meanwhile (offsets shift). The resolve waits until the head is read again, so the
    comment is posted, and posted before the resolve (was: resolved without it)."""
    harness = make_harness("classic")
    activated_two_hours_ago(harness)
    reported = datetime.now(UTC) - timedelta(minutes=30)  # only the open set lists it
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "noisy", report_time=reported)
    long_timeline(harness, alert_id, 2_050)
    limited(harness, ilert_rate=120, poll_interval=5)  # 10 pages a read: three passes

    harness.sync()  # the incident is created, the timeline a third read
    harness.ilert.comment(alert_id, "Mitigation in place")
    harness.ilert.resolve(alert_id)
    harness.sync()  # two thirds read: the resolve waits
    harness.sync()  # the rest, then the head again: the comment, then the resolve
    harness.sync()

    (incident,) = harness.incidents()
    updates = sorted(incident["incident_updates"], key=lambda u: u["created_at"])
    bodies = [u["body"] for u in updates]
    assert incident["status"] == "resolved"
    (mitigation,) = [u for u in updates if "Mitigation in place" in u["body"]] or [None]
    assert mitigation is not None, bodies
    assert mitigation["status"] != "resolved", bodies
    assert updates[-1]["status"] == "resolved"


def test_alerts_paced_in_a_listing_cycle_start_next_pass_not_next_cycle(make_harness):
    """A listing cycle spans passes and a burst is paced: the alerts left for the next pass
    start there (their latest snapshot), not only when the cycle lists their page again."""
    harness = make_harness("classic")
    activated_two_hours_ago(harness)
    reported = datetime.now(UTC) - timedelta(minutes=30)
    for n in range(150):
        harness.ilert.create_alert(AUTO_SOURCE, f"quiet {n}", report_time=reported)
    assert harness.sync().ok
    # Reported while the daemon was down: only the open set lists them (newest: page 1).
    later = datetime.now(UTC) - timedelta(minutes=20)
    for n in range(3):
        harness.ilert.create_alert(AUTO_SOURCE, f"burst {n}", report_time=later)
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=36)
    connectors = {
        name: dataclasses.replace(c, requests_per_minute=3)  # 3 requests a pass
        for name, c in harness.config.connectors.items()
    }
    harness.config = dataclasses.replace(
        harness.config, ilert=ilert, connectors=connectors, poll_interval=5
    )
    harness.syncer = harness.new_syncer()
    harness.syncer.pace_writes = True
    # The budgets' windows on virtual time, a whole window between passes: what a pass may
    # send is its allowance, however long the machine takes (1 open-set page a pass).
    time = VirtualTime()
    for http in harness.services[-1].https:
        limit = 36 if http.service == "ilert" else 3
        http.budget = RecordingBudget(limit, time, fixed_windows=http.service == "ilert")

    created = []
    for _ in range(4):
        harness.sync()
        created.append(sum(1 for i in harness.incidents() if "burst" in i["name"]))
        time.now += 60.0
    # The first pass reads the page's list whole (2 pages) before its 1 create; later passes
    # write first and read one page of the list with what is left (was [1, 2, 2, 3]).
    assert created == [1, 3, 3, 3], created


def test_a_one_shot_sync_reads_the_whole_open_set_and_long_timelines(make_harness):
    """`sync` from cron: each run a fresh process with one pass, so nothing resumes in memory.
    It lists the whole open set (not the newest pages only) and reads a long timeline whole."""
    harness = make_harness("classic")
    activated_two_hours_ago(harness)
    harness.sync()  # polled now: the "newly reported" window starts here
    reported = datetime.now(UTC) - timedelta(minutes=30)  # only the open set lists them
    alerts = [
        harness.ilert.create_alert(AUTO_SOURCE, f"old {n}", report_time=reported)
        for n in range(150)
    ]
    long_timeline(harness, alerts[0], 300)
    limited(harness, ilert_rate=24, poll_interval=5)  # 2 requests a pass: 1 open-set page

    for _ in range(2):  # two cron runs
        harness.syncer = harness.new_syncer(rate_window=0.05)
        harness.syncer.one_shot = True  # as `sync` builds it
        harness.sync()

    assert len(harness.incidents()) == len(alerts)
    (first,) = [i for i in harness.incidents() if i["name"].endswith("old 0")] or [None]
    assert first is not None
    assert any("Root cause found" in u["body"] for u in first["incident_updates"])
