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
A person's edit in the web UI is `set_component_status`; a scheduled
maintenance that is underway (`start_maintenance`) puts its components
`under_maintenance` and `end_maintenance` sets them `operational` again (the
`auto_transition_*` behaviour).
"""

from __future__ import annotations

import copy
import math
import random
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ilert_statuspage_sync.simulators._faults import RateLimit, RollingWindowLimiter
from ilert_statuspage_sync.simulators._server import (
    HttpError,
    RecordedRequest,
    SimRequest,
    SimResponse,
    SimulatorServer,
    format_timestamp,
    int_param,
    parse_timestamp,
)
from ilert_statuspage_sync.simulators._statuspage_rules import (
    CLOSED_STATUSES,
    check_realtime_status,
    component_fields,
    incident_fields,
    validate,
)

__all__ = ["StatuspageSimulator"]

JsonObject = dict[str, Any]

LIST_LIMIT = 100
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
# A group shows the worst status of its members, in this order (worst last).
_SEVERITY = {status: rank for rank, status in enumerate(COMPONENT_STATUSES)}
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _timestamp_field(fields: JsonObject, name: str) -> str | None:
    moment = parse_timestamp(fields.get(name))
    return format_timestamp(moment) if moment is not None else None


def _mentions(incident: JsonObject, needle: str) -> bool:
    """The spec's `q`: name, status, postmortem body and incident update bodies."""
    texts = [incident["name"], incident["status"], incident["postmortem_body"] or ""]
    texts += [update["body"] for update in incident["incident_updates"]]
    return any(needle in text.lower() for text in texts)


def _page_slice(items: list[JsonObject], page: int, per_page: int) -> list[JsonObject]:
    if page < 1 or per_page < 1:
        raise HttpError(400, "'page' and the page size must be positive")
    start = (page - 1) * per_page
    return copy.deepcopy(items[start : start + per_page])


def _route_parts(path: str) -> list[str]:
    """Path segments with the optional `.json` suffix dropped from the last one."""
    segments = path.strip("/").split("/")
    segments[-1] = segments[-1].removesuffix(".json")
    return segments


class StatuspageSimulator(SimulatorServer):
    """Statuspage's page and incident endpoints over real HTTP."""

    def __init__(
        self,
        api_key: str = "statuspage-sim-key",
        page_ids: Iterable[str] = ("kctbh9vrtdwd",),
        reject_maintenance_status: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self._reject_maintenance_status = reject_maintenance_status
        # Ids only need to look like Statuspage's and be reproducible, not be secret.
        self._random = random.Random(seed)  # noqa: S311
        self._used_ids: set[str] = set()
        self._pages: dict[str, JsonObject] = {}
        self._incidents: dict[str, JsonObject] = {}
        # Every page's components (groups too) by id; each names its `page_id`.
        self._components: dict[str, JsonObject] = {}
        for page_id in page_ids:
            self.add_page(page_id)

    # -- HTTP --------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> None:
        query_key = request.query.get("api_key", [None])[0]
        header = request.headers.get("authorization")
        if header != f"OAuth {self.api_key}" and query_key != self.api_key:
            raise HttpError(401, "Could not authenticate")

    def error_response(self, status: int, message: str) -> SimResponse:
        key = "message" if status == 404 else "error"
        return SimResponse(status, {key: message})

    def rate_limit_key(self, request: SimRequest) -> str:
        return self.api_key

    def set_rate_limit(
        self,
        limit: int | None,
        window: float = 60.0,
        status: int = 420,
        retry_after: float | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Throttle like Statuspage: at most `limit` requests per API key in any `window`.

        The window rolls: a request is admitted when fewer than `limit` requests were
        admitted in the last `window` seconds of `monotonic` (default
        `time.monotonic`); Statuspage's own rule is 60 per 60 s. Only authenticated
        requests count, and a throttled one does not (so a client that backs off
        gets through once the window has rolled past its earlier requests). Over
        the limit the answer is `status` (420 or 429) with
        `{"error": "Rate limit exceeded"}`, plus `Retry-After: ceil(retry_after)`
        when `retry_after` is given. None lifts the limit; every call restarts counting.
        """
        if limit is None:
            self._install_rate_limit(None)
            return
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must not be negative")
        headers = {} if retry_after is None else {"Retry-After": str(math.ceil(retry_after))}
        throttled = SimResponse(status, {"error": "Rate limit exceeded"}, headers)
        limiter = RollingWindowLimiter(limit, window, monotonic)
        self._install_rate_limit(RateLimit(limiter, throttled))

    def route(self, request: SimRequest) -> SimResponse:
        parts = _route_parts(request.path)
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
            return SimResponse(200, copy.deepcopy(incident))
        if method in ("PATCH", "PUT"):
            return SimResponse(200, self._update(incident, incident_fields(request.json_body)))
        if method == "DELETE":
            return SimResponse(200, copy.deepcopy(self._incidents.pop(incident["id"])))
        raise HttpError(404, f"No route matches {method} {request.path}")

    def _route_components(self, request: SimRequest, page_id: str, rest: list[str]) -> SimResponse:
        self._page(page_id)
        if request.method == "GET" and not rest:
            return SimResponse(200, self._list_components(page_id, request.query))
        if len(rest) != 1:
            raise HttpError(404, f"No route matches {request.method} {request.path}")
        component = self._stored_component(page_id, rest[0])
        if request.method == "GET":
            return SimResponse(200, self._render_component(component))
        if request.method in ("PATCH", "PUT"):
            self._patch_component(component, component_fields(request.json_body))
            return SimResponse(200, self._render_component(component))
        raise HttpError(404, f"No route matches {request.method} {request.path}")

    def _patch_component(self, component: JsonObject, fields: JsonObject) -> None:
        """Apply a validated component write (status, name, description)."""
        if "status" in fields:
            status = fields["status"]
            if status not in COMPONENT_STATUSES:
                raise HttpError(422, f"Status {status!r} is not one of {list(COMPONENT_STATUSES)}")
            if component["group"]:
                raise HttpError(422, "A component group's status follows its components")
        for name in ("name", "description"):
            if name in fields and not isinstance(fields[name], str):
                raise HttpError(422, f"{name.capitalize()} must be a string")
        for name in ("name", "description"):
            if name in fields:
                component[name] = fields[name]
        if "status" in fields:
            self._set_component(component, fields["status"])
        component["updated_at"] = format_timestamp(self.now())

    def _set_component(self, component: JsonObject, status: str) -> str:
        """Give a component a status; incidents showing it see the change. Returns the old one."""
        old: str = component["status"]
        component["status"] = status
        component["updated_at"] = format_timestamp(self.now())
        for incident in self._incidents.values():
            if any(shown["id"] == component["id"] for shown in incident["components"]):
                incident["components"] = self._incident_components(
                    [shown["id"] for shown in incident["components"]]
                )
        return old

    def _incident_components(self, component_ids: Iterable[str]) -> list[JsonObject]:
        return [self._render_component(self._components[cid]) for cid in component_ids]

    def _component_changes(self, page_id: str, fields: JsonObject) -> tuple[list[str], JsonObject]:
        """The `component_ids` and `components` map of an incident write, validated."""
        ids = fields.get("component_ids", [])
        changes = fields.get("components", {})
        if not isinstance(ids, list) or not all(isinstance(cid, str) for cid in ids):
            raise HttpError(422, "Component ids must be a list of component ids")
        if not isinstance(changes, dict):
            raise HttpError(422, "Components must be a map of component id to status")
        for cid in [*ids, *changes]:
            component = self._components.get(cid)
            if component is None or component["page_id"] != page_id:
                raise HttpError(422, f"Component {cid!r} was not found on this page")
            if component["group"]:
                raise HttpError(422, f"Component {cid!r} is a component group")
        for status in changes.values():
            if status not in COMPONENT_STATUSES:
                raise HttpError(
                    422, f"Component status {status!r} is not one of {list(COMPONENT_STATUSES)}"
                )
        return ids, changes

    def _apply_components(
        self, incident: JsonObject, ids: list[str], changes: JsonObject
    ) -> list[JsonObject] | None:
        """Set the mapped statuses; the incident affects its old, listed and mapped ones."""
        affected: list[JsonObject] = []
        for cid, status in changes.items():
            component = self._components[cid]
            old = self._set_component(component, status)
            affected.append(
                {"code": cid, "name": component["name"], "old_status": old, "new_status": status}
            )
        shown = [c["id"] for c in incident["components"]]
        for cid in [*ids, *changes]:
            if cid not in shown:
                shown.append(cid)
        incident["components"] = self._incident_components(shown)
        return affected or None

    def _list_components(self, page_id: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        # Since 2023 the list is paged even without `page`, 100 at most per page.
        per_page = min(int_param(query, "per_page", LIST_LIMIT), LIST_LIMIT)
        found = [self._render_component(c) for c in self._page_components(page_id)]
        return _page_slice(found, int_param(query, "page", 1), per_page)

    def _page_components(self, page_id: str) -> list[JsonObject]:
        """The stored components of a page in their display order."""
        found = [c for c in self._components.values() if c["page_id"] == page_id]
        return sorted(found, key=lambda c: c["position"])

    def _stored_component(self, page_id: str, component_id: str) -> JsonObject:
        component = self._components.get(component_id)
        if component is None or component["page_id"] != page_id:
            raise HttpError(404, "The requested resource could not be found.")
        return component

    def _render_component(self, component: JsonObject) -> JsonObject:
        """A copy as served; a group shows the worst status of its members."""
        rendered = copy.deepcopy(component)
        if component["group"]:
            members = [
                c["status"] for c in self._components.values() if c["group_id"] == component["id"]
            ]
            rendered["status"] = max(members, key=_SEVERITY.__getitem__, default="operational")
        return rendered

    def _page(self, page_id: str) -> JsonObject:
        page = self._pages.get(page_id)
        if page is None:
            raise HttpError(404, "The requested resource could not be found.")
        return page

    def _stored(self, page_id: str, incident_id: str) -> JsonObject:
        incident = self._incidents.get(incident_id)
        if incident is None or incident["page_id"] != page_id:
            raise HttpError(404, "The requested resource could not be found.")
        return incident

    # -- incident endpoints --------------------------------------------------

    def _list(self, page_id: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        limit = int_param(query, "limit", LIST_LIMIT)
        if limit > LIST_LIMIT:
            raise HttpError(400, f"'limit' must not be above {LIST_LIMIT}")
        needle = (query.get("q") or [""])[0].lower()
        found = [i for i in self._newest_first(page_id) if not needle or _mentions(i, needle)]
        return _page_slice(found, int_param(query, "page", 1), limit)

    def _list_unresolved(self, page_id: str, query: Mapping[str, list[str]]) -> list[JsonObject]:
        found = [i for i in self._newest_first(page_id) if i["status"] not in CLOSED_STATUSES]
        return _page_slice(found, int_param(query, "page", 1), int_param(query, "per_page", 100))

    def _create(self, page_id: str, fields: JsonObject) -> JsonObject:
        validate(fields, creating=True)
        component_ids, changes = self._component_changes(page_id, fields)
        scheduled_for = _timestamp_field(fields, "scheduled_for")
        status = fields.get("status", "scheduled" if scheduled_for else "investigating")
        if self._reject_maintenance_status and scheduled_for is None:
            check_realtime_status(status)
        now = format_timestamp(self.now())
        incident = self._blank_incident(page_id, now)
        incident.update(
            scheduled_for=scheduled_for,
            scheduled_until=_timestamp_field(fields, "scheduled_until"),
            impact="maintenance" if scheduled_for else "none",
        )
        affected = self._apply_components(incident, component_ids, changes)
        self._apply(incident, {**fields, "status": status}, now, first=True, affected=affected)
        self._incidents[incident["id"]] = incident
        return copy.deepcopy(incident)

    def _update(self, incident: JsonObject, fields: JsonObject) -> JsonObject:
        validate(fields, creating=False)
        component_ids, changes = self._component_changes(incident["page_id"], fields)
        schedule: dict[str, str | None] = {
            name: _timestamp_field(fields, name)
            for name in ("scheduled_for", "scheduled_until")
            if name in fields
        }
        realtime = schedule.get("scheduled_for", incident["scheduled_for"]) is None
        if self._reject_maintenance_status and realtime:
            check_realtime_status(fields.get("status"))
        incident.update(schedule)
        affected = self._apply_components(incident, component_ids, changes)
        self._apply(incident, fields, format_timestamp(self.now()), first=False, affected=affected)
        return copy.deepcopy(incident)

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
        for name in ("name", "reminder_intervals"):
            if name in fields:
                incident[name] = fields[name]
        if "impact_override" in fields:
            incident["impact_override"] = fields["impact_override"]
            incident["impact"] = fields["impact_override"] or "none"
        if "metadata" in fields:
            incident["metadata"] = copy.deepcopy(fields["metadata"])
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
        return {
            "id": incident_id,
            "page_id": page_id,
            "name": "",
            "status": None,
            "impact": "none",
            "impact_override": None,
            "created_at": now,
            "updated_at": now,
            "started_at": now,
            "monitoring_at": None,
            "resolved_at": None,
            "scheduled_for": None,
            "scheduled_until": None,
            "scheduled_remind_prior": False,
            "scheduled_reminded_at": None,
            "scheduled_auto_in_progress": False,
            "scheduled_auto_completed": False,
            "shortlink": f"https://stspg.io/{self._new_id()}",
            "metadata": {},
            "components": [],
            "postmortem_body": None,
            "postmortem_body_last_updated_at": None,
            "postmortem_ignored": False,
            "postmortem_published_at": None,
            "postmortem_notified_subscribers": False,
            "postmortem_notified_twitter": False,
            "reminder_intervals": None,
            "incident_updates": [],
        }

    def _new_update(
        self, incident_id: str, status: str, body: str, notify: bool, now: str
    ) -> JsonObject:
        return {
            "id": self._new_id(),
            "incident_id": incident_id,
            "status": status,
            "body": body,
            "created_at": now,
            "updated_at": now,
            "display_at": now,
            "deliver_notifications": notify,
            "affected_components": None,
            "custom_tweet": None,
            "tweet_id": None,
            "twitter_updated_at": None,
            "wants_twitter_update": False,
        }

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._random.choices(_ID_ALPHABET, k=12))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _newest_first(self, page_id: str) -> list[JsonObject]:
        # Creation order is insertion order, so reversing it is newest first.
        return [i for i in reversed(self._incidents.values()) if i["page_id"] == page_id]

    # -- control surface -----------------------------------------------------

    def add_page(self, page_id: str, name: str | None = None) -> None:
        """Make `page_id` exist (an existing page is left as it is)."""
        with self._lock:
            now = format_timestamp(self.now())
            self._pages.setdefault(
                page_id,
                {
                    "id": page_id,
                    "name": name or f"Simulated page {page_id}",
                    "created_at": now,
                    "updated_at": now,
                    "subdomain": f"{page_id}.statuspage.io",
                    "time_zone": "UTC",
                    "url": None,
                    "page_description": None,
                    "headline": None,
                },
            )

    def add_component(
        self,
        page_id: str,
        name: str,
        *,
        status: str = "operational",
        group_id: str | None = None,
        description: str | None = None,
    ) -> str:
        """Add a component to an existing page (in a group, by its id); returns its id."""
        if status not in COMPONENT_STATUSES:
            raise ValueError(f"status must be one of {COMPONENT_STATUSES}")
        with self._lock:
            if group_id is not None and not self._stored_component(page_id, group_id)["group"]:
                raise ValueError(f"{group_id} is not a component group")
            return self._new_component(page_id, name, status, group_id, description, group=False)

    def add_component_group(self, page_id: str, name: str, description: str | None = None) -> str:
        """Add an (empty) component group to an existing page; returns its id."""
        with self._lock:
            return self._new_component(page_id, name, "operational", None, description, group=True)

    def _new_component(
        self,
        page_id: str,
        name: str,
        status: str,
        group_id: str | None,
        description: str | None,
        *,
        group: bool,
    ) -> str:
        self._page(page_id)
        now = format_timestamp(self.now())
        component_id = self._new_id()
        self._components[component_id] = {
            "id": component_id,
            "page_id": page_id,
            "group_id": group_id,
            "created_at": now,
            "updated_at": now,
            "group": group,
            "name": name,
            "description": description,
            "position": len(self._page_components(page_id)) + 1,
            "status": status,
            "showcase": True,
            "only_show_if_degraded": False,
            "automation_email": f"component+{component_id}@notifications.statuspage.io",
            "start_date": None,
        }
        return component_id

    def set_component_status(self, component_id: str, status: str) -> None:
        """A person sets a component's status in the web UI (not an API request)."""
        if status not in COMPONENT_STATUSES:
            raise ValueError(f"status must be one of {COMPONENT_STATUSES}")
        with self._lock:
            component = self._components[component_id]
            if component["group"]:
                raise ValueError(f"{component_id} is a component group")
            self._set_component(component, status)

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

    def component(self, component_id: str) -> JsonObject:
        """One component as the API serves it; KeyError if it does not exist."""
        with self._lock:
            return self._render_component(self._components[component_id])

    def component_writes(self) -> list[RecordedRequest]:
        """The recorded PATCH/PUT requests to component paths."""
        return [
            request
            for request in self.requests
            if request.method in ("PATCH", "PUT") and "/components/" in request.path
        ]

    def components(self, page_id: str | None = None) -> list[JsonObject]:
        """Every component (of one page, if given) as the API serves it, in display order."""
        with self._lock:
            pages = [page_id] if page_id is not None else list(self._pages)
            return [
                self._render_component(c) for page in pages for c in self._page_components(page)
            ]

    def pages(self) -> list[JsonObject]:
        """Deep copies of every page, in the order they were added."""
        with self._lock:
            return copy.deepcopy(list(self._pages.values()))

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

    def set_reject_maintenance_status(self, reject: bool) -> None:
        """Answer 422 to maintenance statuses on realtime incidents (or accept them again)."""
        with self._lock:
            self._reject_maintenance_status = reject
