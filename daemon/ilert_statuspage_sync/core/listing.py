"""How far the open-alert listing goes in one pass, where it resumes, and when it stalls.

iLert lists have no total and page by ``start-index``, so any number of open
alerts takes ``ceil(n / 100)`` pages (plus one empty page when ``n`` is a
multiple of 100). A pass reads at most its budget's pages (less the timeline
reads it reserves, see ``listing_pages``) and the next pass resumes where it
stopped: a *cycle* of passes reads the whole open set once.
The resume point lives in memory (``OpenSetCycle``): a restart begins a new
cycle at page 0, which costs one cycle's latency and loses nothing.

A tracked alert absent from the listing "left the open set" only when the
cycle is complete and never saw it; until then its absence proves nothing and
it is not read by id. Offsets shift as alerts open and close between passes,
so a cycle may read an alert twice or miss one that moved across the resume
point; the next cycle reads it.

The only guard against a misbehaving server is detected non-progress: a full
page that adds no alert the listing had not already seen (the same page twice,
a listing that loops). It ends that listing only.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

__all__ = ["OpenSetCycle", "StallGuard", "listing_pages"]


def listing_pages(requests_per_minute: int, poll_interval: float, checkable: int = 0) -> int:
    """Open-set pages one pass may read.

    The pass's iLert budget less the "newly reported" read, less the timeline
    reads the mirrored alerts want (``checkable``, as the last pass counted
    them), but never more than half: when the open set needs more pages than a
    pass holds, the listing and the timelines both progress every pass.
    """
    budget = max(int(requests_per_minute * poll_interval / 60) - 1, 1)
    reserved = min(max(checkable, 0), budget // 2)
    return max(budget - reserved, 1)


class StallGuard:
    """Remembers what one listing has served; a full page with nothing new is a stall."""

    def __init__(self) -> None:
        self._seen: set[object] = set()

    def fresh(self, keys: Sequence[object]) -> bool:
        """Record a page's item keys; False when the page holds no key seen for the first time."""
        new = set(keys) - self._seen
        self._seen.update(new)
        return bool(new) or not keys


class OpenSetCycle:
    """The open set's listing across passes: where to resume and what it has seen."""

    def __init__(self) -> None:
        self.start = 0
        self.complete = False
        self._seen: set[int] = set()
        self._query: Hashable = None

    def resume(self, query: Hashable) -> int:
        """Where this pass's listing of ``query`` starts; a changed query starts a new cycle."""
        if query != self._query:
            self._query, self.start, self.complete = query, 0, False
        return self.start

    def record(self, ids: Iterable[int], *, next_start: int, ended: bool) -> None:
        """One pass listed ``ids`` from ``self.start``; ``ended``: it reached the list's end."""
        if self.start == 0:
            self._seen = set()  # this pass began a new cycle
        self._seen.update(ids)
        self.complete = ended
        self.start = 0 if ended else next_start

    def may_be_open(self, alert_id: int) -> bool:
        """True when the alert's absence from this pass's listing proves nothing."""
        return not self.complete or alert_id in self._seen
