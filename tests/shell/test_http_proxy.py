"""Keys never go to a proxy over plain HTTP: an ``http://`` API is reached directly whatever
``http_proxy``/``all_proxy`` say; over ``https://`` a proxy only tunnels (CONNECT) and sees
no key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.errors import TransientApiError
from ilert_statuspage_sync.simulators import IlertSimulator
from tests.support.http_fakes import FakeServer, json_answer

KEY = "px4k8y2q9w3e7r1t5u6i0o"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(name="proxy")
def _proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """A loopback fake proxy that refuses everything; no proxy setting of the caller counts."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with FakeServer(json_answer(502, {"message": "proxy says no"})) as server:
        yield server


def _service(url: str) -> HttpService:
    return HttpService("ilert", url, f"Bearer {KEY}", RateBudget(60), retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "all_proxy"])
def test_a_plain_http_api_never_goes_through_the_proxy(
    proxy: FakeServer, monkeypatch: pytest.MonkeyPatch, variable: str
):
    """A loopback ``http://`` API with a proxy in the environment: the request reaches the
    API directly and the proxy receives nothing, so never the Authorization header."""
    monkeypatch.setenv(variable, proxy.url)
    with IlertSimulator(api_key=KEY) as ilert:
        http = _service(ilert.url)
        try:
            assert http.get("/api/alerts") == []
        finally:
            http.close()
        assert len(ilert.requests) == 1
    assert proxy.requests == []


def test_an_https_api_still_uses_the_proxy_as_a_tunnel_only(
    proxy: FakeServer, monkeypatch: pytest.MonkeyPatch
):
    """``https_proxy`` still applies to an ``https://`` API: the proxy gets a CONNECT to the
    host, with no Authorization header and no piece of the key."""
    monkeypatch.setenv("https_proxy", proxy.url)
    http = _service("https://api.ilert.example")
    try:
        with pytest.raises(TransientApiError):
            http.get("/api/alerts")
    finally:
        http.close()
    (connect,) = proxy.requests
    assert (connect.method, connect.path) == ("CONNECT", "api.ilert.example:443")
    assert "authorization" not in connect.headers
    assert KEY[:8] not in repr(connect)
