"""An in-process simulator of the Atlassian Statuspage REST API v1, incidents part.

It owns the simulated pages and incidents: `GET /v1/pages[/{page_id}]`, create,
read, update (PATCH and PUT), delete and list incidents, and the unresolved
list, with `Authorization: OAuth <key>` auth, the optional `.json` path suffix,
and the documented validation (name and body limits, the 8 statuses, metadata
whose top-level values are objects). Error bodies follow what is documented or
observed: 401 and 422 as `{"error": ...}`, 404 as `{"message": ...}`.
`set_rate_limit` adds Statuspage's rolling-window rate limit (420/429).
Reference: https://developer.statuspage.io/ (spec copy in shared/specs/statuspage-openapi.json).

Pages also hold components (`add_component`, `add_component_group`):
`GET /v1/pages/{page_id}/components[/{component_id}]`, the list paged by
`page`/`per_page` (at most 100), and `PATCH`/`PUT` of one component
(`{"component": {"status": ...}}`, the status one of the spec's five; 422
otherwise). A component group is a component with `group: true` showing its
members' worst status; members name it in `group_id`, and its own status cannot
be set. An incident write takes `component_ids` (the affected components) and
`components` (a map id -> status applied to them, recorded as the update's
`affected_components`); the incident returns its components as full objects.
An id that is not a component of the page, a group's id, or a status outside
the five is a 422 here (strict on purpose: the live answer is not documented).
A person's edit in the web UI is `set_component_status`. Scheduled maintenances
(`scheduled_for`, `scheduled_until`, the `scheduled_auto_*` and `auto_transition_*`
switches) begin and complete on the simulator's clock, moving their components,
and are listed by `/incidents/scheduled|upcoming|active_maintenance`
(`_statuspage_maintenance`); `start_maintenance` and `end_maintenance` stand for
a person starting and completing one by hand.
"""

from __future__ import annotations

import copy

from ilert_statuspage_sync.simulators._server import HttpError, SimRequest, SimResponse
from ilert_statuspage_sync.simulators._statuspage_maintenance import ScheduledMaintenance
from ilert_statuspage_sync.simulators._statuspage_records import route_parts

__all__ = ["StatuspageSimulator"]


class StatuspageSimulator(ScheduledMaintenance):
    """Statuspage's page and incident endpoints over real HTTP.

    The parts: `_statuspage_state` (stored data, auth, errors, rate limit, pages),
    `_statuspage_components`, `_statuspage_incidents`, `_statuspage_maintenance`;
    here the routes.
    """

    def route(self, request: SimRequest) -> SimResponse:
        self._advance_maintenances()  # the schedule moves on before anything is read
        parts = route_parts(request.path)
        if parts[:2] != ["v1", "pages"]:
            raise HttpError(404, f"No route matches {request.path}")
        if len(parts) == 2 and request.method == "GET":
            return SimResponse(200, copy.deepcopy(list(self._pages.values())))
        if len(parts) == 3 and request.method == "GET":
            return SimResponse(200, copy.deepcopy(self._page(parts[2])))
        if len(parts) in (4, 5) and parts[3] == "incidents":
            return self._route_incidents(request, parts[2], parts[4:])
        if len(parts) in (4, 5) and parts[3] == "components":
            return self._route_components(request, parts[2], parts[4:])
        raise HttpError(404, f"No route matches {request.method} {request.path}")
