"""A timeline read spread over passes ends in a bounded number of them, whatever the server does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.core.timeline_order import MAX_TIMELINE_PASSES
from ilert_statuspage_sync.sync.ilert_read import IlertReader
from ilert_statuspage_sync.sync.pass_state import Carryover, PassState
from ilert_statuspage_sync.sync.persistence import Books
from ilert_statuspage_sync.sync.report import PassReport
from tests.support.world import world_config

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


class _GrowingTimeline:
    """Serves a timeline newest first that gains ``growth`` entries at its head per request."""

    last_date_header = None

    def __init__(self, size: int, growth: int) -> None:
        self.size, self.growth, self.requests = size, growth, 0

    def get(self, _path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.requests += 1
        self.size += self.growth
        start, count = int(params["start-index"]), int(params["max-results"])
        ids = range(self.size - start, max(self.size - start - count, 0), -1)
        return [
            {
                "id": entry_id,
                "timestamp": f"2026-12-07T{entry_id // 3600 % 24:02d}:"
                f"{entry_id // 60 % 60:02d}:{entry_id % 60:02d}.000Z",
                "logEntryType": "NotificationLogEntry",
                "text": "Notified Ada by SMS",
                "alertId": 7,
                "vars": {},
            }
            for entry_id in ids
        ]


def _reader(http: _GrowingTimeline) -> IlertReader:
    config = world_config("classic", "https://ilert.invalid", "https://sp.invalid", "sqlite://")
    ilert = IlertClient(cast(HttpService, http))
    return IlertReader(config, ilert, {}, books=Books(5), carry=Carryover(), one_shot=False)


def test_a_timeline_growing_faster_than_the_budget_ends_after_the_pass_limit() -> None:
    """Growing by 200 entries a page (2 pages), it still ends within the pass limit, in id order."""
    http = _GrowingTimeline(size=1000, growth=200)
    reader = _reader(http)
    passes = 0
    for passes in range(1, MAX_TIMELINE_PASSES + 2):  # noqa: B007 - read after the loop
        state = PassState(now=NOW, report=PassReport(started_at=NOW))
        entries = reader.timeline(state, 7, after=None)
        if entries is not None:
            break
    assert entries is not None
    assert passes == MAX_TIMELINE_PASSES
    ids = [entry.id for entry in entries]
    assert ids == sorted(ids) and len(ids) > 1000
