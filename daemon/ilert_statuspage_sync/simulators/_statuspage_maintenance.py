"""The Statuspage simulator's scheduled maintenances that are underway.

`start_maintenance` puts its components `under_maintenance`, `end_maintenance`
sets them `operational` again (Statuspage's `auto_transition_*` behaviour).
"""

from __future__ import annotations

from collections.abc import Iterable

from ilert_statuspage_sync.simulators._server import format_timestamp
from ilert_statuspage_sync.simulators._statuspage_incidents import PageIncidents

__all__ = ["ScheduledMaintenance"]


class ScheduledMaintenance(PageIncidents):
    """A maintenance begins and completes, as its schedule would make it."""

    def start_maintenance(self, page_id: str, component_ids: Iterable[str], name: str) -> str:
        """A scheduled maintenance begins: in_progress, its components under_maintenance."""
        with self._lock:
            self._page(page_id)
            ids = list(component_ids)
            now = format_timestamp(self.now())
            incident = self._blank_incident(page_id, now)
            incident.update(scheduled_for=now, scheduled_until=None, impact="maintenance")
            changes = dict.fromkeys(ids, "under_maintenance")
            self._component_changes(page_id, {"components": changes})
            affected = self._apply_components(incident, ids, changes)
            fields = {"name": name, "status": "in_progress", "deliver_notifications": False}
            self._apply(incident, fields, now, first=True, affected=affected)
            self._incidents[incident["id"]] = incident
            return str(incident["id"])

    def end_maintenance(self, incident_id: str) -> None:
        """The maintenance completes: its components go back to operational."""
        with self._lock:
            incident = self._incidents[incident_id]
            changes = {c["id"]: "operational" for c in incident["components"]}
            affected = self._apply_components(incident, [], changes)
            now = format_timestamp(self.now())
            fields = {"status": "completed", "deliver_notifications": False}
            self._apply(incident, fields, now, first=False, affected=affected)
