"""The HTTP layer against hostile loopback servers: whole-request deadlines and redirects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.errors import PermanentApiError, TransientApiError
from tests.support.http_fakes import FakeRequest, FakeServer, json_answer, redirect, trickle

KEY = "canary-redirect-key-4b8d0e"
NO_RETRY = RetryPolicy(attempts=1)
DEADLINE = 1.0
# Scheduling slack on a shared, busy machine; far below the trickle's own length.
SLACK = 1.5


@pytest.fixture(name="make_http")
def _make_http() -> Iterator[Any]:
    made: list[HttpService] = []

    def make(url: str, deadline: float = DEADLINE) -> HttpService:
        http = HttpService(
            "statuspage",
            url,
            f"OAuth {KEY}",
            RateBudget(1000),
            timeout=(2.0, deadline),
            retry=NO_RETRY,
        )
        made.append(http)
        return http

    yield make
    for http in made:
        http.close()


def _timed(call: Any) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(TransientApiError) as caught:
        call()
    return caught.value, time.monotonic() - started


class TestDeadline:
    def test_trickled_answer_to_a_write_ends_at_the_deadline(self, make_http):
        """A body trickling a byte every 0.3 s (each recv well inside any read timeout)
        still ends a write at its deadline, as maybe applied."""
        with FakeServer(trickle(0.3, size=0)) as server:
            http = make_http(server.url)
            error, took = _timed(lambda: http.write("POST", "/v1/x", {"incident": {}}))
        assert isinstance(error, TransientApiError)
        assert error.maybe_applied is True
        assert f"no answer within {DEADLINE:g}s" in error.message
        assert took < DEADLINE + SLACK

    def test_trickled_headers_end_a_read_at_the_deadline(self, make_http):
        """Status line and headers trickled byte by byte cannot hold a read past its deadline."""
        with FakeServer(trickle(0.3, headers_too=True, size=0)) as server:
            http = make_http(server.url)
            error, took = _timed(lambda: http.get("/v1/pages/p"))
        assert isinstance(error, TransientApiError)
        assert took < DEADLINE + SLACK

    def test_deadline_counts_the_whole_request_not_each_byte(self, make_http):
        """A 4 s deadline ends a trickle of one byte per second at about 4 s, not later."""
        with FakeServer(trickle(1.0, size=0)) as server:
            http = make_http(server.url, deadline=4.0)
            _error, took = _timed(lambda: http.get("/v1/pages/p"))
        assert 3.5 < took < 4.0 + SLACK

    def test_a_connection_cut_by_the_deadline_is_not_reused(self, make_http):
        """After a deadline cut, the next request on the same service gets a fresh answer."""
        answers = iter([trickle(0.3, size=0), json_answer(200, {"ok": True})])

        def answer(conn: socket.socket, request: FakeRequest, closing: threading.Event) -> None:
            next(answers)(conn, request, closing)

        with FakeServer(answer) as server:
            http = make_http(server.url)
            _timed(lambda: http.get("/v1/a"))
            assert http.get("/v1/b") == {"ok": True}


class TestRedirects:
    @pytest.mark.parametrize("status", [301, 307, 308])
    def test_a_write_never_follows_a_redirect(self, make_http, status):
        """A 3xx to a write is not followed (the other host sees nothing) and leaves the
        write's fate open for reconciliation: transient, maybe applied."""
        with FakeServer(json_answer(201, {"id": "x", "status": "investigating"})) as other:
            answer = redirect(status, f"{other.url}/v1/pages/p/incidents")
            with FakeServer(answer) as server:
                http = make_http(server.url)
                with pytest.raises(TransientApiError) as caught:
                    http.write("POST", "/v1/pages/p/incidents", {"incident": {"name": "x"}})
            assert other.requests == []
        assert len(server.requests) == 1
        assert caught.value.maybe_applied is True
        assert caught.value.status == status
        assert "writes never follow redirects" in caught.value.message

    @pytest.mark.parametrize("status", [301, 307, 308])
    def test_a_read_does_not_follow_a_redirect_to_another_port(self, make_http, status):
        """A GET redirected to another origin is refused: the key never reaches it."""
        with FakeServer(json_answer(200, {"id": "p"})) as other:
            with FakeServer(redirect(status, f"{other.url}/v1/pages/p")) as server:
                http = make_http(server.url)
                with pytest.raises(PermanentApiError) as caught:
                    http.get("/v1/pages/p")
            assert other.requests == []
        assert "never sent to another host" in caught.value.message
        assert KEY not in str(caught.value)

    def test_a_read_follows_a_same_origin_redirect(self, make_http):
        """A GET redirected to another path on the same host and port is followed, with the key."""

        def answer(conn: socket.socket, request: FakeRequest, closing: threading.Event) -> None:
            if request.path.startswith("/v1/old"):
                redirect(301, "/v1/new?page=2")(conn, request, closing)
            else:
                json_answer(200, {"here": request.path})(conn, request, closing)

        with FakeServer(answer) as server:
            http = make_http(server.url)
            assert http.get("/v1/old", {"page": 1}) == {"here": "/v1/new?page=2"}
        assert [r.path for r in server.requests] == ["/v1/old?page=1", "/v1/new?page=2"]
        assert all(r.headers["authorization"] == f"OAuth {KEY}" for r in server.requests)
