"""Tracked alerts iLert answers 404 for: counted, confirmed as deleted, or held (core.deletion)."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.deletion import (
    CONFIRM_READS,
    CONFIRM_SPAN,
    Absence,
    gone_alert,
    mass_missing,
    not_found_again,
)
from ilert_statuspage_sync.core.model import Alert
from ilert_statuspage_sync.core.storable import ERROR_LENGTH, clean_text
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.held import Held
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.ilert_read import IlertReader
from ilert_statuspage_sync.sync.pass_state import Carryover, PassState

__all__ = ["MissingAlerts"]

log = structlog.get_logger(__name__)


class MissingAlerts:
    """One action's missing alerts in one pass: each 404 noted, then deletions decided together."""

    def __init__(self, reader: IlertReader, carry: Carryover) -> None:
        self.reader, self.carry = reader, carry

    def answered(self, link: Link) -> None:
        """iLert answered with the alert: no longer missing (the next settle clears last_error)."""
        self.carry.missing_local.pop((link.incident_action, link.alert_id), None)
        if link.missing_reads:
            link.missing_since, link.missing_reads = None, 0

    def note(self, p: PassState, link: Link) -> Absence:
        """One more 404 for a link whose incident is open, on iLert's clock and this machine's."""
        key = (link.incident_action, link.alert_id)
        absence = Absence(link.missing_since, link.missing_reads, self.carry.missing_local.get(key))
        absence = not_found_again(absence, p.ilert_now or p.now, p.now)
        link.missing_since, link.missing_reads = absence.since, absence.reads
        if absence.local_since is not None:
            self.carry.missing_local[key] = absence.local_since
        return absence

    def decide(
        self,
        p: PassState,
        action: IncidentAction,
        links: Mapping[int, Held],
        noted: list[tuple[Link, Absence]],
    ) -> list[Alert]:
        """The alerts confirmed deleted, as last mirrored and resolved; the rest wait."""
        now = p.ilert_now or p.now
        due = {link.alert_id for link, absence in noted if absence.confirmed(now, p.now)}
        held = self._held(p, action, links) if due else None
        if held is not None:
            log.warning(
                "alert_deletion_held",
                incident_action=action.name,
                alerts=len(due),
                reason=held,
                action="no incident is resolved as deleted while this lasts",
            )
        gone = []
        for link, absence in noted:
            if link.alert_id in due and held is None:
                p.gone.add(link.alert_id)
                self.carry.missing_local.pop((link.incident_action, link.alert_id), None)
                mirror = repo.mirror_of(link)
                gone.append(
                    gone_alert(
                        link.alert_id, link.alert_summary, mirror, reported=link.created_at, now=now
                    )
                )
                continue
            p.report.deferred_items += 1
            _waits(action, link, absence, held if link.alert_id in due else None)
        return gone

    def _held(self, p: PassState, action: IncidentAction, links: Mapping[int, Held]) -> str | None:
        """Why 404s prove no deletion now: many missing at once, or a source out of sight."""
        facts = (held.facts for held in links.values())
        opened = [link for link in facts if link.is_open and link.statuspage_incident_id]
        missing = sum(1 for link in opened if link.missing_reads)
        if mass_missing(missing, len(opened)):
            return (
                f"{missing} of {len(opened)} open incidents' alerts answer 404 at once, as for "
                "a key whose scope was narrowed"
            )
        for source_id in sorted(action.alert_sources):
            visible = self.reader.source_visible(p, source_id)
            if visible is False:
                return f"alert source {source_id} answers 404/403: the key lost sight of it"
            if visible is None:
                return f"alert source {source_id} could not be read this pass"
        return None


def _waits(action: IncidentAction, link: Link, absence: Absence, held: str | None) -> None:
    """Shown by `status` (kept in last_error) and logged; cleared once iLert answers."""
    confirm_at = absence.confirmed_at()
    message = (
        f"iLert answers 404 for alert {link.alert_id} ({absence.reads} read(s) in a row): "
        f"its incident is resolved as deleted once {CONFIRM_READS} reads over "
        f"{int(CONFIRM_SPAN.total_seconds() // 60)} minutes answered 404"
    )
    link.last_error = clean_text(message + (f"; held: {held}" if held else ""))[:ERROR_LENGTH]
    log.warning(
        "alert_missing",
        alert_id=link.alert_id,
        incident_action=action.name,
        reads=absence.reads,
        confirm_at=confirm_at.isoformat() if confirm_at else None,
        error=link.last_error,
    )
