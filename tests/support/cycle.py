"""A harness whose open-set listing spans passes: activation in the past, a small budget.

For the tests of what a quiet pass decides on once the listing cycle has gone round.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tests.support.harness import Harness

HOUR = timedelta(hours=1)


def activated_earlier(harness: Harness, by: timedelta = 2 * HOUR) -> None:
    """One pass on clocks moved back by ``by``: the actions were activated that long ago."""
    clock = harness.ilert._clock
    harness.ilert.set_clock(lambda: clock() - by)
    harness.clock_offset = -by
    harness.sync()
    harness.clock_offset = timedelta(0)
    harness.ilert.set_clock(clock)


def go_round(harness: Harness, rate: int, poll_interval: float, passes: int = 40) -> None:
    """A new process with ``rate`` iLert requests a minute (window compressed to 1 s), run
    until its listing cycle is complete, and one pass more (its last pages settled too)."""
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=rate)
    harness.config = dataclasses.replace(harness.config, ilert=ilert, poll_interval=poll_interval)
    harness.syncer = harness.new_syncer(rate_window=1.0)
    for _ in range(passes):
        harness.sync()
        if harness.syncer.carry.cycle.complete:
            break
    assert harness.syncer.carry.cycle.complete
    harness.sync()
