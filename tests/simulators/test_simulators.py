"""Self-tests of the iLert and Statuspage simulators, spoken to over real HTTP."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from ilert_statuspage_sync.simulators import (
    IlertSimulator,
    StatuspageSimulator,
    running_simulators,
)
from tests.support.clock import FakeClock as FakeMonotonic

TIMEOUT = 5.0
PAGE = "kctbh9vrtdwd"
ILERT_AUTH = {"Authorization": "Bearer ilert-sim-key"}
STATUSPAGE_AUTH = {"Authorization": "OAuth statuspage-sim-key"}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


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


@pytest.fixture(name="pool")
def _pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def _wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _pages(http: requests.Session, statuspage: StatuspageSimulator, **kwargs: Any):
    return http.get(f"{statuspage.url}/v1/pages", headers=STATUSPAGE_AUTH, **kwargs)


def _one_shot(method: str, url: str, **kwargs: Any) -> requests.Response:
    """A request on its own connection, so a client timeout really closes the socket."""
    with requests.Session() as session:
        return session.request(method, url, **kwargs)


def _post_in_background(
    pool: ThreadPoolExecutor, statuspage: StatuspageSimulator, timeout: float = TIMEOUT
) -> Future[requests.Response]:
    return pool.submit(
        _one_shot,
        "POST",
        _incidents_url(statuspage),
        json={"incident": {"name": "Held"}},
        headers=STATUSPAGE_AUTH,
        timeout=timeout,
    )


class TestRateLimits:
    def test_statuspage_rolling_window_per_key(self, statuspage, http):
        """Admitted requests count for `window` seconds; throttled and unauthenticated do not."""
        clock = FakeMonotonic(100.0)
        statuspage.set_rate_limit(2, window=10.0, status=429, retry_after=1.5, monotonic=clock)
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        clock.now = 101.0
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        clock.now = 109.0
        throttled = _pages(http, statuspage, timeout=TIMEOUT)
        assert throttled.status_code == 429
        assert throttled.json() == {"error": "Rate limit exceeded"}
        assert throttled.headers["Retry-After"] == "2"
        assert http.get(f"{statuspage.url}/v1/pages", timeout=TIMEOUT).status_code == 401
        clock.now = 110.0  # the request at 100.0 rolls out of the window
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 429
        assert statuspage.rate_limit_violations() == 2
        assert [(r.status, r.fault) for r in statuspage.requests] == [
            (200, None),
            (200, None),
            (429, "rate-limit"),
            (401, None),
            (200, None),
            (429, "rate-limit"),
        ]

    def test_statuspage_default_is_420_without_retry_after(self, statuspage, http):
        """By default the throttle answers 420 and sends no Retry-After; None lifts it."""
        statuspage.set_rate_limit(0, monotonic=FakeMonotonic(0.0))
        throttled = _pages(http, statuspage, timeout=TIMEOUT)
        assert throttled.status_code == 420
        assert "Retry-After" not in throttled.headers
        statuspage.set_rate_limit(None)
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200

    def test_ilert_fixed_windows(self, ilert, http):
        """iLert counts per fixed window aligned to its multiples, and answers a bare 429."""
        clock = FakeMonotonic(59.5)
        ilert.set_rate_limit(2, window=60.0, monotonic=clock)
        assert [_alerts(http, ilert).status_code for _ in range(3)] == [200, 200, 429]
        throttled = _alerts(http, ilert)
        assert throttled.json() == {
            "status": 429,
            "message": "Too many requests",
            "code": "RATE_LIMITED",
        }
        assert "Retry-After" not in throttled.headers
        clock.now = 60.0  # a new window starts, however recent the last requests were
        assert [_alerts(http, ilert).status_code for _ in range(3)] == [200, 200, 429]
        assert ilert.rate_limit_violations() == 3


class TestFaultModes:
    def test_fail_next_uses_vendor_bodies(self, ilert, statuspage, http):
        """`fail_next` answers error bursts in each API's own error shape, then recovers."""
        ilert.fail_next(2, path_contains="/api/alerts")
        assert [_alerts(http, ilert).status_code for _ in range(3)] == [503, 503, 200]
        assert [r.fault for r in ilert.requests] == ["fail", "fail", None]
        statuspage.fail_next(1, 500, method="POST")
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        failed = _post_incident(http, statuspage, {"incident": {"name": "x"}})
        assert (failed.status_code, failed.json()) == (500, {"error": "Internal Server Error"})
        assert statuspage.incidents() == []

    def test_fail_next_ilert_body(self, ilert, http):
        """The iLert burst body carries status, message and code."""
        ilert.fail_next(1, 502)
        assert _alerts(http, ilert).json() == {
            "status": 502,
            "message": "Bad Gateway",
            "code": "ERROR",
        }

    def test_drop_before_apply_changes_nothing(self, statuspage, http):
        """A dropped request gets no HTTP answer at all and is not handled."""
        statuspage.drop_next(method="POST")
        with pytest.raises(requests.exceptions.ConnectionError):
            _post_incident(http, statuspage, {"incident": {"name": "lost"}})
        assert statuspage.incidents() == []
        assert [(r.status, r.fault) for r in statuspage.writes()] == [(0, "drop")]
        assert _create(http, statuspage, name="retried")["name"] == "retried"

    def test_drop_after_apply_loses_only_the_answer(self, statuspage, http):
        """With after_apply the incident is created, but the client never hears of it."""
        statuspage.drop_next(method="POST", after_apply=True)
        with pytest.raises(requests.exceptions.ConnectionError):
            _post_incident(http, statuspage, {"incident": {"name": "applied"}})
        assert [incident["name"] for incident in statuspage.incidents()] == ["applied"]
        assert statuspage.requests[-1].fault == "drop-after-apply"

    def test_malformed_body(self, ilert, http):
        """`malformed_next` sends raw HTML where JSON was expected."""
        ilert.malformed_next()
        response = _alerts(http, ilert)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html"
        assert response.content == b"<html>502 Bad Gateway</html>"
        with pytest.raises(requests.exceptions.JSONDecodeError):
            response.json()
        assert _alerts(http, ilert).json() == []


class TestStalls:
    def test_stall_before_apply_holds_only_that_request(self, statuspage, http, pool):
        """A held POST changes nothing until released; other requests are served meanwhile."""
        stall = statuspage.stall_next(method="POST")
        pending = _post_in_background(pool, statuspage)
        assert stall.wait_arrived(TIMEOUT)
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        assert statuspage.incidents() == []
        assert not pending.done()
        stall.release()
        assert pending.result(TIMEOUT).status_code == 201
        assert len(statuspage.incidents()) == 1

    def test_stall_before_apply_client_gone_is_not_applied(self, statuspage, pool):
        """A client that dies while its request is held leaves no trace."""
        stall = statuspage.stall_next(method="POST")
        pending = _post_in_background(pool, statuspage, timeout=0.3)
        assert stall.wait_arrived(TIMEOUT)
        with pytest.raises(requests.exceptions.ReadTimeout):
            pending.result(TIMEOUT)
        stall.release()
        assert stall.wait_finished(TIMEOUT)
        assert statuspage.incidents() == []
        assert [(r.status, r.fault) for r in statuspage.writes()] == [(0, "stall")]

    def test_stall_after_apply_holds_the_answer(self, statuspage, pool):
        """With after_apply the incident exists while the answer is still held."""
        stall = statuspage.stall_next(method="POST", after_apply=True)
        pending = _post_in_background(pool, statuspage)
        assert stall.wait_arrived(TIMEOUT)
        assert [incident["name"] for incident in statuspage.incidents()] == ["Held"]
        assert not pending.done()
        stall.release()
        response = pending.result(TIMEOUT)
        assert (response.status_code, response.json()["name"]) == (201, "Held")

    def test_stop_aborts_a_held_stall(self, pool):
        """Stopping the server never waits for a held request; the client loses its answer."""
        simulator = StatuspageSimulator().start()
        try:
            stall = simulator.stall_next()
            pending = pool.submit(
                _one_shot, "GET", f"{simulator.url}/v1/pages", headers=STATUSPAGE_AUTH, timeout=10
            )
            assert stall.wait_arrived(TIMEOUT)
        finally:
            started = time.monotonic()
            simulator.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(requests.exceptions.ConnectionError):
            pending.result(TIMEOUT)
        assert stall.wait_finished(TIMEOUT)


class TestOutages:
    def test_refuse_then_rebind_same_port(self, ilert, http):
        """`refuse` cuts even open keep-alive connections; coming back keeps the URL."""
        url = ilert.url
        assert _alerts(http, ilert).status_code == 200  # leaves a pooled connection open
        ilert.set_down("refuse")
        assert ilert.url == url
        with pytest.raises(requests.exceptions.ConnectionError):
            _alerts(http, ilert)
        with pytest.raises(requests.exceptions.ConnectionError):
            _one_shot("GET", f"{url}/api/alerts", headers=ILERT_AUTH, timeout=TIMEOUT)
        ilert.set_down(None)
        assert ilert.url == url
        assert _alerts(http, ilert).status_code == 200

    def test_error_mode_answers_vendor_503(self, ilert, statuspage, http):
        """`error` answers every request 503 in the vendor's shape until lifted."""
        ilert.set_down("error")
        statuspage.set_down("error")
        ilert_answer = _alerts(http, ilert)
        statuspage_answer = _pages(http, statuspage, timeout=TIMEOUT)
        assert (ilert_answer.status_code, ilert_answer.json()["status"]) == (503, 503)
        assert statuspage_answer.status_code == 503
        assert statuspage_answer.json() == {"error": "Service Unavailable"}
        ilert.set_down(None)
        assert _alerts(http, ilert).status_code == 200

    def test_hang_mode_times_out_the_client(self, statuspage, http):
        """`hang` never answers; after the outage, new requests are served again."""
        statuspage.set_down("hang")
        with pytest.raises(requests.exceptions.ReadTimeout):
            _one_shot("GET", f"{statuspage.url}/v1/pages", headers=STATUSPAGE_AUTH, timeout=0.3)
        statuspage.set_down(None)
        assert _pages(http, statuspage, timeout=TIMEOUT).status_code == 200
        # The abandoned request is recorded (unhandled) once the outage ends.
        assert _wait_until(lambda: len(statuspage.requests) == 2)
        assert sorted((r.status, r.fault or "") for r in statuspage.requests) == [
            (0, "down-hang"),
            (200, ""),
        ]

    def test_stop_ends_a_hang(self, pool):
        """A hanging simulator still stops promptly."""
        simulator = IlertSimulator().start()
        simulator.set_down("hang")
        pending = pool.submit(
            _one_shot, "GET", f"{simulator.url}/api/alerts", headers=ILERT_AUTH, timeout=10
        )
        time.sleep(0.3)  # let the request arrive and hang (stop must work either way)
        started = time.monotonic()
        simulator.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(requests.exceptions.ConnectionError):
            pending.result(TIMEOUT)

    def test_unknown_mode_is_rejected(self, ilert):
        """Only None, refuse, error and hang are modes."""
        with pytest.raises(ValueError, match="mode"):
            ilert.set_down("maintenance")


def test_a_statuspage_answer_renders_the_timeline_without_copying_each_update(
    http: requests.Session, statuspage: StatuspageSimulator, monkeypatch: pytest.MonkeyPatch
):
    """A PATCH answer after 30 updates costs the same deep copies as after 5 (each update
    was copied for every answer: a storm's n joins rendered n²/2), and still carries all."""
    copies: list[int] = []
    original = copy.deepcopy

    def counted(value: Any, memo: dict[int, Any] | None = None) -> Any:
        memo = {} if memo is None else memo
        copied = original(value, memo)
        copies.append(len(memo))  # every object this copy made (and its keep-alive list)
        return copied

    incident = _create(http, statuspage, name="Storm", status="investigating")
    costs = []
    for total in (5, 30):
        while len(statuspage.incident(incident["id"])["incident_updates"]) < total - 1:
            assert _patch(http, statuspage, incident["id"], body="earlier").status_code == 200
        monkeypatch.setattr(copy, "deepcopy", counted)
        answer = _patch(http, statuspage, incident["id"], body=f"update {total}").json()
        monkeypatch.setattr(copy, "deepcopy", original)
        assert len(answer["incident_updates"]) == total
        costs.append(sum(copies))
        copies.clear()
    assert costs[0] == costs[1], costs
