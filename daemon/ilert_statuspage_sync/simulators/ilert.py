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
A person or a monitoring tool can write too, as on iLert (see `_ilert_writes`):
`POST /api/alerts`, `PUT /api/alerts/{id}/accept|resolve` and `POST /api/events`.

And iLert's own status model (`_ilert_status_model`, `_ilert_status_routes`):
incidents (incident communication), services with a status, maintenance windows,
read and written over `/api/incidents`, `/api/services`, `/api/maintenance-windows`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ilert_statuspage_sync.simulators._ilert_query import (
    LOG_FILTER_TYPES,
    AlertFilter,
    enum_values,
    newest_first,
    paging,
)
from ilert_statuspage_sync.simulators._ilert_records import (
    JsonObject,
    alert_id_of,
    new_alert,
    policy_ref,
    render_entry,
)
from ilert_statuspage_sync.simulators._ilert_status_routes import (
    STATUS_MODEL_PATHS,
    StatusModelRoutes,
)
from ilert_statuspage_sync.simulators._server import HttpError, SimRequest, SimResponse

__all__ = ["IlertSimulator"]

PHANTOM_IDS = 900_000_000  # a broken listing's padding starts here (see set_endless_listing)


class IlertSimulator(StatusModelRoutes):
    """iLert's alert endpoints over real HTTP, driven by Python control methods.

    The parts: `_ilert_state` (stored data, auth, errors, rate limit),
    `_ilert_sources` (alert sources), `_ilert_alerts` (the alert controls),
    `_ilert_writes` (the write endpoints and the Events API), `_ilert_status_model` and
    `_ilert_status_routes` (incidents, services, maintenance windows); here the routes
    and the alert listings.
    """

    def authenticate(self, request: SimRequest) -> None:
        # The Events API takes no API key (spec: `security: []`): the integration key in
        # the body names the alert source, and is checked there.
        if _is_event(request):
            return
        super().authenticate(request)

    def rate_limit_key(self, request: SimRequest) -> str:
        # Events count per integration key, as iLert limits them, not against the API key.
        if _is_event(request):
            body = request.json_body
            key = body.get("integrationKey") if isinstance(body, dict) else None
            return f"integration-key:{key}"
        return super().rate_limit_key(request)

    def route(self, request: SimRequest) -> SimResponse:
        segments = request.path.strip("/").split("/")
        if segments[0] == "api" and len(segments) > 1 and segments[1] in STATUS_MODEL_PATHS:
            return self._route_status_model(request, segments[1], segments[2:])
        if segments[:2] == ["api", "alert-sources"]:
            return self._route_alert_sources(request, segments[2:])
        if _is_event(request):
            return self._route_events(request)
        if segments[:2] != ["api", "alerts"] or len(segments) > 4:
            raise HttpError(404, f"No resource at {request.path}")
        if request.method != "GET":
            return self._route_alert_writes(request, segments[2:])
        if len(segments) == 4 and segments[3] != "log-entries":
            raise HttpError(404, f"No resource at {request.path}")
        if len(segments) == 2:
            return SimResponse(200, self._list_alerts(request.query))
        if segments[2:] == ["count"]:
            return SimResponse(200, {"count": self._count_alerts(request.query)})
        alert_id = alert_id_of(segments[2])
        if len(segments) == 3:
            self._alerts_served += 1
            return SimResponse(200, copy.deepcopy(self._stored(alert_id)))
        return SimResponse(200, self._list_log_entries(alert_id, request.query))

    def _list_alerts(self, query: Mapping[str, list[str]]) -> list[JsonObject]:
        wanted = AlertFilter.from_query(query)
        start, limit = paging(query)
        paged = {"start-index", "max-results"}
        key = (self._generation, sorted((k, v) for k, v in query.items() if k not in paged))
        if self._listed is None or self._listed[0] != key:
            alerts = [a for a in self._alerts.values() if wanted.matches(a) and self._visible(a)]
            alerts.sort(key=newest_first, reverse=True)
            self._listed = (key, alerts)
        page = copy.deepcopy(self._listed[1][start : start + limit])
        ends = self._endless_listing
        if ends is not None and (ends is True or start < ends * limit):
            page += self._phantoms(wanted, start + len(page), limit - len(page))
        self._alerts_served += len(page)
        return page

    def _phantoms(self, wanted: AlertFilter, first: int, count: int) -> list[JsonObject]:
        """A broken listing's padding: fresh open alerts that exist nowhere else."""
        source_id = min(wanted.sources, default=1)
        now = self.now()
        fields = {
            "summary": "phantom",
            "details": "",
            "priority": "HIGH",
            "escalationPolicy": policy_ref(None, None),
            "responder_id": 1,
        }
        return [
            new_alert(PHANTOM_IDS + first + n, source_id, None, fields, now=now, reported=now)
            for n in range(count)
        ]

    def _count_alerts(self, query: Mapping[str, list[str]]) -> int:
        wanted = AlertFilter.from_query(query)
        return sum(1 for a in self._alerts.values() if wanted.matches(a) and self._visible(a))

    def _list_log_entries(self, alert_id: int, query: Mapping[str, list[str]]) -> list[JsonObject]:
        self._stored(alert_id)
        start, limit = paging(query)
        with_vars = "vars" in query.get("include", [])
        groups = enum_values(query, "filter-types", LOG_FILTER_TYPES)
        stored = self._log_entries.get(alert_id, [])
        entries = [
            entry
            for entry in (reversed(stored) if self._log_newest_first else stored)
            if not groups or groups & set(entry["filterTypes"])
        ]
        # Rendered after slicing: a long timeline costs one page's work per page.
        return [
            render_entry(entry, with_vars=with_vars) for entry in entries[start : start + limit]
        ]


def _is_event(request: SimRequest) -> bool:
    return request.path.strip("/") == "api/events"
