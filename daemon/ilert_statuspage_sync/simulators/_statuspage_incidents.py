"""The Statuspage simulator's incidents: create, read, update, delete and list them.

With the documented validation (`_statuspage_rules`), the spec's `q` search,
the unresolved list, and a person's edits in the web UI (`person_sets_status`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ilert_statuspage_sync.simulators._server import (
    HttpError,
    RecordedRequest,
    SimRequest,
    SimResponse,
    format_timestamp,
    int_param,
)
from ilert_statuspage_sync.simulators._statuspage_components import PageComponents
from ilert_statuspage_sync.simulators._statuspage_records import (
    LIST_LIMIT,
    WRITE_METHODS,
    JsonObject,
    blank_incident,
    mentions,
    new_update,
    page_slice,
    render_incident,
    timestamp_field,
)
from ilert_statuspage_sync.simulators._statuspage_rules import (
    CLOSED_STATUSES,
    MAINTENANCE_FLAGS,
    check_realtime_status,
    check_schedule,
    incident_fields,
    validate,
)

__all__ = ["PageIncidents"]


class PageIncidents(PageComponents):
    """Incidents of the pages, newest first, with their updates."""

    def _route_incidents(self, request: SimRequest, page_id: str, rest: list[str]) -> SimResponse:
        self._page(page_id)
        method, query = request.method, request.query
        if not rest and method == "GET":
            return SimResponse(200, self._list(page_id, query))
        if not rest and method == "POST":
            return SimResponse(201, self._create(page_id, incident_fields(request.json_body)))
        if rest == ["unresolved"] and method == "GET":
            return SimResponse(200, self._list_unresolved(page_id, query))
        if not rest:
            raise HttpError(404, f"No route matches {method} {request.path}")
        incident = self._stored(page_id, rest[0])
        if method == "GET":
            return SimResponse(200, render_incident(incident))
        if method in ("PATCH", "PUT"):
            return SimResponse(200, self._update(incident, incident_fields(request.json_body)))
        if method == "DELETE":
            return SimResponse(200, render_incident(self._incidents.pop(incident["id"])))
        raise HttpError(404, f"No route matches {method} {request.path}")

    def _list(self, page_id: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        limit = int_param(query, "limit", LIST_LIMIT)
        if limit > LIST_LIMIT:
            raise HttpError(400, f"'limit' must not be above {LIST_LIMIT}")
        needle = (query.get("q") or [""])[0].lower()
        found = [i for i in self._newest_first(page_id) if not needle or mentions(i, needle)]
        return page_slice(found, int_param(query, "page", 1), limit, render_incident)

    def _list_unresolved(self, page_id: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        found = [i for i in self._newest_first(page_id) if i["status"] not in CLOSED_STATUSES]
        page, per_page = int_param(query, "page", 1), int_param(query, "per_page", 100)
        return page_slice(found, page, per_page, render_incident)

    def _create(self, page_id: str, fields: JsonObject) -> JsonObject:
        validate(fields, creating=True)
        self._check_body(fields)
        component_ids, changes = self._component_changes(page_id, fields)
        scheduled_for = timestamp_field(fields, "scheduled_for")
        status = fields.get("status", "scheduled" if scheduled_for else "investigating")
        if self._reject_maintenance_status and scheduled_for is None:
            check_realtime_status(status)
        scheduled_until = timestamp_field(fields, "scheduled_until")
        check_schedule(scheduled_for, scheduled_until)
        now = format_timestamp(self.now())
        incident = self._blank_incident(page_id, now)
        incident.update(
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            impact="maintenance" if scheduled_for else "none",
        )
        affected = self._apply_components(incident, component_ids, changes)
        self._apply(incident, {**fields, "status": status}, now, first=True, affected=affected)
        self._incidents[incident["id"]] = incident
        return render_incident(incident)

    def _update(self, incident: JsonObject, fields: JsonObject) -> JsonObject:
        validate(fields, creating=False)
        self._check_body(fields)
        component_ids, changes = self._component_changes(incident["page_id"], fields)
        schedule: dict[str, str | None] = {
            name: timestamp_field(fields, name)
            for name in ("scheduled_for", "scheduled_until")
            if name in fields
        }
        realtime = schedule.get("scheduled_for", incident["scheduled_for"]) is None
        if self._reject_maintenance_status and realtime:
            check_realtime_status(fields.get("status"))
        merged = {**incident, **schedule}
        check_schedule(merged["scheduled_for"], merged["scheduled_until"])
        incident.update(schedule)
        affected = self._apply_components(incident, component_ids, changes)
        self._apply(incident, fields, format_timestamp(self.now()), first=False, affected=affected)
        return render_incident(incident)

    def _check_body(self, fields: JsonObject) -> None:
        """422 for a body the content filter refuses (``refuse_bodies_containing``)."""
        body = fields.get("body")
        if self._forbidden_body and isinstance(body, str) and self._forbidden_body in body:
            raise HttpError(422, "Body contains a forbidden link")

    def _apply(
        self,
        incident: JsonObject,
        fields: JsonObject,
        now: str,
        *,
        first: bool,
        affected: list[JsonObject] | None = None,
    ) -> None:
        """Copy validated fields; a body, status or component change (or create) adds an update."""
        _copy_fields(incident, fields)
        status: str = fields["status"] if "status" in fields else incident["status"]
        body = fields.get("body")
        if first or body is not None or status != incident["status"] or affected:
            self._enter_status(incident, status, now)
            notify = fields.get("deliver_notifications", True)
            update = self._new_update(incident["id"], status, body or "", notify, now)
            update["affected_components"] = affected
            incident["incident_updates"].insert(0, update)
        incident["updated_at"] = now

    @staticmethod
    def _enter_status(incident: JsonObject, status: str, now: str) -> None:
        if status == "monitoring" and incident["status"] != "monitoring":
            incident["monitoring_at"] = now
        if status in CLOSED_STATUSES and incident["status"] not in CLOSED_STATUSES:
            incident["resolved_at"] = now
        incident["status"] = status

    def _blank_incident(self, page_id: str, now: str) -> JsonObject:
        incident_id = self._new_id()
        return blank_incident(incident_id, self._new_id(), page_id, now)

    def _new_update(
        self, incident_id: str, status: str, body: str, notify: bool, now: str
    ) -> JsonObject:
        return new_update(self._new_id(), incident_id, status, body, notify, now)

    def _newest_first(self, page_id: str) -> list[JsonObject]:
        # Creation order is insertion order, so reversing it is newest first.
        return [i for i in reversed(self._incidents.values()) if i["page_id"] == page_id]

    def _stored(self, page_id: str, incident_id: str) -> JsonObject:
        incident = self._incidents.get(incident_id)
        if incident is None or incident["page_id"] != page_id:
            raise HttpError(404, "The requested resource could not be found.")
        return incident

    # -- control surface: incidents -------------------------------------------

    def incidents(self, page_id: str | None = None) -> list[JsonObject]:
        """Deep copies of all incidents (of one page, if given), newest first."""
        with self._lock:
            found = reversed(self._incidents.values())
            return [copy.deepcopy(i) for i in found if page_id in (None, i["page_id"])]

    def incident(self, incident_id: str) -> JsonObject:
        """A deep copy of one incident; KeyError if it does not exist."""
        with self._lock:
            return copy.deepcopy(self._incidents[incident_id])

    def person_sets_status(self, incident_id: str, status: str, body: str = "") -> JsonObject:
        """A person changes an incident's status in Statuspage's UI (``resolved`` closes it).

        Like the UI it adds an incident update; it is no API request, so it is
        neither recorded nor rate limited.
        """
        with self._lock:
            incident = self._incidents[incident_id]
            fields: JsonObject = {"status": status, "body": body, "deliver_notifications": False}
            self._apply(incident, fields, format_timestamp(self.now()), first=False)
            return copy.deepcopy(incident)

    def person_deletes_incident(self, incident_id: str) -> None:
        """A person deletes an incident in Statuspage's UI (no API request, not recorded)."""
        with self._lock:
            del self._incidents[incident_id]

    def writes(self) -> list[RecordedRequest]:
        """The recorded POST/PATCH/PUT/DELETE requests to incident paths."""
        return [
            request
            for request in self.requests
            if request.method in WRITE_METHODS and "/incidents" in request.path
        ]


def _copy_fields(incident: JsonObject, fields: JsonObject) -> None:
    """The plain fields of a validated write: name, reminders, impact override, metadata."""
    for name in ("name", "reminder_intervals"):
        if name in fields:
            incident[name] = fields[name]
    if "impact_override" in fields:
        incident["impact_override"] = fields["impact_override"]
        incident["impact"] = fields["impact_override"] or "none"
    if "metadata" in fields:
        incident["metadata"] = copy.deepcopy(fields["metadata"])
    if fields.get("scheduled_auto_transition") is not None:
        incident["scheduled_auto_in_progress"] = fields["scheduled_auto_transition"]
    for name in MAINTENANCE_FLAGS:
        if fields.get(name) is not None:
            incident[name] = fields[name]
