"""iLert REST API: the alert reads a poller needs, parsed at the boundary.

Reference: https://api.ilert.com/api-docs/ (OpenAPI ``v2.2026``), ``GET /api/alerts``,
``GET /api/alerts/{id}``, ``GET /api/alerts/{id}/log-entries``. Lists are bare
arrays paged by ``start-index`` / ``max-results`` (at most 100; more is a 400),
with no total: the last page is the first one shorter than asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.core.model import LogEntry
from ilert_statuspage_sync.core.parse import parse_log_entry
from ilert_statuspage_sync.errors import PayloadError

__all__ = ["PAGE_SIZE", "IlertClient"]

PAGE_SIZE = 100
SOURCE_PAGE_SIZE = 50  # GET /api/alert-sources allows at most 50 per page
MAX_PAGES = 50  # 5,000 alerts per query: past that something is wrong, not busy


class IlertClient:
    """Reads alerts and their timelines; returns raw alert JSON for per-item parsing."""

    def __init__(self, http: HttpService) -> None:
        self.http = http

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
        return list(self._pages("/api/alerts", params))

    def server_time(self) -> datetime | None:
        """iLert's clock per the ``Date`` of its last answer; None when absent or unreadable."""
        header = self.http.last_date_header
        try:
            moment = parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError):
            return None
        if moment is None:
            return None
        # HTTP dates are always GMT; a zone-less one is read as such.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def get_alert(self, alert_id: int) -> Any:
        """One alert by id (raw JSON)."""
        return self.http.get(f"/api/alerts/{alert_id}")

    def log_entries(self, alert_id: int, *, after: int | None = None) -> list[LogEntry]:
        """The alert's timeline entries newer than ``after`` (all when None), oldest first.

        The server's order is undocumented, so every page is read until a page
        holds only entries at or below ``after`` or comes back short.
        """
        entries: dict[int, LogEntry] = {}
        params = {"include": "vars"}
        for page in self._page_lists(f"/api/alerts/{alert_id}/log-entries", params):
            fresh = [parse_log_entry(item, alert_id) for item in page]
            entries.update((e.id, e) for e in fresh if after is None or e.id > after)
            if after is not None and fresh and all(e.id <= after for e in fresh):
                break
        return sorted(entries.values(), key=lambda entry: entry.id)

    def list_alert_sources(self) -> list[Any]:
        """Every alert source the key can see (raw JSON), for ``discover``."""
        return list(self._pages("/api/alert-sources", {}, SOURCE_PAGE_SIZE))

    def _pages(self, path: str, params: dict[str, Any], size: int = PAGE_SIZE) -> Iterator[Any]:
        for page in self._page_lists(path, params, size):
            yield from page

    def _page_lists(
        self, path: str, params: dict[str, Any], size: int = PAGE_SIZE
    ) -> Iterator[list[Any]]:
        for number in range(MAX_PAGES):
            query = {**params, "start-index": number * size, "max-results": size}
            page = self.http.get(path, query)
            if not isinstance(page, list):
                raise PayloadError(f"ilert: GET {path} did not answer a JSON list")
            yield page
            if len(page) < size:
                return
        raise PayloadError(f"ilert: GET {path} still had more after {MAX_PAGES} pages")


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
