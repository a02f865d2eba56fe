"""The one HTTP choke point: timeouts, pacing, safe retries, errors as data.

Every vendor call goes through ``HttpService.request``:

- a ``(connect, read)`` timeout on every call;
- a rolling-window budget shared by every client using the same API key, so
  normal work never hits the vendor's rate limit (``RateBudget``);
- reads (GET) retry transient failures with capped, jittered backoff and honour
  ``Retry-After``; writes are never re-sent here, because a lost answer does not
  mean the write did not happen (the runner reconciles first);
- failures become ``TransientApiError`` / ``PermanentApiError`` /
  ``PayloadError`` with the vendor's own message, never with the key.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import structlog

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.config import Secret
from ilert_statuspage_sync.errors import PayloadError, PermanentApiError, TransientApiError

__all__ = ["HttpService", "RateBudget", "RetryPolicy", "budget_for", "reset_budgets"]

log = structlog.get_logger(__name__)

_THROTTLED = frozenset({420, 429})
_MIN_LEARNED = 5
_AUTH_FAILED = frozenset({401, 403})


class RateBudget:
    """At most ``limit`` requests in any rolling ``window`` seconds.

    A rolling window under the vendor's limit also stays under a fixed-window
    limit (iLert) of the same size, so one mechanism serves both vendors.

    Neither vendor sends quota headers, so a throttle is the only news of a
    lower limit than configured (a shared key, a smaller plan). ``throttled``
    then learns it: the vendor accepted what we sent in the last window, so
    from now on we send one less than that, and pause as told.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        fixed_windows: bool = False,
    ) -> None:
        self.limit = limit
        self.fixed_windows = fixed_windows
        self.window = window
        self.configured = (limit, window)
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.waited = 0.0

    def acquire(self) -> float:
        """Block until a request may go out; return how long it waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                # Compare as "sent + window <= now" with a little slack, so float
                # rounding can never leave a zero-length wait spinning.
                while self._sent and self._sent[0] + self.window <= now + 1e-6:
                    self._sent.popleft()
                delay = max(self._paused_until - now, 0.0)
                if not delay and len(self._sent) < self.limit:
                    self._sent.append(now)
                    self.waited += waited
                    return waited
                if not delay:
                    delay = max(self._sent[0] + self.window - now, 1e-3)
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Send nothing with this key for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def throttled(self, pause: float) -> None:
        """The vendor refused a request for its rate: lower the limit and pause."""
        with self._lock:
            now = self._clock()
            if self._sent:
                self._sent.pop()  # the refused request did not count for the vendor
            accepted = sum(1 for sent in self._sent if sent > now - self.window)
            # A throttle after only a few requests says someone else uses the key,
            # not what the limit is: then only pause.
            # Against fixed windows (iLert) the last rolling window may span two of
            # them, so only half of what it saw is sure to fit in one.
            sure = accepted // 2 if self.fixed_windows else accepted - 1
            learned = sure if accepted >= _MIN_LEARNED else self.limit
            if learned < self.limit:
                log.warning(
                    "rate_limit_lowered", limit=learned, was=self.limit, window_s=self.window
                )
                self.limit = learned
            self._paused_until = max(self._paused_until, now + pause)


_budgets: dict[tuple[str, str], RateBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(service: str, key: Secret, limit: int, window: float = 60.0) -> RateBudget:
    """The process-wide budget of one API key (keyed by a hash, never the key)."""
    digest = hashlib.sha256(key.reveal().encode()).hexdigest()
    with _budgets_lock:
        budget = _budgets.get((service, digest))
        if budget is None or budget.configured != (limit, window):
            # iLert counts in fixed minute windows; Statuspage in a rolling one.
            budget = _budgets[(service, digest)] = RateBudget(
                limit, window, fixed_windows=service == "ilert"
            )
        return budget


def reset_budgets() -> None:
    """Forget every key's budget (tests; a config reload)."""
    with _budgets_lock:
        _budgets.clear()


@dataclass(frozen=True)
class RetryPolicy:
    """How reads retry: attempts and a cap on each wait, with full jitter."""

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0
    throttle_delay: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay * 3)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto


class HttpService:
    """One vendor API reached with one key: builds requests, paces them, reads errors."""

    def __init__(
        self,
        service: str,
        base_url: str,
        auth_header: str,
        budget: RateBudget,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_response: Callable[[str, int | None, float], None] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._on_response = on_response
        # The server's clock as of its last answer (the raw ``Date`` header), see core.clock.
        self.last_date_header: str | None = None
        self._session = requests.Session()
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": f"ilert-statuspage-sync/{__version__}"}
        )
        # As session auth (not a plain header) so ~/.netrc can never replace it, while
        # proxy settings and REQUESTS_CA_BUNDLE from the environment still apply.
        self._session.auth = _HeaderAuth(auth_header)
        self._session.verify = True

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document, retrying transient failures."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send("GET", path, params=params)
            except TransientApiError as error:
                if attempt >= self.retry.attempts:
                    raise
                delay = self.retry.delay(attempt, error.retry_after)
                log.debug("api_read_retry", service=self.service, path=path, delay=round(delay, 2))
                self._sleep(delay)

    def write(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """Send a write once; the caller decides whether it may be repeated."""
        return self._send(method, path, json_body=body)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        self.budget.acquire()
        started = time.monotonic()
        try:
            response = self._session.request(
                method, self.base_url + path, params=params, json=json_body, timeout=self.timeout
            )
        except requests.ConnectTimeout:
            self._observe(None, started)
            raise TransientApiError(
                self.service, f"cannot connect to {self.base_url} within {self.timeout[0]:g}s"
            ) from None
        except requests.Timeout:
            self._observe(None, started)
            raise TransientApiError(
                self.service,
                f"no answer within {self.timeout[1]:g}s ({method} {path})",
                maybe_applied=True,
            ) from None
        except requests.ConnectionError as error:
            self._observe(None, started)
            reason = _reason(error)
            raise TransientApiError(
                self.service,
                f"cannot reach {self.base_url}: {reason} ({method} {path})",
                maybe_applied=reason == "connection dropped",
            ) from None
        self._observe(response.status_code, started)
        self.last_date_header = response.headers.get("Date")
        return self._read(response, method, path)

    def _observe(self, status: int | None, started: float) -> None:
        if self._on_response is not None:
            self._on_response(self.service, status, time.monotonic() - started)

    def _read(self, response: requests.Response, method: str, path: str) -> Any:
        status = response.status_code
        if status in _THROTTLED or status >= 500:
            retry_after = _retry_after(response)
            if status in _THROTTLED:
                pause = self.retry.throttle_delay if retry_after is None else retry_after
                self.budget.throttled(pause)
            raise TransientApiError(
                self.service,
                f"{_vendor_message(response)} ({method} {path})",
                status,
                retry_after=retry_after,
                maybe_applied=status >= 500,
            )
        if status in _AUTH_FAILED:
            raise PermanentApiError(
                self.service,
                f"the API key was rejected: {_vendor_message(response)} ({method} {path})",
                status,
            )
        if status >= 400:
            raise PermanentApiError(
                self.service, f"{_vendor_message(response)} ({method} {path})", status
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PayloadError(
                f"{self.service}: {method} {path} answered {status} with a body that is not JSON"
            ) from None


class _HeaderAuth(requests.auth.AuthBase):
    """Sets the vendor's Authorization header; its repr never shows the key."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "_HeaderAuth('********')"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    # Never hammer on 0, never park a key for more than an hour on a bad header.
    return min(max(seconds, 1.0), 3600.0)


def _vendor_message(response: requests.Response) -> str:
    """The vendor's error text: iLert ``message``; Statuspage ``error`` or ``message``."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
    if isinstance(body, Mapping):
        for key in ("error", "message", "errors"):
            if body.get(key):
                return _flatten(body[key])[:500]
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _flatten(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_flatten(item) for item in value)
    return json.dumps(value)


def _reason(error: requests.ConnectionError) -> str:
    text = str(error)
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "DNS lookup failed"
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection dropped"
    return type(error).__name__
