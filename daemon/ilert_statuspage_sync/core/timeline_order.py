"""In which order iLert serves an alert's timeline, as its pages prove it.

iLert documents no order for ``GET /api/alerts/{id}/log-entries``. A read that
stops at the first page older than the mirror's cursor is right only when the
entries come newest first; oldest first, every entry past the first page would
be skipped. So the order is read off the entry ids the read has seen, in the
order they were served (ids grow with time: the cursor relies on it too), and
a read stops early only once the order is proven newest first; otherwise it
reads to the end.

A read spread over passes by its page budget misses, under newest-first, the
entries added at the head after it began (offsets shift: it sees old ones
twice and never the new ones). It is complete only after the head has been
read again down to the entries it holds (``needs_head``); oldest-first adds
entries at the tail, where the resumed read reaches them anyway.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["Order", "OrderProof", "combined", "needs_head", "stops_early"]


class Order(enum.StrEnum):
    """What the ids served so far prove about the timeline's order."""

    NEWEST_FIRST = "newest_first"
    OLDEST_FIRST = "oldest_first"
    UNKNOWN = "unknown"  # fewer than two distinct ids: nothing proven yet
    MIXED = "mixed"  # both directions seen (a shifted page, or no order at all)


class OrderProof:
    """Follows the ids of one read in the order the server served them."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._down = False
        self._up = False

    def see(self, ids: Iterable[int]) -> Order:
        """Record one page's ids (in served order); the order proven so far."""
        for entry_id in ids:
            # An id seen twice in a row is a page overlap after a shift: no direction.
            if self._last is not None and entry_id != self._last:
                if entry_id < self._last:
                    self._down = True
                else:
                    self._up = True
            self._last = entry_id
        return self.order

    @property
    def order(self) -> Order:
        """The order every id so far agrees with."""
        if self._down and self._up:
            return Order.MIXED
        if self._down:
            return Order.NEWEST_FIRST
        if self._up:
            return Order.OLDEST_FIRST
        return Order.UNKNOWN


def stops_early(order: Order, page_ids: Iterable[int], after: int | None) -> bool:
    """Whether a read may stop at this page: proven newest first, and all at or below ``after``.

    Under any other order a page of old entries says nothing about the next page.
    """
    ids = list(page_ids)
    return (
        order is Order.NEWEST_FIRST
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
