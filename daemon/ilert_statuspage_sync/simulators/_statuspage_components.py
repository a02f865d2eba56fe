"""The Statuspage simulator's components: `/v1/pages/{page_id}/components[/{id}]` and controls.

A component group is a component with `group: true` showing its members' worst
status; an incident write's `component_ids` and `components` map are checked
and applied here too, since they change components.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ilert_statuspage_sync.simulators._server import (
    HttpError,
    RecordedRequest,
    SimRequest,
    SimResponse,
    format_timestamp,
    int_param,
)
from ilert_statuspage_sync.simulators._statuspage_records import (
    COMPONENT_STATUSES,
    LIST_LIMIT,
    SEVERITY,
    JsonObject,
    new_component,
    page_slice,
)
from ilert_statuspage_sync.simulators._statuspage_rules import component_fields
from ilert_statuspage_sync.simulators._statuspage_state import StatuspageState

__all__ = ["PageComponents"]


class PageComponents(StatuspageState):
    """Components and groups of the pages, as the API serves and changes them."""

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
        _check_component_write(component, fields)
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
            self._check_affectable(page_id, cid)
        for status in changes.values():
            if status not in COMPONENT_STATUSES:
                raise HttpError(
                    422, f"Component status {status!r} is not one of {list(COMPONENT_STATUSES)}"
                )
        return ids, changes

    def _check_affectable(self, page_id: str, cid: str) -> None:
        """422 unless ``cid`` is a component (not a group) of the page."""
        component = self._components.get(cid)
        if component is None or component["page_id"] != page_id:
            raise HttpError(422, f"Component {cid!r} was not found on this page")
        if component["group"]:
            raise HttpError(422, f"Component {cid!r} is a component group")

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
        return page_slice(found, int_param(query, "page", 1), per_page)

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
            rendered["status"] = max(members, key=SEVERITY.__getitem__, default="operational")
        return rendered

    # -- control surface: components ------------------------------------------

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
        fields = {
            "group_id": group_id,
            "group": group,
            "name": name,
            "description": description,
            "status": status,
        }
        position = len(self._page_components(page_id)) + 1
        self._components[component_id] = new_component(
            component_id, page_id, fields, position=position, now=now
        )
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


def _check_component_write(component: JsonObject, fields: JsonObject) -> None:
    """422 for a status outside the five, a group's status, or a non-string name/description."""
    if "status" in fields:
        status = fields["status"]
        if status not in COMPONENT_STATUSES:
            raise HttpError(422, f"Status {status!r} is not one of {list(COMPONENT_STATUSES)}")
        if component["group"]:
            raise HttpError(422, "A component group's status follows its components")
    for name in ("name", "description"):
        if name in fields and not isinstance(fields[name], str):
            raise HttpError(422, f"{name.capitalize()} must be a string")
