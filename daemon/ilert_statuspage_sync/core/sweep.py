"""A page's unresolved list read one page (100 incidents) a pass: a *sweep*.

Reading the whole list every pass costs a request per 100 open incidents, each
pass, doing nothing. A sweep reads the next page of the list each pass and
starts again at page 1 after a short page, so a quiet pass costs one list
request at any number of open incidents, and every open incident is seen once
a sweep: ``ceil((open + 1) / 100)`` passes.

What each consumer of the list gets from a sweep:

- human edits: an incident of ours on the page read now with another status
  is a candidate at once; one of ours missing from a whole sweep is a
  candidate when the sweep ends, if it was ours already when the sweep began
  (a newer one may sit on a page read before it existed). Either way the shell
  reads the incident itself before believing a person (``core.human_edits``):
  the list is sorted by creation, so a resolve between two passes can shift an
  incident past the cursor; that costs a confirming read, never a wrong edit;
- duplicates: judged per incident against the links (``core.duplicates``), so a
  page of the list is as good as the whole of it;
- the evidence a create looks at first (``known``): the last complete sweep
  with the pages read since, newest first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ilert_statuspage_sync.core.storm import Target

__all__ = [
    "MAX_PAGES",
    "PER_PAGE",
    "Sweep",
    "advance",
    "known",
    "missing",
    "passes_per_sweep",
    "updates_incident",
]

PER_PAGE = 100  # what Statuspage returns per page of the unresolved list at most
# A sweep ends here whatever the server answers (100,000 incidents, as the iLert listing's bound).
MAX_PAGES = 1_000

T = TypeVar("T")


@dataclass(frozen=True)
class Sweep(Generic[T]):
    """One page's sweep: the next page to read, what this sweep saw, and the last whole one."""

    next_page: int = 1
    seen: Mapping[str, T] = field(default_factory=dict)
    # Our incidents when this sweep read its first page.
    ours_at_start: frozenset[str] = frozenset()
    complete: Mapping[str, T] | None = None
    complete_ours: frozenset[str] = frozenset()
    # Set on the sweep ``advance`` just completed: ours that no page of it showed.
    ended: bool = False


def advance(
    sweep: Sweep[T], batch: Mapping[str, T], ours: Collection[str], *, full: bool
) -> Sweep[T]:
    """The sweep after reading page ``sweep.next_page`` (``batch``; ``full``: 100 came back).

    ``ours``: the incident ids of the page's links now. A full page that shows
    nothing this sweep has not seen (a server repeating its last page), or the
    ``MAX_PAGES``-th, ends the sweep as a short page would: else it would never
    end, and the incidents it missed would never be judged. Ending early costs
    at most confirming reads (``missing`` only names candidates).
    """
    first = sweep.next_page == 1
    fresh = first or any(key not in sweep.seen for key in batch)
    seen = dict(batch) if first else {**sweep.seen, **batch}
    at_start = frozenset(ours) if first else sweep.ours_at_start
    if full and fresh and sweep.next_page < MAX_PAGES:
        return Sweep(sweep.next_page + 1, seen, at_start, sweep.complete, sweep.complete_ours)
    return Sweep(1, {}, frozenset(), seen, at_start, ended=True)


def missing(sweep: Sweep[T], ours: Collection[str]) -> set[str]:
    """Ours that the sweep just ended never showed, and that were ours when it began."""
    if not sweep.ended or sweep.complete is None:
        return set()
    return {i for i in ours if i in sweep.complete_ours and i not in sweep.complete}


def known(sweep: Sweep[T] | None) -> Mapping[str, T] | None:
    """What the page showed: the last whole sweep overlaid with the pages read since.

    None until a sweep has completed (the shell then reads the whole list once).
    """
    if sweep is None or sweep.complete is None:
        return None
    return {**sweep.complete, **sweep.seen}


def passes_per_sweep(open_incidents: int) -> int:
    """How many passes one sweep takes at ``open_incidents`` (the last page is short)."""
    return open_incidents // PER_PAGE + 1


def updates_incident(incident_id: str | None, target: Target | None) -> bool:
    """Whether an alert's events go to an incident already on the page.

    Such a write could undo a person's edit there, so the pass reads its
    sweep page first; a create cannot, and never waits behind a read.
    """
    return incident_id is not None or (target is not None and target.incident_id is not None)
