"""Stopping on time: the stop flag ends waits and forbids new requests; the poll loop is
monotonic; the keep-alive ping is rate-limited."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.errors import StopRequestedError, TransientApiError
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.service.notify import Notifier
from ilert_statuspage_sync.service.poll_loop import poll_loop, run_forever
from ilert_statuspage_sync.sync.outages import ServiceHealth
from tests.support.http_fakes import FakeServer, json_answer

KEY = "canary-stop-key-0d9e1f"


def _http(url: str, budget: RateBudget, retry: RetryPolicy | None = None) -> HttpService:
    return HttpService(
        "ilert", url, f"Bearer {KEY}", budget, timeout=(2.0, 5.0), retry=retry or RetryPolicy(1)
    )


def _later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


class TestStopFlag:
    def test_no_request_starts_after_a_stop_request(self):
        """Once a stop is requested, a read raises StopRequestedError and sends nothing."""
        with FakeServer(json_answer(200, [])) as server:
            http = _http(server.url, RateBudget(100))
            shutdown.request_stop()
            with pytest.raises(StopRequestedError) as caught:
                http.get("/api/alerts")
            http.close()
        assert server.requests == []
        assert caught.value.service == "ilert"
        assert caught.value.maybe_applied is False

    def test_a_stop_ends_a_rate_budget_wait(self):
        """A request waiting for its rate budget gives up as soon as a stop is requested."""
        with FakeServer(json_answer(200, [])) as server:
            http = _http(server.url, RateBudget(1, 60.0))
            http.get("/api/alerts")
            _later(0.3, shutdown.request_stop)
            started = time.monotonic()
            with pytest.raises(StopRequestedError):
                http.get("/api/alerts")
            http.close()
        assert time.monotonic() - started < 3.0
        assert len(server.requests) == 1

    def test_a_stop_ends_a_read_retry_wait(self):
        """A read waiting to retry a 503 does not retry once a stop is requested."""
        with FakeServer(json_answer(503, {"message": "down"})) as server:
            retry = RetryPolicy(attempts=3, base_delay=20.0, max_delay=20.0)
            http = _http(server.url, RateBudget(100), retry)
            _later(0.3, shutdown.request_stop)
            started = time.monotonic()
            with pytest.raises(StopRequestedError):
                http.get("/api/alerts")
            http.close()
        assert time.monotonic() - started < 3.0
        assert len(server.requests) == 1

    def test_keepalive_is_called_before_each_request_and_during_waits(self):
        """The keep-alive hook runs before every request and every second of a budget wait."""
        calls: list[float] = []
        shutdown.set_keepalive(lambda: calls.append(time.monotonic()))
        with FakeServer(json_answer(200, [])) as server:
            http = _http(server.url, RateBudget(2, 2.5))
            for _ in range(3):  # the third waits about 2.5 s for the budget
                http.get("/api/alerts")
            http.close()
        assert len(calls) >= 3 + 2

    def test_a_stop_is_not_a_service_outage(self):
        """ServiceHealth does not log a stop as the service going down."""
        health = ServiceHealth("ilert")
        health.failed(StopRequestedError("ilert"), datetime.now(UTC))
        assert health.down_since is None
        assert isinstance(StopRequestedError("ilert"), TransientApiError)


class TestKeepalive:
    def test_watchdog_pings_are_rate_limited_and_wait_for_ready(self, tmp_path: Path):
        """keepalive sends a bare WATCHDOG=1 only after READY, at most once per period."""
        address = tmp_path / "notify.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(address))
            sock.setblocking(False)
            notifier = Notifier({"NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "400000"})
            assert notifier.keepalive_every == pytest.approx(0.1)
            notifier.keepalive()
            notifier.ready("up")
            for _ in range(30):  # 0.3 s of tries: about three pings
                notifier.keepalive()
                time.sleep(0.01)
            messages = []
            while True:
                try:
                    messages.append(sock.recv(4096).decode())
                except BlockingIOError:
                    break
        assert messages[0].startswith("READY=1")
        pings = messages[1:]
        assert pings and all(message == "WATCHDOG=1" for message in pings)
        assert 2 <= len(pings) <= 4

    def test_without_a_systemd_watchdog_the_period_is_the_default(self):
        """No WATCHDOG_USEC (or a bad one) means a ping at most every 5 s."""
        assert Notifier({}).keepalive_every == 5.0
        assert Notifier({"WATCHDOG_USEC": "soon"}).keepalive_every == 5.0


class TestPollLoop:
    def test_runs_now_then_every_interval(self):
        """The first pass starts at once, the next ones one interval apart (monotonic)."""
        starts: list[float] = []
        stop = threading.Event()

        def job() -> None:
            starts.append(time.monotonic())
            if len(starts) == 3:
                stop.set()

        began = time.monotonic()
        poll_loop(job, lambda: 0.2, stop)
        assert starts[0] - began < 0.1
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(0.18 < gap < 0.5 for gap in gaps), gaps

    def test_an_overrunning_pass_is_followed_by_one_pass_at_once(self):
        """A pass longer than the interval is followed by one pass immediately, not a burst."""
        starts: list[float] = []
        stop = threading.Event()

        def job() -> None:
            starts.append(time.monotonic())
            if len(starts) == 1:
                time.sleep(0.5)  # overruns two 0.2 s slots
            if len(starts) == 3:
                stop.set()

        poll_loop(job, lambda: 0.2, stop)
        assert starts[1] - starts[0] == pytest.approx(0.5, abs=0.1)
        assert starts[2] - starts[1] == pytest.approx(0.2, abs=0.1)

    def test_a_changed_interval_counts_from_the_pass_that_saw_it(self):
        """After a reload changes the interval, the next pass waits the new interval."""
        starts: list[float] = []
        intervals = iter([0.2, 0.6, 0.6, 0.6])
        stop = threading.Event()

        def job() -> None:
            starts.append(time.monotonic())
            if len(starts) == 3:
                stop.set()

        poll_loop(job, lambda: next(intervals), stop)
        assert starts[1] - starts[0] == pytest.approx(0.6, abs=0.1)

    def test_a_crashing_pass_does_not_end_the_loop(self):
        """An exception in a pass is logged and the next pass still runs."""
        runs: list[int] = []
        stop = threading.Event()

        def job() -> None:
            runs.append(1)
            if len(runs) == 2:
                stop.set()
            raise RuntimeError("boom")

        poll_loop(job, lambda: 0.05, stop)
        assert len(runs) == 2

    def test_passes_go_on_through_a_backward_wall_clock_jump(self):
        """With the wall clock stepped back an hour after the first pass, `run` keeps
        polling every interval (APScheduler 3's wall-clock timer waited the hour)."""
        starts: list[float] = []
        done = threading.Event()
        start = datetime.now(UTC)
        with freeze_time(start, tick=True) as traveller:

            def job() -> None:
                starts.append(time.perf_counter())
                if len(starts) == 1:
                    traveller.move_to(start - timedelta(hours=1))
                if len(starts) == 3:
                    done.set()

            def stop_when_done() -> None:
                done.wait(10)
                os.kill(os.getpid(), signal.SIGTERM)

            threading.Thread(target=stop_when_done, daemon=True).start()
            run_forever(job, lambda: 0.3)
        assert len(starts) >= 3
