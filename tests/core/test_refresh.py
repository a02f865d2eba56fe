"""Which mirrored alerts a pass reads by id, and how many (core.refresh)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ilert_statuspage_sync.core.refresh import choose_refreshes, refresh_reads
from tests.support.alerts import T0


def test_a_pass_reads_at_most_a_quarter_of_its_budget_by_id():
    """120 a minute at 30 s: 60 a pass, 15 of them for mirrored alerts; never fewer than one."""
    assert refresh_reads(120, 30) == 15
    assert refresh_reads(120, 1) == 1


def test_the_longest_unread_go_first_and_the_never_read_before_all():
    """Turns by when each was last read (never first), ties by id; at most ``per_pass``."""
    last_read = {5: T0, 3: T0 - timedelta(minutes=1), 9: None, 4: T0}
    assert choose_refreshes(last_read, 3) == [9, 3, 4]
    assert choose_refreshes(last_read, 0) == []


def test_every_alert_takes_its_turn_within_ceil_n_over_per_pass_passes():
    """Rotating over 12 alerts at 5 a pass: every one read within 3 passes."""
    last_read: dict[int, datetime | None] = dict.fromkeys(range(12))
    unread = set(last_read)
    for n in range(3):
        chosen = choose_refreshes(last_read, 5)
        unread -= set(chosen)
        last_read.update(dict.fromkeys(chosen, T0 + timedelta(minutes=n)))
    assert not unread


def test_no_reads_by_id_when_the_turns_take_as_long_as_the_listing_cycle():
    """7,500 unlisted mirrored alerts, a 4-pass cycle: the listing is sooner, none read by id."""
    assert refresh_reads(120, 30, 7_500, cycle_passes=4) == 0
    assert refresh_reads(120, 30, 50, cycle_passes=20) == 15  # 4 passes a turn: sooner
    assert refresh_reads(120, 30, 50, cycle_passes=None) == 15  # the cycle's length unknown
