"""An alert one action keeps off its page is no free timeline read for another action.

Real daemon code, real HTTP to the simulators, a real migrated database; counted
in requests, never timed.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from ilert_statuspage_sync.config.publish import parse_publish_policy
from tests.support.cycle import HOUR, activated_earlier, go_round
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE, MANUAL_PAGE

LOW_ALERTS = 30
RATE, INTERVAL = 48, 5  # a pass's iLert budget: 48 x 5 / 60 = 4 requests
BUDGET = RATE * INTERVAL // 60


def _two_actions(make_harness) -> Harness:
    """Action "public-api" publishes every alert of the source; "high-only", on another page,
    only HIGH ones. Both activated two hours ago."""
    harness: Harness = make_harness("classic")
    auto = next(a for a in harness.config.incident_actions if not a.manual)
    policy = parse_publish_policy({"min_priority": "HIGH"}, "incident_actions[1]", "test.toml")
    high = dataclasses.replace(auto, name="high-only", page_id=MANUAL_PAGE, publish=policy)
    harness.config = dataclasses.replace(harness.config, incident_actions=(auto, high))
    harness.syncer = harness.new_syncer()
    activated_earlier(harness)
    return harness


def test_a_filtered_alert_costs_no_timeline_read_beyond_the_budget(make_harness):
    """LOW alerts filtered by one action and published by another are read within the
    pass's timeline budget, not each on every pass (the filter's "no read needed"
    was taken as a read granted to the other action's item too)."""
    harness = _two_actions(make_harness)
    reported = datetime.now(UTC) - HOUR
    for n in range(LOW_ALERTS):
        harness.ilert.create_alert(
            AUTO_SOURCE, f"low {n}", "", priority="LOW", report_time=reported
        )
    harness.sync()
    assert len(harness.incidents()) == LOW_ALERTS
    go_round(harness, RATE, INTERVAL)
    for _ in range(3):
        harness.ilert.clear_requests()
        report = harness.sync()
        assert report.writes == 0, report
        timelines = [r for r in harness.ilert.requests if r.path.endswith("/log-entries")]
        assert len(timelines) <= BUDGET, len(timelines)
