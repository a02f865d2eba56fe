"""The iLert simulator's status-model endpoints, as the spec has them.

Reads: `GET /api/incidents` (filters `states`, `services`, `from`/`until`; newest
first), `GET /api/services`, `GET /api/maintenance-windows` (filters `state`,
`services`, `sources`, `from`/`until`), each paged by `start-index`/`max-results`
(at most 100: above is the same 400 as for alerts; defaults 10, 10 and 50 as in
the spec), and `GET .../{id}` with 404. Writes answer 200 with the object (the
spec's status for them), deletes 204: `POST /api/incidents`,
`PUT /api/incidents/{id}`, `POST /api/services`, `PUT`/`DELETE /api/services/{id}`,
`POST /api/maintenance-windows`, `PUT`/`DELETE /api/maintenance-windows/{id}`.
A PUT changes the fields it carries and keeps the others. Auth, the rate limit
and faults are the server's, as for every alert endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from ilert_statuspage_sync.simulators._ilert_query import MAX_RESULTS, paging
from ilert_statuspage_sync.simulators._ilert_records import alert_id_of
from ilert_statuspage_sync.simulators._ilert_status_model import StatusModelControls
from ilert_statuspage_sync.simulators._ilert_status_records import (
    INCIDENT_STATUSES,
    SERVICE_STATUSES,
    IncidentFilter,
    JsonObject,
    WindowFilter,
    check_choice,
    check_text,
    ref_ids,
)
from ilert_statuspage_sync.simulators._wire import (
    HttpError,
    SimRequest,
    SimResponse,
    parse_timestamp,
)

__all__ = ["STATUS_MODEL_PATHS", "StatusModelRoutes"]

STATUS_MODEL_PATHS = frozenset({"incidents", "services", "maintenance-windows"})
_DEFAULT_RESULTS = {"incidents": 10, "services": 10, "maintenance-windows": 50}
_NAMES = {"incidents": "Incident", "services": "Service", "maintenance-windows": "Window"}


def _body(request: SimRequest) -> JsonObject:
    body = request.json_body
    if not isinstance(body, dict):
        raise HttpError(400, "The request body must be a JSON object")
    return body


def _time(body: JsonObject, name: str, *, required: bool) -> datetime | None:
    value = body.get(name)
    moment = parse_timestamp(value)
    if (value is not None or required) and moment is None:
        raise HttpError(400, f"'{name}' must be an ISO-8601 date-time")
    return moment


def _required_time(body: JsonObject, name: str) -> datetime:
    moment = parse_timestamp(body.get(name))
    if moment is None:
        raise HttpError(400, f"'{name}' is required: an ISO-8601 date-time")
    return moment


def _affected(body: JsonObject) -> dict[int, str] | None:
    value = body.get("affectedServices")
    if value is None:
        return None
    shape = "'affectedServices' must be a list of {impact, service: {id}}"
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise HttpError(400, shape)
    ids = ref_ids([entry.get("service") for entry in value], "affectedServices[].service")
    impacts = [check_choice(e.get("impact"), "impact", SERVICE_STATUSES) for e in value]
    return dict(zip(ids, impacts, strict=True))


def _flag(body: JsonObject, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise HttpError(400, f"'{name}' must be true or false")
    return value


class StatusModelRoutes(StatusModelControls):
    """The HTTP side of the status model; every write calls a control."""

    def _route_status_model(self, request: SimRequest, kind: str, rest: list[str]) -> SimResponse:
        if len(rest) > 1:
            raise HttpError(404, f"No resource at {request.path}")
        if not rest:
            if request.method == "GET":
                return SimResponse(200, self._list_status(kind, request.query))
            if request.method == "POST":
                return SimResponse(200, self._write(kind, None, _body(request)))
            raise HttpError(405, f"{request.method} is not supported by the simulator here")
        key = alert_id_of(rest[0], _NAMES[kind])
        store = self._status_store(kind)
        if key not in store:
            raise HttpError(404, f"{_NAMES[kind]} {key} does not exist")
        if request.method == "GET":
            return SimResponse(200, self._render(kind, key))
        if request.method == "PUT":
            return SimResponse(200, self._write(kind, key, _body(request)))
        if request.method == "DELETE" and kind != "incidents":
            (self.delete_service if kind == "services" else self.delete_window)(key)
            return SimResponse(204)
        raise HttpError(405, f"{request.method} is not supported by the simulator here")

    def _status_store(self, kind: str) -> dict[int, JsonObject]:
        stores = {
            "incidents": self._status_incidents,
            "services": self._services,
            "maintenance-windows": self._windows,
        }
        return stores[kind]

    def _render(self, kind: str, key: int, impacts: Mapping[int, str] | None = None) -> JsonObject:
        """One object as served; ``impacts`` (``_impacts()``) computed once for a listing."""
        impacts = self._impacts() if impacts is None else impacts
        if kind == "incidents":
            return self._render_incident(key, impacts)
        if kind == "services":
            return self._render_service(key, impacts)
        return self._render_window(key, impacts)

    def _list_status(self, kind: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        start, limit = paging(query, cap=MAX_RESULTS, default=_DEFAULT_RESULTS[kind])
        store = self._status_store(kind)
        keys = sorted(store)
        if kind == "incidents":
            wanted = IncidentFilter.from_query(query)
            keys = [k for k in reversed(keys) if wanted.matches(store[k])]
        elif kind == "maintenance-windows":
            windows, now = WindowFilter.from_query(query), self.now()
            keys = [k for k in keys if windows.matches(store[k], now)]
        impacts = self._impacts()
        return [self._render(kind, k, impacts) for k in keys[start : start + limit]]

    def _write(self, kind: str, key: int | None, body: JsonObject) -> JsonObject:
        """Create (``key`` None) or change one object through its control; 400 on bad data."""
        writers: dict[str, Callable[[int | None, JsonObject], int]] = {
            "incidents": self._write_incident,
            "services": self._write_service,
            "maintenance-windows": self._write_window,
        }
        try:
            key = writers[kind](key, body)
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        return self._render(kind, key)

    def _write_incident(self, key: int | None, body: JsonObject) -> int:
        status = body.get("status")
        if status is not None:
            check_choice(status, "status", INCIDENT_STATUSES)
        message, affected = check_text(body, "message"), _affected(body)
        notify = _flag(body, "sendNotification")
        if key is not None:
            summary = check_text(body, "summary")
            self.update_incident(
                key,
                summary=summary,
                status=status,
                message=message,
                affected=affected,
                send_notification=notify,
            )
            return key
        return self.add_incident(
            check_text(body, "summary", required=True) or "",
            status=status or "INVESTIGATING",
            message=message or "",
            affected=affected,
            send_notification=bool(notify),
            # "May be overwritten during the creation of the incident, otherwise read-only."
            created_at=_time(body, "createdAt", required=False),
        )

    def _write_service(self, key: int | None, body: JsonObject) -> int:
        status = body.get("status")
        if status is not None:
            check_choice(status, "status", SERVICE_STATUSES)
        if key is None:
            name = check_text(body, "name", required=True) or ""
            return self.add_service(name, status=status or "OPERATIONAL")
        new_name = check_text(body, "name")
        if new_name is not None:
            self.rename_service(key, new_name)
        if status is not None:
            self.set_service_status(key, status)
        return key

    def _write_window(self, key: int | None, body: JsonObject) -> int:
        services = ref_ids(body["services"], "services") if "services" in body else None
        sources = ref_ids(body["alertSources"], "alertSources") if "alertSources" in body else None
        summary, description = check_text(body, "summary"), check_text(body, "description")
        if key is None:
            timezone = check_text(body, "timezone")
            return self.add_window(
                summary or "",
                _required_time(body, "start"),
                _required_time(body, "end"),
                description=description or "",
                service_ids=services or (),
                source_ids=sources or (),
                timezone=timezone,
            )
        self.edit_window(
            key,
            summary=summary,
            description=description,
            start=_time(body, "start", required=False),
            end=_time(body, "end", required=False),
            service_ids=services,
            source_ids=sources,
        )
        return key
