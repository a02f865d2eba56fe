"""Self-tests of the iLert and Statuspage simulators, spoken to over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from ilert_statuspage_sync.simulators import (
    IlertSimulator,
    StatuspageSimulator,
    running_simulators,
)

TIMEOUT = 5.0
PAGE = "kctbh9vrtdwd"
ILERT_AUTH = {"Authorization": "Bearer ilert-sim-key"}
STATUSPAGE_AUTH = {"Authorization": "OAuth statuspage-sim-key"}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(name="ilert")
def _ilert() -> Iterator[IlertSimulator]:
    with IlertSimulator() as simulator:
        yield simulator


@pytest.fixture(name="statuspage")
def _statuspage() -> Iterator[StatuspageSimulator]:
    with StatuspageSimulator(seed=7) as simulator:
        yield simulator


@pytest.fixture(name="http")
def _http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _alerts(http: requests.Session, ilert: IlertSimulator, query: str = "") -> requests.Response:
    return http.get(f"{ilert.url}/api/alerts{query}", headers=ILERT_AUTH, timeout=TIMEOUT)


def _incidents_url(statuspage: StatuspageSimulator, suffix: str = "") -> str:
    return f"{statuspage.url}/v1/pages/{PAGE}/incidents{suffix}"


def _post_incident(
    http: requests.Session, statuspage: StatuspageSimulator, body: object
) -> requests.Response:
    url = _incidents_url(statuspage)
    return http.post(url, json=body, headers=STATUSPAGE_AUTH, timeout=TIMEOUT)


def _create(
    http: requests.Session, statuspage: StatuspageSimulator, **fields: object
) -> dict[str, Any]:
    response = _post_incident(http, statuspage, {"incident": fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _patch(
    http: requests.Session, statuspage: StatuspageSimulator, incident_id: str, **fields: object
) -> requests.Response:
    url = _incidents_url(statuspage, f"/{incident_id}")
    return http.patch(url, json={"incident": fields}, headers=STATUSPAGE_AUTH, timeout=TIMEOUT)


class TestIlert:
    @pytest.mark.parametrize(
        ("headers", "status", "code"),
        [
            ({}, 401, "UNAUTHORIZED"),
            ({"Authorization": "Bearer wrong"}, 403, "KEY_ERROR"),
            ({"Authorization": "ilert-sim-key"}, 403, "KEY_ERROR"),
        ],
        ids=["missing", "wrong-key", "no-bearer-prefix"],
    )
    def test_auth_failures(self, ilert, http, headers, status, code):
        """A missing header is a 401 and any other credential a 403 KEY_ERROR."""
        response = http.get(f"{ilert.url}/api/alerts", headers=headers, timeout=TIMEOUT)
        assert response.status_code == status
        assert response.json()["code"] == code
        assert ilert.requests[-1].status == status

    def test_max_results_above_cap_is_400(self, ilert, http):
        """Asking for more than 100 alerts is a hard 400, not a clamp."""
        response = _alerts(http, ilert, "?max-results=101")
        assert response.status_code == 400
        assert response.json()["message"] == "'max-results' must not be above 100"
        assert _alerts(http, ilert, "?max-results=100").status_code == 200

    def test_state_filter_and_alert_shape(self, ilert, http):
        """`states` filters by status, and alerts carry spec field names and ms-Z timestamps."""
        pending = ilert.create_alert(7, "pending")
        accepted = ilert.create_alert(7, "accepted")
        ilert.accept(accepted)
        ilert.resolve(ilert.create_alert(7, "resolved"))
        alerts = _alerts(http, ilert, "?states=PENDING&states=ACCEPTED").json()
        assert {alert["id"] for alert in alerts} == {pending, accepted}
        accepted_alert = next(alert for alert in alerts if alert["id"] == accepted)
        assert accepted_alert["responders"][0]["status"] == "ACCEPTED"
        assert accepted_alert["nextEscalation"] is None
        assert ISO_MILLIS_Z.match(accepted_alert["reportTime"])
        assert _alerts(http, ilert, "?states=OPEN").status_code == 400

    def test_from_filter_is_inclusive_on_report_time(self, ilert, http):
        """`from` keeps alerts reported at or after it and drops older ones."""
        cutoff = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
        ilert.create_alert(1, "old", report_time=cutoff - timedelta(seconds=1))
        at_cutoff = ilert.create_alert(1, "edge", report_time=cutoff)
        alerts = _alerts(http, ilert, "?from=2026-11-27T10:00:00.000Z").json()
        assert [alert["id"] for alert in alerts] == [at_cutoff]
        assert _alerts(http, ilert, "?from=yesterday").status_code == 400

    def test_log_entries_with_vars(self, ilert, http):
        """A comment shows up newest first, verbatim in `text`, and in `vars` only on request."""
        alert_id = ilert.create_alert(1, "disk full")
        entry_id = ilert.comment(alert_id, "Rotating logs now")
        url = f"{ilert.url}/api/alerts/{alert_id}/log-entries"
        plain = http.get(url, headers=ILERT_AUTH, timeout=TIMEOUT).json()
        with_vars = http.get(url, params={"include": "vars"}, headers=ILERT_AUTH, timeout=TIMEOUT)
        with_vars_entries = with_vars.json()
        assert [entry["logEntryType"] for entry in plain] == [
            "AlertCommentAddedLogEntry",
            "AlertReceivedLogEntry",
        ]
        assert plain[0]["id"] == entry_id
        assert plain[0]["text"] == "Rotating logs now"
        assert "vars" not in plain[0]
        assert with_vars_entries[0]["vars"] == {
            "comment": "Rotating logs now",
            "author": "Ada Lovelace",
        }

    def test_unknown_alert_is_404(self, ilert, http):
        """An unknown alert id answers 404 NOT_FOUND."""
        response = http.get(f"{ilert.url}/api/alerts/999", headers=ILERT_AUTH, timeout=TIMEOUT)
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


class TestStatuspage:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer statuspage-sim-key"}, {"Authorization": "OAuth wrong"}],
        ids=["missing", "bearer-scheme", "wrong-key"],
    )
    def test_auth_failures(self, statuspage, http, headers):
        """Anything but `OAuth <key>` is a 401 with the observed error body."""
        response = http.get(f"{statuspage.url}/v1/pages", headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401
        assert response.json() == {"error": "Could not authenticate"}

    def test_create_patch_and_unresolved_listing(self, statuspage, http):
        """A created incident is listed as unresolved until a PATCH resolves it."""
        created = _create(http, statuspage, name="API errors", body="Looking into it")
        assert created["status"] == "investigating"
        assert created["metadata"] == {}
        assert [u["body"] for u in created["incident_updates"]] == ["Looking into it"]
        unresolved_url = _incidents_url(statuspage, "/unresolved")
        unresolved = http.get(unresolved_url, headers=STATUSPAGE_AUTH, timeout=TIMEOUT).json()
        assert [incident["id"] for incident in unresolved] == [created["id"]]
        resolved = _patch(http, statuspage, created["id"], status="resolved").json()
        assert ISO_MILLIS_Z.match(resolved["resolved_at"])
        assert http.get(unresolved_url, headers=STATUSPAGE_AUTH, timeout=TIMEOUT).json() == []
        assert [request.method for request in statuspage.writes()] == ["POST", "PATCH"]

    @pytest.mark.parametrize(
        ("fields", "message_part"),
        [
            ({"name": "x" * 256}, "too long"),
            ({"name": "Maintenance?", "status": "in_progress"}, "not valid for a realtime"),
            ({"name": "Bad metadata", "metadata": {"ilert": 42}}, "must be objects"),
        ],
        ids=["long-name", "maintenance-status", "flat-metadata"],
    )
    def test_validation_is_422(self, http, fields, message_part):
        """Documented validation failures answer 422 with an `error` body."""
        with StatuspageSimulator(reject_maintenance_status=True) as strict:
            response = _post_incident(http, strict, {"incident": fields})
        assert response.status_code == 422
        assert message_part in response.json()["error"]

    def test_maintenance_status_accepted_without_reject_mode(self, statuspage, http):
        """By default a realtime incident may take `in_progress`, as the schema allows."""
        assert _create(http, statuspage, name="x", status="in_progress")["status"] == "in_progress"

    def test_missing_wrapper_and_bad_json_are_400(self, statuspage, http):
        """A body without the `incident` wrapper, or not JSON at all, is a 400."""
        unwrapped = _post_incident(http, statuspage, {"name": "x"})
        garbled = http.post(
            _incidents_url(statuspage), data="{", headers=STATUSPAGE_AUTH, timeout=TIMEOUT
        )
        assert (unwrapped.status_code, garbled.status_code) == (400, 400)

    def test_updates_appended_on_body_and_status_but_not_metadata(self, statuspage, http):
        """Only a body or a status change adds an incident update; metadata alone does not."""
        incident_id = _create(http, statuspage, name="x")["id"]
        _patch(http, statuspage, incident_id, metadata={"ilert": {"alert_id": "1"}})
        assert len(statuspage.incident(incident_id)["incident_updates"]) == 1
        _patch(http, statuspage, incident_id, body="Comment from iLert")
        _patch(http, statuspage, incident_id, status="identified")
        updates = statuspage.incident(incident_id)["incident_updates"]
        assert [(u["status"], u["body"]) for u in updates] == [
            ("identified", ""),
            ("investigating", "Comment from iLert"),
            ("investigating", ""),
        ]
        assert statuspage.incident(incident_id)["metadata"] == {"ilert": {"alert_id": "1"}}

    def test_json_suffix_and_list_cap(self, statuspage, http):
        """Paths may end in `.json`, and a list `limit` above 100 is a 400."""
        incident_id = _create(http, statuspage, name="x")["id"]
        url = _incidents_url(statuspage, f"/{incident_id}.json")
        assert http.get(url, headers=STATUSPAGE_AUTH, timeout=TIMEOUT).json()["id"] == incident_id
        too_many = http.get(
            _incidents_url(statuspage, ".json"),
            params={"limit": 101},
            headers=STATUSPAGE_AUTH,
            timeout=TIMEOUT,
        )
        assert too_many.status_code == 400


class TestFaultsAndDelay:
    def test_fault_is_served_then_real_handling_resumes(self, ilert, http):
        """An injected 503 answers the next matching request only, and is recorded."""
        ilert.inject_fault(503, {"status": 503}, headers={"Retry-After": "1"}, path_contains="/api")
        faulted = _alerts(http, ilert)
        assert (faulted.status_code, faulted.headers["Retry-After"]) == (503, "1")
        assert _alerts(http, ilert).status_code == 200
        assert [request.status for request in ilert.requests] == [503, 200]

    def test_delay_makes_client_time_out(self, statuspage, http):
        """A response delay longer than the client timeout surfaces as a read timeout."""
        statuspage.set_delay(2.0)
        with pytest.raises(requests.exceptions.ReadTimeout):
            http.get(f"{statuspage.url}/v1/pages", headers=STATUSPAGE_AUTH, timeout=0.2)

    def test_running_simulators_starts_and_stops_both(self, http):
        """The context manager yields two live simulators and releases them on exit."""
        with running_simulators(page_ids=["p1"]) as (ilert, statuspage):
            assert _alerts(http, ilert).status_code == 200
            page = http.get(
                f"{statuspage.url}/v1/pages/p1", headers=STATUSPAGE_AUTH, timeout=TIMEOUT
            )
            assert page.json()["id"] == "p1"
        with pytest.raises(RuntimeError):
            _ = ilert.url
