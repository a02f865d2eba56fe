"""The page's evidence wins over a database that lost it (``core.page_evidence``).

Two reads of what the page already shows, neither a request of its own:

- ``catch_up_links``: before human edits are judged, each link whose incident
  records (in ``metadata.ilert``) a write of ours newer than the link takes
  that state: its status, its mirror (so no event or comment is sent again),
  whether a person had taken it over. Logged ``state_behind_page``.
- ``listed_incident``: before a create, the incident the page's unresolved list
  already shows for the alert (its metadata names the alert and the action),
  which the caller adopts instead of creating a second one. The list is what
  the page's sweeps saw (``core.sweep``), or read whole here once per process
  when no sweep of the page has completed yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.core.model import Event, Mirror
from ilert_statuspage_sync.core.page_evidence import (
    LinkState,
    catch_up,
    not_shown,
    recorded,
    shown_without_record,
)
from ilert_statuspage_sync.errors import PayloadError, PermanentApiError
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.held import Held, OpenLink
from ilert_statuspage_sync.store.tables import Link

__all__ = [
    "ADOPTED_EVENT",
    "ADOPTED_REASON",
    "BEHIND_EVENT",
    "adopt",
    "catch_up_links",
    "link_state",
    "listed_incident",
]

log = structlog.get_logger(__name__)

BEHIND_EVENT = "state_behind_page"
ADOPTED_EVENT = "incident_adopted"
ADOPTED_REASON = "already on Statuspage (the state database was behind): adopted, not created"


def link_state(link: Link | OpenLink) -> LinkState:
    """The link as ``core.page_evidence.catch_up`` compares it."""
    mirror = repo.mirror_of(link)
    return LinkState(
        incident_id=link.statuspage_incident_id,
        status=link.statuspage_status,
        mirror=repo.mirror_to_dict(mirror) if mirror is not None else {},
        updated_at=link.updated_at,
        pending=link.pending_call is not None,
        override=link.human_override,
    )


def catch_up_links(held: Sequence[Held], listing: Sequence[Incident]) -> int:
    """Links behind their incident's recorded write take its state (not committed); how many.

    Compared on what the pass holds: only a link that catches up is built.
    """
    shown = {incident.id: incident for incident in listing}
    caught = 0
    for one in held:
        link = one.facts
        incident = shown.get(link.statuspage_incident_id or "")
        # Only the alert's own incident records the alert's state (a shared one: its opener's).
        if incident is None or not incident.traces_to(link.alert_id, link.incident_action):
            continue
        state = catch_up(link_state(link), incident.id, recorded(incident.metadata))
        if state is None:
            continue
        log.warning(
            BEHIND_EVENT,
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            page_id=link.page_id,
            incident=incident.id,
            from_status=link.statuspage_status,
            to_status=state.status,
        )
        behind = one.link
        behind.statuspage_status = state.status
        behind.human_override = state.override
        repo.set_mirror(behind, repo.mirror_from_dict(dict(state.mirror)))
        caught += 1
    return caught


def listed_incident(
    client: StatuspageClient, page_id: str, alert_id: int, action: str
) -> Incident | None:
    """The unresolved incident the page already shows for (alert, action), if any.

    A list that cannot be read for good (a refusal, a malformed answer) proves
    nothing: the create goes ahead, and the duplicate check stays the backstop.
    A transient failure propagates: the alert waits for the next pass.
    """
    listing = client.facts.listing(page_id)
    if listing is None:
        try:
            listing = tuple(client.unresolved_incidents(page_id))
        except (PermanentApiError, PayloadError) as error:
            log.warning("duplicate_check_failed", page_id=page_id, error=scrub(str(error)))
            return None
        client.facts.listed(page_id, listing)
    for incident in listing:
        if incident.traces_to(alert_id, action):
            return incident
    return None


def adopt(
    link: Link, incident: Incident, events: Sequence[Event], planned: Mirror, *, shared: bool
) -> list[Event]:
    """The link takes an incident the page already shows for its alert (not committed).

    Returns the create's ``events`` the incident does not show yet, to plan as
    updates. Its own incident's recorded write says what it shows; a shared
    incident (or one written before writes were recorded) shows all but a
    resolve (``core.page_evidence.shown_without_record``).
    """
    evidence = None if shared else recorded(incident.metadata)
    link.statuspage_incident_id = incident.id
    if evidence is None:
        shown = shown_without_record(events, planned)
        link.statuspage_status = incident.status
    else:
        shown = repo.mirror_from_dict(dict(evidence.mirror))
        link.statuspage_status = evidence.status
        link.human_override = evidence.override
    repo.set_mirror(link, shown)
    log.warning(
        ADOPTED_EVENT,
        alert_id=link.alert_id,
        incident_action=link.incident_action,
        page_id=link.page_id,
        incident=incident.id,
        status=link.statuspage_status,
    )
    return not_shown(events, shown)
