"""What one request costs the process besides its bytes: no thread of its own, no scan of
the environment. Counted over many requests, never timed."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from tests.support.http_fakes import FakeServer, json_answer

KEY = "ovh3r7k2m9q4w8e1"
REQUESTS = 20


def _service(url: str) -> HttpService:
    return HttpService("ilert", url, f"Bearer {KEY}", RateBudget(1000), retry=RetryPolicy(1))


def test_requests_start_no_thread_each(monkeypatch: pytest.MonkeyPatch):
    """Twenty requests start at most one thread of the caller's (the one deadline
    watchdog), not a timer thread per request."""
    started: list[threading.Thread] = []
    caller = threading.current_thread()
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        if threading.current_thread() is caller:  # not the fake server's own threads
            started.append(thread)
        real_start(thread)

    with FakeServer(json_answer(200, {"ok": True})) as server:
        http = _service(server.url)
        monkeypatch.setattr(threading.Thread, "start", start)
        try:
            for _ in range(REQUESTS):
                assert http.get("/api/alerts") == {"ok": True}
        finally:
            monkeypatch.undo()
            http.close()
    assert len(started) <= 1, [thread.name for thread in started]


def test_the_environment_is_read_once_per_service(monkeypatch: pytest.MonkeyPatch):
    """A service reads the environment's proxy settings once, not on each of its
    twenty requests."""
    scans: list[str] = []
    real = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: Any = None) -> dict[str, str]:
        scans.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    with FakeServer(json_answer(200, [])) as server:
        http = _service(server.url)
        try:
            for _ in range(REQUESTS):
                assert http.get("/api/alerts") == []
        finally:
            http.close()
    assert len(scans) <= 1, scans


def test_the_environment_read_once_still_sets_the_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
):
    """``REQUESTS_CA_BUNDLE`` read at the service's start still verifies its requests."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    http = _service("https://api.ilert.example")
    try:
        assert http._environment.verify == str(bundle)
    finally:
        http.close()
