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

import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

from ilert_statuspage_sync.core.lifecycle import rule_for
from ilert_statuspage_sync.core.model import Alert, AlertStatus, EventKind, LogEntry, Mirror
from ilert_statuspage_sync.core.vendor_ids import vendor_id

__all__ = [
    "MAX_INCIDENT_ALERTS",
    "MAX_RUN_IDS",
    "PageIncident",
    "RebuiltLink",
    "Stray",
    "adopted",
    "adopter",
    "decode_runs",
    "encode_runs",
    "links_to_rebuild",
    "named_alerts",
    "rebuilt_mirror",
    "shared_metadata",
    "strays",
]

_MAX_ID = 2**63 - 1
# Alert ids one ``alert_id_runs`` may name before it counts as malformed: far past any
# storm, it only bounds what a corrupt value can make a rebuild allocate.
MAX_RUN_IDS = 1_000_000
# Alerts one incident may bring back in a rebuild (each costs two iLert reads): a value
# naming more (a corrupt or forged one: ``1.999998`` names 999,999) gives its lowest ids.
MAX_INCIDENT_ALERTS = 10_000
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
    incidents: Iterable[PageIncident],
    action_pages: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> tuple[list[RebuiltLink], int]:
    """The links the incidents prove, and how many further incidents named an already-linked alert.

    ``action_pages`` maps each configured incident action to its page; an
    incident counts only on its action's own page. ``previous`` maps each
    action's ``previous_names`` to it: an incident opened before a rename is
    the renamed action's. Of two incidents for one (action, alert) the first
    listed is kept (the duplicate stays for the duplicate check to resolve).
    """
    links: dict[tuple[str, int], RebuiltLink] = {}
    duplicates = 0
    for incident in incidents:
        traced = _traced(incident.metadata)
        if traced is None:
            continue
        alert_id, action = traced
        action = (previous or {}).get(action, action)
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


@dataclass(frozen=True)
class Stray:
    """An unresolved incident of ours naming an action the config names nowhere.

    Its ``metadata.ilert.incident_action`` is the name it was created under;
    after a rename, and another rename that listed only the name in between, no
    ``previous_names`` leads back to it. iLert alert ids are global, so the one
    action on its page that mirrors the alert's source owns it (``adopter``).
    """

    incident: PageIncident
    alert_id: int  # the alert its metadata names first: its source picks the action
    members: tuple[int, ...]  # every alert it names (a shared incident names many)


def strays(
    incidents: Iterable[PageIncident],
    action_pages: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> list[Stray]:
    """Incidents on a configured action's page naming neither an action nor a previous name."""
    pages = set(action_pages.values())
    found = []
    for incident in incidents:
        traced = _traced(incident.metadata)
        if traced is None or incident.page_id not in pages:
            continue
        alert_id, action = traced
        if action in action_pages or action in (previous or {}):
            continue
        members = tuple(dict.fromkeys([alert_id, *_joined(incident.metadata)]))
        found.append(Stray(incident, alert_id, members))
    return found


def adopter(
    page_id: str, source_id: int | None, actions: Iterable[tuple[str, str, Collection[int]]]
) -> str | None:
    """The one action (name, page, sources) on ``page_id`` mirroring ``source_id``; else None.

    Two such actions on one page: which one created the incident cannot be
    told, so neither adopts it (``check`` names it).
    """
    found = [name for name, page, sources in actions if page == page_id and source_id in sources]
    return found[0] if len(found) == 1 else None


def adopted(
    stray: Stray, action: str, taken: Collection[tuple[str, int]]
) -> tuple[list[RebuiltLink], int]:
    """The links ``action`` takes from a stray, and 1 when its first alert was already linked.

    An alert already linked (to an incident naming the action) keeps that link:
    this incident is then its duplicate, for the duplicate check to resolve.
    """
    incident = stray.incident
    links = [
        RebuiltLink(action, member, incident.page_id, incident.incident_id, incident.status)
        for member in stray.members
        if (action, member) not in taken
    ]
    return links, int((action, stray.alert_id) in taken)


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


def shared_metadata(action: str, members: Sequence[tuple[int, int]]) -> dict[str, str]:
    """What a join writes to ``metadata.ilert``: every alert on the incident (for a rebuild).

    ``alert_id`` names the lowest alert id (any alert linked to the incident
    keeps the duplicate check and reconciliation right). ``alert_id_runs`` names
    every alert, however many: a list cut at some length would let a rebuild
    after a lost database take the alerts past the cut for new ones, and each
    would post its "Also affected" update a second time. ``members``: sorted
    runs of consecutive ids (first, last), kept as alerts join: a join costs a
    step per run, not per alert.
    """
    return {
        "alert_id": str(members[0][0]),
        "incident_action": action,
        "group": "action",
        "alert_id_runs": _encoded(members),
    }


def _encoded(runs: Sequence[tuple[int, int]]) -> str:
    """``encode_runs`` of the ids of ``runs`` (sorted, apart, each first <= last)."""
    text: list[str] = []
    previous = 0
    for first, last in runs:
        text.append(f"{first - previous}.{last - first}" if last > first else str(first - previous))
        previous = last
    return ",".join(text)


def encode_runs(ids: Sequence[int]) -> str:
    """Sorted unique ids as comma-separated runs of consecutive ids, each ``GAP`` or ``GAP.MORE``.

    ``GAP`` is the run's first id minus the previous run's last (the first run:
    the id itself), ``MORE`` how many consecutive ids follow it; all decimal. A
    storm's ids (close together, often consecutive) take a few characters each:
    ``100,101,102,105`` is ``100.2,3``.
    """
    if not ids:
        return ""
    # Where a run starts: found in C (``map``, ``compress``), not one step per id, as
    # every join of a storm writes all its ids.
    steps = map(operator.sub, ids[1:], ids[:-1])
    starts = [0, *compress(range(1, len(ids)), map((1).__ne__, steps))]
    runs: list[str] = []
    previous = 0
    for index, start in enumerate(starts):
        last = (starts[index + 1] if index + 1 < len(starts) else len(ids)) - 1
        first, more = ids[start], last - start
        runs.append(f"{first - previous}.{more}" if more else str(first - previous))
        previous = ids[last]
    return ",".join(runs)


def decode_runs(raw: str) -> list[int]:
    """The ids ``encode_runs`` wrote, the lowest ``MAX_INCIDENT_ALERTS``; malformed: none."""
    return _decode(raw)[0]


def named_alerts(metadata: Mapping[str, Any]) -> int:
    """How many alerts ``metadata.ilert.alert_id_runs`` names (past ``MAX_INCIDENT_ALERTS``
    only the lowest are rebuilt, and the rebuild says so); malformed: 0."""
    ilert = metadata.get("ilert") if isinstance(metadata, Mapping) else None
    runs = ilert.get("alert_id_runs") if isinstance(ilert, Mapping) else None
    return _decode(runs)[1] if isinstance(runs, str) else 0


def _decode(raw: str) -> tuple[list[int], int]:
    """(the lowest ``MAX_INCIDENT_ALERTS`` ids, how many the value names); malformed: nothing.

    Counted by arithmetic, so a value naming a million ids allocates only the cap.
    """
    ids: list[int] = []
    named = 0
    previous = 0
    for part in raw.split(",") if raw else ():
        gap, dot, more = part.partition(".")
        if not _digits(gap) or (dot and not _digits(more)) or int(gap) < 1:
            return [], 0
        first = previous + int(gap)
        last = first + (int(more) if more else 0)
        named += last - first + 1
        if last > _MAX_ID or named > MAX_RUN_IDS:
            return [], 0
        room = MAX_INCIDENT_ALERTS - len(ids)
        ids.extend(range(first, min(last, first + room - 1) + 1))
        previous = last
    return ids, named


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19


def _joined(metadata: Mapping[str, Any]) -> list[int]:
    """The alert ids a shared incident's ``metadata.ilert`` names (malformed: dropped).

    ``alert_id_runs`` (every alert), and ``alert_ids``: the comma-separated list
    a previous version wrote (its first 500 alerts).
    """
    ilert = metadata.get("ilert")
    if not isinstance(ilert, Mapping):
        return []
    runs, listed = ilert.get("alert_id_runs"), ilert.get("alert_ids")
    ids = decode_runs(runs) if isinstance(runs, str) else []
    if isinstance(listed, str):
        ids += [alert_id for alert_id in map(vendor_id, listed.split(",")) if alert_id]
    return [alert_id for alert_id in ids if 0 < alert_id <= _MAX_ID][:MAX_INCIDENT_ALERTS]


def _traced(metadata: Mapping[str, Any]) -> tuple[int, str] | None:
    """(alert id, incident action) from our ``metadata.ilert``; None when absent or malformed."""
    ilert = metadata.get("ilert") if isinstance(metadata, Mapping) else None
    if not isinstance(ilert, Mapping):
        return None
    raw, action = ilert.get("alert_id"), ilert.get("incident_action")
    if not isinstance(action, str) or not action:
        return None
    alert_id = vendor_id(raw)
    return None if alert_id is None else (alert_id, action)
