"""core.listing: the open-set listing's page budget, resume point and stall guard."""

from __future__ import annotations

from ilert_statuspage_sync.core.listing import (
    OpenSetCycle,
    StallGuard,
    listing_bound,
    listing_pages,
    reported_pages,
)


def test_listing_pages_leave_one_request_for_the_newly_reported_query():
    """A pass lists its iLert budget less one request, and never less than one page."""
    assert listing_pages(120, 30) == 59
    assert listing_pages(1, 5) == 1


def test_listing_pages_leave_room_for_timelines_but_at_most_half():
    """Mirrored alerts waiting for their timelines reserve reads, never more than half."""
    assert listing_pages(120, 30, checkable=10) == 49
    assert listing_pages(120, 30, checkable=10_000) == 30  # 59 less 29
    assert listing_pages(180, 1, checkable=5) == 1


def test_stall_guard_flags_a_page_with_nothing_new():
    """The same page twice, or a page of already-served items, is a stall; new items are not."""
    guard = StallGuard()
    assert guard.fresh([1, 2, 3])
    assert guard.fresh([3, 4, 5])  # overlap after a shift still progresses
    assert not guard.fresh([1, 2, 3])
    assert guard.fresh([])


def test_absence_proves_a_closure_only_after_a_complete_cycle():
    """Until a cycle has read the whole open set, an unseen alert may still be open."""
    cycle = OpenSetCycle()
    assert cycle.resume("q") == 0
    cycle.record([1, 2], next_start=200, ended=False)
    assert cycle.may_be_open(3) and cycle.resume("q") == 200
    cycle.record([3], next_start=0, ended=True)
    assert cycle.may_be_open(1) and cycle.may_be_open(3)  # seen earlier in this cycle
    assert not cycle.may_be_open(4)
    assert cycle.resume("q") == 0
    cycle.record([4], next_start=0, ended=True)  # a new cycle forgets the old one
    assert not cycle.may_be_open(1)


def test_a_changed_query_starts_a_new_cycle():
    """Offsets of one query mean nothing in another: a new query lists from the start."""
    cycle = OpenSetCycle()
    cycle.resume("old")
    cycle.record([1], next_start=500, ended=False)
    assert cycle.resume("new") == 0
    assert cycle.may_be_open(99)


def test_a_listing_may_take_the_pages_its_count_fills_and_a_slack():
    """The count's pages, the empty page after a multiple of 100, and a tenth more (at least 2)."""
    assert listing_bound(0, 100) == 3
    assert listing_bound(150, 100) == 4
    assert listing_bound(200, 100) == 5
    assert listing_bound(10_000, 100) == 111


def test_the_open_sets_bound_outlives_a_cycle_and_a_restart_forgets_it():
    """A counted bound is kept for the next cycles; a failed listing counts anew."""
    cycle = OpenSetCycle()
    cycle.resume("query")
    cycle.record([1, 2], next_start=0, ended=True, bound=5)
    assert cycle.bound == 5
    cycle.record([1, 2], next_start=0, ended=True)
    assert cycle.bound == 5
    cycle.restart()
    assert _state(cycle) == (None, 0)


def _state(cycle: OpenSetCycle) -> tuple[int | None, int]:
    return cycle.bound, cycle.start


def test_a_resumed_reported_window_takes_half_the_listings_share_and_the_open_set_the_rest():
    """One page while the "reported since" listing starts; half the listings' when it resumes."""
    assert reported_pages(120, 30, 0, resumes=False) == 1
    assert reported_pages(120, 30, 0, resumes=True) == 30
    assert listing_pages(120, 30, reported_resumes=True) == 30
    assert reported_pages(120, 30, 10, resumes=True) == 25  # 60 less 10, halved
    assert listing_pages(120, 30, 10, reported_resumes=True) == 25


def test_a_cycle_knows_how_many_passes_it_takes_once_counted():
    """Its counted bound over the most one pass listed: 1,100 pages at 50 a pass is 22 passes."""
    cycle = OpenSetCycle()
    assert cycle.passes is None
    cycle.resume("q")
    cycle.record([], next_start=5_000, ended=False, bound=1_100)
    assert cycle.passes == 22
