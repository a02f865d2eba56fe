"""``IlertClient``'s reads of iLert's status model, against the iLert simulator over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.clients.ilert import IlertClient, ListingUnboundedError
from ilert_statuspage_sync.core.bridge_model import AffectedService
from ilert_statuspage_sync.core.listing import MAX_LISTING_PAGES
from ilert_statuspage_sync.errors import ApiError, PayloadError
from ilert_statuspage_sync.runtime.secrets import register_secrets
from ilert_statuspage_sync.simulators import IlertSimulator

KEY = "st4tus-r3ad-k9q2w7e5"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(name="sim")
def _sim() -> Iterator[IlertSimulator]:
    with IlertSimulator(api_key=KEY) as simulator:
        simulator.set_clock(lambda: NOW)
        yield simulator


def _client(sim: IlertSimulator, key: str = KEY) -> IlertClient:
    budget = RateBudget(10_000)
    return IlertClient(HttpService("ilert", sim.url, f"Bearer {key}", budget, retry=RetryPolicy(1)))


def _requests(sim: IlertSimulator, path: str) -> list[dict[str, list[str]]]:
    return [r.query for r in sim.requests if r.path == path]


@pytest.mark.parametrize(("services", "requests"), [(250, 3), (100, 2), (99, 1), (0, 1)])
def test_services_are_paged_by_100_until_a_short_page(
    sim: IlertSimulator, services: int, requests: int
) -> None:
    """250 services take 3 requests, 100 take 2 (the second one empty), 99 take one."""
    for n in range(services):
        sim.add_service(f"service {n}")
    read = _client(sim).list_services()
    assert len(read.items) == services
    assert read.pages == requests
    queries = _requests(sim, "/api/services")
    assert len(queries) == requests
    assert {q["max-results"][0] for q in queries} == {"100"}
    assert [int(q["start-index"][0]) for q in queries] == [100 * n for n in range(requests)]


def test_incidents_filtered_by_states_and_services(sim: IlertSimulator) -> None:
    """States and services are sent as repeated parameters and narrow the listing."""
    web, db = sim.add_service("Web"), sim.add_service("DB")
    open_web = sim.add_incident("web", affected={web: "DEGRADED"})
    open_db = sim.add_incident("db", status="MONITORING", affected={db: "MAJOR_OUTAGE"})
    done = sim.add_incident("done", affected={web: "PARTIAL_OUTAGE"})
    sim.resolve_incident(done)
    client = _client(sim)
    unresolved = client.list_incidents(states=("INVESTIGATING", "IDENTIFIED", "MONITORING"))
    assert [i.id for i in unresolved.items] == [open_db, open_web]
    on_web = client.list_incidents(services=[web])
    assert [i.id for i in on_web.items] == [done, open_web]
    assert on_web.items[1].affected == (AffectedService(web, "DEGRADED"),)
    assert _requests(sim, "/api/incidents")[0]["states"] == [
        "INVESTIGATING",
        "IDENTIFIED",
        "MONITORING",
    ]


def test_windows_open_by_default(sim: IlertSimulator) -> None:
    """The default state OPEN reads upcoming and ongoing windows; None reads every one."""
    hour = timedelta(hours=1)
    sim.add_window("past", NOW - 2 * hour, NOW - hour)
    ongoing = sim.add_window("ongoing", NOW - hour, NOW + hour)
    upcoming = sim.add_window("upcoming", NOW + hour, NOW + 2 * hour)
    client = _client(sim)
    assert [w.id for w in client.list_maintenance_windows().items] == [ongoing, upcoming]
    assert len(client.list_maintenance_windows(state=None).items) == 3
    assert client.list_maintenance_windows("CLOSED").items[0].end == NOW - hour


def test_get_by_id_and_404(sim: IlertSimulator) -> None:
    """A read by id parses the object; an unknown id is None, not an error."""
    web = sim.add_service("Web")
    incident_id = sim.add_incident("web", affected={web: "DEGRADED"})
    window_id = sim.add_window("w", NOW, NOW + timedelta(hours=1), service_ids=[web])
    client = _client(sim)
    incident = client.get_incident(incident_id)
    assert incident is not None
    assert incident.summary == "web"
    window = client.get_maintenance_window(window_id)
    assert window is not None
    assert window.service_ids == (web,)
    assert client.get_incident(999) is None
    assert client.get_maintenance_window(999) is None


def test_an_unreadable_object_is_reported_and_the_others_kept(sim: IlertSimulator) -> None:
    """A bool id or a missing status is one Unreadable with the field named; the rest read."""
    sim.add_service("Web")
    sim.set_raw_service(50, {"id": True, "name": "bool id", "status": "OPERATIONAL"})
    sim.set_raw_service(51, {"id": 51, "name": "no status"})
    sim.add_service("DB", service_id=60)
    read = _client(sim).list_services()
    assert [s.name for s in read.items] == ["Web", "DB"]
    assert [(u.kind, u.id) for u in read.unreadable] == [("service", None), ("service", 51)]
    assert "field 'id'" in read.unreadable[0].reason
    assert "field 'status' is missing" in read.unreadable[1].reason


def test_a_window_without_id_is_unreadable(sim: IlertSimulator) -> None:
    """A window served without an id (as the spec's schema has it) cannot be followed."""
    sim.set_raw_window(
        1, {"summary": "no id", "start": "2026-03-01T13:00:00Z", "end": "2026-03-01T14:00:00Z"}
    )
    read = _client(sim).list_maintenance_windows()
    assert read.items == ()
    assert read.unreadable[0].reason == "maintenance window: field 'id' is missing"


def test_an_unreadable_object_by_id_raises(sim: IlertSimulator) -> None:
    """A read by id of an unreadable incident raises a PayloadError naming the field."""
    sim.set_raw_incident(3, {"id": 3, "status": ["RESOLVED"]})
    with pytest.raises(PayloadError, match="incident 3: field 'status' must be a string"):
        _client(sim).get_incident(3)


def test_the_key_is_never_in_an_error(sim: IlertSimulator) -> None:
    """A refused key and a field echoing the key both leave the key out of every message."""
    register_secrets([KEY])
    sim.set_raw_service(1, {"id": 1, "name": "x", "status": KEY + "\x00"})
    read = _client(sim).list_services()
    assert KEY not in read.unreadable[0].reason
    assert KEY[:8] not in read.unreadable[0].reason
    with pytest.raises(ApiError) as refused:
        _client(sim, key=KEY[::-1]).get_incident(1)
    assert KEY not in str(refused.value)
    assert KEY[::-1] not in str(refused.value)


def test_status_reads_share_the_alert_reads_budget(sim: IlertSimulator) -> None:
    """Every status-model request takes a slot of the same budget as the alert reads."""
    client = _client(sim)
    before = client.http.budget.granted
    client.list_services()
    client.list_incidents()
    client.list_maintenance_windows()
    client.get_incident(1)
    assert client.http.budget.granted - before == 4


class _EndlessServices:
    """A broken server: every page of services is full of services never served before."""

    last_date_header = None

    def __init__(self) -> None:
        self.pages = 0

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        self.pages += 1
        start = int((params or {})["start-index"])
        return [{"id": start + n + 1, "status": "OPERATIONAL"} for n in range(100)]


def test_a_listing_that_does_not_end_stops_at_the_page_cap() -> None:
    """Full pages forever: the listing is refused after MAX_LISTING_PAGES requests."""
    http = _EndlessServices()
    with pytest.raises(ListingUnboundedError, match="GET /api/services served 1000 full pages"):
        IlertClient(cast(HttpService, http)).list_services()
    assert http.pages == MAX_LISTING_PAGES
