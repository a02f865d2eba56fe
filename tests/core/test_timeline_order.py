"""The timeline's order as its pages prove it, and when a read may stop or must read the head."""

from __future__ import annotations

from ilert_statuspage_sync.core.timeline_order import (
    Order,
    OrderProof,
    combined,
    needs_head,
    stops_early,
)


def _tied(*ids: int) -> list[tuple[int, int]]:
    """Entries of one timestamp, in served order."""
    return [(0, entry_id) for entry_id in ids]


def test_descending_ids_prove_newest_first_and_ascending_oldest_first():
    """Within one timestamp, ids high to low are newest first; low to high oldest first."""
    assert OrderProof().see(_tied(9, 8, 7)) is Order.NEWEST_FIRST
    assert OrderProof().see(_tied(7, 8, 9)) is Order.OLDEST_FIRST
    assert OrderProof().see(_tied(5)) is Order.UNKNOWN
    proof = OrderProof()
    proof.see(_tied(9, 8))
    assert proof.see(_tied(10, 7)) is Order.MIXED


def test_an_id_repeated_across_a_shifted_page_proves_nothing():
    """A page overlapping the last one by an id (offsets shifted) keeps the order proven."""
    proof = OrderProof()
    proof.see(_tied(10, 9, 8))
    assert proof.see(_tied(8, 7, 6)) is Order.NEWEST_FIRST


def test_only_a_proven_newest_first_page_of_old_entries_stops_a_read():
    """Old entries stop a read only newest first; oldest first the next page may be newer."""
    assert stops_early(Order.NEWEST_FIRST, [5, 4], after=5)
    assert not stops_early(Order.OLDEST_FIRST, [4, 5], after=5)
    assert not stops_early(Order.UNKNOWN, [5], after=5)
    assert not stops_early(Order.NEWEST_FIRST, [6, 5], after=5)
    assert not stops_early(Order.NEWEST_FIRST, [5, 4], after=None)


def test_only_a_resumed_read_not_proven_oldest_first_reads_the_head_again():
    """Entries added at the head since a read began are missed unless oldest first."""
    assert needs_head(Order.NEWEST_FIRST, resumed=True)
    assert needs_head(Order.UNKNOWN, resumed=True)
    assert not needs_head(Order.OLDEST_FIRST, resumed=True)
    assert not needs_head(Order.NEWEST_FIRST, resumed=False)


def test_parts_of_a_read_combine_their_proofs():
    """A resumed read's tail of one entry keeps the order its first part proved."""
    assert combined(Order.OLDEST_FIRST, Order.UNKNOWN) is Order.OLDEST_FIRST
    assert combined(Order.UNKNOWN, Order.NEWEST_FIRST) is Order.NEWEST_FIRST
    assert combined(Order.NEWEST_FIRST, Order.OLDEST_FIRST) is Order.MIXED


def test_timestamps_decide_the_order_and_one_seconds_ids_in_either_order_do_not_mix_it():
    """Newest first by second, each second's entries in ascending id: proven newest first."""
    served = [(3, 5), (3, 6), (2, 3), (2, 4), (1, 1), (1, 2)]
    assert OrderProof().see(served) is Order.NEWEST_FIRST
    assert OrderProof().see(reversed(served)) is Order.OLDEST_FIRST
    assert OrderProof().see([(3, 5), (1, 1), (2, 3)]) is Order.MIXED


def test_a_head_read_stops_at_a_page_of_held_entries_whatever_the_order():
    """Reading the head again for what came meanwhile stops at old entries, even mixed."""
    assert stops_early(Order.MIXED, [5, 4], after=5, head=True)
    assert stops_early(Order.UNKNOWN, [3], after=5, head=True)
    assert not stops_early(Order.MIXED, [6, 4], after=5, head=True)
    assert not stops_early(Order.MIXED, [5, 4], after=5)
