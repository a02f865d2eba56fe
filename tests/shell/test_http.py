"""Tests of the HTTP choke point: pacing, retry delays and errors over real loopback HTTP."""

from __future__ import annotations

import email.utils
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ilert_statuspage_sync.clients.http import THROTTLE_WAITS, HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    SyncError,
    ThrottledError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.deadlines import WRITE_START_WINDOW
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.clock import FakeClock

ILERT_KEY = "canary-key-7f3a"
STATUSPAGE_KEY = "canary-sp-key-91c2"
WRONG_KEY = "canary-wrong-key-5d0e"
KEYS = (ILERT_KEY, STATUSPAGE_KEY, WRONG_KEY)
PAGE = "kctbh9vrtdwd"
PAGE_PATH = f"/v1/pages/{PAGE}"
INCIDENTS_PATH = f"/v1/pages/{PAGE}/incidents"
NO_RETRY = RetryPolicy(attempts=1)
QUICK_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, throttle_delay=0.5)


def _assert_secret_free(error: BaseException) -> None:
    texts = [str(error), repr(error), *(str(arg) for arg in error.args)]
    if isinstance(error, ApiError):
        texts.append(error.message)
    for text in texts:
        for key in KEYS:
            assert key not in text


@pytest.fixture(name="clock")
def _clock() -> FakeClock:
    return FakeClock()


# -- RateBudget ---------------------------------------------------------------


class TestRateBudget:
    def test_acquisitions_within_the_limit_do_not_wait(self, clock):
        """Up to ``limit`` requests in a window go out at once."""
        budget = RateBudget(3, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)

        waits = [budget.acquire() for _ in range(3)]

        assert waits == [0.0, 0.0, 0.0]
        assert clock.sleeps == []
        assert budget.waited == 0.0

    def test_acquisition_over_the_limit_waits_for_the_oldest_to_age_out(self, clock):
        """The request after a full window waits until the oldest one is a window old."""
        budget = RateBudget(3, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
        start = clock.now
        for _ in range(3):
            budget.acquire()
            clock.advance(10)

        waited = budget.acquire()

        assert waited == 30.0
        assert clock.now == start + 60.0
        assert budget.waited == 30.0

    def test_a_request_exactly_one_window_later_goes_out(self, clock):
        """The window is half-open: a request exactly ``window`` after the oldest may go."""
        budget = RateBudget(1, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
        budget.acquire()
        clock.advance(60)

        assert budget.acquire() == 0.0

    @given(
        limit=st.integers(min_value=1, max_value=6),
        gaps=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=40),
    )
    def test_never_more_than_limit_in_any_rolling_window(self, limit, gaps):
        """Whatever the arrival pattern, no window of 60 s holds more than ``limit`` sends."""
        clock = FakeClock()
        budget = RateBudget(limit, 60.0, clock=clock, sleep=clock.sleep)
        sent: list[float] = []
        for gap in gaps:
            clock.advance(gap)
            before = clock.now
            waited = budget.acquire()
            assert clock.now == before + waited
            sent.append(clock.now)

        assert sent == sorted(sent)
        for start in sent:
            assert sum(1 for moment in sent if start <= moment < start + 60.0) <= limit

    def test_pause_delays_the_next_acquisition(self, clock):
        """After pause(s) the next request waits those seconds even with budget left."""
        budget = RateBudget(100, 60.0, clock=clock, sleep=clock.sleep)
        budget.acquire()
        start = clock.now

        budget.pause(15.0)
        waited = budget.acquire()

        assert waited == 15.0
        assert clock.now == start + 15.0
        assert budget.acquire() == 0.0

    def test_pause_that_has_elapsed_costs_nothing(self, clock):
        """A pause already over when the next request comes does not delay it."""
        budget = RateBudget(100, 60.0, clock=clock, sleep=clock.sleep)
        budget.pause(5.0)
        clock.advance(6.0)

        assert budget.acquire() == 0.0

    def test_shorter_pause_does_not_cut_a_longer_one(self, clock):
        """Two pauses keep the later end, never the earlier."""
        budget = RateBudget(100, 60.0, clock=clock, sleep=clock.sleep)
        budget.pause(20.0)
        budget.pause(3.0)

        assert budget.acquire() == 20.0

    def test_pause_and_full_window_both_hold(self, clock):
        """A request waits out the pause and then the rolling window if that is later."""
        budget = RateBudget(1, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
        start = clock.now
        budget.acquire()
        budget.pause(10.0)

        waited = budget.acquire()

        assert waited == 60.0
        assert clock.now == start + 60.0


# -- RetryPolicy ----------------------------------------------------------------


class TestRetryPolicy:
    @pytest.mark.parametrize(
        ("retry_after", "expected"),
        [(0.0, 0.0), (7.5, 7.5), (60.0, 60.0), (61.0, 60.0), (3600.0, 60.0)],
        ids=["zero", "some", "at-cap", "over-cap", "an-hour"],
    )
    def test_retry_after_is_honoured_up_to_a_cap(self, retry_after, expected):
        """A Retry-After is used as is, but never above three times max_delay."""
        policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=20.0)

        assert policy.delay(1, retry_after) == expected
        assert policy.delay(5, retry_after) == expected

    @given(attempt=st.integers(min_value=1, max_value=64))
    def test_jittered_delay_stays_within_bounds(self, attempt):
        """Without Retry-After the delay lies in [ceiling/2, ceiling], ceiling capped."""
        policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=20.0)
        ceiling = min(20.0, 1.0 * 2 ** (attempt - 1))

        delay = policy.delay(attempt, None)

        assert ceiling / 2 <= delay <= ceiling
        assert delay <= policy.max_delay

    def test_delay_grows_until_capped(self):
        """Successive attempts back off exponentially until max_delay."""
        policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=8.0)

        lows = [min(policy.delay(attempt, None) for _ in range(50)) for attempt in (1, 3, 5, 9)]

        assert lows[0] >= 0.5
        assert lows[1] >= 2.0
        assert lows[2] >= 4.0
        assert lows[3] >= 4.0
        assert max(policy.delay(9, None) for _ in range(50)) <= 8.0


# -- HttpService against the simulators ---------------------------------------------


@pytest.fixture(name="ilert_sim")
def _ilert_sim() -> Iterator[IlertSimulator]:
    with IlertSimulator(api_key=ILERT_KEY) as simulator:
        yield simulator


@pytest.fixture(name="statuspage_sim")
def _statuspage_sim() -> Iterator[StatuspageSimulator]:
    with StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(PAGE,), seed=3) as simulator:
        yield simulator


@pytest.fixture(name="make_service")
def _make_service(clock: FakeClock) -> Iterator[Any]:
    """Build HttpServices paced and put to sleep on the fake clock; close them afterwards."""
    made: list[HttpService] = []

    def make(
        url: str,
        *,
        service: str = "statuspage",
        key: str = STATUSPAGE_KEY,
        retry: RetryPolicy = NO_RETRY,
        timeout: tuple[float, float] = (2.0, 5.0),
    ) -> HttpService:
        scheme = "Bearer" if service == "ilert" else "OAuth"
        http = HttpService(
            service,
            url,
            f"{scheme} {key}",
            RateBudget(1000, 60.0, clock=clock, sleep=clock.sleep),
            timeout=timeout,
            retry=retry,
            sleep=clock.sleep,
        )
        made.append(http)
        return http

    yield make
    for http in made:
        http.close()


@pytest.fixture(name="statuspage_http")
def _statuspage_http(make_service, statuspage_sim) -> HttpService:
    http: HttpService = make_service(statuspage_sim.url)
    return http


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _methods(simulator: IlertSimulator | StatuspageSimulator, method: str) -> int:
    return sum(1 for request in simulator.requests if request.method == method)


class TestSuccess:
    def test_get_returns_the_json_document(self, statuspage_http, statuspage_sim):
        """A GET answers the decoded JSON and sends the key in the Authorization header."""
        page = statuspage_http.get(PAGE_PATH)

        assert page["id"] == PAGE
        (request,) = statuspage_sim.requests
        assert request.headers["authorization"] == f"OAuth {STATUSPAGE_KEY}"
        assert request.headers["user-agent"].startswith("ilert-statuspage-sync/")

    def test_get_passes_query_parameters(self, make_service, ilert_sim):
        """Query parameters, lists included, reach the server."""
        ilert_sim.create_alert(101, "Disk full")
        http = make_service(ilert_sim.url, service="ilert", key=ILERT_KEY)

        alerts = http.get("/api/alerts", {"sources": [101, 102], "max-results": 10})

        assert [alert["summary"] for alert in alerts] == ["Disk full"]
        assert ilert_sim.requests[-1].query["sources"] == ["101", "102"]

    def test_write_sends_the_json_body(self, statuspage_http, statuspage_sim):
        """A write sends its body as JSON and answers the created object."""
        created = statuspage_http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        assert created["name"] == "Outage"
        (request,) = statuspage_sim.writes()
        assert request.json_body == {"incident": {"name": "Outage"}}

    def test_empty_body_answers_none(self, statuspage_http, statuspage_sim):
        """A success without a body answers None."""
        statuspage_sim.inject_fault(204, None)

        assert statuspage_http.get(PAGE_PATH) is None


class TestTransientErrors:
    @pytest.mark.parametrize("status", [420, 429], ids=["420", "429"])
    def test_throttling_is_transient_with_retry_after(
        self, statuspage_http, statuspage_sim, clock, status
    ):
        """420/429 past the waits are transient, carry Retry-After and were certainly not
        applied."""
        statuspage_sim.inject_fault(
            status,
            {"error": "Rate limit exceeded"},
            headers={"Retry-After": "7"},
            times=THROTTLE_WAITS + 1,
        )

        with pytest.raises(TransientApiError) as caught:
            statuspage_http.get(PAGE_PATH)

        error = caught.value
        assert error.status == status
        assert error.retry_after == 7.0
        assert error.maybe_applied is False
        assert error.service == "statuspage"
        assert "Rate limit exceeded" in error.message
        assert f"GET {PAGE_PATH}" in error.message
        _assert_secret_free(error)

    def test_throttling_pauses_the_key_budget(self, statuspage_http, statuspage_sim, clock):
        """After a 429 the next request with that key waits out Retry-After."""
        statuspage_sim.inject_fault(
            429, {"error": "slow down"}, headers={"Retry-After": "7"}, times=THROTTLE_WAITS + 1
        )
        with pytest.raises(TransientApiError):
            statuspage_http.get(PAGE_PATH)

        assert statuspage_http.budget.acquire() == 7.0

    def test_throttling_without_retry_after_pauses_the_default(
        self, make_service, statuspage_sim, clock
    ):
        """A 429 without Retry-After pauses the key for the policy's throttle_delay."""
        http = make_service(statuspage_sim.url, retry=RetryPolicy(attempts=1, throttle_delay=4.0))
        statuspage_sim.inject_fault(429, {"error": "slow down"}, times=THROTTLE_WAITS + 1)

        with pytest.raises(TransientApiError) as caught:
            http.get(PAGE_PATH)

        assert caught.value.retry_after is None
        assert http.budget.acquire() == 4.0

    def test_an_http_date_retry_after_is_counted_from_the_answers_date(
        self, statuspage_http, statuspage_sim, clock
    ):
        """Retry-After as an HTTP date (RFC 9110) is a wait until then, not the default."""
        then = email.utils.formatdate(time.time() + 7, usegmt=True)
        statuspage_sim.inject_fault(
            429, {"error": "slow down"}, headers={"Retry-After": then}, times=THROTTLE_WAITS + 1
        )
        with pytest.raises(TransientApiError) as caught:
            statuspage_http.get(PAGE_PATH)

        # The answer's Date and the header are whole seconds: 6 to 8 s, never the 10 s default.
        assert caught.value.retry_after is not None
        assert 6.0 <= caught.value.retry_after <= 8.0

    @pytest.mark.parametrize(
        "header", ["nan", "inf", "-inf"], ids=["nan", "infinity", "minus-infinity"]
    )
    def test_non_finite_retry_after_is_ignored(self, statuspage_http, statuspage_sim, header):
        """A Retry-After that is not a finite number is treated as absent."""
        statuspage_sim.inject_fault(
            429, {"error": "slow down"}, headers={"Retry-After": header}, times=THROTTLE_WAITS + 1
        )

        with pytest.raises(TransientApiError) as caught:
            statuspage_http.get(PAGE_PATH)

        retry_after = caught.value.retry_after
        assert retry_after is None or math.isfinite(retry_after)

    @pytest.mark.parametrize("status", [500, 502, 503], ids=["500", "502", "503"])
    def test_server_errors_are_transient_and_maybe_applied(
        self, statuspage_http, statuspage_sim, status
    ):
        """A 5xx is transient, and a write it answered may have taken effect."""
        statuspage_sim.inject_fault(status, {"error": "We're having trouble"})

        with pytest.raises(TransientApiError) as caught:
            statuspage_http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        error = caught.value
        assert error.status == status
        assert error.maybe_applied is True
        assert error.retry_after is None
        assert "We're having trouble" in error.message
        _assert_secret_free(error)

    def test_read_timeout_is_transient_and_maybe_applied(self, make_service, statuspage_sim):
        """A write with no answer in time is transient and may have been applied."""
        http = make_service(statuspage_sim.url, timeout=(2.0, 0.2))
        statuspage_sim.set_delay(2.0)

        with pytest.raises(TransientApiError) as caught:
            http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        statuspage_sim.set_delay(0)
        error = caught.value
        assert error.status is None
        assert error.maybe_applied is True
        assert "no answer within 0.2s" in error.message
        _assert_secret_free(error)

    def test_read_timeout_on_a_read_is_transient(self, make_service, ilert_sim):
        """A GET with no answer in time raises TransientApiError after its attempts."""
        http = make_service(ilert_sim.url, service="ilert", key=ILERT_KEY, timeout=(2.0, 0.2))
        ilert_sim.set_delay(2.0)

        with pytest.raises(TransientApiError) as caught:
            http.get("/api/alerts")

        ilert_sim.set_delay(0)
        assert caught.value.service == "ilert"
        assert caught.value.maybe_applied is True
        _assert_secret_free(caught.value)

    def test_connection_refused_is_transient_and_not_applied(self, make_service):
        """A closed port is transient, and nothing can have been applied."""
        url = f"http://127.0.0.1:{_closed_port()}"
        http = make_service(url)

        with pytest.raises(TransientApiError) as caught:
            http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        error = caught.value
        assert error.status is None
        assert error.maybe_applied is False
        assert "connection refused" in error.message
        assert url in error.message
        _assert_secret_free(error)


class TestPermanentErrors:
    def test_statuspage_rejected_key_is_permanent(self, make_service, statuspage_sim):
        """A 401 says the key was rejected, is not retried, and does not show the key."""
        http = make_service(statuspage_sim.url, key=WRONG_KEY, retry=QUICK_RETRY)

        with pytest.raises(PermanentApiError) as caught:
            http.get(PAGE_PATH)

        error = caught.value
        assert error.status == 401
        assert "the API key was rejected" in error.message
        assert "Could not authenticate" in error.message
        assert len(statuspage_sim.requests) == 1
        _assert_secret_free(error)

    def test_ilert_rejected_key_is_permanent(self, make_service, ilert_sim):
        """iLert's 403 for a bad key is a permanent 'key rejected' error with its message."""
        http = make_service(ilert_sim.url, service="ilert", key=WRONG_KEY, retry=QUICK_RETRY)

        with pytest.raises(PermanentApiError) as caught:
            http.get("/api/alerts")

        error = caught.value
        assert error.status == 403
        assert "the API key was rejected" in error.message
        assert "invalid, revoked or malformed" in error.message
        assert len(ilert_sim.requests) == 1
        _assert_secret_free(error)

    @pytest.mark.parametrize(
        ("status", "body", "expected"),
        [
            (422, {"error": "Name can't be blank"}, "Name can't be blank"),
            (404, {"message": "The requested resource could not be found."}, "could not be found"),
            (
                422,
                {"error": ["Name can't be blank", "Body is too long"]},
                "Name can't be blank, Body is too long",
            ),
            (
                422,
                {"error": {"incident": {"name": ["can't be blank"], "status": ["is invalid"]}}},
                "incident: name: can't be blank; status: is invalid",
            ),
            (
                400,
                {"status": 400, "message": "'max-results' above 100", "code": "BAD_REQUEST"},
                "'max-results' above 100",
            ),
            (400, "<html>oops</html>", "HTTP 400 Bad Request"),
            (409, {"unexpected": "shape"}, "HTTP 409 Conflict"),
        ],
        ids=[
            "error-string",
            "message-string",
            "error-list",
            "nested-error-tree",
            "ilert-shape",
            "not-json",
            "unknown-shape",
        ],
    )
    def test_vendor_error_text_is_in_the_message(
        self, statuspage_http, statuspage_sim, status, body, expected
    ):
        """The vendor's own error text, in any documented shape, ends up in the message."""
        statuspage_sim.inject_fault(status, body)

        with pytest.raises(PermanentApiError) as caught:
            statuspage_http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        error = caught.value
        assert error.status == status
        assert expected in error.message
        assert f"POST {INCIDENTS_PATH}" in error.message
        assert str(error).startswith(f"statuspage HTTP {status}: ")
        _assert_secret_free(error)

    def test_real_validation_error_from_the_simulator(self, statuspage_http, statuspage_sim):
        """A genuine 422 from the simulator's validation surfaces its text."""
        with pytest.raises(PermanentApiError) as caught:
            statuspage_http.write("POST", INCIDENTS_PATH, {"incident": {"name": " "}})

        assert caught.value.status == 422
        assert "Name can't be blank" in caught.value.message

    def test_real_not_found_from_the_simulator(self, statuspage_http):
        """A genuine 404 (message shape) surfaces its text and is not retried."""
        with pytest.raises(PermanentApiError) as caught:
            statuspage_http.get(f"{INCIDENTS_PATH}/doesnotexist")

        assert caught.value.status == 404
        assert "could not be found" in caught.value.message

    def test_long_vendor_text_is_truncated(self, statuspage_http, statuspage_sim):
        """A huge vendor error is cut so the message stays readable."""
        statuspage_sim.inject_fault(422, {"error": "x" * 5000})

        with pytest.raises(PermanentApiError) as caught:
            statuspage_http.get(PAGE_PATH)

        assert len(caught.value.message) < 700


class TestPayloadErrors:
    @pytest.mark.parametrize(
        "body", ["not json {", "<html></html>", b"\xff\xfe"], ids=["text", "html", "bytes"]
    )
    def test_invalid_json_on_success_is_a_payload_error(
        self, statuspage_http, statuspage_sim, body
    ):
        """A 200 whose body is not JSON raises PayloadError naming the request."""
        statuspage_sim.inject_fault(200, body)

        with pytest.raises(PayloadError) as caught:
            statuspage_http.get(PAGE_PATH)

        message = str(caught.value)
        assert message.startswith("statuspage: ")
        assert f"GET {PAGE_PATH}" in message
        assert "not JSON" in message
        assert not isinstance(caught.value, ApiError)
        _assert_secret_free(caught.value)


class TestRetries:
    def test_get_retries_a_transient_failure_then_succeeds(
        self, make_service, statuspage_sim, clock
    ):
        """A GET that meets one 503 waits a jittered delay, retries and returns the answer."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(503, {"error": "try again"})

        page = http.get(PAGE_PATH)

        assert page["id"] == PAGE
        assert [request.status for request in statuspage_sim.requests] == [503, 200]
        (delay,) = clock.sleeps
        assert 0.005 <= delay <= 0.01

    def test_get_retry_waits_retry_after(self, make_service, statuspage_sim, clock):
        """A throttled GET waits exactly Retry-After (once) before trying again."""
        http = make_service(statuspage_sim.url, retry=RetryPolicy(attempts=3, max_delay=5.0))
        statuspage_sim.inject_fault(429, {"error": "slow"}, headers={"Retry-After": "3"})

        http.get(PAGE_PATH)

        assert sum(clock.sleeps) == pytest.approx(3.0)  # the key's pause, in keep-alive slices
        assert [request.status for request in statuspage_sim.requests] == [429, 200]

    def test_capped_retry_delay_still_honours_the_throttle(
        self, make_service, statuspage_sim, clock
    ):
        """When Retry-After exceeds the retry cap, the paused budget waits out all of it."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(429, {"error": "slow"}, headers={"Retry-After": "3"})

        http.get(PAGE_PATH)

        assert sum(clock.sleeps) == pytest.approx(3.0)
        assert [request.status for request in statuspage_sim.requests] == [429, 200]

    @pytest.mark.parametrize("header", ["nan", "inf"], ids=["nan", "infinity"])
    def test_non_finite_retry_after_does_not_break_a_read(self, statuspage_sim, header):
        """A GET throttled with a non-finite Retry-After retries instead of crashing."""
        http = HttpService(
            "statuspage",
            statuspage_sim.url,
            f"OAuth {STATUSPAGE_KEY}",
            RateBudget(1000, 60.0),
            retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01, throttle_delay=0.01),
        )
        statuspage_sim.inject_fault(429, {"error": "slow"}, headers={"Retry-After": header})
        try:
            assert http.get(PAGE_PATH)["id"] == PAGE
        finally:
            http.close()

    def test_get_gives_up_after_its_attempts(self, make_service, statuspage_sim, clock):
        """A GET failing every time is tried ``attempts`` times, then raises the last error."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(503, {"error": "down"}, times=10)

        with pytest.raises(TransientApiError, match="down"):
            http.get(PAGE_PATH)

        assert _methods(statuspage_sim, "GET") == 3
        assert len(clock.sleeps) == 2

    def test_get_does_not_retry_a_permanent_failure(self, make_service, statuspage_sim, clock):
        """A 4xx other than throttling is not retried."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(400, {"error": "bad"})

        with pytest.raises(PermanentApiError):
            http.get(PAGE_PATH)

        assert _methods(statuspage_sim, "GET") == 1
        assert clock.sleeps == []

    @pytest.mark.parametrize(
        ("status", "headers"),
        [(503, {}), (502, {})],
        ids=["503", "502"],
    )
    def test_write_is_sent_exactly_once_on_failure(
        self, make_service, statuspage_sim, clock, status, headers
    ):
        """A POST that fails transiently is not re-sent, even with retries configured."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(status, {"error": "no"}, headers=headers, times=5)

        with pytest.raises(TransientApiError):
            http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        assert len(statuspage_sim.writes()) == 1
        assert clock.sleeps == []
        assert statuspage_sim.incidents(PAGE) == []

    def test_write_is_sent_exactly_once_on_timeout(self, make_service, statuspage_sim, clock):
        """A POST whose answer is late is not re-sent; the simulator saw one POST."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY, timeout=(2.0, 0.2))
        statuspage_sim.set_delay(0.5)

        with pytest.raises(TransientApiError):
            http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        statuspage_sim.set_delay(0)
        assert len(statuspage_sim.writes()) == 1
        assert clock.sleeps == []

    @pytest.mark.parametrize("status", [420, 429], ids=["420", "429"])
    def test_a_throttled_write_waits_retry_after_and_is_sent_again(
        self, make_service, statuspage_sim, clock, status
    ):
        """A 420/429 write was refused unprocessed: it waits Retry-After and lands once."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(status, {"error": "slow"}, headers={"Retry-After": "4"})

        http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        assert [r.status for r in statuspage_sim.writes()] == [status, 201]
        assert len(statuspage_sim.incidents(PAGE)) == 1
        assert sum(clock.sleeps) == pytest.approx(4.0)

    def test_a_write_throttled_past_the_waits_is_a_throttled_error(
        self, make_service, statuspage_sim, clock
    ):
        """Still 429 at the end of its start window: a ThrottledError, never sent later."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(
            429, {"error": "slow"}, headers={"Retry-After": "2"}, times=THROTTLE_WAITS + 1
        )

        with pytest.raises(ThrottledError):
            http.write("POST", INCIDENTS_PATH, {"incident": {"name": "Outage"}})

        # Sent at 0, 2 and 4 s of its 5 s start window; a 6 s send would outlive it.
        assert len(statuspage_sim.writes()) == int(WRITE_START_WINDOW // 2) + 1
        assert statuspage_sim.incidents(PAGE) == []

    def test_a_read_told_to_wait_an_hour_gives_up_for_the_pass(
        self, make_service, statuspage_sim, clock
    ):
        """A Retry-After past a minute stops the read at once (ThrottledError), not the pass."""
        http = make_service(statuspage_sim.url, retry=QUICK_RETRY)
        statuspage_sim.inject_fault(
            429, {"error": "slow"}, headers={"Retry-After": "99999"}, times=THROTTLE_WAITS + 1
        )

        with pytest.raises(ThrottledError):
            http.get(PAGE_PATH)

        assert len(statuspage_sim.requests) == 1
        assert http.budget.acquire() == 3600.0  # the key still rests as told (capped)


class TestSecrecy:
    def test_no_failure_mode_leaks_the_key(self, make_service, statuspage_sim, ilert_sim):
        """Across every failure mode, exception text and repr never contain an API key."""
        errors: list[SyncError] = []
        scenarios: list[tuple[HttpService, int | None, object]] = [
            (make_service(statuspage_sim.url), 429, {"error": "slow"}),
            (make_service(statuspage_sim.url), 503, {"error": "down"}),
            (make_service(statuspage_sim.url), 422, {"error": {"name": ["bad"]}}),
            (make_service(statuspage_sim.url), 200, "not json"),
            (make_service(statuspage_sim.url, key=WRONG_KEY), None, None),
            (make_service(ilert_sim.url, service="ilert", key=WRONG_KEY), None, None),
            (make_service(f"http://127.0.0.1:{_closed_port()}"), None, None),
        ]
        for http, status, body in scenarios:
            if status is not None:
                statuspage_sim.inject_fault(status, body, times=THROTTLE_WAITS + 1)
            path = "/api/alerts" if http.service == "ilert" else PAGE_PATH
            with pytest.raises(SyncError) as caught:
                http.get(path)
            errors.append(caught.value)

        assert len(errors) == len(scenarios)
        for error in errors:
            _assert_secret_free(error)
        for http, _, _ in scenarios:
            assert STATUSPAGE_KEY not in repr(http)
            assert ILERT_KEY not in repr(http)
