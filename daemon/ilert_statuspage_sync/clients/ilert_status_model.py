"""iLert's own status model, read for a status bridge: incidents, services, windows.

``GET /api/incidents``, ``GET /api/services``, ``GET /api/maintenance-windows``
(and ``/{id}``) through the alert reads' ``HttpService`` (same budget, pacing
and deadlines), paged at ``max-results=100`` until the first short page and
stopped, like every listing, at ``MAX_LISTING_PAGES``. Each object is parsed
on its own (``core.bridge_parse``): one that cannot be read is reported as
``Unreadable`` (its id when one can be told, and the error naming the field)
and the others are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.core.bridge_model import IlertIncident, IlertService, MaintenanceWindow
from ilert_statuspage_sync.core.bridge_parse import parse_incident, parse_service, parse_window
from ilert_statuspage_sync.core.vendor_ids import vendor_id
from ilert_statuspage_sync.errors import ApiError, PayloadError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["StatusListing", "StatusModelReader", "Unreadable"]

T = TypeVar("T")
# (path, params) -> the listing's pages, as ``IlertClient`` pages them.
PageLists = Callable[[str, dict[str, Any]], Iterator[list[Any]]]
_REASON_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Unreadable:
    """One listed object that could not be read: its id (None when that is what is
    wrong) and why, naming the field."""

    kind: str  # "incident", "service" or "maintenance window"
    id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class StatusListing(Generic[T]):
    """What one listing read: the parsed objects, the unreadable ones, requests made."""

    items: tuple[T, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    pages: int = 0


class StatusModelReader:
    """The status-model reads ``IlertClient`` offers (see its methods)."""

    def __init__(self, http: HttpService, page_lists: PageLists) -> None:
        self.http = http
        self.page_lists = page_lists

    def list_incidents(
        self, *, states: Sequence[str] = (), services: Iterable[int] = ()
    ) -> StatusListing[IlertIncident]:
        params: dict[str, Any] = {}
        if states:
            params["states"] = list(states)
        if chosen := sorted(set(services)):
            params["services"] = chosen
        return self._list("/api/incidents", params, "incident", parse_incident)

    def list_services(self) -> StatusListing[IlertService]:
        return self._list("/api/services", {}, "service", parse_service)

    def list_windows(self, state: str | None) -> StatusListing[MaintenanceWindow]:
        params = {} if state is None else {"state": state}
        return self._list("/api/maintenance-windows", params, "maintenance window", parse_window)

    def get_incident(self, incident_id: int) -> IlertIncident | None:
        raw = self._get(f"/api/incidents/{incident_id}")
        return None if raw is None else parse_incident(raw)

    def get_window(self, window_id: int) -> MaintenanceWindow | None:
        raw = self._get(f"/api/maintenance-windows/{window_id}")
        return None if raw is None else parse_window(raw)

    def _get(self, path: str) -> Any:
        try:
            return self.http.get(path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def _list(
        self, path: str, params: dict[str, Any], kind: str, parse: Callable[[object], T]
    ) -> StatusListing[T]:
        items: list[T] = []
        unreadable: list[Unreadable] = []
        pages = 0
        for page in self.page_lists(path, params):
            pages += 1
            for raw in page:
                try:
                    items.append(parse(raw))
                except PayloadError as error:
                    unreadable.append(_unreadable(kind, raw, error))
        return StatusListing(tuple(items), tuple(unreadable), pages)


def _unreadable(kind: str, raw: object, error: PayloadError) -> Unreadable:
    raw_id = raw.get("id") if isinstance(raw, Mapping) else None
    return Unreadable(kind, vendor_id(raw_id), scrub(str(error))[:_REASON_LENGTH])
