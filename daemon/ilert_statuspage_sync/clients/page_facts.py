"""What this process has learned about one connector's Statuspage pages, in memory.

- The timeline last seen of each incident (the last answer's updates, kept
  as decoded, not read), tagged with the link's version (its ``updated_at``)
  at that moment. An update's intent records which earlier updates carry its
  text, so reconciliation adopts only one created after it; while the link is
  unchanged since, nobody else wrote through it and the timeline is current,
  so no read is spent on it. A changed version (another replica wrote, or a
  restart) costs one ``GET`` of the incident instead.
- The statuses each page refused (``in_progress`` on a realtime incident), so
  later plans leave them out. Kept per process on purpose: a restart re-learns
  it with at most one more refused request per page, and a page that accepts the
  status again (changed on Statuspage's side) is used again without a reset.
- Each page's sweep of its unresolved incidents (``core.sweep``: one page of
  the list a pass): the page's evidence, so a create first looks there for an
  incident the page already shows for its alert, with no read of the list.
  A process that has not completed a sweep yet reads the whole list once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ilert_statuspage_sync.core.sweep import Sweep, known

if TYPE_CHECKING:
    from ilert_statuspage_sync.clients.statuspage import Incident, Timeline

__all__ = ["PageFacts"]


@dataclass
class PageFacts:
    """Facts about a connector's pages; the shell records them, the core plans with them."""

    _updates: dict[str, tuple[datetime, Timeline]] = field(default_factory=dict)
    _refused: dict[str, set[str]] = field(default_factory=dict)
    _sweeps: dict[str, Sweep[Incident]] = field(default_factory=dict)

    def sweep(self, page_id: str) -> Sweep[Incident]:
        """The page's sweep so far (a fresh one before the first read)."""
        return self._sweeps.get(page_id) or Sweep()

    def swept(self, page_id: str, sweep: Sweep[Incident]) -> None:
        """Remember the page's sweep after a read."""
        self._sweeps[page_id] = sweep

    def listed(self, page_id: str, incidents: Sequence[Incident]) -> None:
        """The whole unresolved list was read: a complete sweep (the next one starts over)."""
        self._sweeps[page_id] = Sweep(complete={i.id: i for i in incidents})

    def listing(self, page_id: str) -> tuple[Incident, ...] | None:
        """The page's unresolved incidents as its sweeps know them; None: no sweep completed."""
        found = known(self._sweeps.get(page_id))
        return None if found is None else tuple(found.values())

    def saw_updates(self, incident_id: str, timeline: Timeline, version: datetime) -> None:
        """Remember an incident's timeline, as of the link version ``version``."""
        self._updates[incident_id] = (version, timeline)

    def updates_seen(self, incident_id: str, version: datetime) -> Timeline | None:
        """The remembered timeline, if the link is still at ``version``; else None (read again)."""
        seen = self._updates.get(incident_id)
        if seen is None or seen[0] != version:
            return None
        return seen[1]

    def refuse(self, page_id: str, status: str) -> bool:
        """Record that ``page_id`` refused ``status``; True the first time."""
        statuses = self._refused.setdefault(page_id, set())
        if status in statuses:
            return False
        statuses.add(status)
        return True

    def refused(self, page_id: str) -> frozenset[str]:
        """The statuses ``page_id`` refused so far."""
        return frozenset(self._refused.get(page_id, ()))
