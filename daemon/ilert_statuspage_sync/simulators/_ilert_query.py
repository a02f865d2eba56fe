"""Query parsing and filtering for the simulated iLert `GET /api/alerts` and log entries.

It owns the parameter rules of the real API (repeatable enum filters with a 400 for
unknown values, ISO `from`/`until` on `reportTime`, and a hard 400 above
`max-results` 100) and reads planted alerts defensively, so malformed fuzz data
is still served rather than crashing the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ilert_statuspage_sync.simulators._server import HttpError, int_param, parse_timestamp

__all__ = [
    "ALERT_STATES",
    "LOG_FILTER_TYPES",
    "MAX_RESULTS",
    "MAX_SOURCE_RESULTS",
    "AlertFilter",
    "enum_values",
    "newest_first",
    "paging",
]

JsonObject = dict[str, Any]

ALERT_STATES = frozenset({"PENDING", "ACCEPTED", "RESOLVED"})
LOG_FILTER_TYPES = frozenset(
    {
        "NOTIFICATIONS",
        "ALERT_SOURCE_EVENTS",
        "CALL_ROUTING_EVENTS",
        "ALERT_UPDATES",
        "CONNECTOR_EVENTS",
        "INCIDENT_COMMUNICATIONS",
    }
)
MAX_RESULTS = 100
# `GET /api/alert-sources` pages by at most 50 (spec: max-results maximum 50).
MAX_SOURCE_RESULTS = 50
DEFAULT_RESULTS = 50


def _dig(value: object, *keys: str) -> object:
    """Walk nested dicts; None as soon as the shape is not what a real alert has."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _int_values(query: Mapping[str, list[str]], name: str) -> frozenset[int]:
    try:
        return frozenset(int(value) for value in query.get(name, []))
    except ValueError:
        raise HttpError(400, f"'{name}' must be a list of integers") from None


def enum_values(query: Mapping[str, list[str]], name: str, allowed: frozenset[str]) -> set[str]:
    """The values of a repeatable enum parameter; an unknown value is a 400."""
    values = set(query.get(name, []))
    unknown = values - allowed
    if unknown:
        raise HttpError(400, f"Invalid value {sorted(unknown)[0]!r} for '{name}'")
    return values


def _time_param(query: Mapping[str, list[str]], name: str) -> datetime | None:
    values = query.get(name)
    if not values:
        return None
    moment = parse_timestamp(values[0])
    if moment is None:
        raise HttpError(400, f"'{name}' must be an ISO-8601 date-time")
    return moment


def paging(
    query: Mapping[str, list[str]], cap: int = MAX_RESULTS, default: int = DEFAULT_RESULTS
) -> tuple[int, int]:
    """(start-index, max-results); above the cap is a hard 400, as on the real API."""
    start = int_param(query, "start-index", 0)
    limit = int_param(query, "max-results", min(default, cap))
    if start < 0 or limit < 0:
        raise HttpError(400, "'start-index' and 'max-results' must not be negative")
    if limit > cap:
        raise HttpError(400, f"'max-results' must not be above {cap}")
    return start, limit


@dataclass(frozen=True)
class AlertFilter:
    """The filters of `GET /api/alerts`.

    A field a planted alert lacks, or holds with a wrong type, does not filter it out.
    """

    states: set[str]
    sources: frozenset[int]
    policies: frozenset[int]
    responders: set[str]
    since: datetime | None
    until: datetime | None

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> AlertFilter:
        return cls(
            states=enum_values(query, "states", ALERT_STATES),
            sources=_int_values(query, "sources"),
            policies=_int_values(query, "policies"),
            responders=set(query.get("responders", [])),
            since=_time_param(query, "from"),
            until=_time_param(query, "until"),
        )

    def matches(self, alert: JsonObject) -> bool:
        return (
            # A planted status outside the enum is malformed data: served to every query.
            (_unknown_status(alert.get("status")) or _in(self.states, alert.get("status")))
            and _in(self.sources, _dig(alert, "alertSource", "id"))
            and _in(self.policies, _dig(alert, "escalationPolicy", "id"))
            and self._responder_matches(alert)
            and self._time_matches(parse_timestamp(alert.get("reportTime")))
        )

    def _responder_matches(self, alert: JsonObject) -> bool:
        responders = alert.get("responders")
        if not self.responders or not isinstance(responders, list):
            return True
        ids = {str(_dig(responder, "user", "id")) for responder in responders}
        return bool(ids & self.responders)

    def _time_matches(self, reported: datetime | None) -> bool:
        if reported is None:
            return True
        after_start = self.since is None or reported >= self.since
        return after_start and (self.until is None or reported < self.until)


def _unknown_status(value: object) -> bool:
    return not isinstance(value, str) or value not in ALERT_STATES


def _in(wanted: set[str] | frozenset[int], value: object) -> bool:
    # Only values of the documented types are compared; anything else passes.
    if not wanted or not isinstance(value, str | int):
        return True
    return value in wanted


def newest_first(alert: JsonObject) -> tuple[datetime, int]:
    """Sort key: unparsable report times count as newest, so fuzzed alerts surface first."""
    reported = parse_timestamp(alert.get("reportTime")) or datetime.max.replace(tzinfo=UTC)
    alert_id = alert.get("id")
    return reported, alert_id if isinstance(alert_id, int) else 0
