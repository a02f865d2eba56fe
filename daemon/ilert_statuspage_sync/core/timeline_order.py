"""In which order iLert serves an alert's timeline, as its pages prove it.

iLert documents no order for ``GET /api/alerts/{id}/log-entries``. A read that
stops at the first page older than the mirror's cursor is right only when the
entries come newest first; oldest first, every entry past the first page would
be skipped. So the order is read off the entries' timestamps, in the order
they were served, and a read stops early only once the order is proven newest
first; otherwise it reads to the end. Timestamps, not ids: a server may serve
the entries of one second in either id order, so ids alone would call a
newest-first timeline mixed; ids decide only when every timestamp ties.

A read spread over passes by its page budget misses, under newest-first, the
entries added at the head after it began (offsets shift: it sees old ones
twice and never the new ones). It is complete only after the head has been
read again down to the entries it holds (``needs_head``); oldest-first adds
entries at the tail, where the resumed read reaches them anyway. That head
read stops at the first page holding no entry newer than those held, whatever
the order (``stops_early(head=True)``): it costs the pages added meanwhile, not
the whole timeline again. And a read still unfinished after
``MAX_TIMELINE_PASSES`` passes (a timeline growing faster than the budget
reads it) ends with what it holds, in time order, and a warning: every read
ends in a bounded number of passes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MAX_TIMELINE_PASSES",
    "Order",
    "OrderProof",
    "combined",
    "needs_head",
    "stops_early",
]

# Passes one timeline read may span before it ends with what it holds.
MAX_TIMELINE_PASSES = 20


class Order(enum.StrEnum):
    """What the ids served so far prove about the timeline's order."""

    NEWEST_FIRST = "newest_first"
    OLDEST_FIRST = "oldest_first"
    UNKNOWN = "unknown"  # fewer than two distinct ids: nothing proven yet
    MIXED = "mixed"  # both directions seen (a shifted page, or no order at all)


class OrderProof:
    """Follows the (timestamp, id) of one read's entries in the order they were served."""

    def __init__(self) -> None:
        self._last: tuple[Any, int] | None = None
        self._by_time: set[Order] = set()
        self._by_id: set[Order] = set()  # between entries of one timestamp only

    def see(self, entries: Iterable[tuple[Any, int]]) -> Order:
        """Record one page's (timestamp, id) pairs (in served order); the order proven so far."""
        for stamp, entry_id in entries:
            if self._last is not None:
                last_stamp, last_id = self._last
                if stamp != last_stamp:
                    self._by_time.add(_direction(stamp < last_stamp))
                elif entry_id != last_id:  # an id twice in a row: a page overlap, no direction
                    self._by_id.add(_direction(entry_id < last_id))
            self._last = (stamp, entry_id)
        return self.order

    @property
    def order(self) -> Order:
        """The order the timestamps agree with; ids decide only when every timestamp ties."""
        seen = self._by_time or self._by_id
        if len(seen) > 1:
            return Order.MIXED
        return next(iter(seen), Order.UNKNOWN)


def _direction(down: bool) -> Order:
    return Order.NEWEST_FIRST if down else Order.OLDEST_FIRST


def stops_early(
    order: Order, page_ids: Iterable[int], after: int | None, *, head: bool = False
) -> bool:
    """Whether a read may stop at this page: proven newest first, and all at or below ``after``.

    Under any other order a page of old entries says nothing about the next page,
    except in a ``head`` read: one that already read the whole timeline and reads
    its head again only for entries added meanwhile, which come before the old ones.
    """
    ids = list(page_ids)
    return (
        (head or order is Order.NEWEST_FIRST)
        and after is not None
        and bool(ids)
        and all(entry_id <= after for entry_id in ids)
    )


def needs_head(order: Order, *, resumed: bool) -> bool:
    """Whether a read that just reached its end must read the head again.

    Only a read resumed from an earlier pass can have missed entries added at
    the head meanwhile, and only when the timeline is not proven oldest first.
    """
    return resumed and order is not Order.OLDEST_FIRST


def combined(earlier: Order, later: Order) -> Order:
    """The order two parts of one read prove together (a read resumed across passes)."""
    if earlier is Order.UNKNOWN:
        return later
    if later is Order.UNKNOWN or later is earlier:
        return earlier
    return Order.MIXED
