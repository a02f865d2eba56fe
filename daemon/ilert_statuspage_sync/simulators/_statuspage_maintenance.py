"""The Statuspage simulator's scheduled maintenances: their schedule, and the lists of them.

A maintenance is an incident with `scheduled_for` (created with status
`scheduled` by default). As the simulator's clock passes its times, as
Statuspage's scheduler would (checked before every request and every read of the
controls): at `scheduled_for` a `scheduled` one with `scheduled_auto_in_progress`
(alias `scheduled_auto_transition`) goes `in_progress`; at `scheduled_until` an
`in_progress` or `verifying` one with `scheduled_auto_completed` goes `completed`.
Each transition adds an update (notifying per `auto_transition_deliver_notifications_*`).
Components follow the spec's own switches, whatever made the status change (the
clock, a PATCH, a person): `auto_transition_to_maintenance_state` sets the
maintenance's components `under_maintenance` once it is in progress,
`auto_transition_to_operational_state` sets them `operational` once it completes;
a `components` map sent in the same write wins for the components it names.

Lists (spec: `page`, `per_page` default 100, newest first): `/incidents/scheduled`
every maintenance, `/incidents/upcoming` those still `scheduled`,
`/incidents/active_maintenance` those `in_progress` or `verifying`. The spec
describes them only by name; the split is that of Statuspage's public page API
(upcoming and active scheduled maintenances). Whether `/incidents/unresolved`
holds maintenances is undocumented: here it holds every incident not
`resolved` or `completed`, maintenances included.

`start_maintenance` and `end_maintenance` stand for a person starting and
completing one by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.simulators._server import (
    SimRequest,
    SimResponse,
    format_timestamp,
    int_param,
    parse_timestamp,
)
from ilert_statuspage_sync.simulators._statuspage_incidents import PageIncidents
from ilert_statuspage_sync.simulators._statuspage_records import (
    JsonObject,
    page_slice,
    render_incident,
)

__all__ = ["ScheduledMaintenance"]

ACTIVE = frozenset({"in_progress", "verifying"})
# The bodies Statuspage's own transitions post.
STARTED = "Scheduled maintenance is currently in progress. We will provide updates as necessary."
COMPLETED = "The scheduled maintenance has been completed."
_LISTS: dict[str, Callable[[JsonObject], bool]] = {
    "scheduled": lambda incident: True,
    "upcoming": lambda incident: bool(incident["status"] == "scheduled"),
    "active_maintenance": lambda incident: incident["status"] in ACTIVE,
}


def _flag(incident: JsonObject, fields: JsonObject, name: str) -> bool:
    """A switch as the write leaves it: sent in ``fields``, else stored."""
    value = fields.get(name)
    return bool(incident.get(name) if value is None else value)


class ScheduledMaintenance(PageIncidents):
    """Maintenances begin and complete on the simulator's clock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Maintenances not yet completed: the schedule checks only these, on every request.
        self._open_maintenances: set[str] = set()

    def _route_incidents(self, request: SimRequest, page_id: str, rest: list[str]) -> SimResponse:
        if len(rest) == 1 and rest[0] in _LISTS and request.method == "GET":
            self._page(page_id)
            return SimResponse(200, self._list_maintenances(page_id, rest[0], request.query))
        return super()._route_incidents(request, page_id, rest)

    def _list_maintenances(
        self, page_id: str, which: str, query: Mapping[str, list[str]]
    ) -> list[JsonObject]:
        wanted = _LISTS[which]
        found = [
            i for i in self._newest_first(page_id) if i["scheduled_for"] is not None and wanted(i)
        ]
        page, per_page = int_param(query, "page", 1), int_param(query, "per_page", 100)
        return page_slice(found, page, per_page, render_incident)

    def _apply(
        self,
        incident: JsonObject,
        fields: JsonObject,
        now: str,
        *,
        first: bool,
        affected: list[JsonObject] | None = None,
    ) -> None:
        """A maintenance entering in_progress or completed moves its components, if asked."""
        status = fields.get("status", incident["status"])
        scheduled = incident["scheduled_for"] is not None
        if scheduled and isinstance(status, str) and status != incident["status"]:
            sent = fields.get("components") or {}
            moved = self._apply_components(
                incident, [], self._follow(incident, fields, status, sent)
            )
            affected = [*(affected or []), *(moved or [])] or None
        super()._apply(incident, fields, now, first=first, affected=affected)
        if scheduled and incident["status"] != "completed":
            self._open_maintenances.add(incident["id"])

    def _follow(
        self, incident: JsonObject, fields: JsonObject, status: str, sent: Mapping[str, str]
    ) -> dict[str, str]:
        """The component statuses a maintenance entering ``status`` sets by its switches."""
        if status in ACTIVE and _flag(incident, fields, "auto_transition_to_maintenance_state"):
            target = "under_maintenance"
        elif status == "completed" and _flag(
            incident, fields, "auto_transition_to_operational_state"
        ):
            target = "operational"
        else:
            return {}
        listed = [*_component_ids(incident), *fields.get("component_ids", [])]
        return {cid: target for cid in dict.fromkeys(listed) if cid not in sent}

    def _advance_maintenances(self) -> None:
        """Under the lock: every maintenance whose time has come moves on, as scheduled."""
        now = self.now()
        for incident_id in sorted(self._open_maintenances):
            incident = self._incidents.get(incident_id)
            if incident is None or incident["scheduled_for"] is None:
                self._open_maintenances.discard(incident_id)  # deleted, or made realtime
                continue
            start = parse_timestamp(incident["scheduled_for"])
            end = parse_timestamp(incident["scheduled_until"])
            if (
                incident["status"] == "scheduled"
                and incident["scheduled_auto_in_progress"]
                and start is not None
                and start <= now
            ):
                self._transition(incident, "in_progress", STARTED, start, "at_start")
            if (
                incident["status"] in ACTIVE
                and incident["scheduled_auto_completed"]
                and end is not None
                and end <= now
            ):
                self._transition(incident, "completed", COMPLETED, end, "at_end")
            if incident["status"] == "completed":
                self._open_maintenances.discard(incident_id)

    def _transition(
        self, incident: JsonObject, status: str, body: str, at: datetime, when: str
    ) -> None:
        notify = bool(incident[f"auto_transition_deliver_notifications_{when}"])
        fields = {"status": status, "body": body, "deliver_notifications": notify}
        # Stamped when the schedule said, not when the simulator noticed.
        self._apply(incident, fields, format_timestamp(at), first=False)

    # -- control surface ------------------------------------------------------------

    def incidents(self, page_id: str | None = None) -> list[JsonObject]:
        """Deep copies of all incidents (of one page, if given), newest first; maintenances
        moved on to the simulator's now first."""
        with self._lock:
            self._advance_maintenances()
            return super().incidents(page_id)

    def incident(self, incident_id: str) -> JsonObject:
        """A deep copy of one incident; KeyError if it does not exist."""
        with self._lock:
            self._advance_maintenances()
            return super().incident(incident_id)

    def components(self, page_id: str | None = None) -> list[JsonObject]:
        """Every component (of one page, if given), as the API would serve it."""
        with self._lock:
            self._advance_maintenances()
            return super().components(page_id)

    def component(self, component_id: str) -> JsonObject:
        """One component as the API would serve it."""
        with self._lock:
            self._advance_maintenances()
            return super().component(component_id)

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


def _component_ids(incident: JsonObject) -> list[str]:
    """The ids of the components an incident holds."""
    return [component["id"] for component in incident["components"]]
