"""Whose failure a failed Statuspage call is (core.attribution)."""

from __future__ import annotations

from datetime import UTC, datetime

from ilert_statuspage_sync.core.attribution import (
    DOWN_AFTER_ITEMS,
    attempt_order,
    item_fault,
    service_down,
)
from ilert_statuspage_sync.errors import StopRequestedError, TransientApiError


def test_a_5xx_answer_is_the_items():
    """The server got the call and answered 500: it may be about this one item."""
    assert item_fault(TransientApiError("statuspage", "boom", 500))


def test_a_call_that_may_have_landed_is_the_items():
    """No answer in time after sending: the item's, reconciled before any resend."""
    assert item_fault(TransientApiError("statuspage", "timeout", maybe_applied=True))


def test_a_call_that_never_reached_the_service_is_the_services():
    """Cannot connect, or throttled: no item could have caused it."""
    assert not item_fault(TransientApiError("statuspage", "cannot connect"))
    assert not item_fault(TransientApiError("statuspage", "slow down", 429))


def test_ilert_and_a_stop_are_never_an_items():
    """iLert's reads judge iLert; a stop request is no one's failure."""
    assert not item_fault(TransientApiError("ilert", "boom", 500))
    assert not item_fault(StopRequestedError())


def test_several_distinct_items_failing_is_an_outage():
    """Below the threshold each item backs off; at it the service is down."""
    assert not service_down(DOWN_AFTER_ITEMS - 1)
    assert service_down(DOWN_AFTER_ITEMS)


def test_failing_items_sort_behind_the_others():
    """A failing older alert goes after a newer one that is not failing."""
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    items = sorted([attempt_order(True, False, old, 1), attempt_order(False, False, new, 2)])
    assert [item[2] for item in items] == [2, 1]


def test_a_failing_item_whose_create_may_have_landed_keeps_its_place():
    """Its intent is settled first: others (a storm's next alerts) may wait on it."""
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    items = sorted([attempt_order(True, True, old, 1), attempt_order(False, False, new, 2)])
    assert [item[2] for item in items] == [1, 2]
