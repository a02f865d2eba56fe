"""An in-process simulator of the iLert REST API, alerts part.

It owns the simulated alerts and their timelines: `GET /api/alerts`,
`GET /api/alerts/count`, `GET /api/alerts/{id}` and
`GET /api/alerts/{id}/log-entries`, with iLert's
Bearer auth, its paging caps (a hard 400 above 100) and its
`{status, message, code}` errors. Tests drive the alerts through thread-safe
Python methods (`create_alert`, `accept`, `comment`, ...) that change the alert
and append the log entry the real timeline would show; `set_rate_limit` adds
iLert's fixed-window rate limit (the other fault modes come from `SimulatorServer`).
Reference: https://api.ilert.com/api-docs/ (spec copy in shared/specs/ilert-openapi.json).

It also owns alert sources (`add_alert_source`): `GET /api/alert-sources`, paged
by `start-index`/`max-results` (at most 50), and `GET /api/alert-sources/{id}`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ilert_statuspage_sync.simulators._faults import FixedWindowLimiter, RateLimit
from ilert_statuspage_sync.simulators._ilert_query import (
    ALERT_STATES,
    LOG_FILTER_TYPES,
    MAX_SOURCE_RESULTS,
    AlertFilter,
    enum_values,
    newest_first,
    paging,
)
from ilert_statuspage_sync.simulators._server import (
    HttpError,
    SimRequest,
    SimResponse,
    SimulatorServer,
    format_timestamp,
)

__all__ = ["IlertSimulator"]

JsonObject = dict[str, Any]

PRIORITIES = frozenset({"HIGH", "LOW"})
# Alert source statuses a user sets; the others (PENDING, ALL_ACCEPTED, ALL_RESOLVED)
# follow from the source's alerts, as `AlertSource.status` is read-only in the spec.
SET_SOURCE_STATUSES = frozenset({"IN_MAINTENANCE", "DISABLED"})
# The simulated escalation policy waits this long between rules.
ESCALATION_TIMEOUT = timedelta(minutes=5)
_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "KEY_ERROR",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMITED",
}
_USER_NAMES = {
    1: ("Ada", "Lovelace"),
    2: ("Grace", "Hopper"),
    3: ("Alan", "Turing"),
    4: ("Edsger", "Dijkstra"),
    5: ("Barbara", "Liskov"),
}


def _user(user_id: int) -> JsonObject:
    first, last = _USER_NAMES.get(user_id, ("User", str(user_id)))
    return {"id": user_id, "firstName": first, "lastName": last}


def _full_name(user_id: int) -> str:
    user = _user(user_id)
    return f"{user['firstName']} {user['lastName']}"


def _responder(user_id: int) -> JsonObject:
    return {"user": _user(user_id), "status": "PENDING", "acceptedAt": None}


class IlertSimulator(SimulatorServer):
    """iLert's alert endpoints over real HTTP, driven by Python control methods."""

    def __init__(self, api_key: str = "ilert-sim-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._alerts: dict[int, JsonObject] = {}
        self._log_entries: dict[int, list[JsonObject]] = {}
        self._next_alert_id = 1
        self._next_log_entry_id = 1
        self._alert_sources: dict[int, JsonObject] = {}
        self._alerts_served = 0
        # Bumped by every change to an alert: a paged listing filters and sorts once.
        self._generation = 0
        self._listed: tuple[object, list[JsonObject]] | None = None

    # -- HTTP --------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> None:
        header = request.headers.get("authorization")
        if header is None:
            raise HttpError(401, "Missing 'Authorization' header")
        if header != f"Bearer {self.api_key}":
            raise HttpError(403, "The API key is invalid, revoked or malformed")

    def error_response(self, status: int, message: str) -> SimResponse:
        code = _ERROR_CODES.get(status, "ERROR")
        return SimResponse(status, {"status": status, "message": message, "code": code})

    def rate_limit_key(self, request: SimRequest) -> str:
        return self.api_key

    def set_rate_limit(
        self,
        limit: int | None,
        window: float = 60.0,
        *,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Throttle like iLert: at most `limit` requests per API key per fixed window.

        Windows are aligned to multiples of `window` seconds of `monotonic` (default
        `time.monotonic`); iLert's own rule is 120 per minute. Only authenticated
        requests count, and a throttled one does not. Over the limit the answer is
        429 `{"status": 429, "message": "Too many requests", "code": "RATE_LIMITED"}`
        without Retry-After. None lifts the limit; every call restarts counting.
        """
        if limit is None:
            self._install_rate_limit(None)
            return
        limiter = FixedWindowLimiter(limit, window, monotonic)
        throttled = self.error_response(429, "Too many requests")
        self._install_rate_limit(RateLimit(limiter, throttled))

    def route(self, request: SimRequest) -> SimResponse:
        segments = request.path.strip("/").split("/")
        if segments[:2] == ["api", "alert-sources"]:
            return self._route_alert_sources(request, segments[2:])
        if segments[:2] != ["api", "alerts"] or len(segments) > 4:
            raise HttpError(404, f"No resource at {request.path}")
        if len(segments) == 4 and segments[3] != "log-entries":
            raise HttpError(404, f"No resource at {request.path}")
        if request.method != "GET":
            raise HttpError(405, f"{request.method} is not supported by the simulator here")
        if len(segments) == 2:
            return SimResponse(200, self._list_alerts(request.query))
        if segments[2:] == ["count"]:
            return SimResponse(200, {"count": self._count_alerts(request.query)})
        alert_id = _alert_id(segments[2])
        if len(segments) == 3:
            self._alerts_served += 1
            return SimResponse(200, copy.deepcopy(self._stored(alert_id)))
        return SimResponse(200, self._list_log_entries(alert_id, request.query))

    def _route_alert_sources(self, request: SimRequest, rest: list[str]) -> SimResponse:
        if request.method != "GET":
            raise HttpError(405, f"{request.method} is not supported by the simulator here")
        if not rest:
            start, limit = paging(request.query, cap=MAX_SOURCE_RESULTS)
            chosen = sorted(self._alert_sources)[start : start + limit]
            return SimResponse(200, [self._render_source(i) for i in chosen])
        if len(rest) == 1:
            source_id = _alert_id(rest[0], "Alert source")
            if source_id not in self._alert_sources:
                raise HttpError(404, f"Alert source {source_id} does not exist")
            return SimResponse(200, self._render_source(source_id))
        raise HttpError(404, f"No resource at {request.path}")

    def _render_source(self, source_id: int) -> JsonObject:
        """The stored source with its read-only status worked out from its alerts."""
        source = copy.deepcopy(self._alert_sources[source_id])
        if source["status"] is None:
            states = {
                alert.get("status")
                for alert in self._alerts.values()
                if _dig_source_id(alert) == source_id
            }
            source["status"] = (
                "PENDING"
                if "PENDING" in states
                else "ALL_ACCEPTED"
                if "ACCEPTED" in states
                else "ALL_RESOLVED"
            )
        return source

    def _list_alerts(self, query: Mapping[str, list[str]]) -> list[JsonObject]:
        wanted = AlertFilter.from_query(query)
        start, limit = paging(query)
        paged = {"start-index", "max-results"}
        key = (self._generation, sorted((k, v) for k, v in query.items() if k not in paged))
        if self._listed is None or self._listed[0] != key:
            alerts = [alert for alert in self._alerts.values() if wanted.matches(alert)]
            alerts.sort(key=newest_first, reverse=True)
            self._listed = (key, alerts)
        page = self._listed[1][start : start + limit]
        self._alerts_served += len(page)
        return copy.deepcopy(page)

    def _count_alerts(self, query: Mapping[str, list[str]]) -> int:
        wanted = AlertFilter.from_query(query)
        return sum(1 for alert in self._alerts.values() if wanted.matches(alert))

    def _list_log_entries(self, alert_id: int, query: Mapping[str, list[str]]) -> list[JsonObject]:
        self._stored(alert_id)
        start, limit = paging(query)
        with_vars = "vars" in query.get("include", [])
        groups = enum_values(query, "filter-types", LOG_FILTER_TYPES)
        entries = [
            entry
            for entry in reversed(self._log_entries.get(alert_id, []))
            if not groups or groups & set(entry["filterTypes"])
        ]
        # Rendered after slicing: a long timeline costs one page's work per page.
        return [
            _render_entry(entry, with_vars=with_vars) for entry in entries[start : start + limit]
        ]

    def _stored(self, alert_id: int) -> JsonObject:
        alert = self._alerts.get(alert_id)
        if alert is None:
            raise HttpError(404, f"Alert {alert_id} does not exist")
        return alert

    # -- control surface: alerts --------------------------------------------

    def create_alert(
        self,
        source_id: int,
        summary: str,
        details: str = "",
        priority: str = "HIGH",
        report_time: datetime | None = None,
        responder_id: int = 1,
        escalation_policy_id: int | None = None,
    ) -> int:
        """Open a PENDING alert with one pending responder; returns its id.

        A source added with `add_alert_source` lends the alert its name and (unless
        `escalation_policy_id` is given) its escalation policy.
        """
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(PRIORITIES)}")
        if report_time is not None and report_time.tzinfo is None:
            raise ValueError("report_time must be timezone-aware")
        with self._lock:
            now = self.now()
            reported = report_time or now
            alert_id = self._take_alert_id()
            source = self._alert_sources.get(source_id)
            source_name = source["name"] if source else f"Alert source {source_id}"
            policy = _policy_ref(source, escalation_policy_id)
            self._alerts[alert_id] = {
                "id": alert_id,
                "summary": summary,
                "details": details,
                "reportTime": format_timestamp(reported),
                "resolvedOn": None,
                "status": "PENDING",
                "alertSource": {
                    "id": source_id,
                    "name": source_name,
                    "integrationType": source["integrationType"] if source else "API",
                },
                "escalationPolicy": policy,
                "priority": priority,
                "alertKey": f"sim-alert-{alert_id}",
                "assignedTo": None,
                "responders": [_responder(responder_id)],
                "nextEscalation": format_timestamp(now + ESCALATION_TIMEOUT),
                "nextEscalationRuleIndex": 1,
                "images": [],
                "links": [],
                "severity": None,
                "labels": {},
            }
            text = f"New alert received from alert source '{source_name}'"
            variables = {"alertSourceName": source_name}
            self._log(alert_id, "AlertReceivedLogEntry", text, variables, at=reported)
            return alert_id

    def accept(self, alert_id: int, user_id: int | None = None) -> None:
        """A responder (default: the first) accepts; escalation stops."""
        with self._lock:
            alert = self._open_alert(alert_id)
            user_id = _first_responder_id(alert) if user_id is None else user_id
            now = format_timestamp(self.now())
            responder = self._responder_of(alert, user_id)
            responder.update(status="ACCEPTED", acceptedAt=now)
            alert.update(status="ACCEPTED", nextEscalation=None)
            name = _full_name(user_id)
            self._log(
                alert_id, "UserResponseLogEntry", f"{name} accepted the alert", {"user": name}
            )

    def resolve(self, alert_id: int, user_id: int | None = None) -> None:
        """A user (default: the first responder) resolves the alert manually."""
        with self._lock:
            alert = self._open_alert(alert_id)
            user_id = _first_responder_id(alert) if user_id is None else user_id
            now = format_timestamp(self.now())
            alert.update(status="RESOLVED", resolvedOn=now, nextEscalation=None)
            name = _full_name(user_id)
            self._log(
                alert_id, "UserResponseLogEntry", f"{name} resolved the alert", {"user": name}
            )

    def comment(
        self, alert_id: int, content: str, *, system: bool = False, user_id: int | None = None
    ) -> int:
        """Add a comment (by a user, or by the system); returns the log entry id."""
        with self._lock:
            alert = self._managed(alert_id)
            if system:
                entry_type, author = "AlertCommentAddedBySystemLogEntry", "ilert"
            else:
                entry_type = "AlertCommentAddedLogEntry"
                author = _full_name(_first_responder_id(alert) if user_id is None else user_id)
            return self._log(alert_id, entry_type, content, {"comment": content, "author": author})

    def escalate(self, alert_id: int) -> int:
        """Fire the next escalation rule; adds and returns a new responder's user id."""
        with self._lock:
            alert = self._managed(alert_id)
            if alert["status"] != "PENDING":
                raise ValueError(f"alert {alert_id} is {alert['status']}; only PENDING escalates")
            level = int(alert["nextEscalationRuleIndex"]) + 1
            new_user = max(_responder_ids(alert), default=0) + 1
            alert["responders"].append(_responder(new_user))
            alert["nextEscalationRuleIndex"] = level
            alert["nextEscalation"] = format_timestamp(self.now() + ESCALATION_TIMEOUT)
            text = f"Alert escalated to level {level}: notifying {_full_name(new_user)}"
            self._log(alert_id, "AlertEscalatedToLevelLogEntry", text, {"level": str(level)})
            return new_user

    def reassign(self, alert_id: int, user_id: int) -> None:
        """Assign the alert to one user; it becomes PENDING again, as in iLert."""
        with self._lock:
            alert = self._open_alert(alert_id)
            alert["responders"] = [_responder(user_id)]
            alert["status"] = "PENDING"
            alert["nextEscalation"] = format_timestamp(self.now() + ESCALATION_TIMEOUT)
            name = _full_name(user_id)
            text = f"Alert assigned to {name}"
            self._log(alert_id, "AlertAssignedByUserLogEntry", text, {"assignee": name})

    def raise_priority(self, alert_id: int) -> None:
        """Raise a LOW alert to HIGH."""
        with self._lock:
            alert = self._open_alert(alert_id)
            if alert["priority"] != "LOW":
                raise ValueError(f"alert {alert_id} is already {alert['priority']}")
            alert["priority"] = "HIGH"
            text = "Alert priority raised from LOW to HIGH"
            self._log(alert_id, "AlertRaisedByUserLogEntry", text, {"priority": "HIGH"})

    # -- control surface: alert sources ---------------------------------------

    def add_alert_source(
        self,
        name: str,
        *,
        source_id: int | None = None,
        escalation_policy_id: int = 1,
        escalation_policy_name: str | None = None,
        integration_type: str = "API",
        status: str | None = None,
    ) -> int:
        """Create (or replace) an alert source; returns its id.

        `status` may only be a status a user sets (IN_MAINTENANCE, DISABLED); by
        default it follows the source's alerts (PENDING, ALL_ACCEPTED, ALL_RESOLVED).
        """
        if status is not None and status not in SET_SOURCE_STATUSES:
            raise ValueError(f"status must be None or one of {sorted(SET_SOURCE_STATUSES)}")
        with self._lock:
            if source_id is None:
                source_id = max(self._alert_sources, default=0) + 1
            self._alert_sources[source_id] = {
                "id": source_id,
                "name": name,
                "teams": [],
                "escalationPolicy": {
                    "id": escalation_policy_id,
                    "name": escalation_policy_name or f"Escalation policy {escalation_policy_id}",
                    "escalationRules": [
                        {"escalationTimeout": int(ESCALATION_TIMEOUT.total_seconds() // 60)}
                    ],
                    "teams": [],
                    "repeating": False,
                    "frequency": 1,
                    "delayMin": 0,
                },
                "integrationType": integration_type,
                "integrationUrl": f"https://api.ilert.com/api/v1/events/sim/{source_id}",
                "autoResolutionTimeout": None,
                "alertGroupingWindow": None,
                "alertCreation": "ONE_ALERT_PER_EMAIL",
                "status": status,
                "active": status != "DISABLED",
                "bidirectional": False,
            }
            return source_id

    def alert_sources(self) -> list[JsonObject]:
        """Every alert source as the API would serve it, by id."""
        with self._lock:
            return [self._render_source(i) for i in sorted(self._alert_sources)]

    # -- control surface: raw data ------------------------------------------

    @property
    def alerts_served(self) -> int:
        """How many alert objects the API has served so far (list items plus reads by id)."""
        with self._lock:
            return self._alerts_served

    def set_raw_alert(self, alert_id: int, payload: dict[str, Any]) -> None:
        """Serve `payload` verbatim as alert `alert_id` (may be malformed on purpose)."""
        with self._lock:
            self._alerts[alert_id] = copy.deepcopy(payload)
            self._generation += 1
            self._log_entries.setdefault(alert_id, [])
            self._next_alert_id = max(self._next_alert_id, alert_id + 1)

    def add_raw_alert(self, payload: dict[str, Any]) -> int:
        """Plant `payload` verbatim; keyed by its int `id`, else a fresh id. Returns the key."""
        with self._lock:
            given = payload.get("id")
            alert_id = (
                given
                if isinstance(given, int) and not isinstance(given, bool)
                else self._take_alert_id()
            )
            self.set_raw_alert(alert_id, payload)
            return alert_id

    def set_raw_log_entries(self, alert_id: int, entries: list[dict[str, Any]]) -> None:
        """Serve `entries` (oldest first) verbatim as the alert's timeline (may be malformed)."""
        with self._lock:
            self._stored(alert_id)
            self._log_entries[alert_id] = [
                {"filterTypes": ["ALERT_UPDATES"], **copy.deepcopy(entry)} for entry in entries
            ]

    def alert(self, alert_id: int) -> JsonObject:
        """A deep copy of the alert as the API would serve it."""
        with self._lock:
            return copy.deepcopy(self._alerts[alert_id])

    def log_entries(self, alert_id: int) -> list[JsonObject]:
        """Deep copies of an alert's log entries, newest first, with `vars`."""
        with self._lock:
            entries = self._log_entries[alert_id]
            return [_render_entry(entry, with_vars=True) for entry in reversed(entries)]

    # -- helpers -----------------------------------------------------------

    def _take_alert_id(self) -> int:
        alert_id = self._next_alert_id
        self._next_alert_id += 1
        return alert_id

    def _managed(self, alert_id: int) -> JsonObject:
        alert = self._alerts[alert_id]
        if not isinstance(alert.get("responders"), list) or alert.get("status") not in ALERT_STATES:
            raise ValueError(f"alert {alert_id} was planted raw; control methods cannot change it")
        return alert

    def _open_alert(self, alert_id: int) -> JsonObject:
        alert = self._managed(alert_id)
        if alert["status"] == "RESOLVED":
            raise ValueError(f"alert {alert_id} is resolved; iLert cannot reopen it")
        return alert

    def _responder_of(self, alert: JsonObject, user_id: int) -> JsonObject:
        for responder in alert["responders"]:
            if responder["user"]["id"] == user_id:
                found: JsonObject = responder
                return found
        # A user outside the responder list may still accept; iLert then lists them.
        added = _responder(user_id)
        alert["responders"].append(added)
        return added

    def _log(
        self,
        alert_id: int,
        entry_type: str,
        text: str,
        variables: dict[str, str],
        *,
        at: datetime | None = None,
    ) -> int:
        entry_id = self._next_log_entry_id
        self._next_log_entry_id += 1
        self._generation += 1  # every change to an alert is logged
        group = "ALERT_SOURCE_EVENTS" if entry_type == "AlertReceivedLogEntry" else "ALERT_UPDATES"
        self._log_entries.setdefault(alert_id, []).append(
            {
                "id": entry_id,
                "timestamp": format_timestamp(at or self.now()),
                "logEntryType": entry_type,
                "text": text,
                "alertId": alert_id,
                "filterTypes": [group],
                "vars": dict(variables),
            }
        )
        return entry_id


def _alert_id(segment: str, what: str = "Alert") -> int:
    try:
        return int(segment)
    except ValueError:
        raise HttpError(400, f"{what} id must be an integer, got {segment!r}") from None


def _dig_source_id(alert: JsonObject) -> object:
    source = alert.get("alertSource")
    return source.get("id") if isinstance(source, dict) else None


def _policy_ref(source: JsonObject | None, policy_id: int | None) -> JsonObject:
    """The `escalationPolicy` of a new alert: the source's unless another id is given."""
    if source is not None and policy_id in (None, source["escalationPolicy"]["id"]):
        return {key: source["escalationPolicy"][key] for key in ("id", "name")}
    policy_id = 1 if policy_id is None else policy_id
    return {"id": policy_id, "name": f"Escalation policy {policy_id}"}


def _responder_ids(alert: JsonObject) -> list[int]:
    return [int(responder["user"]["id"]) for responder in alert["responders"]]


def _first_responder_id(alert: JsonObject) -> int:
    ids = _responder_ids(alert)
    return ids[0] if ids else 1


def _render_entry(entry: JsonObject, *, with_vars: bool) -> JsonObject:
    rendered = copy.deepcopy(entry)
    if not with_vars:
        rendered.pop("vars", None)
    return rendered
