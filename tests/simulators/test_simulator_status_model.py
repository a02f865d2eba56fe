"""The iLert simulator's status model (incidents, services, maintenance windows) over HTTP.

Shapes from the iLert OpenAPI spec: `Incident`, `Service`, `MaintenanceWindow` (plus the
`id` the spec's schema omits), lists paged by `start-index`/`max-results` (at most 100).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ilert_statuspage_sync.simulators import IlertSimulator

TIMEOUT = 5.0
AUTH = {"Authorization": "Bearer ilert-sim-key"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _get(http: requests.Session, ilert: IlertSimulator, path: str, **query: Any):
    return http.get(f"{ilert.url}{path}", params=query, headers=AUTH, timeout=TIMEOUT)


def _send(http: requests.Session, ilert: IlertSimulator, method: str, path: str, body: Any = None):
    return http.request(method, f"{ilert.url}{path}", json=body, headers=AUTH, timeout=TIMEOUT)


def _ids(answer: requests.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()]


def _frozen(ilert: IlertSimulator) -> None:
    ilert.set_clock(lambda: NOW)


class TestIncidents:
    def test_listing_filters_by_state_and_service_newest_first(self, ilert, http):
        """`states` and `services` repeat; the list is newest first."""
        web, db = ilert.add_service("Web"), ilert.add_service("DB")
        a = ilert.add_incident("Web slow", affected={web: "DEGRADED"})
        b = ilert.add_incident("DB down", status="IDENTIFIED", affected={db: "MAJOR_OUTAGE"})
        c = ilert.add_incident("Both", affected={web: "DEGRADED", db: "DEGRADED"})
        ilert.resolve_incident(c)
        assert _ids(_get(http, ilert, "/api/incidents", **{"max-results": 100})) == [c, b, a]
        states = {"states": ["INVESTIGATING", "IDENTIFIED"]}
        assert _ids(_get(http, ilert, "/api/incidents", **states)) == [b, a]
        assert _ids(_get(http, ilert, "/api/incidents", services=[db])) == [c, b]
        assert _ids(_get(http, ilert, "/api/incidents", states="RESOLVED", services=db)) == [c]

    def test_from_until_filter_on_creation(self, ilert, http):
        """`from` and `until` bound the incidents' creation time."""
        early = ilert.add_incident("early", created_at=NOW - timedelta(days=2))
        late = ilert.add_incident("late", created_at=NOW)
        since = (NOW - timedelta(days=1)).isoformat()
        assert _ids(_get(http, ilert, "/api/incidents", **{"from": since})) == [late]
        assert _ids(_get(http, ilert, "/api/incidents", until=since)) == [early]

    def test_paging_and_its_limits(self, ilert, http):
        """Pages follow start-index/max-results; the default is 10, above 100 a 400."""
        ids = [ilert.add_incident(f"i{n}") for n in range(25)]
        assert len(_ids(_get(http, ilert, "/api/incidents"))) == 10
        page = _get(http, ilert, "/api/incidents", **{"start-index": 20, "max-results": 100})
        assert _ids(page) == list(reversed(ids))[20:]
        for bad in ({"max-results": 101}, {"max-results": -1}, {"start-index": "x"}):
            answer = _get(http, ilert, "/api/incidents", **bad)
            assert answer.status_code == 400, bad
            assert answer.json()["code"] == "BAD_REQUEST"
        assert _get(http, ilert, "/api/incidents", states="LOST").status_code == 400

    def test_get_by_id_and_404(self, ilert, http):
        """An incident reads by id with its affected services in full; an unknown id is 404."""
        web = ilert.add_service("Web")
        incident_id = ilert.add_incident("Web slow", affected={web: "PARTIAL_OUTAGE"})
        answer = _get(http, ilert, f"/api/incidents/{incident_id}")
        assert answer.json() == ilert.incident(incident_id)
        affected = answer.json()["affectedServices"][0]
        assert affected["impact"] == "PARTIAL_OUTAGE"
        assert (affected["service"]["id"], affected["service"]["name"]) == (web, "Web")
        assert _get(http, ilert, "/api/incidents/999").status_code == 404

    def test_writes_over_http_bump_updated_at(self, ilert, http):
        """POST creates (200); PUT changes the fields sent, bumps updatedAt, sets resolvedOn."""
        clock = [NOW]
        ilert.set_clock(lambda: clock[0])
        web = ilert.add_service("Web")
        body = {
            "summary": "Web slow",
            "status": "INVESTIGATING",
            "message": "looking",
            "affectedServices": [{"impact": "DEGRADED", "service": {"id": web}}],
        }
        created = _send(http, ilert, "POST", "/api/incidents", body)
        assert created.status_code == 200, created.text
        incident = created.json()
        assert incident["updatedAt"] == "2026-03-01T12:00:00.000Z"
        clock[0] = NOW + timedelta(minutes=5)
        path = f"/api/incidents/{incident['id']}"
        updated = _send(http, ilert, "PUT", path, {"status": "RESOLVED", "message": "fixed"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["updatedAt"] == "2026-03-01T12:05:00.000Z"
        assert updated.json()["resolvedOn"] == "2026-03-01T12:05:00.000Z"
        assert (updated.json()["summary"], updated.json()["message"]) == ("Web slow", "fixed")

    def test_bad_writes_are_400_and_unknown_ids_404(self, ilert, http):
        """A bad status, impact or unknown service is a 400; a PUT of no incident a 404."""
        web = ilert.add_service("Web")
        bad = [
            {"status": "INVESTIGATING"},
            {"summary": "x", "status": "FIXED"},
            {"summary": "x", "affectedServices": [{"impact": "SAD", "service": {"id": web}}]},
            {"summary": "x", "affectedServices": [{"impact": "DEGRADED", "service": {"id": 9}}]},
        ]
        for body in bad:
            assert _send(http, ilert, "POST", "/api/incidents", body).status_code == 400, body
        assert _send(http, ilert, "PUT", "/api/incidents/5", {"summary": "x"}).status_code == 404

    def test_services_show_their_open_incidents_worst_impact(self, ilert, http):
        """An open incident's impact shows on its services; resolved, their own status again."""
        web = ilert.add_service("Web", status="UNDER_MAINTENANCE")
        first = ilert.add_incident("a", affected={web: "DEGRADED"})
        ilert.add_incident("b", affected={web: "MAJOR_OUTAGE"}, status="RESOLVED")
        assert _get(http, ilert, f"/api/services/{web}").json()["status"] == "DEGRADED"
        ilert.resolve_incident(first)
        assert _get(http, ilert, f"/api/services/{web}").json()["status"] == "UNDER_MAINTENANCE"


class TestServices:
    def test_paging_counts_and_writes(self, ilert, http):
        """250 services are three pages of 100; POST and PUT change them."""
        for n in range(250):
            ilert.add_service(f"s{n}")
        sizes = [
            len(_ids(_get(http, ilert, "/api/services", **{"start-index": s, "max-results": 100})))
            for s in (0, 100, 200)
        ]
        assert sizes == [100, 100, 50]
        created = _send(http, ilert, "POST", "/api/services", {"name": "API", "status": "DEGRADED"})
        assert created.status_code == 200, created.text
        sid = created.json()["id"]
        changed = _send(http, ilert, "PUT", f"/api/services/{sid}", {"status": "OPERATIONAL"})
        assert (changed.json()["name"], changed.json()["status"]) == ("API", "OPERATIONAL")
        assert (
            _send(http, ilert, "PUT", f"/api/services/{sid}", {"status": "ON"}).status_code == 400
        )
        assert _send(http, ilert, "DELETE", f"/api/services/{sid}").status_code == 204
        assert _get(http, ilert, f"/api/services/{sid}").status_code == 404


class TestWindows:
    def test_state_open_is_upcoming_and_ongoing(self, ilert, http):
        """OPEN holds the windows ending after the simulator's now; CLOSED the past ones."""
        _frozen(ilert)
        hour = timedelta(hours=1)
        past = ilert.add_window("past", NOW - 2 * hour, NOW - hour)
        ongoing = ilert.add_window("ongoing", NOW - hour, NOW + hour)
        upcoming = ilert.add_window("upcoming", NOW + hour, NOW + 2 * hour)
        assert _ids(_get(http, ilert, "/api/maintenance-windows", state="OPEN")) == [
            ongoing,
            upcoming,
        ]
        assert _ids(_get(http, ilert, "/api/maintenance-windows", state="CLOSED")) == [past]
        assert len(_ids(_get(http, ilert, "/api/maintenance-windows"))) == 3
        assert _get(http, ilert, "/api/maintenance-windows", state="SOON").status_code == 400

    def test_filters_by_services_and_sources(self, ilert, http):
        """`services` and `sources` keep windows naming any of them."""
        web, source = ilert.add_service("Web"), ilert.add_alert_source("Checkout API")
        start, end = NOW, NOW + timedelta(hours=1)
        on_web = ilert.add_window("web", start, end, service_ids=[web])
        on_source = ilert.add_window("src", start, end, source_ids=[source])
        ilert.add_window("none", start, end)
        path = "/api/maintenance-windows"
        assert _ids(_get(http, ilert, path, services=web)) == [on_web]
        assert _ids(_get(http, ilert, path, sources=source)) == [on_source]

    def test_windows_serve_an_id_and_http_writes(self, ilert, http):
        """POST answers the window with an `id` (not in the spec's schema); PUT, DELETE work."""
        web = ilert.add_service("Web")
        body = {
            "summary": "DB upgrade",
            "start": "2026-03-02T22:00:00Z",
            "end": "2026-03-02T23:00:00Z",
            "services": [{"id": web}],
        }
        created = _send(http, ilert, "POST", "/api/maintenance-windows", body)
        assert created.status_code == 200, created.text
        window = created.json()
        assert window["services"][0]["name"] == "Web"
        path = f"/api/maintenance-windows/{window['id']}"
        edited = _send(http, ilert, "PUT", path, {"end": "2026-03-03T01:00:00Z"})
        assert edited.json()["end"] == "2026-03-03T01:00:00.000Z"
        assert edited.json()["summary"] == "DB upgrade"
        backwards = _send(http, ilert, "PUT", path, {"end": "2026-03-01T00:00:00Z"})
        assert backwards.status_code == 400
        assert _send(http, ilert, "DELETE", path).status_code == 204
        assert _get(http, ilert, path).status_code == 404

    def test_python_controls(self, ilert):
        """edit_window and delete_window change what the API serves."""
        window_id = ilert.add_window("w", NOW, NOW + timedelta(hours=1))
        ilert.edit_window(window_id, summary="renamed", end=NOW + timedelta(hours=3))
        assert ilert.window(window_id)["summary"] == "renamed"
        assert ilert.window(window_id)["end"] == "2026-03-01T15:00:00.000Z"
        ilert.delete_window(window_id)
        assert ilert.requests == []


class TestSharedMachinery:
    def test_auth_and_rate_limit_cover_the_status_model(self, ilert, http):
        """The status endpoints need the key and count toward the same 429 budget."""
        assert http.get(f"{ilert.url}/api/services", timeout=TIMEOUT).status_code == 401
        ilert.set_rate_limit(2, window=3600.0)
        assert _get(http, ilert, "/api/alerts").status_code == 200
        assert _get(http, ilert, "/api/services").status_code == 200
        assert _get(http, ilert, "/api/maintenance-windows").status_code == 429
        assert ilert.rate_limit_violations() == 1

    def test_faults_apply(self, ilert, http):
        """A queued fault answers a status-model request as it would an alert request."""
        ilert.fail_next(1, 503, path_contains="/api/incidents")
        assert _get(http, ilert, "/api/incidents").status_code == 503
        assert _get(http, ilert, "/api/incidents").status_code == 200

    def test_planted_objects_are_served_verbatim(self, ilert, http):
        """A raw (malformed) object is served as planted, beside the managed ones."""
        ilert.add_service("Web")
        ilert.set_raw_service(7, {"id": True, "status": 3})
        assert _get(http, ilert, "/api/services").json()[1] == {"id": True, "status": 3}
