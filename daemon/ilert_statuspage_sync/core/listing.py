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

Two guards stand against a misbehaving server. Detected non-progress: a full
page that adds no alert the listing had not already seen (the same page twice,
a listing that loops) ends that listing only. And a bound: a listing that needs
more than one page asks ``GET /api/alerts/count`` (same filters, one request),
and may then take ``listing_bound(count)`` pages. The open set's bound is kept
across passes and cycles (counted again only when a listing reaches it: the set
may have grown); a listing past a count it took is counted once more (an honest
storm's count keeps up with it), and still serving fresh full pages past that
count never ends, and fails iLert's read (``ilert_read_failed``).

The count is a bound, not a gate: when its request fails (a 404 for a key
without it, a 5xx) or it answers something implausible (not a number, fewer
alerts than the listing already holds), the listing goes on under the repeat
guard alone, with one ``ilert_count_unusable`` warning. Every listing, counted
or not, stops at ``MAX_LISTING_PAGES`` pages (100,000 alerts): memory stays
bounded whatever the server answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "MAX_LISTING_PAGES",
    "OpenSetCycle",
    "ReportedWindow",
    "StallGuard",
    "listing_bound",
    "listing_pages",
    "reported_pages",
]

# Pages any one listing may take (100 alerts each), whatever the count says.
MAX_LISTING_PAGES = 1000
_PAGE = 100  # alerts a list page holds (clients.ilert.PAGE_SIZE)
# How far past iLert's time a "reported since" window reaches (ReportedWindow).
UNTIL_SLACK = timedelta(seconds=2)


def listing_pages(
    requests_per_minute: int,
    poll_interval: float,
    checkable: int = 0,
    *,
    reported_resumes: bool = False,
) -> int:
    """Open-set pages one pass may read.

    The pass's iLert budget less the "reported since" read (``reported_pages``),
    less the timeline reads and reads by id the mirrored alerts want
    (``checkable``, as the last pass counted them; ``core.refresh``), but never
    more than half: when the open set needs more pages than a pass holds, the
    listing and the timelines both progress every pass.
    """
    lists = _list_share(requests_per_minute, poll_interval, checkable)
    reported = reported_pages(requests_per_minute, poll_interval, checkable, reported_resumes)
    return max(lists - reported, 1)


def reported_pages(
    requests_per_minute: int, poll_interval: float, checkable: int, resumes: bool
) -> int:
    """Pages the "reported since" listing may read this pass.

    One while it starts afresh (a pass's newly reported alerts fit in one page);
    half of the listings' share while it resumes a window a pass could not finish
    (after a restart, a burst, an outage), so it catches up inside the budget
    while the open set's cycle goes on with the other half.
    """
    if not resumes:
        return 1
    return max(_list_share(requests_per_minute, poll_interval, checkable) // 2, 1)


def _list_share(requests_per_minute: int, poll_interval: float, checkable: int) -> int:
    """Requests of a pass for both listings: its budget less what the mirrored alerts want."""
    budget = max(int(requests_per_minute * poll_interval / 60), 2)
    return budget - min(max(checkable, 0), (budget - 1) // 2)


@dataclass
class ReportedWindow:
    """The "reported since" listing a pass could not finish: resumed by the next pass.

    A window of report times, ``[since, until)``, ``until`` being iLert's time at
    the pass that began it (``began``) plus ``UNTIL_SLACK`` (its ``Date`` header
    counts whole seconds): alerts reported later do not shift its offsets (no
    sort order is documented, so an open-ended window could), and are the next
    window's. While a window is unfinished the poll cursor stays where it was (a
    restart lists the window again, losing nothing); once it ends the cursor
    moves to ``began``, and the next window begins there less the overlap: the
    overlap is listed once a window, not once a pass.
    """

    sources: frozenset[int]
    states: tuple[str, ...]  # all when empty
    since: datetime
    began: datetime
    start: int = 0  # where the next pass resumes
    bound: int | None = None  # pages the window may take, once counted

    @property
    def until(self) -> datetime:
        """The window's end (excluded)."""
        return self.began + UNTIL_SLACK


def listing_bound(count: int, page_size: int) -> int:
    """Pages a listing of ``count`` matching alerts may take.

    The pages they fill, one more for the empty page that ends a multiple of
    the page size, and a slack for alerts reported while the listing is read
    (a tenth more, at least two pages).
    """
    pages = max(count, 0) // page_size + 1
    return pages + max(2, pages // 10)


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
        self.bound: int | None = None  # pages a listing may take, once counted
        self.per_pass = 0  # the most alerts (offsets) one pass's listing advanced
        self._seen: set[int] = set()
        self._query: Hashable = None

    def resume(self, query: Hashable) -> int:
        """Where this pass's listing of ``query`` starts; a changed query starts a new cycle."""
        if query != self._query:
            self._query = query
            self.restart()
        return self.start

    def restart(self) -> None:
        """The next pass begins a new cycle, counted anew (a changed query, a failed listing)."""
        self.start, self.complete, self.bound = 0, False, None

    def record(
        self, ids: Iterable[int], *, next_start: int, ended: bool, bound: int | None = None
    ) -> None:
        """One pass listed ``ids`` from ``self.start``; ``ended``: it reached the list's end."""
        if not ended:  # the most one pass's listing advanced: a cycle's length (``passes``)
            self.per_pass = max(self.per_pass, next_start - self.start)
        if self.start == 0:
            self._seen = set()  # this pass began a new cycle
        self._seen.update(ids)
        self.complete = ended
        self.start = 0 if ended else next_start
        # Kept across cycles: a listing past it counts afresh before it fails.
        self.bound = bound if bound is not None else self.bound

    @property
    def passes(self) -> int | None:
        """Passes a whole cycle takes, as far as known (its counted bound over a pass's pages)."""
        if self.bound is None or not self.per_pass:
            return None
        return -(-self.bound * _PAGE // self.per_pass)

    def may_be_open(self, alert_id: int) -> bool:
        """True when the alert's absence from this pass's listing proves nothing."""
        return not self.complete or alert_id in self._seen
