"""The JSON shapes and query rules of iLert's status model in the simulator.

Incidents (incident communication), services and maintenance windows as the spec
(shared/specs/ilert-openapi.json) has them: `Incident`, `Service`,
`MaintenanceWindow`, the enums `IncidentStatus` and `ServiceStatus`, and the
listing filters. Pure functions over plain values; planted (maybe malformed)
objects are read defensively: a field of the wrong type filters nothing out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.simulators._ilert_query import enum_values
from ilert_statuspage_sync.simulators._wire import HttpError, parse_timestamp

__all__ = [
    "INCIDENT_ORDER",
    "INCIDENT_STATUSES",
    "SERVICE_ORDER",
    "SERVICE_STATUSES",
    "WINDOW_STATES",
    "IncidentFilter",
    "JsonObject",
    "WindowFilter",
    "check_choice",
    "check_text",
    "int_list",
    "ref_ids",
    "worst",
]

JsonObject = dict[str, Any]

INCIDENT_ORDER = ("INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED")
INCIDENT_STATUSES = frozenset(INCIDENT_ORDER)
# Mildest first: an affected service shows the worst impact of its open incidents.
SERVICE_ORDER = ("OPERATIONAL", "UNDER_MAINTENANCE", "DEGRADED", "PARTIAL_OUTAGE", "MAJOR_OUTAGE")
SERVICE_STATUSES = frozenset(SERVICE_ORDER)
WINDOW_STATES = frozenset({"OPEN", "CLOSED"})


def worst(statuses: Iterable[str]) -> str | None:
    """The most severe of ``statuses`` (None when there are none)."""
    known = [s for s in statuses if s in SERVICE_STATUSES]
    return max(known, key=SERVICE_ORDER.index, default=None)


def check_text(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of a write body; 400 when required and blank, or of another type."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise HttpError(400, f"'{name}' must be a non-empty string")
    return value


def check_choice(value: object, name: str, allowed: frozenset[str]) -> str:
    """An enum field of a write body; 400 for anything outside ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise HttpError(400, f"'{name}' must be one of {sorted(allowed)}")
    return value


def ref_ids(value: object, name: str) -> list[int]:
    """The ids of a list of ``{"id": ...}`` references in a write body; 400 otherwise."""
    if value is None:
        return []
    items = value if isinstance(value, list) else None
    ids = [item.get("id") if isinstance(item, dict) else None for item in items or []]
    if items is None or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise HttpError(400, f"'{name}' must be a list of objects with an integer 'id'")
    return [int(i) for i in ids if isinstance(i, int)]


def int_list(query: Mapping[str, list[str]], name: str) -> frozenset[int]:
    """A repeatable integer query parameter; 400 for a value that is not one."""
    try:
        return frozenset(int(value) for value in query.get(name, []))
    except ValueError:
        raise HttpError(400, f"'{name}' must be a list of integers") from None


def _time(query: Mapping[str, list[str]], name: str) -> datetime | None:
    values = query.get(name)
    if not values:
        return None
    moment = parse_timestamp(values[0])
    if moment is None:
        raise HttpError(400, f"'{name}' must be an ISO-8601 date-time")
    return moment


def _ids_of(value: object, *path: str) -> set[object]:
    """The ids at ``path`` inside each element of a (maybe planted) list."""
    found: set[object] = set()
    for item in value if isinstance(value, list) else []:
        for key in path:
            item = item.get(key) if isinstance(item, dict) else None
        if isinstance(item, int | str):
            found.add(item)
    return found


def _within(moment: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if moment is None:
        return True
    return (since is None or moment >= since) and (until is None or moment < until)


@dataclass(frozen=True)
class IncidentFilter:
    """`GET /api/incidents`: `states` and `services` (repeatable), `from`/`until` on creation."""

    states: set[str]
    services: frozenset[int]
    since: datetime | None
    until: datetime | None

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> IncidentFilter:
        return cls(
            states=enum_values(query, "states", INCIDENT_STATUSES),
            services=int_list(query, "services"),
            since=_time(query, "from"),
            until=_time(query, "until"),
        )

    def matches(self, incident: JsonObject) -> bool:
        status = incident.get("status")
        # A planted status outside the enum is malformed data: served to every query.
        if self.states and status in INCIDENT_STATUSES and status not in self.states:
            return False
        affected = _ids_of(incident.get("affectedServices"), "service", "id")
        if self.services and not affected & self.services:
            return False
        return _within(parse_timestamp(incident.get("createdAt")), self.since, self.until)


@dataclass(frozen=True)
class WindowFilter:
    """`GET /api/maintenance-windows`: `state` (OPEN: upcoming and ongoing; CLOSED: past),
    `services`, `sources` (any of them), `from`/`until` (windows that overlap them)."""

    state: str | None
    services: frozenset[int]
    sources: frozenset[int]
    since: datetime | None
    until: datetime | None

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> WindowFilter:
        states = enum_values(query, "state", WINDOW_STATES)
        if len(states) > 1:
            raise HttpError(400, "'state' takes one value")
        return cls(
            state=next(iter(states), None),
            services=int_list(query, "services"),
            sources=int_list(query, "sources"),
            since=_time(query, "from"),
            until=_time(query, "until"),
        )

    def matches(self, window: JsonObject, now: datetime) -> bool:
        start, end = parse_timestamp(window.get("start")), parse_timestamp(window.get("end"))
        if self.state is not None and end is not None and (end > now) != (self.state == "OPEN"):
            return False
        if self.services and not _ids_of(window.get("services"), "id") & self.services:
            return False
        if self.sources and not _ids_of(window.get("alertSources"), "id") & self.sources:
            return False
        ends_after = self.since is None or end is None or end > self.since
        return ends_after and (self.until is None or start is None or start < self.until)
