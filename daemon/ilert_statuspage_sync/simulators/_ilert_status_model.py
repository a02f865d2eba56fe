"""The iLert simulator's status model: incidents, services and maintenance windows.

Thread-safe Python controls (`add_service`, `add_incident`, `add_window`, ...)
that the write endpoints (`_ilert_status_routes`) call too. A change bumps an
incident's `updatedAt`. A service serves the worst impact of the unresolved
incidents that affect it, else the status last set on it: the simulator's
reading of iLert's status pages, where opening an incident with an impact sets
the service and resolving the last one restores it. A maintenance window does
not change a service's status here (iLert documents no such link).

The spec's `MaintenanceWindow` lists no `id`, though `/maintenance-windows/{id}`
exists: the simulator serves one (as iLert must, for the path to be usable).
A control raises ValueError for what the API would answer 400, KeyError for an
unknown id.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.simulators._ilert_status_records import (
    INCIDENT_STATUSES,
    SERVICE_STATUSES,
    JsonObject,
    worst,
)
from ilert_statuspage_sync.simulators._ilert_writes import AlertWrites
from ilert_statuspage_sync.simulators._wire import format_timestamp, parse_timestamp

__all__ = ["StatusModelControls"]

_WINDOW_CREATOR = "Ada Lovelace"  # the simulated API key's user (see _ilert_writes.KEY_USER)


def _check(allowed: frozenset[str], value: str, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


def _stored_time(text: str) -> datetime:
    moment = parse_timestamp(text)
    assert moment is not None  # the controls store only what format_timestamp wrote
    return moment


class StatusModelControls(AlertWrites):
    """iLert's incidents, services and maintenance windows, and their controls."""

    def __init__(self, api_key: str = "ilert-sim-key") -> None:
        super().__init__(api_key)
        self._status_incidents: dict[int, JsonObject] = {}
        self._services: dict[int, JsonObject] = {}
        self._windows: dict[int, JsonObject] = {}
        # Planted verbatim (maybe malformed): served as they are, never derived from.
        self._planted: set[tuple[str, int]] = set()

    # -- services --------------------------------------------------------------

    def add_service(
        self, name: str, *, status: str = "OPERATIONAL", service_id: int | None = None
    ) -> int:
        """Create (or replace) a service; returns its id."""
        _check(SERVICE_STATUSES, status, "status")
        with self._lock:
            service_id = service_id or max(self._services, default=0) + 1
            self._services[service_id] = {
                "id": service_id,
                "name": name,
                "alias": None,
                "status": status,
                "description": "",
                "oneOpenIncidentOnly": False,
                "showUptimeHistory": True,
                "teams": [],
            }
            self._planted.discard(("service", service_id))
            return service_id

    def set_service_status(self, service_id: int, status: str) -> None:
        """A person sets the service's status (its open incidents' impact still shows over it)."""
        _check(SERVICE_STATUSES, status, "status")
        with self._lock:
            self._services[service_id]["status"] = status

    def rename_service(self, service_id: int, name: str) -> None:
        """A person renames the service."""
        with self._lock:
            self._services[service_id]["name"] = name

    def delete_service(self, service_id: int) -> None:
        """A person deletes the service; incidents and windows keep their reference to it."""
        with self._lock:
            del self._services[service_id]

    def service(self, service_id: int) -> JsonObject:
        """The service as the API serves it."""
        with self._lock:
            return self._render_service(service_id, self._impacts())

    def _render_service(self, service_id: int, impacts: Mapping[int, str]) -> JsonObject:
        service = copy.deepcopy(self._services[service_id])
        if ("service", service_id) not in self._planted and service_id in impacts:
            service["status"] = impacts[service_id]
        return service

    def _impacts(self) -> dict[int, str]:
        """Each affected service's worst impact among the unresolved incidents."""
        seen: dict[int, list[str]] = {}
        for key, incident in self._status_incidents.items():
            if ("incident", key) in self._planted or incident["status"] == "RESOLVED":
                continue
            for entry in incident["affectedServices"]:
                seen.setdefault(entry["service"]["id"], []).append(entry["impact"])
        return {sid: found for sid, impacts in seen.items() if (found := worst(impacts))}

    # -- incidents ---------------------------------------------------------------

    def add_incident(
        self,
        summary: str,
        *,
        status: str = "INVESTIGATING",
        message: str = "",
        affected: Mapping[int, str] | None = None,
        send_notification: bool = False,
        created_at: datetime | None = None,
    ) -> int:
        """Open an incident; ``affected`` maps service id to impact. Returns its id."""
        _check(INCIDENT_STATUSES, status, "status")
        with self._lock:
            entries = self._affected(affected or {})
            now = format_timestamp(self.now())
            created = format_timestamp(_aware(created_at, "created_at")) if created_at else now
            incident_id = max(self._status_incidents, default=0) + 1
            self._status_incidents[incident_id] = {
                "id": incident_id,
                "summary": summary,
                "status": status,
                "message": message,
                "sendNotification": send_notification,
                "createdAt": created,
                "updatedAt": created,
                "affectedServices": entries,
                "resolvedOn": created if status == "RESOLVED" else None,
            }
            return incident_id

    def update_incident(
        self,
        incident_id: int,
        *,
        summary: str | None = None,
        status: str | None = None,
        message: str | None = None,
        affected: Mapping[int, str] | None = None,
        send_notification: bool | None = None,
    ) -> None:
        """Post an update: the fields given change (``affected`` replaces the list)."""
        if status is not None:
            _check(INCIDENT_STATUSES, status, "status")
        with self._lock:
            incident = self._managed_incident(incident_id)
            changes: JsonObject = {"summary": summary, "message": message}
            changes |= {"status": status, "sendNotification": send_notification}
            if affected is not None:
                changes["affectedServices"] = self._affected(affected)
            now = format_timestamp(self.now())
            if status == "RESOLVED" and incident["status"] != "RESOLVED":
                incident["resolvedOn"] = now
            elif status is not None and status != "RESOLVED":
                incident["resolvedOn"] = None  # reopened
            incident.update({k: v for k, v in changes.items() if v is not None})
            incident["updatedAt"] = now

    def resolve_incident(self, incident_id: int, message: str | None = None) -> None:
        """Resolve the incident; its services show their own status again."""
        self.update_incident(incident_id, status="RESOLVED", message=message)

    def delete_incident(self, incident_id: int) -> None:
        """Delete the incident; reads of it answer 404 from now on."""
        with self._lock:
            del self._status_incidents[incident_id]
            self._planted.discard(("incident", incident_id))

    def incident(self, incident_id: int) -> JsonObject:
        """The incident as the API serves it."""
        with self._lock:
            return self._render_incident(incident_id)

    def _render_incident(self, key: int, impacts: Mapping[int, str] | None = None) -> JsonObject:
        rendered = copy.deepcopy(self._status_incidents[key])
        if ("incident", key) in self._planted:
            return rendered
        impacts = self._impacts() if impacts is None else impacts
        for entry in rendered["affectedServices"]:
            sid = entry["service"]["id"]
            if sid in self._services:
                entry["service"] = self._render_service(sid, impacts)
        return rendered

    def _managed_incident(self, incident_id: int) -> JsonObject:
        incident = self._status_incidents[incident_id]
        if ("incident", incident_id) in self._planted:
            raise ValueError(f"incident {incident_id} was planted raw; controls cannot change it")
        return incident

    def _affected(self, affected: Mapping[int, str]) -> list[JsonObject]:
        for service_id, impact in affected.items():
            if service_id not in self._services:
                raise ValueError(f"service {service_id} does not exist")
            _check(SERVICE_STATUSES, impact, "impact")
        return [{"impact": impact, "service": {"id": sid}} for sid, impact in affected.items()]

    # -- maintenance windows -------------------------------------------------------

    def add_window(
        self,
        summary: str,
        start: datetime,
        end: datetime,
        *,
        description: str = "",
        service_ids: Iterable[int] = (),
        source_ids: Iterable[int] = (),
        timezone: str | None = None,
    ) -> int:
        """Plan a maintenance window; returns its id."""
        with self._lock:
            window_id = max(self._windows, default=0) + 1
            window: JsonObject = {"id": window_id, "createdBy": _WINDOW_CREATOR}
            window["notifications"] = {"atCreation": False, "atStart": False, "atEnd": False}
            self._set_window(window, summary, description, start, end, timezone)
            self._set_window_refs(window, service_ids, source_ids)
            self._windows[window_id] = window
            return window_id

    def edit_window(
        self,
        window_id: int,
        *,
        summary: str | None = None,
        description: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        service_ids: Iterable[int] | None = None,
        source_ids: Iterable[int] | None = None,
    ) -> None:
        """Change the window's fields given (a list given replaces the old one)."""
        with self._lock:
            window = self._windows[window_id]
            if ("window", window_id) in self._planted:
                raise ValueError(f"window {window_id} was planted raw; controls cannot change it")
            self._set_window(
                window,
                window["summary"] if summary is None else summary,
                window["description"] if description is None else description,
                start or _stored_time(window["start"]),
                end or _stored_time(window["end"]),
                window["timezone"],
            )
            self._set_window_refs(
                window,
                [s["id"] for s in window["services"]] if service_ids is None else service_ids,
                [s["id"] for s in window["alertSources"]] if source_ids is None else source_ids,
            )

    def delete_window(self, window_id: int) -> None:
        """Delete the window; reads of it answer 404 from now on."""
        with self._lock:
            del self._windows[window_id]

    def window(self, window_id: int) -> JsonObject:
        """The window as the API serves it."""
        with self._lock:
            return self._render_window(window_id)

    def _render_window(self, key: int, impacts: Mapping[int, str] | None = None) -> JsonObject:
        rendered = copy.deepcopy(self._windows[key])
        if ("window", key) in self._planted:
            return rendered
        impacts = self._impacts() if impacts is None else impacts
        rendered["services"] = [
            self._render_service(s["id"], impacts) if s["id"] in self._services else s
            for s in rendered["services"]
        ]
        return rendered

    @staticmethod
    def _set_window(
        window: JsonObject,
        summary: str,
        description: str,
        start: datetime,
        end: datetime,
        timezone: str | None,
    ) -> None:
        if _aware(end, "end") <= _aware(start, "start"):
            raise ValueError("a maintenance window must end after it starts")
        window.update(summary=summary, description=description, timezone=timezone)
        window.update(start=format_timestamp(start), end=format_timestamp(end))

    def _set_window_refs(
        self, window: JsonObject, service_ids: Iterable[int], source_ids: Iterable[int]
    ) -> None:
        services, sources = list(service_ids), list(source_ids)
        for sid in services:
            if sid not in self._services:
                raise ValueError(f"service {sid} does not exist")
        for sid in sources:
            if sid not in self._alert_sources:
                raise ValueError(f"alert source {sid} does not exist")
        window["services"] = [{"id": sid} for sid in services]
        window["alertSources"] = [
            {"id": sid, "name": self._alert_sources[sid]["name"]} for sid in sources
        ]

    # -- planted data ---------------------------------------------------------------

    def set_raw_incident(self, key: int, payload: dict[str, Any]) -> None:
        """Serve ``payload`` verbatim as incident ``key`` (may be malformed on purpose)."""
        self._plant("incident", self._status_incidents, key, payload)

    def set_raw_service(self, key: int, payload: dict[str, Any]) -> None:
        """Serve ``payload`` verbatim as service ``key`` (may be malformed on purpose)."""
        self._plant("service", self._services, key, payload)

    def set_raw_window(self, key: int, payload: dict[str, Any]) -> None:
        """Serve ``payload`` verbatim as window ``key`` (may be malformed on purpose)."""
        self._plant("window", self._windows, key, payload)

    def _plant(
        self, kind: str, store: dict[int, JsonObject], key: int, payload: dict[str, Any]
    ) -> None:
        with self._lock:
            store[key] = copy.deepcopy(payload)
            self._planted.add((kind, key))
