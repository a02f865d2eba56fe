"""core.clock: iLert's time for cursors and activation; retry delays clamped after a jump."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.core.clock import due_at, ilert_time

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_date_header_is_ilerts_time():
    """With a Date header, that is the pass's time, whatever the report times say."""
    assert ilert_time(T, [T + timedelta(hours=1)], T - timedelta(days=1)) == T


def test_without_a_date_header_the_newest_ilert_timestamp_is_a_safe_lower_bound():
    """Without a Date header the newest reportTime or the previous pass's time is used."""
    assert ilert_time(None, [T - timedelta(minutes=3), T], T - timedelta(hours=1)) == T
    assert ilert_time(None, [], T - timedelta(hours=1)) == T - timedelta(hours=1)


def test_nothing_known_of_ilerts_clock_is_none():
    """No Date header, no alert and no earlier pass: the caller must say so."""
    assert ilert_time(None, [], None) is None


def test_due_at_keeps_a_time_within_the_delay():
    """A retry time within its delay from now is kept as stored."""
    assert due_at(T + timedelta(seconds=3), T, timedelta(seconds=5)) == T + timedelta(seconds=3)
    assert due_at(None, T, timedelta(seconds=5)) is None


def test_due_at_clamps_a_time_stored_before_a_backward_jump():
    """A retry time an hour out (the clock jumped back) becomes now plus the delay."""
    assert due_at(T + timedelta(hours=1), T, timedelta(seconds=5)) == T + timedelta(seconds=5)


def test_stamps_a_day_or_more_off_the_local_clock_are_left_out():
    """A Date or reportTime decades off the VM clock is left out; a skew of hours is not."""
    local = T + timedelta(hours=2)
    assert ilert_time(T, [], None, local=local) == T
    far = T + timedelta(days=365 * 70)
    assert ilert_time(far, [T - timedelta(minutes=1)], None, local=T) == T - timedelta(minutes=1)
    assert ilert_time(far, [far], None, local=T) is None
