"""Which incidents on a page duplicate the one an alert is linked to.

A duplicate can only come from a write that landed after the process that sent
it lost its say (see ``core.intents``); this is the safety net for anything
that still slips through. An unresolved incident whose ``metadata.ilert``
names an alert and incident action whose link points at another incident is a
duplicate: the linked one is kept, the other is resolved. Links with a write
still pending, or with no incident yet, are left alone: reconciliation decides
those.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Duplicate", "Seen", "Tracked", "find_duplicates", "pages_to_check"]


@dataclass(frozen=True)
class Seen:
    """An unresolved incident as its page shows it."""

    incident_id: str
    status: str
    alert_id: int | None
    action: str | None


@dataclass(frozen=True)
class Tracked:
    """A link as the store holds it."""

    action: str
    alert_id: int
    page_id: str
    incident_id: str | None
    pending: bool
    is_open: bool
    updated_at: datetime


@dataclass(frozen=True)
class Duplicate:
    """Resolve ``incident_id``; ``kept_id`` is the linked incident of the same alert."""

    incident_id: str
    status: str
    kept_id: str
    alert_id: int
    action: str


def pages_to_check(links: Iterable[Tracked], now: datetime, recent: timedelta) -> set[str]:
    """Pages with an incident mirrored for an open alert, or one closed within ``recent``."""
    return {
        link.page_id
        for link in links
        if link.incident_id is not None and (link.is_open or now - link.updated_at <= recent)
    }


def find_duplicates(
    unresolved: Iterable[Seen],
    links: Iterable[Tracked],
    configured: Collection[str] | None = None,
    proven: Collection[tuple[str, int]] = (),
) -> list[Duplicate]:
    """Every unresolved incident that duplicates its alert's linked incident, page order kept.

    ``configured``: the names of the page's actions. An incident naming another
    name (one no ``previous_names`` leads back to) counts as the action that
    links its alert on the page, when exactly one does, but only when that
    (name, alert id) pair is in ``proven``: this database itself once mirrored
    the alert under that name (a forgotten rename). Another installation's or a
    person's incident carrying our metadata is never taken for ours.
    """
    settled = [link for link in links if link.incident_id is not None and not link.pending]
    linked = {(link.action, link.alert_id): link.incident_id for link in settled}
    owners: dict[int, set[str]] = {}
    for link in settled:
        owners.setdefault(link.alert_id, set()).add(link.action)
    found = []
    for incident in unresolved:
        if incident.action is None or incident.alert_id is None:
            continue
        action = incident.action
        stray = configured is not None and action not in configured
        if stray and (action, incident.alert_id) in proven:
            held = owners.get(incident.alert_id, set())
            action = next(iter(held)) if len(held) == 1 else action
        kept = linked.get((action, incident.alert_id))
        if kept is not None and kept != incident.incident_id:
            found.append(
                Duplicate(incident.incident_id, incident.status, kept, incident.alert_id, action)
            )
    return found
