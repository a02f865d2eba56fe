"""Rebuild lost links from what Statuspage still shows.

When the state database comes back empty (deleted, truncated, restored from
nothing), the open incidents the daemon created are still on the pages, each
carrying ``metadata.ilert`` = ``{alert_id, incident_action}``. Those incidents
are the links to restore, so their alerts' later changes (above all the
resolve) still reach the page.

A rebuilt link's mirror says what the page already shows, so only what the
page does not show yet becomes an event:

- status: the alert's status as far as the incident reflects it. An alert
  resolved while the state was lost is mirrored as the status the incident
  shows (so the resolve is still sent); an alert accepted meanwhile on an
  incident that does not show it yet is mirrored as pending (so the accept is
  sent);
- priority, responders, escalation: the alert's current values (their changes
  while the state was lost are not replayed);
- the log-entry cursor: the newest entry at rebuild time, so comments already
  on the page are never posted again (comments written while the state was
  lost are not posted either).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.core.lifecycle import rule_for
from ilert_statuspage_sync.core.model import Alert, AlertStatus, EventKind, LogEntry, Mirror

__all__ = [
    "MAX_JOINED",
    "PageIncident",
    "RebuiltLink",
    "links_to_rebuild",
    "rebuilt_mirror",
    "shared_metadata",
]

_MAX_ID = 2**63 - 1
# Alert ids a shared incident's metadata lists at most (about 10 KB of text).
MAX_JOINED = 500
# Statuses a person may set that still say "someone is on it".
_ACCEPTED_LOOKING = frozenset({"monitoring"})


@dataclass(frozen=True)
class PageIncident:
    """One unresolved incident as read from a page."""

    page_id: str
    incident_id: str
    status: str
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class RebuiltLink:
    """A link to restore: this action mirrors this alert onto this incident."""

    action: str
    alert_id: int
    page_id: str
    incident_id: str
    incident_status: str


def links_to_rebuild(
    incidents: Iterable[PageIncident], action_pages: Mapping[str, str]
) -> tuple[list[RebuiltLink], int]:
    """The links the incidents prove, and how many further incidents named an already-linked alert.

    ``action_pages`` maps each configured incident action to its page; an
    incident counts only on its action's own page. Of two incidents for one
    (action, alert) the first listed is kept (the duplicate stays for the
    duplicate check to resolve).
    """
    links: dict[tuple[str, int], RebuiltLink] = {}
    duplicates = 0
    for incident in incidents:
        traced = _traced(incident.metadata)
        if traced is None:
            continue
        alert_id, action = traced
        if action_pages.get(action) != incident.page_id:
            continue
        # A shared incident (group = "action") lists every alert that joined it.
        for member in dict.fromkeys([alert_id, *_joined(incident.metadata)]):
            if (action, member) in links:
                duplicates += member == alert_id
                continue
            links[(action, member)] = RebuiltLink(
                action, member, incident.page_id, incident.incident_id, incident.status
            )
    return list(links.values()), duplicates


def rebuilt_mirror(
    alert: Alert, incident_status: str, lifecycle: str, entries: Sequence[LogEntry]
) -> Mirror:
    """The mirror of an alert whose incident shows ``incident_status`` (see the module doc)."""
    accepted_status = rule_for(lifecycle, EventKind.ACCEPTED, incident_exists=True).status
    shows_accepted = incident_status == accepted_status or incident_status in _ACCEPTED_LOOKING
    shown = AlertStatus.ACCEPTED if shows_accepted else AlertStatus.PENDING
    status = AlertStatus.PENDING if alert.status == AlertStatus.PENDING else shown
    newest = max((entry.id for entry in entries), default=None)
    return Mirror.of(alert, newest).advanced(status=status)


def shared_metadata(action: str, members: Sequence[int]) -> dict[str, str]:
    """What a join writes to ``metadata.ilert``: every alert on the incident (for a rebuild).

    ``alert_id`` names the lowest alert id (any alert linked to the incident
    keeps the duplicate check and reconciliation right); past ``MAX_JOINED``
    ids the list is cut, so a rebuild after a lost database restores those only.
    """
    return {
        "alert_id": str(members[0]),
        "incident_action": action,
        "group": "action",
        "alert_ids": ",".join(str(member) for member in members[:MAX_JOINED]),
    }


def _joined(metadata: Mapping[str, Any]) -> list[int]:
    """The alert ids in a shared incident's ``metadata.ilert.alert_ids`` (malformed: dropped)."""
    ilert = metadata.get("ilert")
    raw = ilert.get("alert_ids") if isinstance(ilert, Mapping) else None
    if not isinstance(raw, str):
        return []
    ids = [int(part) for part in raw.split(",") if part.isascii() and part.isdigit()]
    return [alert_id for alert_id in ids if 0 < alert_id <= _MAX_ID]


def _traced(metadata: Mapping[str, Any]) -> tuple[int, str] | None:
    """(alert id, incident action) from our ``metadata.ilert``; None when absent or malformed."""
    ilert = metadata.get("ilert") if isinstance(metadata, Mapping) else None
    if not isinstance(ilert, Mapping):
        return None
    raw, action = ilert.get("alert_id"), ilert.get("incident_action")
    if not isinstance(action, str) or not action:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        alert_id = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit():
        alert_id = int(raw)
    else:
        return None
    return (alert_id, action) if 0 < alert_id <= _MAX_ID else None
