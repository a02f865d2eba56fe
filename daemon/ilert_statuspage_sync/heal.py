"""Self-healing: resolve an incident that duplicates the one an alert is linked to.

Once per pass, for each page with mirrored incidents (``core.duplicates``
decides which, and which incidents are duplicates), read the page's unresolved
incidents once; resolve each duplicate with a short body naming the incident
kept, audit it (outcome ``duplicate_resolved``) and log ``duplicate_resolved``.
A read or write that fails is logged and left for the next pass; it never stops
the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.audit import AuditRecord, write_audit
from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.duplicates import (
    Duplicate,
    Seen,
    Tracked,
    find_duplicates,
    pages_to_check,
)
from ilert_statuspage_sync.errors import ApiError, PayloadError
from ilert_statuspage_sync.leader import LeadershipLostError
from ilert_statuspage_sync.logs import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link

__all__ = ["DUPLICATE_OUTCOME", "RECENT", "DuplicateHealer", "duplicate_body"]

log = structlog.get_logger(__name__)

DUPLICATE_OUTCOME = "duplicate_resolved"
# Pages are still checked this long after their last mirrored alert closed.
RECENT = timedelta(hours=1)


def duplicate_body(kept_id: str) -> str:
    """The update that closes a duplicate: where the story goes on."""
    return f"Closed as a duplicate: updates for this alert continue on incident {kept_id}."


class DuplicateHealer:
    """Finds and resolves duplicate incidents of one configuration's pages."""

    def __init__(
        self,
        config: Config,
        clients: Mapping[str, StatuspageClient],
        guard: Callable[[], bool],
        dry_run: bool,
    ) -> None:
        self.config = config
        self.clients = clients
        self.guard = guard
        self.dry_run = dry_run

    def heal(self, session: Session, now: datetime, connectors_down: Collection[str] = ()) -> int:
        """Resolve every duplicate found on the pages worth a look; return how many.

        Reads the open and recently closed links to pick the pages, then only
        the links of the alerts the pages' unresolved incidents name, by id:
        never the whole closed history.
        """
        recent = [*repo.open_links(session), *repo.recently_closed(session, now - RECENT)]
        pages = pages_to_check(map(_tracked, recent), now, RECENT)
        resolved = 0
        for (connector, page_id), actions in self._readers().items():
            if page_id not in pages or connector in connectors_down:
                continue
            client = self.clients[connector]
            try:
                unresolved = client.unresolved_incidents(page_id)
            except (ApiError, PayloadError) as error:
                log.warning("duplicate_check_failed", page_id=page_id, error=scrub(str(error)))
                continue
            names = {action.name for action in actions}
            seen = [_seen(incident) for incident in unresolved]
            named = repo.links_of_alerts(session, {s.alert_id for s in seen if s.alert_id})
            mine = [
                _tracked(link)
                for link in named
                if link.page_id == page_id and link.incident_action in names
            ]
            for duplicate in find_duplicates(seen, mine):
                resolved += self._resolve(session, client, page_id, duplicate, now)
        return resolved

    def _readers(self) -> dict[tuple[str, str], list[IncidentAction]]:
        """Actions grouped by (connector, page): each page is read once per key."""
        groups: dict[tuple[str, str], list[IncidentAction]] = {}
        for action in self.config.incident_actions:
            groups.setdefault((action.connector, action.page_id), []).append(action)
        return groups

    def _resolve(
        self,
        session: Session,
        client: StatuspageClient,
        page_id: str,
        duplicate: Duplicate,
        now: datetime,
    ) -> int:
        record = AuditRecord(
            alert_id=duplicate.alert_id,
            incident_action=duplicate.action,
            page_id=page_id,
            statuspage_incident_id=duplicate.incident_id,
            ilert_event="duplicate_found",
            outcome=DUPLICATE_OUTCOME,
            from_status=duplicate.status,
            to_status="resolved",
            reason=f"duplicate of incident {duplicate.kept_id}, which is kept",
        )
        if self.dry_run:
            write_audit(None, record, at=now, dry_run=True)
            return 0
        if not self.guard():
            raise LeadershipLostError(
                "the leader lock was lost; no further writes from this process"
            )
        fields = {
            "status": "resolved",
            "body": duplicate_body(duplicate.kept_id),
            # Subscribers follow the kept incident; "resolved" here must not read as "over".
            "deliver_notifications": False,
        }
        try:
            client.update_incident(page_id, duplicate.incident_id, fields)
        except (ApiError, PayloadError) as error:
            # Still unresolved on the next pass's read, if this did not take effect.
            log.warning(
                "duplicate_resolve_failed",
                page_id=page_id,
                incident=duplicate.incident_id,
                error=scrub(str(error)),
            )
            return 0
        write_audit(session, record, at=now, dry_run=False)
        session.commit()  # fenced like every commit of a leader
        log.warning(
            DUPLICATE_OUTCOME,
            alert_id=duplicate.alert_id,
            incident_action=duplicate.action,
            page_id=page_id,
            incident=duplicate.incident_id,
            kept=duplicate.kept_id,
        )
        return 1


def _tracked(link: Link) -> Tracked:
    return Tracked(
        action=link.incident_action,
        alert_id=link.alert_id,
        page_id=link.page_id,
        incident_id=link.statuspage_incident_id,
        pending=link.pending_call is not None,
        is_open=link.is_open,
        updated_at=link.updated_at,
    )


def _seen(incident: Incident) -> Seen:
    ilert = incident.metadata.get("ilert")
    alert_id, action = None, None
    if isinstance(ilert, Mapping):
        raw, name = ilert.get("alert_id"), ilert.get("incident_action")
        alert_id = int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else None
        action = name if isinstance(name, str) else None
    return Seen(incident.id, incident.status, alert_id, action)
