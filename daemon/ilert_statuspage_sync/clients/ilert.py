"""iLert REST API: the alert reads a poller needs, parsed at the boundary.

Also iLert's own status model (incidents, services, maintenance windows) for a
status bridge, read by ``clients.ilert_status_model``.

Reference: https://api.ilert.com/api-docs/ (OpenAPI ``v2.2026``), ``GET /api/alerts``,
``GET /api/alerts/{id}``, ``GET /api/alerts/{id}/log-entries``. Lists are bare
arrays paged by ``start-index`` / ``max-results`` (at most 100; more is a 400),
with no total: the last page is the first one shorter than asked. An alert
listing past its first page is bounded by ``GET /api/alerts/count`` (same
filters, ``{"count": n}``): see ``core.listing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import structlog

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.clients.ilert_status_model import StatusListing, StatusModelReader
from ilert_statuspage_sync.core.bridge_model import IlertIncident, IlertService, MaintenanceWindow
from ilert_statuspage_sync.core.listing import MAX_LISTING_PAGES, StallGuard, listing_bound
from ilert_statuspage_sync.core.model import LogEntry
from ilert_statuspage_sync.core.parse import parse_log_entry
from ilert_statuspage_sync.core.timeline_order import Order, OrderProof, stops_early
from ilert_statuspage_sync.errors import ApiError, PayloadError, StopRequestedError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = [
    "PAGE_SIZE",
    "IlertClient",
    "ListingStalledError",
    "ListingUnboundedError",
    "OpenListing",
    "TimelineRead",
]

log = structlog.get_logger(__name__)

PAGE_SIZE = 100
OPEN_STATES = ("PENDING", "ACCEPTED")
SOURCE_PAGE_SIZE = 50  # GET /api/alert-sources allows at most 50 per page


class ListingStalledError(PayloadError):
    """The server answered a full page with nothing new: the listing makes no progress."""


class ListingUnboundedError(PayloadError):
    """The server served more full pages than its own count of the listing allows."""


class _CountBound:
    """Pages an alert listing may take, from ``GET /api/alerts/count`` (see ``core.listing``).

    The count is a bound, never a gate: a count request that fails or answers
    less than the listing already holds leaves the listing to the stall guard
    and ``MAX_LISTING_PAGES`` (one warning); a listing past a count it took is
    counted once more before it fails (an honest storm's count keeps up).
    """

    def __init__(self, client: IlertClient, params: dict[str, Any], pages: int | None) -> None:
        self.client, self.params, self.pages = client, params, pages
        self.count: int | None = None
        self.requests = 0  # count requests made
        self.fallback = False  # the count was unusable: only the hard page cap bounds

    def check(self, page_index: int) -> None:
        """Before reading page ``page_index`` (0-based) past the first: within the bound?"""
        if page_index < 1:
            return
        if not self.fallback and (self.pages is None or page_index >= self.pages):
            self._recount(page_index)
        limit = min(self.pages or MAX_LISTING_PAGES, MAX_LISTING_PAGES)
        if page_index >= limit:
            counted = "" if self.count is None else f"{self.count} matching alerts, "
            allows = (
                f"GET /api/alerts/count allows ({counted}at most {limit} pages)"
                if limit < MAX_LISTING_PAGES
                else f"any listing may take ({limit} pages)"
            )
            raise ListingUnboundedError(
                f"ilert: GET /api/alerts served {page_index} full pages, more than {allows}: "
                "the listing does not end, so nothing of it is used; check iLert's status and "
                "report it to iLert support if it lasts"
            )

    def _recount(self, page_index: int) -> None:
        """Count (again); a count below what is listed is unusable, unless it was counted before."""
        counted_before = self.count is not None
        self.requests += 1
        try:
            count = self.client.count_alerts(self.params)
        except StopRequestedError:
            raise
        except (ApiError, PayloadError) as error:
            self._unusable(scrub(str(error))[:300])
            return
        listed = page_index * PAGE_SIZE  # the full pages already served
        if count < listed and not counted_before:
            self._unusable(f"it answered {count}, fewer than the {listed} alerts already listed")
            return
        # Counted before and still behind: the listing outruns its own count, and fails.
        self.pages, self.count = listing_bound(count, PAGE_SIZE), count

    def _unusable(self, reason: str) -> None:
        self.fallback, self.pages = True, MAX_LISTING_PAGES
        log.warning(
            "ilert_count_unusable",
            reason=f"GET /api/alerts/count: {reason}",
            action=f"listing bounded by its repeat guard and {MAX_LISTING_PAGES} pages",
        )


@dataclass
class OpenListing:
    """What one pass read of a listing it may not finish (see ``core.listing``)."""

    items: list[Any] = field(default_factory=list)
    pages: int = 0  # requests made
    next_start: int = 0  # where the next pass resumes (0 once ended or stalled)
    ended: bool = False  # a short page ended the list
    stalled: str | None = None  # why the listing was cut short by a non-progress
    bound: int | None = None  # pages the listing may take (GET /api/alerts/count), once asked


@dataclass
class TimelineRead:
    """What one read of an alert's timeline found, and where a later read resumes."""

    entries: list[LogEntry] = field(default_factory=list)  # newer than ``after``, by id
    next_start: int | None = None  # None: read to its end; else the page budget ran out
    pages: int = 0  # requests made
    order: Order = Order.UNKNOWN  # what this read's pages proved (core.timeline_order)


class IlertClient:
    """Reads alerts and their timelines; returns raw alert JSON for per-item parsing."""

    def __init__(self, http: HttpService) -> None:
        self.http = http
        self._status = StatusModelReader(http, self._bounded_pages)

    def list_alerts(
        self,
        *,
        sources: Iterable[int],
        states: Sequence[str] = (),
        since: datetime | None = None,
    ) -> list[Any]:
        """Every alert of ``sources`` in ``states`` (all when empty) reported since ``since``."""
        params: dict[str, Any] = {"sources": sorted(set(sources))}
        if states:
            params["states"] = list(states)
        if since is not None:
            params["from"] = _iso(since)
        bound = _CountBound(self, params, None)
        items: list[Any] = []
        for page in self._page_lists("/api/alerts", params, bound=bound):
            items.extend(page)
        return items

    def list_open_alerts(
        self,
        *,
        sources: Iterable[int],
        since: datetime | None,
        start: int,
        max_pages: int | None,
        bound: int | None = None,
    ) -> OpenListing:
        """Open alerts of ``sources`` reported since ``since``, ``max_pages`` (None: all) on.

        ``bound``: the pages this listing may take, as counted earlier in its
        cycle; asked of ``GET /api/alerts/count`` when None and needed.
        """
        params: dict[str, Any] = {"sources": sorted(set(sources)), "states": list(OPEN_STATES)}
        if since is not None:
            params["from"] = _iso(since)
        return self._list_part(params, start, max_pages, bound)

    def list_reported(
        self,
        *,
        sources: Iterable[int],
        states: Sequence[str],
        since: datetime,
        until: datetime,
        start: int,
        max_pages: int | None,
        bound: int | None = None,
    ) -> OpenListing:
        """Alerts of ``sources`` in ``states`` (all when empty) reported in ``[since, until)``.

        From ``start``, ``max_pages`` at most (None: to the end), as the open
        listing; a stall is reported in ``stalled``, as there.
        """
        params: dict[str, Any] = {"sources": sorted(set(sources))}
        if states:
            params["states"] = list(states)
        params["from"], params["until"] = _iso(since), _iso(until)
        return self._list_part(params, start, max_pages, bound, counts_too=True)

    def _list_part(
        self,
        params: dict[str, Any],
        start: int,
        max_pages: int | None,
        bound: int | None,
        *,
        counts_too: bool = False,
    ) -> OpenListing:
        """Pages of one alert listing from ``start``, ``max_pages`` at most.

        ``counts_too``: a count request is one of the ``max_pages`` requests.
        """
        read = OpenListing()
        counted = _CountBound(self, params, bound)
        try:
            for page in self._page_lists("/api/alerts", params, start=start, bound=counted):
                read.pages += 1
                read.items.extend(page)
                spent = read.pages + (counted.requests if counts_too else 0)
                if len(page) < PAGE_SIZE:
                    read.ended = True
                elif max_pages is not None and spent >= max_pages:
                    read.next_start = start + read.pages * PAGE_SIZE
                    break
        except ListingStalledError as error:
            read.pages += 1
            read.stalled = str(error)
        read.pages += counted.requests
        read.bound = None if counted.fallback else counted.pages
        return read

    def count_alerts(self, params: dict[str, Any]) -> int:
        """``GET /api/alerts/count``: how many alerts the listing's filters match."""
        answer = self.http.get("/api/alerts/count", params)
        count = answer.get("count") if isinstance(answer, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise PayloadError('ilert: GET /api/alerts/count did not answer {"count": <n>}')
        return count

    def server_time(self) -> datetime | None:
        """iLert's clock per the ``Date`` of its last answer; None when absent or unreadable."""
        header = self.http.last_date_header
        try:
            moment = parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError, OverflowError):  # an hour of 20 digits overflows
            return None
        if moment is None:
            return None
        # HTTP dates are always GMT; a zone-less one is read as such.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def get_alert(self, alert_id: int) -> Any:
        """One alert by id (raw JSON)."""
        return self.http.get(f"/api/alerts/{alert_id}")

    def get_alert_source(self, source_id: int) -> Any:
        """``GET /api/alert-sources/{id}``: one alert source (raw JSON); 404 when not visible."""
        return self.http.get(f"/api/alert-sources/{source_id}")

    def raw_log_entries(self, alert_id: int) -> list[Any]:
        """Every entry of the alert's timeline as iLert returned it (``preview`` shows them)."""
        return list(self._pages(f"/api/alerts/{alert_id}/log-entries", {"include": "vars"}))

    def log_entries(self, alert_id: int, *, after: int | None = None) -> list[LogEntry]:
        """The alert's timeline entries newer than ``after`` (all when None), oldest first."""
        return self.read_timeline(alert_id, after=after).entries

    def read_timeline(
        self,
        alert_id: int,
        *,
        after: int | None = None,
        start: int = 0,
        max_pages: int | None = None,
        head: bool = False,
    ) -> TimelineRead:
        """The alert's timeline entries newer than ``after``, from ``start``, ``max_pages`` at most.

        The server's order is undocumented (``core.timeline_order``): a read
        stops at a page holding only entries at or below ``after`` once the
        pages proved newest first (or, ``head``: reading the head again for entries
        added since, whatever the order), else at the first short page. No cap, but a
        read that runs out of ``max_pages`` says where the next one resumes
        (entries added meanwhile shift the offsets; a resumed read may see an
        entry twice, which its id settles).
        """
        read = TimelineRead()
        entries: dict[int, LogEntry] = {}
        proof = OrderProof()
        path, params = f"/api/alerts/{alert_id}/log-entries", {"include": "vars"}
        for page in self._page_lists(path, params, start=start):
            read.pages += 1
            fresh = [parse_log_entry(item, alert_id) for item in page]
            read.order = proof.see((entry.timestamp, entry.id) for entry in fresh)
            entries.update((e.id, e) for e in fresh if after is None or e.id > after)
            if stops_early(read.order, (entry.id for entry in fresh), after, head=head):
                break
            if len(page) == PAGE_SIZE and max_pages is not None and read.pages >= max_pages:
                read.next_start = start + read.pages * PAGE_SIZE
                break
        read.entries = sorted(entries.values(), key=lambda entry: entry.id)
        return read

    # -- iLert's own status model (clients.ilert_status_model) --------------------

    def list_incidents(
        self, *, states: Sequence[str] = (), services: Iterable[int] = ()
    ) -> StatusListing[IlertIncident]:
        """``GET /api/incidents`` in ``states`` affecting any of ``services`` (all when empty)."""
        return self._status.list_incidents(states=states, services=services)

    def get_incident(self, incident_id: int) -> IlertIncident | None:
        """One incident; None on 404; PayloadError naming the field when unreadable."""
        return self._status.get_incident(incident_id)

    def list_services(self) -> StatusListing[IlertService]:
        """``GET /api/services``: every service the key sees, with its status."""
        return self._status.list_services()

    def list_maintenance_windows(
        self, state: str | None = "OPEN"
    ) -> StatusListing[MaintenanceWindow]:
        """``GET /api/maintenance-windows`` in ``state`` (OPEN: upcoming and ongoing; None: all)."""
        return self._status.list_windows(state)

    def get_maintenance_window(self, window_id: int) -> MaintenanceWindow | None:
        """One maintenance window; None on 404; PayloadError naming the field when unreadable."""
        return self._status.get_window(window_id)

    def _bounded_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        """A status-model listing's pages: ended by a short page, stopped at the page cap."""
        return self._page_lists(path, params, max_pages=MAX_LISTING_PAGES)

    def list_alert_sources(self) -> list[Any]:
        """Every alert source the key can see (raw JSON), for ``discover``."""
        return list(self._pages("/api/alert-sources", {}, SOURCE_PAGE_SIZE))

    def _pages(self, path: str, params: dict[str, Any], size: int = PAGE_SIZE) -> Iterator[Any]:
        for page in self._page_lists(path, params, size):
            yield from page

    def _page_lists(
        self,
        path: str,
        params: dict[str, Any],
        size: int = PAGE_SIZE,
        *,
        start: int = 0,
        bound: _CountBound | None = None,
        max_pages: int | None = None,
    ) -> Iterator[list[Any]]:
        """Pages until the first short one (no total exists); a stall guard, and ``bound``
        or ``max_pages`` (a listing still full after that many is refused)."""
        guard = StallGuard()
        offset = start
        while True:
            if bound is not None:
                bound.check(offset // size)
            if max_pages is not None and (offset - start) // size >= max_pages:
                raise ListingUnboundedError(
                    f"ilert: GET {path} served {max_pages} full pages, more than any listing "
                    "may take: the listing does not end, so nothing of it is used"
                )
            page = self.http.get(path, {**params, "start-index": offset, "max-results": size})
            if not isinstance(page, list):
                raise PayloadError(f"ilert: GET {path} did not answer a JSON list")
            if len(page) >= size and not guard.fresh([_key(item) for item in page]):
                raise ListingStalledError(
                    f"ilert: GET {path} at start-index {offset} served only items it had "
                    "already served: the listing makes no progress"
                )
            yield page
            if len(page) < size:
                return
            offset += size


def _key(item: object) -> object:
    """An item's identity for the stall guard: its id, else its whole text."""
    if isinstance(item, dict) and isinstance(item.get("id"), int | str):
        return item["id"]
    return repr(item)


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
