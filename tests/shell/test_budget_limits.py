"""Rate budgets at the vendors' limits, never over them, in virtual time.

The client's ``RateBudget`` is driven against the simulators' own limiters
(iLert's fixed windows at any alignment, Statuspage's rolling window) with a
random network delay between send and answer; the vendor counts each request
at a random moment in between. Time is a fake clock: nothing here waits.
"""

from __future__ import annotations

import random

import pytest
from structlog.testing import capture_logs

from ilert_statuspage_sync.clients.http import RateBudget
from ilert_statuspage_sync.simulators._faults import (
    FixedWindowLimiter,
    RateLimiter,
    RollingWindowLimiter,
)
from tests.support.clock import FakeClock


class VirtualTime(FakeClock):
    """One clock for the client and the vendor; it moves only when told."""

    def __init__(self) -> None:
        super().__init__(1000.0)
        self.counted_at = self.now  # when the vendor counts the request in flight


def burst(budget: RateBudget, limiter: RateLimiter, time: VirtualTime, count: int) -> float:
    """Send ``count`` requests back to back, none refused; return the share of the limit.

    The rate is the sustained one: the requests after the first window's
    allowance, over the time since that allowance was spent.
    """
    rng = random.Random(count)
    sends = []
    for _ in range(count):
        slot = budget.take()
        sends.append(time.now)
        delay = rng.uniform(0.0, 0.3)
        time.counted_at = time.now + rng.uniform(0.0, delay)
        assert limiter.admit("key"), f"throttled at {time.counted_at}"
        time.now += delay
        budget.answered(slot)
    limit = budget.limit
    rate = (count - limit) / (sends[-1] - sends[limit - 1])
    return rate / (limit / budget.window)


@pytest.mark.parametrize("phase", [0.0, 0.4, 17.0, 59.9])
def test_ilert_budget_never_trips_fixed_windows_at_any_alignment(phase):
    """120 per 60 s: 600 requests, none refused by fixed windows however they are aligned."""
    time = VirtualTime()
    budget = RateBudget(120, 60.0, clock=time, sleep=time.sleep, fixed_windows=True)
    limiter = FixedWindowLimiter(120, 60.0, monotonic=lambda: time.counted_at + phase)

    assert burst(budget, limiter, time, 600) >= 0.95


def test_statuspage_budget_never_trips_the_rolling_window_and_runs_at_the_ceiling():
    """60 per rolling 60 s: 300 requests with jittered latency, 0 refused, >= 0.95 of 1/s."""
    time = VirtualTime()
    budget = RateBudget(60, 60.0, clock=time, sleep=time.sleep)
    limiter = RollingWindowLimiter(60, 60.0, monotonic=lambda: time.counted_at)

    assert burst(budget, limiter, time, 300) >= 0.95


def test_a_request_counts_until_a_window_after_its_answer():
    """A slow answer moves the request's window: the next one waits for answer + window + margin."""
    time = VirtualTime()
    budget = RateBudget(1, 60.0, clock=time, sleep=time.sleep)
    slot = budget.take()
    sent = time.now
    time.now += 20.0  # the vendor may have counted it just before answering
    budget.answered(slot)

    budget.acquire()
    assert time.now == pytest.approx(sent + 20.0 + 60.0 + 1.0)


def test_the_margin_is_one_second_of_a_minute_and_scales_with_the_window():
    """The clock margin is 1/60 of the window (1 s of 60 s), not a cut of the limit."""
    assert RateBudget(60, 60.0).margin == pytest.approx(1.0)
    assert RateBudget(60, 6.0).margin == pytest.approx(0.1)
    assert RateBudget(60, 60.0).limit == 60


def test_free_within_counts_what_a_window_share_can_still_send():
    """free_within: the limit less the requests still counted that far ahead."""
    time = VirtualTime()
    budget = RateBudget(60, 60.0, clock=time, sleep=time.sleep)
    assert budget.free_within(0.5) == 60
    for _ in range(60):
        budget.acquire()
    assert budget.free_within(0.5) == 0  # all still counted 30 s from now
    time.now += 40.0
    assert budget.free_within(0.5) == 60  # gone by 61 s after they were sent
    budget.pause(100.0)
    assert budget.free_within(0.5) == 0


def test_a_wait_a_person_would_notice_is_one_line_and_a_short_one_none():
    """A request that waits 5 s or more of a minute for the window logs `budget_wait` once,
    naming the service and the wait; a shorter wait logs nothing."""
    time = VirtualTime()
    budget = RateBudget(2, 60.0, clock=time, sleep=time.sleep)
    budget.service = "statuspage"
    with capture_logs() as logs:
        budget.acquire()
        budget.acquire()
        time.sleep(58.0)
        budget.acquire()  # waits 3 s (the first two's window and margin): under 5 s
        budget.acquire()
        budget.acquire()  # the window is full again: about a minute
    waits = [entry for entry in logs if entry["event"] == "budget_wait"]
    assert len(waits) == 1, logs
    assert waits[0]["service"] == "statuspage" and waits[0]["wait_s"] >= 5
    assert waits[0]["requests_in_window"] == 2 and waits[0]["limit"] == 2
