"""Statuspage REST API v1: create, update and look up incidents of a page; components.

Reference: https://developer.statuspage.io/ (``POST /v1/pages/{page_id}/incidents``,
``PATCH /v1/pages/{page_id}/incidents/{incident_id}``, ``GET .../incidents``,
``GET .../incidents/unresolved``, ``GET .../components``,
``PATCH .../components/{component_id}``). Bodies are wrapped as
``{"incident": {...}}`` or ``{"component": {...}}``. An incident's create or
update may carry ``component_ids`` and ``components`` (id -> status) in its fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import structlog

from ilert_statuspage_sync.clients.http import HttpService, json_int
from ilert_statuspage_sync.clients.incident_json import DecodedTimeline, IncidentDecoder
from ilert_statuspage_sync.clients.page_facts import PageFacts
from ilert_statuspage_sync.core.storable import INCIDENT_ID_LENGTH, TOKEN_LENGTH, clean_text
from ilert_statuspage_sync.errors import PayloadError

__all__ = ["Incident", "IncidentUpdate", "ListedComponent", "StatuspageClient", "Timeline"]


@dataclass(frozen=True)
class ListedComponent:
    """A component as the page lists it: what the daemon compares and names."""

    id: str
    name: str
    status: str
    is_group: bool = False


@dataclass(frozen=True)
class IncidentUpdate:
    """One entry of an incident's timeline (``incident_updates[]``: id, status, body)."""

    id: str
    status: str | None
    body: str


log = structlog.get_logger(__name__)

PER_PAGE = 100  # the most Statuspage returns per page of a paged list
MAX_COMPONENT_PAGES = 20  # 2,000 components on one page: past that something is wrong


class Timeline:
    """An incident's ``incident_updates`` as the answer decoded them, newest first.

    Every answer about an incident carries its whole timeline, so a storm's n
    joins carry about n²/2 updates: none is turned into an ``IncidentUpdate``
    (or checked) unless asked for. ``entries`` reads them all (reconciliation);
    ``ids_with_body`` is what an update's intent needs from the history before it.
    """

    __slots__ = ("_entries", "_raw")

    def __init__(self, raw: Sequence[object] = ()) -> None:
        self._raw = raw
        self._entries: tuple[IncidentUpdate, ...] | None = None

    def __len__(self) -> int:
        return len(self._raw)

    def entries(self) -> tuple[IncidentUpdate, ...]:
        """Every update, read and checked on first use (``PayloadError`` for a malformed one)."""
        if self._entries is None:
            self._entries = tuple(_update(item) for item in self._raw)
        return self._entries

    def ids_with_body(self, body: str) -> frozenset[str]:
        """The ids of the updates whose text is ``body`` (both stripped), without reading the rest.

        An update without a string id is left out: it can be no one's proof (the
        intent's ``updates_before``), and reading the timeline in full refuses it.
        """
        text = body.strip()
        if isinstance(self._raw, DecodedTimeline):
            return self._raw.ids_with_text(text)  # looked up, not compared with each
        if not self._may_hold(text):
            return frozenset()
        return frozenset(
            item["id"]
            for item in self._raw
            if isinstance(item, Mapping)
            and isinstance(item.get("id"), str)
            and _body_of(item).strip() == text
        )

    def _may_hold(self, text: str) -> bool:
        """False when no update's body contains ``text``: one scan in C, not one step per update.

        A storm's join text names its alert, so it is nearly always absent.
        """
        try:
            bodies = "\0".join(map(dict.get, self._raw, repeat("body")))  # type: ignore[arg-type]
        except TypeError:  # an entry that is no object, or a body that is no string
            return True
        return text in bodies


@dataclass(frozen=True)
class Incident:
    """The parts of a Statuspage incident the daemon reads back."""

    id: str
    status: str
    metadata: Mapping[str, Any]
    timeline: Timeline = field(default_factory=Timeline, compare=False, repr=False)

    @property
    def updates(self) -> tuple[IncidentUpdate, ...]:
        """The timeline's entries, newest first (read on first use)."""
        return self.timeline.entries()

    @property
    def update_bodies(self) -> tuple[str, ...]:
        """The timeline's texts, newest first."""
        return tuple(update.body for update in self.updates)

    name: str = ""
    # (component id, status) of the components the incident shows (``components[]``).
    components: tuple[tuple[str, str], ...] = ()

    def traces_to(self, alert_id: int, action: str, previous: Sequence[str] = ()) -> bool:
        """True when our ``metadata.ilert`` marks this incident as mirroring the alert.

        ``previous``: the action's earlier names (an intent recorded before a rename).
        """
        ilert = self.metadata.get("ilert") if isinstance(self.metadata, Mapping) else None
        return (
            isinstance(ilert, Mapping)
            and str(ilert.get("alert_id")) == str(alert_id)
            and ilert.get("incident_action") in (action, *previous)
        )


class StatuspageClient:
    """One connector (API key) of Statuspage."""

    def __init__(self, http: HttpService) -> None:
        self.http = http
        # What this process learned about the connector's pages (lives as long as the client).
        self.facts = PageFacts()
        # Reads one incident's answer; decodes only the updates the last one did not carry.
        self.decode = IncidentDecoder(json_int)

    def get_page(self, page_id: str) -> Any:
        """The page itself: used by ``check`` to prove the key reaches it."""
        return self.http.get(f"/v1/pages/{page_id}")

    def list_pages(self) -> list[Any]:
        """Every page the key can see (raw JSON); the endpoint is not paged."""
        return _json_list(self.http.get("/v1/pages"), "GET /v1/pages")

    def list_components(self, page_id: str) -> list[Any]:
        """Every component of a page, groups included (raw JSON), in display order.

        Always paged: Statuspage limits unpaged component reads to one a minute.
        """
        path = f"/v1/pages/{page_id}/components"
        found: list[Any] = []
        for number in range(1, MAX_COMPONENT_PAGES + 1):
            batch = _json_list(
                self.http.get(path, {"page": number, "per_page": PER_PAGE}), f"GET {path}"
            )
            found += batch
            if len(batch) < PER_PAGE:
                return found
        raise PayloadError(
            f"statuspage: GET {path} still had more after {MAX_COMPONENT_PAGES} pages"
        )

    def component_statuses(self, page_id: str) -> dict[str, ListedComponent]:
        """Every component of a page by id: one paged read (usually one request).

        A component that cannot be read is left out (logged), so one odd entry
        does not hide the page's other components.
        """
        found = {}
        for item in self.list_components(page_id):
            try:
                component = parse_listed_component(item)
            except PayloadError as error:
                log.warning("component_unreadable", page_id=page_id, error=str(error)[:300])
                continue
            found[component.id] = component
        return found

    def set_component_status(
        self,
        page_id: str,
        component_id: str,
        status: str,
        before_send: Callable[[], None] | None = None,
    ) -> ListedComponent:
        """Set one component's status; state, so sending it again is harmless."""
        path = f"/v1/pages/{page_id}/components/{component_id}"
        answer = self.http.write("PATCH", path, {"component": {"status": status}}, before_send)
        return parse_listed_component(answer)

    def create_incident(
        self,
        page_id: str,
        fields: Mapping[str, Any],
        before_send: Callable[[], None] | None = None,
    ) -> Incident:
        """Create an incident; not idempotent. ``before_send``: see ``HttpService.write``."""
        path = f"/v1/pages/{page_id}/incidents"
        answer = self.http.write("POST", path, {"incident": fields}, before_send, self.decode)
        return parse_incident(answer)

    def update_incident(
        self,
        page_id: str,
        incident_id: str,
        fields: Mapping[str, Any],
        before_send: Callable[[], None] | None = None,
    ) -> Incident:
        """Update an incident; a ``body`` adds a timeline entry, so it is not idempotent."""
        path = f"/v1/pages/{page_id}/incidents/{incident_id}"
        answer = self.http.write("PATCH", path, {"incident": fields}, before_send, self.decode)
        return parse_incident(answer)

    def get_incident(self, page_id: str, incident_id: str) -> Incident:
        """One incident with its updates."""
        path = f"/v1/pages/{page_id}/incidents/{incident_id}"
        return parse_incident(self.http.get(path, decode=self.decode))

    def find_incident(
        self, page_id: str, alert_id: int, action: str, previous: Sequence[str] = ()
    ) -> Incident | None:
        """The incident our metadata ties to ``alert_id``: unresolved ones, then the newest 100."""
        for incident in self._candidates(page_id):
            if incident.traces_to(alert_id, action, previous):
                return incident
        return None

    def unresolved_incidents(self, page_id: str) -> list[Incident]:
        """Every unresolved incident of the page, newest first (up to 1000, 100 per request)."""
        return list(self._unresolved(page_id))

    def unresolved_page(self, page_id: str, number: int) -> list[Incident]:
        """One page (``PER_PAGE`` a request) of the page's unresolved incidents, newest first."""
        batch = self.http.get(
            f"/v1/pages/{page_id}/incidents/unresolved", {"page": number, "per_page": PER_PAGE}
        )
        return _incidents(batch)

    def _unresolved(self, page_id: str) -> Iterator[Incident]:
        for page in range(1, 11):
            batch = self.unresolved_page(page_id, page)
            yield from batch
            if len(batch) < PER_PAGE:
                break

    def incidents_to_search(self, page_id: str) -> Iterator[Incident]:
        """The incidents a search by metadata looks at: unresolved ones, then the newest 100.

        Maintenances are incidents too: the newest 100 hold the ones just scheduled.
        """
        return self._candidates(page_id)

    def _candidates(self, page_id: str) -> Iterator[Incident]:
        yield from self._unresolved(page_id)
        recent = self.http.get(f"/v1/pages/{page_id}/incidents", {"limit": 100, "page": 1})
        yield from _incidents(recent)


def _json_list(answer: object, what: str) -> list[Any]:
    if not isinstance(answer, list):
        raise PayloadError(f"statuspage: {what} did not answer a JSON list")
    return answer


def _incidents(batch: object) -> list[Incident]:
    if not isinstance(batch, list):
        raise PayloadError("statuspage: an incident list was not a JSON list")
    return [parse_incident(item) for item in batch]


def parse_incident(payload: object) -> Incident:
    """Read the fields we need from an Incident object."""
    if not isinstance(payload, Mapping):
        raise PayloadError("statuspage: an incident was not a JSON object")
    incident_id, status = payload.get("id"), payload.get("status")
    if not isinstance(incident_id, str) or not isinstance(status, str):
        raise PayloadError("statuspage: an incident lacks a string 'id' or 'status'")
    # Both are stored (String(64), String(32)): refuse what the columns cannot hold.
    for key, value, limit in (
        ("id", incident_id, INCIDENT_ID_LENGTH),
        ("status", status, TOKEN_LENGTH),
    ):
        if not value or len(value) > limit or clean_text(value) != value:
            raise PayloadError(
                f"statuspage: incident {key} {value[:40]!r} is not 1 to {limit} "
                "printable characters"
            )
    metadata, name = payload.get("metadata"), payload.get("name")
    updates = payload.get("incident_updates")
    return Incident(
        id=incident_id,
        status=status,
        metadata=metadata if isinstance(metadata, Mapping) else {},
        timeline=Timeline(updates if isinstance(updates, list) else ()),
        name=name if isinstance(name, str) else "",
        components=_shown_components(payload.get("components")),
    )


def _shown_components(items: object) -> tuple[tuple[str, str], ...]:
    """An incident's components as (id, status); anything malformed is left out."""
    if not isinstance(items, list):
        return ()
    return tuple(
        (item["id"], item["status"])
        for item in items
        if isinstance(item, Mapping)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("status"), str)
    )


def _update(item: object) -> IncidentUpdate:
    """One ``incident_updates`` entry; without a string id it could not be told apart."""
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        raise PayloadError("statuspage: an incident update lacks a string 'id'")
    status = item.get("status")
    return IncidentUpdate(
        id=item["id"], status=status if isinstance(status, str) else None, body=_body_of(item)
    )


def _body_of(item: Mapping[str, Any]) -> str:
    body = item.get("body")
    return body if isinstance(body, str) else ""


def parse_listed_component(payload: object) -> ListedComponent:
    """A Component object; its id and status are stored, so both must fit their columns."""
    if not isinstance(payload, Mapping):
        raise PayloadError("statuspage: a component was not a JSON object")
    component_id, status = payload.get("id"), payload.get("status")
    if not isinstance(component_id, str) or not isinstance(status, str):
        raise PayloadError("statuspage: a component lacks a string 'id' or 'status'")
    # Both are stored; the spec's status enum includes "" (an unknown status is held, never set).
    for key, value, low, limit in (
        ("id", component_id, 1, INCIDENT_ID_LENGTH),
        ("status", status, 0, TOKEN_LENGTH),
    ):
        if not low <= len(value) <= limit or clean_text(value) != value:
            raise PayloadError(
                f"statuspage: component {key} {value[:40]!r} is not {low} to {limit} "
                "printable characters"
            )
    name = payload.get("name")
    return ListedComponent(
        id=component_id,
        name=clean_text(name[:255]) if isinstance(name, str) else "",
        status=status,
        is_group=payload.get("group") is True,
    )
