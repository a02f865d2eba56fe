"""A harness whose automatic action holds every alert off the page for an hour.

For the listing tests at scale: thousands of alerts held by ``publish_after`` exercise
only the iLert reads, and the budget is paced per second instead of per minute.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from ilert_statuspage_sync.config.publish import parse_publish_policy
from tests.support.cycle import activated_earlier
from tests.support.harness import Harness

HOUR = timedelta(hours=1)


def held_harness(
    make_harness: Callable[..., Harness], *, rate: int = 1_000_000, poll_interval: float = 5
) -> Harness:
    """The automatic action activated 2 h ago, holding alerts for 1 h (publish_after)."""
    harness = make_harness("classic")
    policy = parse_publish_policy({"publish_after": 3600}, "incident_actions[0]", "test.toml")
    actions = tuple(
        dataclasses.replace(a, publish=policy) if not a.manual else a
        for a in harness.config.incident_actions
    )
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=rate)
    harness.config = dataclasses.replace(
        harness.config, incident_actions=actions, ilert=ilert, poll_interval=poll_interval
    )
    # A compressed window: the client paces per second what the config grants per minute.
    harness.syncer = harness.new_syncer(rate_window=1.0)
    activated_earlier(harness)
    return harness
