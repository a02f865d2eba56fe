"""Issue 8 at the vendors' limits: comment latency at its bound, bursts paced, budgets kept.

Real daemon code, real HTTP to the simulators, a real migrated database. The
assertions count requests and passes; where a vendor's window matters, the
client and the simulator share a virtual clock, so nothing waits for real.
"""

from __future__ import annotations

import dataclasses
import math

from ilert_statuspage_sync.demo import AUTO_SOURCE
from tests.conftest import Harness


def limited(harness: Harness, *, ilert_rate: int, poll_interval: float) -> None:
    """From now on the daemon runs with this iLert budget and interval (a fresh syncer)."""
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=ilert_rate)
    harness.config = dataclasses.replace(harness.config, ilert=ilert, poll_interval=poll_interval)
    # A compressed window: a pass spends its budget without waiting for the next minute.
    harness.syncer = harness.new_syncer(rate_window=0.05)


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

    passes, read = 0, set()
    while not read >= set(alerts):
        harness.ilert.clear_requests()
        assert harness.sync().ok
        passes += 1
        read |= timeline_reads(harness)
        assert len(harness.ilert.requests) <= 30  # never over the pass's budget
        lists = sum(1 for r in harness.ilert.requests if r.path == "/api/alerts")
        assert passes < 50

    assert lists == 4  # 3 open-set pages (100, 100, 8) and 1 of newly resolved
    bound = math.ceil(len(alerts) / (30 - lists))
    assert passes <= 1.05 * bound, (passes, bound)
