"""Rebuild the links of an empty state database from the incidents still open on Statuspage.

The shell half of ``core.relink``: it lists each configured page's unresolved
incidents, re-reads the alerts they name from iLert by id (with their
timelines, for the comment cursor) and returns the links to store. It writes
nothing itself; the caller stores the links in the same commit as the fresh
activation, so a rebuild that fails half-way is simply tried again next pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import structlog

from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.components import (
    SETTABLE_STATUSES,
    Holder,
    seeded_state,
    worst_held,
)
from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.core.relink import (
    MAX_INCIDENT_ALERTS,
    PageIncident,
    RebuiltLink,
    Stray,
    adopted,
    adopter,
    links_to_rebuild,
    named_alerts,
    rebuilt_mirror,
    strays,
)
from ilert_statuspage_sync.errors import PayloadError, PermanentApiError
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import ComponentRow, Link
from ilert_statuspage_sync.sync.components import holder_of

__all__ = ["RebuildReads", "rebuild_links"]

log = structlog.get_logger(__name__)


class RebuildReads:
    """The alerts and timelines a rebuild read, kept across passes until one succeeds.

    A rebuild is stored whole or not at all; without these, a vendor failure
    part-way through a large one made the next pass read every alert again. A
    read kept from an earlier pass is as good as one made now: what changed since
    is an event the next pass sends, as for anything changed after a rebuild.
    """

    def __init__(self, ilert: IlertClient) -> None:
        self.ilert = ilert
        self._alerts: dict[int, Alert] = {}
        self._entries: dict[int, list[LogEntry]] = {}

    def alert(self, alert_id: int) -> Alert:
        """The alert, read from iLert once per rebuild."""
        if alert_id not in self._alerts:
            self._alerts[alert_id] = parse_alert(self.ilert.get_alert(alert_id))
        return self._alerts[alert_id]

    def entries(self, alert_id: int) -> list[LogEntry]:
        """The alert's timeline, read from iLert once per rebuild."""
        if alert_id not in self._entries:
            self._entries[alert_id] = self.ilert.log_entries(alert_id)
        return self._entries[alert_id]

    def clear(self) -> None:
        """Forget them (the rebuild was stored)."""
        self._alerts.clear()
        self._entries.clear()


def rebuild_links(
    config: Config,
    ilert: IlertClient,
    statuspage: Mapping[str, StatuspageClient],
    now: datetime,
    reads: RebuildReads | None = None,
) -> list[Link | ComponentRow]:
    """The links proven by open incidents (and their components' rows); logs ``state_rebuilt``.

    A ``TransientApiError`` (either service down) propagates: nothing is
    stored and the next pass tries again, reading only what ``reads`` does not
    hold yet. An alert iLert no longer serves is skipped with a warning.
    """
    reads = RebuildReads(ilert) if reads is None else reads
    actions = {action.name: action for action in config.incident_actions}
    pages = sorted({(action.connector, action.page_id) for action in actions.values()})
    listed = [
        (page_id, incident)
        for connector, page_id in pages
        for incident in statuspage[connector].unresolved_incidents(page_id)
    ]
    incidents = [PageIncident(p, i.id, i.status, i.metadata) for p, i in listed]
    _say_capped(incidents)
    shown = {incident.id: incident.components for _, incident in listed}
    previous = {old: name for name, action in actions.items() for old in action.previous_names}
    action_pages = {name: action.page_id for name, action in actions.items()}
    found, duplicates = links_to_rebuild(incidents, action_pages, previous)
    adopted, more = _adopt_strays(config, reads, strays(incidents, action_pages, previous), found)
    found, duplicates = [*found, *adopted], duplicates + more
    links: list[Link] = []
    seeds = ComponentSeeds(now)
    for item in found:
        action = actions[item.action]
        link = _rebuilt_link(config, reads, action, item, now)
        if link is not None:
            links.append(link)
            seeds.add(action, link, shown.get(item.incident_id, ()))
    log.info(
        "state_rebuilt",
        pages_read=len(pages),
        incidents_found=len(found) + duplicates,
        links_rebuilt=len(links),
        duplicates=duplicates,
    )
    reads.clear()
    return [*links, *seeds.rows()]


def _say_capped(incidents: Sequence[PageIncident]) -> None:
    """One warning per incident naming more alerts than a rebuild reads back (the lowest)."""
    for incident in incidents:
        named = named_alerts(incident.metadata)
        if named > MAX_INCIDENT_ALERTS:
            log.warning(
                "state_rebuild_alerts_capped",
                page_id=incident.page_id,
                incident_id=incident.incident_id,
                alerts_named=named,
                alerts_read=MAX_INCIDENT_ALERTS,
            )


def _adopt_strays(
    config: Config, reads: RebuildReads, found: Sequence[Stray], linked: Sequence[RebuiltLink]
) -> tuple[list[RebuiltLink], int]:
    """The links of incidents naming an action the config names nowhere (``core.relink.Stray``).

    One read of each incident's first alert: the one action on its page that
    mirrors the alert's source adopts it, whatever name it was created under.
    """
    scopes = [(a.name, a.page_id, a.alert_sources) for a in config.incident_actions]
    taken = {(item.action, item.alert_id) for item in linked}
    links: list[RebuiltLink] = []
    duplicates = 0
    for stray in found:
        incident = stray.incident
        try:
            source = reads.alert(stray.alert_id).source_id
        except (PermanentApiError, PayloadError) as error:
            _unreadable(stray.alert_id, "", incident.incident_id, error)
            continue
        owner = adopter(incident.page_id, source, scopes)
        if owner is None:
            continue  # no action, or several, mirror its source there: `check` names it
        more, duplicate = adopted(stray, owner, taken)
        taken.update((item.action, item.alert_id) for item in more)
        links += more
        duplicates += duplicate
    return links, duplicates


def _unreadable(alert_id: int, action: str, incident_id: str, error: Exception) -> None:
    log.warning(
        "state_rebuild_alert_unreadable",
        alert_id=alert_id,
        incident_action=action,
        incident_id=incident_id,
        error=scrub(str(error))[:500],
    )


def _rebuilt_link(
    config: Config, reads: RebuildReads, action: IncidentAction, item: RebuiltLink, now: datetime
) -> Link | None:
    """The link an open incident proves, read back from iLert; None when it proves none."""
    try:
        alert = reads.alert(item.alert_id)
        entries = reads.entries(item.alert_id)
    except (PermanentApiError, PayloadError) as error:
        _unreadable(item.alert_id, item.action, item.incident_id, error)
        return None
    if alert.source_id not in action.alert_sources:
        return None
    link = repo.new_link(item.action, item.alert_id, item.page_id, now)
    link.statuspage_incident_id = item.incident_id
    link.statuspage_status = item.incident_status
    link.alert_summary = alert.summary[:255]
    if action.manual:
        link.triggered_at = now  # it was triggered once: keep mirroring it
    repo.set_mirror(link, rebuilt_mirror(alert, item.incident_status, config.lifecycle, entries))
    return link


class ComponentSeeds:
    """What the daemon's open incidents show on their components, as if it had set it.

    Without it a component an open incident had put in an outage would look like
    a person's edit once the state is lost, and stay red after the alert resolves.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        # (page, component) -> its status, the statuses its actions set, the alerts holding it.
        self._seen: dict[tuple[str, str], tuple[str, set[str], list[Holder]]] = {}

    def add(self, action: IncidentAction, link: Link, shown: Sequence[tuple[str, str]]) -> None:
        for component_id, status in shown:
            if component_id not in action.components or status not in SETTABLE_STATUSES:
                continue
            _, possible, holders = self._seen.setdefault(
                (link.page_id, component_id), (status, set(), [])
            )
            possible.update(action.component_status.values())
            holders.append(holder_of(link, action, link.mirror_priority or "HIGH"))

    def rows(self) -> list[ComponentRow]:
        """One row per component shown (``core.components.seeded_state`` decides it)."""
        rows = []
        for (page_id, component_id), (status, possible, holders) in self._seen.items():
            held, holder = worst_held(holders, component_id)
            state = seeded_state(status, possible, held, holder)
            rows.append(
                ComponentRow(
                    page_id=page_id,
                    component_id=component_id,
                    last_set=state.last_set,
                    held_since=state.held_since,
                    holder_alert_id=state.holder_alert_id,
                    holder_action=state.holder_action,
                    updated_at=self.now,
                )
            )
        return rows
