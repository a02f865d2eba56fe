"""The one HTTP choke point: timeouts, pacing, safe retries, errors as data.

Every vendor call goes through ``HttpService.request``:

- a deadline on every whole request (``CONNECT_TIMEOUT`` to connect, the complete
  answer within ``ANSWER_DEADLINE``): a watchdog cuts the connection when it passes,
  so a server trickling one byte at a time cannot hold a request (or a stop) open;
  one watchdog thread serves every request of the process (``_Deadlines``);
- the environment's proxy and CA settings are read once per service, for its
  one origin, not on every request;
- no new request after a stop request (``shutdown``); waits wake on it;
- writes never follow a redirect (the write is left for reconciliation); reads
  follow only same-origin redirects, so the key never goes to another host;
- a rolling-window budget shared by every client using the same API key, so
  normal work never hits the vendor's rate limit (``RateBudget``);
- reads (GET) retry transient failures with capped, jittered backoff and honour
  ``Retry-After``; writes are never re-sent here, because a lost answer does not
  mean the write did not happen (the writer reconciles first), except after a
  throttle: a 420/429 is a wait (``Retry-After``, the key's budget paused and
  taught) and the same request again, read or write, since the vendor refused
  it unprocessed; ``ThrottledError`` after ``THROTTLE_WAITS`` such waits, once a
  read would wait over a minute in all, or once a write would leave its start
  window (it is planned again next pass, never sent late);
- failures become ``TransientApiError`` / ``PermanentApiError`` /
  ``PayloadError`` with the vendor's own message, never with the key;
- with ``log_level = "debug"`` each request is one ``http_request`` line:
  service, method, path (never the query or a header), status, duration and
  the wait for the rate budget.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import heapq
import itertools
import json
import math
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import structlog
import urllib3

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.errors import (
    PayloadError,
    PermanentApiError,
    StopRequestedError,
    ThrottledError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.runtime.deadlines import (
    ANSWER_DEADLINE,
    CONNECT_TIMEOUT,
    WRITE_START_WINDOW,
)
from ilert_statuspage_sync.runtime.secrets import Secret

__all__ = [
    "ANSWER_DEADLINE",
    "CONNECT_TIMEOUT",
    "DEADLINE_ENV",
    "Decode",
    "HttpService",
    "RateBudget",
    "RetryPolicy",
    "Slot",
    "answer_deadline",
    "budget_for",
    "json_int",
    "reset_budgets",
]

# CONNECT_TIMEOUT opens the TCP (and TLS) connection; ANSWER_DEADLINE bounds a whole
# request, connect included, until the last byte of the answer: no request (and so no
# write whose outcome is unknown) outlives it. Both live in ``deadlines`` beside the
# replicas' reconcile wait, which is derived from them.
# Test seam: process tests shorten the answer deadline. Never set in production.
DEADLINE_ENV = "ILERT_SYNC_TEST_ANSWER_DEADLINE"
MAX_REDIRECTS = 5
_CHUNK = 65536

log = structlog.get_logger(__name__)
# Reads an answer's body (bytes) as JSON: what a client may give instead of ``json.loads``.
Decode = Callable[[bytes], Any]
# int() refuses longer digit strings (sys.get_int_max_str_digits, 4,300 by default).
_INT_DIGITS = 4300

_THROTTLED = frozenset({420, 429})
# How many throttled answers one request waits out before it gives up for this pass.
THROTTLE_WAITS = 5
# A read waits out throttles for at most this long in all: a longer Retry-After stops
# only its connector for the pass (``ThrottledError``), never the whole pass.
READ_THROTTLE_WAIT = 60.0
_MIN_LEARNED = 5
_AUTH_FAILED = frozenset({401, 403})


# Margin for clock error, as a share of the window: 1 s of a minute.
CLOCK_MARGIN = 1 / 60
# The longest a budget sleeps between two keep-alive calls (systemd's watchdog).
KEEPALIVE_SLICE = 1.0
# How often a budget whose window is full of requests still in flight looks again.
_IN_FLIGHT_POLL = 0.05
# A wait for the budget this long (a share of the window: 5 s of a minute) is logged.
LONG_WAIT_SHARE = 1 / 12


@dataclass(eq=False)
class Slot:
    """One request's place in a budget: it counts from its send until a window after its answer."""

    at: float
    waited: float = 0.0
    in_flight: bool = True
    # Stored in the state database already (``unsaved``), or another process's (``absorb``).
    saved: bool = False


class RateBudget:
    """At most ``limit`` requests in any ``window`` seconds, counted as the vendor may count them.

    Exact window accounting: the vendor counts a request at some moment between
    our send and its answer, so a request occupies the budget from its send
    until ``window`` plus a small ``margin`` after its answer (``take`` /
    ``answered``): however the network delays a request, no window of the
    vendor's holds more than ``limit`` of ours. The margin (1 s of a minute by
    default) covers the vendor timing requests in whole seconds and the two
    clocks' rates; it is not a cut of the limit, which the budget reaches.

    Statuspage counts in a rolling window; iLert in fixed minute windows whose
    alignment (calendar minute, first request) nobody documents. A budget that
    holds in every rolling window also holds in every fixed window of the same
    size, whatever its alignment, and sustains the same rate: so both vendors
    get a rolling budget at their full limit.

    Neither vendor sends quota headers, so a throttle is the only news of a
    lower limit than configured (a shared key, a smaller plan). ``throttled``
    then learns it: the vendor accepted what we sent in the last window, so
    from now on we send one less than that, and pause as told.

    The window outlives the process: ``unsaved`` hands the requests sent since
    to the state database (``key_id`` names the key by a hash, ``owner`` this
    budget), and ``absorb`` counts those another process (a restart, ``sync``
    from cron) sent within the window, on the host's clock (``wall``).
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = shutdown.sleep,
        *,
        fixed_windows: bool = False,
        margin: float | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.fixed_windows = fixed_windows
        self.window = window
        self.margin = window * CLOCK_MARGIN if margin is None else margin
        self.configured = (limit, window)
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[Slot] = deque()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.waited = 0.0
        self.granted = 0  # requests let go since creation (pacing counts them)
        self.key_id: str | None = None  # set by ``budget_for``: the key's spend is stored
        self.service = ""  # set by ``budget_for``: named in the line a long wait logs
        self.owner = uuid.uuid4().hex
        self._wall = wall
        self._absorbed: set[tuple[int, float]] = set()
        self._saving: list[Slot] = []  # handed out by the last ``unsaved``

    def take(self) -> Slot:
        """Block until a request may go out; its slot counts until ``answered`` and a window."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                live = self._live(now)
                delay = max(self._paused_until - now, 0.0)
                if not delay and live < self.limit:
                    slot = Slot(now, waited)
                    self._slots.append(slot)
                    self.waited += waited
                    self.granted += 1
                    return slot
                if not delay:
                    delay = self._next_free(now)
                if not waited and delay >= self.window * LONG_WAIT_SHARE:
                    self._say_wait(delay)
            # In slices, each telling the watchdog the process lives: a burst that
            # waits on its budget for a minute is working, not stuck.
            step = min(delay, KEEPALIVE_SLICE)
            shutdown.keepalive()
            self._sleep(step)
            waited += step

    def _say_wait(self, delay: float) -> None:
        """One line for a wait a person would notice (a ``sync`` silent for a minute).

        Most often another process (the service beside a ``sync``, a restart) spent
        the key's window, which the state database told this one.
        """
        log.info(
            "budget_wait",
            service=self.service,
            wait_s=round(delay, 1),
            requests_in_window=len(self._slots),
            limit=self.limit,
            paused_by_vendor=self._paused_until > self._clock(),
        )

    def answered(self, slot: Slot) -> None:
        """The request's answer arrived (or it failed): its window starts now."""
        with self._lock:
            slot.at = max(slot.at, self._clock())
            slot.in_flight = False

    def acquire(self) -> float:
        """Take a slot for a request answered at once; return how long it waited."""
        slot = self.take()
        self.answered(slot)
        return slot.waited

    def free_within(self, share: float) -> int:
        """How many requests this budget can let go within ``share`` of a window from now."""
        with self._lock:
            now = self._clock()
            later = now + share * self.window
            if self._paused_until > later:
                return 0
            self._live(now)
            busy = sum(1 for slot in self._slots if not self._expired(slot, later))
            return max(self.limit - busy, 0)

    def _expired(self, slot: Slot, now: float) -> bool:
        # "answered + window + margin <= now" with a little slack, so float rounding
        # can never leave a zero-length wait spinning.
        return not slot.in_flight and slot.at + self.window + self.margin <= now + 1e-6

    def _live(self, now: float) -> int:
        """Drop the expired slots at the front; count those still in a window."""
        while self._slots and self._expired(self._slots[0], now):
            self._slots.popleft()
        return sum(1 for slot in self._slots if not self._expired(slot, now))

    def _next_free(self, now: float) -> float:
        ends = [s.at + self.window + self.margin for s in self._slots if not s.in_flight]
        ends = [end for end in ends if end > now]
        return max(min(ends) - now, 1e-3) if ends else _IN_FLIGHT_POLL

    def clock(self) -> float:
        """The budget's own clock (monotonic, or a test's virtual one)."""
        return self._clock()

    def wall_now(self) -> float:
        """The host's clock (epoch seconds): what processes share."""
        return self._wall()

    def unsaved(self) -> list[float]:
        """This process's requests not stored yet, in epoch seconds (marked stored)."""
        with self._lock:
            offset = self._wall() - self._clock()
            self._saving = [slot for slot in self._slots if not slot.saved]
            for slot in self._saving:
                slot.saved = True
            return [slot.at + offset for slot in self._saving]

    def not_saved(self) -> None:
        """The rows of the last ``unsaved`` were rolled back: the next one hands them out again."""
        with self._lock:
            for slot in self._saving:
                slot.saved = False
            self._saving = []

    def absorb(self, spent: Iterable[tuple[int, float]]) -> None:
        """Count another process's requests (row id, epoch seconds) as this window's own."""
        with self._lock:
            offset = self._wall() - self._clock()
            now = self._clock()
            # A row is known by its id and time (SQLite reuses the ids of deleted rows);
            # what left the window is forgotten, so the set stays as small as the window.
            start = now - self.window - self.margin
            self._absorbed = {(i, at) for i, at in self._absorbed if at - offset >= start}
            fresh = [(i, at) for i, at in spent if (i, at) not in self._absorbed]
            if not fresh:
                return
            for row_id, at in fresh:
                self._absorbed.add((row_id, at))
                # A row from the future (another host's clock ahead) counts as sent now.
                self._slots.append(Slot(min(at - offset, now), in_flight=False, saved=True))
            self._slots = deque(sorted(self._slots, key=lambda slot: slot.at))

    def pause(self, seconds: float) -> None:
        """Send nothing with this key for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def throttled(self, pause: float, slot: Slot | None = None) -> None:
        """The vendor refused a request for its rate: lower the limit and pause."""
        with self._lock:
            now = self._clock()
            # The refused request did not count for the vendor.
            if slot is not None and slot in self._slots:
                self._slots.remove(slot)
            elif slot is None and self._slots:
                self._slots.pop()
            start = now - self.window - self.margin
            accepted = sum(1 for s in self._slots if s.at > start)
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


def answer_deadline(environ: Mapping[str, str] | None = None) -> float:
    """``ANSWER_DEADLINE``, or the test seam's shorter value when it is set."""
    value = (os.environ if environ is None else environ).get(DEADLINE_ENV, "")
    try:
        seconds = float(value)
    except ValueError:
        return ANSWER_DEADLINE
    return seconds if 0 < seconds < ANSWER_DEADLINE else ANSWER_DEADLINE


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
            # Names the key in the state database: a hash of a hash, never the key.
            budget.key_id = hashlib.sha256(f"{service}:{digest}".encode()).hexdigest()[:32]
            budget.service = service
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

    def throttle_pause(self, retry_after: float | None) -> float:
        """How long a key waits after a 420/429: as told, else ``throttle_delay``."""
        return self.throttle_delay if retry_after is None else retry_after

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay * 3)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto


@dataclass(frozen=True)
class _Environment:
    """What the environment says for one origin: proxies (``https_proxy``, ``no_proxy``...)
    and the CA bundle (``REQUESTS_CA_BUNDLE``)."""

    proxies: dict[str, str]
    verify: bool | str


def _environment(session: requests.Session, base_url: str) -> _Environment:
    """The environment's settings for ``base_url``, read once, then no longer per request.

    Every request of a service goes to its one origin (reads follow only
    same-origin redirects), so the environment's answer (``no_proxy`` is by
    host) is the same for all of them; requests would scan the whole
    environment again on each. Plain ``http://`` still never uses a proxy
    (``_WatchedAdapter``).
    """
    merged = session.merge_environment_settings(base_url + "/", {}, True, True, None)
    session.trust_env = False  # read here once; requests would read it on every call
    verify = merged["verify"]
    return _Environment(dict(merged["proxies"] or {}), True if verify is None else verify)


def _session(auth_header: str) -> requests.Session:
    """A pooled session that sends ``auth_header`` and watches every socket read."""
    session = requests.Session()
    session.headers.update(
        {"Accept": "application/json", "User-Agent": f"ilert-statuspage-sync/{__version__}"}
    )
    # As session auth (not a plain header) so ~/.netrc can never replace it, while
    # proxy settings and REQUESTS_CA_BUNDLE from the environment still apply.
    session.auth = _HeaderAuth(auth_header)
    session.verify = True
    for prefix in ("http://", "https://"):
        session.mount(prefix, _WatchedAdapter())
    return session


class HttpService:
    """One vendor API reached with one key: builds requests, paces them, reads errors."""

    def __init__(
        self,
        service: str,
        base_url: str,
        auth_header: str,
        budget: RateBudget,
        *,
        timeout: tuple[float, float] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = shutdown.sleep,
        on_response: Callable[[str, int | None, float], None] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        # (connect timeout, deadline of the whole request)
        self.timeout = timeout or (CONNECT_TIMEOUT, answer_deadline())
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._on_response = on_response
        # The server's clock as of its last answer (the raw ``Date`` header), see core.clock.
        self.last_date_header: str | None = None
        # The budget slot of the request sent last (a throttled one is taken back).
        self._slot: Slot | None = None
        self._session = _session(auth_header)
        self._environment = _environment(self._session, self.base_url)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, decode: Decode | None = None
    ) -> Any:
        """GET a JSON document, retrying transient failures; ``decode``: see ``write``."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send("GET", path, params=params, decode=decode)
            except TransientApiError as error:
                if attempt >= self.retry.attempts or isinstance(error, ThrottledError):
                    raise
                delay = self.retry.delay(attempt, error.retry_after)
                log.debug("api_read_retry", service=self.service, path=path, delay=round(delay, 2))
                self._wait(self._sleep, delay)

    def write(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any],
        before_send: Callable[[], None] | None = None,
        decode: Decode | None = None,
    ) -> Any:
        """Send a write once; the caller decides whether it may be repeated.

        ``before_send`` runs after the rate budget let the request go and right
        before it is sent (the caller records its intent there); if it raises,
        nothing is sent. ``decode``: reads a 2xx answer's body instead of
        ``json.loads`` (the same result; a ``ValueError`` for what is no JSON).
        """
        return self._send(method, path, json_body=body, before_send=before_send, decode=decode)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        before_send: Callable[[], None] | None = None,
        decode: Decode | None = None,
    ) -> Any:
        url = self.base_url + path
        hops = waits = 0
        started = self.budget.clock()
        while hops <= MAX_REDIRECTS:
            response = self._exchange(method, url, path, params, json_body, before_send)
            # Only a write has one; it ran (the intent is committed): never again.
            before_send = None
            if self._waits_out(response, method, waits, started):
                waits += 1
                self._throttled(response, method, path)
                continue  # the budget's pause is the wait: the next take sleeps it out
            if not 300 <= response.status_code < 400:
                return self._read(response, method, path, decode)
            url = self._redirect(response, method, path)
            params = None  # the Location carries its own query
            hops += 1
        raise PermanentApiError(
            self.service, f"more than {MAX_REDIRECTS} redirects ({method} {path})"
        )

    def _waits_out(
        self, response: requests.Response, method: str, waits: int, started: float
    ) -> bool:
        """Whether a 420/429 is waited out and the same request sent again.

        A write is sent again only inside its start window (runtime.deadlines): past
        it, another process may already reconcile its intent as never sent. A read
        waits at most ``READ_THROTTLE_WAIT`` in all. Otherwise ``ThrottledError``.
        """
        if response.status_code not in _THROTTLED or waits >= THROTTLE_WAITS:
            return False
        retry_after = _retry_after(response)
        pause = self.retry.throttle_pause(retry_after)
        limit = READ_THROTTLE_WAIT if method == "GET" else WRITE_START_WINDOW
        return self.budget.clock() - started + pause <= limit

    def _throttled(self, response: requests.Response, method: str, path: str) -> None:
        """A 420/429: the vendor refused the request unprocessed; pause the key as told."""
        retry_after = _retry_after(response)
        pause = self.retry.throttle_pause(retry_after)
        self.budget.throttled(pause, self._slot)
        log.info(
            "api_throttled",
            service=self.service,
            method=method,
            path=urlsplit(path).path,
            status=response.status_code,
            wait_s=round(pause, 3),
        )

    def _redirect(self, response: requests.Response, method: str, path: str) -> str:
        """Where a read may follow a 3xx; a write never follows one (its fate is unknown)."""
        status = response.status_code
        location = response.headers.get("Location", "")
        target = urljoin(response.url or self.base_url, location) if location else ""
        if method != "GET":
            # The server may have acted before redirecting: keep the intent, reconcile it.
            raise TransientApiError(
                self.service,
                f"answered a redirect to {target or '(no Location)'}; writes never follow "
                f"redirects, the write is checked before anything is sent again; "
                f"check api_url ({method} {path})",
                status,
                maybe_applied=True,
            )
        if not target or _origin(target) != _origin(self.base_url):
            raise PermanentApiError(
                self.service,
                f"answered a redirect to {target or '(no Location)'}, which is not "
                f"{self.base_url}; the key is never sent to another host; "
                f"check api_url ({method} {path})",
                status,
            )
        return target

    def _exchange(
        self,
        method: str,
        url: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Mapping[str, Any] | None,
        before_send: Callable[[], None] | None = None,
    ) -> requests.Response:
        """One request with its whole-request deadline; the body is read before returning.

        ``before_send`` runs once the budget let the request go and no stop was
        asked, right before it is sent (a write records its intent there).
        """
        slot = self._take()
        try:
            if shutdown.stop_requested():
                raise StopRequestedError(self.service)
            if before_send is not None:
                before_send()
            shutdown.keepalive()
            return self._exchange_now(method, url, path, params, json_body, slot.waited)
        finally:
            # Counted by the vendor at some moment up to its answer: the window starts here.
            self.budget.answered(slot)

    def _take(self) -> Slot:
        taken: list[Slot] = []
        self._wait(lambda _seconds: taken.append(self.budget.take()), 0.0)
        self._slot = taken[0]
        return taken[0]

    def _exchange_now(
        self,
        method: str,
        url: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Mapping[str, Any] | None,
        budget_wait: float = 0.0,
    ) -> requests.Response:
        waited = [budget_wait]
        started = time.monotonic()
        watch = _Watch(self.timeout[1])
        try:
            with watch:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    proxies=self._environment.proxies,
                    verify=self._environment.verify,
                )
                with response:
                    # Read here, under the deadline; .json() and .content then use it.
                    response._content = _body(response, watch)
        except (requests.RequestException, _DeadlinePassedError, UnicodeEncodeError) as error:
            self._observe(None, started, method, path, waited)
            raise self._unsent(error, watch, method, path) from None
        self._observe(response.status_code, started, method, path, waited)
        self.last_date_header = response.headers.get("Date")
        return response

    def _unsent(
        self, error: Exception, watch: _Watch, method: str, path: str
    ) -> TransientApiError | PermanentApiError:
        """The error for a request that got no HTTP answer."""
        if isinstance(error, requests.ConnectTimeout):
            return TransientApiError(
                self.service, f"cannot connect to {self.base_url} within {self.timeout[0]:g}s"
            )
        if isinstance(error, UnicodeEncodeError):
            return PermanentApiError(
                self.service,
                f"a request header (the API key?) holds a character HTTP cannot carry "
                f"({method} {path})",
            )
        return self._failure(error, watch, method, path)

    def _failure(
        self, error: Exception, watch: _Watch, method: str, path: str
    ) -> TransientApiError | PermanentApiError:
        if watch.expired or isinstance(error, (requests.Timeout, _DeadlinePassedError)):
            return TransientApiError(
                self.service,
                f"no answer within {watch.seconds:g}s ({method} {path})",
                maybe_applied=True,
            )
        if isinstance(error, requests.ConnectionError):
            reason = _reason(error)
            return TransientApiError(
                self.service,
                f"cannot reach {self.base_url}: {reason} ({method} {path})",
                maybe_applied=reason == "connection dropped",
            )
        if isinstance(error, _CUT_OFF):
            return TransientApiError(
                self.service,
                f"the answer was cut off ({method} {path})",
                maybe_applied=True,
            )
        # Never str(error): an invalid header's text would hold the key.
        return PermanentApiError(
            self.service, f"the request could not be sent: {type(error).__name__} ({method} {path})"
        )

    def _wait(self, sleep: Callable[[float], object], seconds: float) -> None:
        """Run a wait that a stop request ends, naming this service in the error."""
        try:
            sleep(seconds)
        except StopRequestedError:
            raise StopRequestedError(self.service) from None

    def _observe(
        self, status: int | None, started: float, method: str, path: str, waited: list[float]
    ) -> None:
        duration = time.monotonic() - started
        if self._on_response is not None:
            self._on_response(self.service, status, duration)
        # ``path`` is ours (no query: params travel apart), so no key or user text is in it.
        log.debug(
            "http_request",
            service=self.service,
            method=method,
            path=urlsplit(path).path,
            status=status,
            duration_s=round(duration, 3),
            budget_wait_s=round(sum(waited), 3),
        )

    def _read(
        self, response: requests.Response, method: str, path: str, decode: Decode | None = None
    ) -> Any:
        refused = self._refusal(response, method, path)
        if refused is not None:
            raise refused
        if not response.content:
            return None
        try:
            if decode is not None:
                return decode(response.content)
            return json.loads(response.content, parse_int=json_int)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            raise PayloadError(
                f"{self.service}: {method} {path} answered "
                f"{response.status_code} with a body that is not JSON"
            ) from None

    def _refusal(
        self, response: requests.Response, method: str, path: str
    ) -> TransientApiError | PermanentApiError | None:
        """The error an answer's status means (a throttle also slows the budget), or None."""
        status = response.status_code
        if status in _THROTTLED or status >= 500:
            retry_after = _retry_after(response)
            if status in _THROTTLED:
                pause = self.retry.throttle_pause(retry_after)
                self.budget.throttled(pause, self._slot)
                return ThrottledError(
                    self.service,
                    f"{_vendor_message(response)}, still after {THROTTLE_WAITS} waits "
                    f"({method} {path})",
                    status,
                    retry_after=retry_after,
                )
            return TransientApiError(
                self.service,
                f"{_vendor_message(response)} ({method} {path})",
                status,
                retry_after=retry_after,
                maybe_applied=status >= 500,
            )
        if status in _AUTH_FAILED:
            return PermanentApiError(
                self.service,
                f"the API key was rejected: {_vendor_message(response)} ({method} {path})",
                status,
            )
        if status >= 400:
            return PermanentApiError(
                self.service, f"{_vendor_message(response)} ({method} {path})", status
            )
        return None


class _DeadlinePassedError(Exception):
    """The body was still arriving when the request's deadline passed."""


class _Watch:
    """A request's deadline: the watchdog cuts its connection when the deadline passes.

    Socket timeouts count per ``recv``, so a server sending a byte every few
    seconds would never trip them; cutting the socket ends any blocked read.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._connection: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> _Watch:
        _current.watch = self
        _deadlines.add(self.deadline, self)
        return self

    def __exit__(self, *_exc: object) -> None:
        _current.watch = None
        with self._lock:
            self.done = True
            self._connection = None  # the watchdog's queue may hold this watch a while

    def attach(self, connection: Any) -> None:
        """The pool handed this request its connection."""
        with self._lock:
            self._connection = connection

    def expire(self) -> None:
        """The deadline passed (the watchdog calls this): cut the connection."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            sock = getattr(self._connection, "sock", None)
            if sock is None:
                # Not connected yet (a deadline shorter than the connect timeout): look again.
                _deadlines.add(time.monotonic() + 0.05, self)
                return
        with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
            sock.shutdown(socket.SHUT_RDWR)


class _Deadlines:
    """One watchdog thread for every request's deadline, not a timer thread per request.

    Started on first use (and again in a forked child, where it does not run);
    it sleeps until the earliest deadline, or until an earlier one is added.
    A finished request's watch is dropped when its deadline comes up.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._queue: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, at: float, watch: _Watch) -> None:
        """Expire ``watch`` at ``at`` (monotonic seconds) unless it is done by then."""
        with self._wake:
            heapq.heappush(self._queue, (at, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="http-deadlines", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            self._next().expire()

    def _next(self) -> _Watch:
        """Wait for the earliest deadline of a request still running; return its watch."""
        with self._wake:
            while True:
                while self._queue and self._queue[0][2].done:
                    heapq.heappop(self._queue)
                if not self._queue:
                    self._wake.wait()
                    continue
                wait = self._queue[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._queue)[2]
                self._wake.wait(wait)


_deadlines = _Deadlines()
_current = threading.local()


def _body(response: requests.Response, watch: _Watch) -> bytes:
    chunks = []
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        if time.monotonic() > watch.deadline:
            raise _DeadlinePassedError
    return b"".join(chunks)


class _Watched:
    """Pool mixin: hand each connection taken for a request to that request's deadline watch."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.attach(connection)
        return connection


class _WatchedHTTPPool(_Watched, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, urllib3.HTTPSConnectionPool):
    pass


_CUT_OFF = (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError)
_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """Pools that tell the current request's ``_Watch`` which connection it uses.

    Plain ``http://`` never goes through a proxy: every request carries a key
    in its Authorization header, and an HTTP proxy (``http_proxy``,
    ``all_proxy`` from the environment) would read it in clear text. Over
    ``https://`` a proxy only tunnels (CONNECT) and never sees the header, so
    the environment's proxy settings still apply there.
    """

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if urlsplit(request.url or "").scheme.lower() != "https":
            proxies = {}
        return super().send(request, stream, timeout, verify, cert, proxies)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):  # not SOCKS: it has its own pools
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class _HeaderAuth(requests.auth.AuthBase):
    """Sets the vendor's Authorization header; its repr never shows the key."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "_HeaderAuth('********')"


def json_int(digits: str) -> int | float:
    """A JSON integer; past ``int()``'s 4,300-digit limit a float (inf), never a ValueError.

    Otherwise one such number anywhere (an incident's metadata, which anyone
    with the page's key may write) would make the whole answer unreadable.
    """
    return int(digits) if len(digits) <= _INT_DIGITS else float(digits)


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110) counted from the
    answer's own ``Date`` (the server's clock, whatever ours says), else from our clock."""
    value = response.headers.get("Retry-After", "").strip()
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value, response.headers.get("Date", ""))
    if seconds is None or not math.isfinite(seconds):
        return None
    # Never hammer on 0, never park a key for more than an hour on a bad header.
    return min(max(seconds, 1.0), 3600.0)


def _seconds_until(when: str, date: str) -> float | None:
    """Seconds from the ``Date`` header (or now) to the HTTP date ``when``; None if unreadable."""
    try:
        until = email.utils.parsedate_to_datetime(when)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        base = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        base = datetime.now(UTC)
    if until.tzinfo is None or base.tzinfo is None:
        return None  # "-0000": no zone given; RFC 9110 dates are GMT
    return (until - base).total_seconds()


def _vendor_message(response: requests.Response) -> str:
    """The vendor's error text: iLert ``message``; Statuspage ``error`` or ``message``."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
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
