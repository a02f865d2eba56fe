"""core.pacing: a pass starts Statuspage work up to what its key's budget frees in one interval."""

from __future__ import annotations

from ilert_statuspage_sync.core.pacing import WritePacer, interval_share


def test_an_interval_is_a_share_of_the_vendors_minute():
    """poll_interval 30 s is half of the one-minute window; nothing negative."""
    assert interval_share(30) == 0.5
    assert interval_share(-1) == 0.0


def test_alerts_start_while_their_budget_has_allowance_then_wait():
    """Below the allowance an alert starts; at it, it waits and the budget is marked spent."""
    pacer = WritePacer({1: 60, 2: 0})
    assert pacer.may_start(1, 59)
    assert not pacer.may_start(1, 60)
    assert not pacer.may_start(2, 0)  # a window full for the whole interval: nothing starts
    assert pacer.paced == {1, 2}
    assert not pacer.may_start(3, 0)  # an unknown budget never starts work unmeasured


def test_a_budget_without_room_is_spent_before_any_request():
    """A budget with no allowance is spent (and paced) before the pass sends anything."""
    pacer = WritePacer({1: 0, 2: 3})
    assert pacer.spent(1) and not pacer.spent(2)
    assert pacer.paced == {1}
