"""``GET /api/alerts/count`` bounds a listing but never gates it; memory stays bounded."""

from __future__ import annotations

from typing import Any, cast

import pytest
from structlog.testing import capture_logs

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.clients.ilert import IlertClient, ListingUnboundedError
from ilert_statuspage_sync.core.listing import MAX_LISTING_PAGES
from ilert_statuspage_sync.errors import PermanentApiError


class _Listing:
    """A newest-first alert listing of ``open`` alerts, ``growth`` more before each page."""

    last_date_header = None

    def __init__(self, open_alerts: int, growth: int = 0, count: Any = "honest") -> None:
        self.open, self.growth, self.count = open_alerts, growth, count
        self.counts = self.pages = 0

    def get(self, path: str, params: dict[str, Any]) -> Any:
        if path == "/api/alerts/count":
            self.counts += 1
            if self.count == 404:
                raise PermanentApiError("ilert", "Not Found", 404)
            if self.count == "honest":
                return {"count": self.open}
            return {"count": self.count} if self.count != "missing" else {}
        self.pages += 1
        self.open += self.growth
        start, size = int(params["start-index"]), int(params["max-results"])
        return [{"id": n} for n in range(self.open - start, max(self.open - start - size, 0), -1)]


def _list(http: _Listing) -> int:
    client = IlertClient(cast(HttpService, http))
    read = client.list_open_alerts(sources=[1], since=None, start=0, max_pages=None)
    assert read.ended
    return len(read.items)


@pytest.mark.parametrize("count", [404, 0, -1, 1.5, "600", None, 50])
def test_a_failed_or_implausible_count_leaves_the_listing_to_its_guards(count: Any) -> None:
    """404, 0, -1, float, string, none, under a page: 600 alerts listed, one warning."""
    http = _Listing(600, count="missing" if count is None else count)
    with capture_logs() as logs:
        assert _list(http) == 600
    assert [e["event"] for e in logs] == ["ilert_count_unusable"]
    assert http.counts == 1


@pytest.mark.parametrize(("open_alerts", "growth"), [(3000, 15), (500, 40), (20000, 25)])
def test_an_honest_storm_outgrowing_the_slack_is_counted_again_and_listed(
    open_alerts: int, growth: int
) -> None:
    """Alerts reported faster than the count's slack: counted again, the listing ends."""
    http = _Listing(open_alerts, growth=growth)
    assert _list(http) >= open_alerts
    assert http.counts >= 2


def test_a_listing_past_an_unmoved_count_fails_after_one_more_count() -> None:
    """A server serving fresh pages past a count that does not move: 2 counts, then it fails."""
    http = _Listing(10**9, count=150)
    client = IlertClient(cast(HttpService, http))
    with pytest.raises(ListingUnboundedError):
        client.list_open_alerts(sources=[1], since=None, start=0, max_pages=None)
    assert http.counts == 2


def test_an_uncounted_listing_stops_at_the_hard_page_cap() -> None:
    """Count unusable and endless fresh pages: the listing stops at the cap, memory bounded."""
    http = _Listing(10**9, count=404)
    client = IlertClient(cast(HttpService, http))
    with pytest.raises(ListingUnboundedError):
        client.list_open_alerts(sources=[1], since=None, start=0, max_pages=None)
    assert http.pages == MAX_LISTING_PAGES
