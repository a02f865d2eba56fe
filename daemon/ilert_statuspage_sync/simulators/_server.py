"""The shared machinery of the API simulators.

`SimulatorServer` owns the listening socket, the request log, fault injection,
rate limits, outages, response delays and the clock. Subclasses only authenticate
and route a parsed `SimRequest` to a `SimResponse`; everything else (HEAD,
recording, faults) happens here, under one lock. The socket handler lives in
`_wire`, the fault bookkeeping in `_faults`, the one-shot rules' controls in
`_fault_controls`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import NoReturn, Self

from ilert_statuspage_sync.simulators._fault_controls import FaultControls
from ilert_statuspage_sync.simulators._faults import (
    DOWN_MODES,
    FaultQueue,
    RateLimit,
    RuleKind,
    Stall,
)
from ilert_statuspage_sync.simulators._wire import (
    DropConnection,
    HttpError,
    Listener,
    RecordedRequest,
    SimRequest,
    SimResponse,
    format_timestamp,
    int_param,
    parse_timestamp,
)

__all__ = [
    "DropConnection",
    "HttpError",
    "RecordedRequest",
    "SimRequest",
    "SimResponse",
    "SimulatorServer",
    "Stall",
    "format_timestamp",
    "int_param",
    "parse_timestamp",
]


@dataclass(frozen=True)
class _Hold:
    """A request to hold outside the lock: on the outage gate, or on a stall."""

    label: str
    gate: threading.Event | None = None
    stall: Stall | None = None
    response: SimResponse | None = None  # computed before the hold (after_apply)


def _never() -> bool:
    return False


class SimulatorServer(FaultControls):
    """An in-process HTTP server on 127.0.0.1 with recording, faults and delays.

    A request meets, in order: the outage mode (`set_down`), then the one-shot rules
    (`inject_fault`, `fail_next`, `malformed_next`, `drop_next`, `stall_next`, `delay_next`; the
    first match in the order they were queued is used), then the real handling:
    authentication, the rate limit (`set_rate_limit` of the subclass), routing.
    Canned answers therefore neither need credentials nor count toward the limit.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._faults = FaultQueue()
        self._stalls: list[Stall] = []
        self._rate_limit: RateLimit | None = None
        self._violations = 0
        self._down: str | None = None
        self._hang_gate = threading.Event()
        self._hang_gate.set()
        self._delay = 0.0
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._stopping = threading.Event()
        self._lifecycle = threading.Lock()
        self._listener = Listener(self, type(self).__name__)
        self._running = False
        self._port = 0

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread."""
        with self._lifecycle:
            if self._running:
                raise RuntimeError(f"{type(self).__name__} is already running")
            self._stopping.clear()
            self._port = self._listener.listen(0)
            self._running = True
        return self

    def stop(self) -> None:
        """Stop serving and release the port; end any outage, delay, stall or hang.

        Open connections are closed; held requests end without an answer.
        """
        with self._lifecycle:
            if not self._running:
                return
            self._running = False
            self._stopping.set()
            with self._lock:
                self._down = None
                self._hang_gate.set()
                stalls, self._stalls = self._stalls, []
                self._faults.remove_stalls()
            for stall in stalls:
                stall.abort()
            self._listener.close()
            self._listener.cut()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:40123"; the same through `set_down`."""
        if not self._running:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._port}"

    # -- test controls -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request answered (or dropped) so far, oldest first.

        A held request (stall, hang) is recorded when its hold ends.
        """
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests (the simulated data stays)."""
        with self._lock:
            self._requests.clear()

    def set_down(self, mode: str | None) -> None:
        """Simulate an outage, or end it with None; the URL stays the same.

        "refuse" closes the listening socket and every open connection, so new
        connections are refused; None rebinds the same port. "error" answers every
        request 503 with the vendor's error body. "hang" reads requests but never
        answers until the outage ends (they are then handled as if just arrived,
        unless their client hung up meanwhile: those are dropped unhandled) or the
        server stops. Queued one-shot faults wait until the outage is over.
        """
        if mode is not None and mode not in DOWN_MODES:
            raise ValueError(f"mode must be None or one of {DOWN_MODES}")
        with self._lifecycle:
            if not self._running:
                raise RuntimeError(f"{type(self).__name__} is not running")
            previous = self._down
            if previous == "refuse" and mode != "refuse":
                self._listener.listen(self._port)
            with self._lock:
                self._enter_down(previous, mode)
            if mode == "refuse" and previous != "refuse":
                self._listener.close()
                self._listener.cut()

    def _enter_down(self, previous: str | None, mode: str | None) -> None:
        """Under the lock: switch the outage mode; a hang's gate closes and opens with it."""
        self._down = mode
        if mode == "hang" and previous != "hang":
            self._hang_gate = threading.Event()
        if previous == "hang" and mode != "hang":
            self._hang_gate.set()

    def rate_limit_violations(self) -> int:
        """How many requests were answered with the rate-limit status so far."""
        with self._lock:
            return self._violations

    def set_delay(self, seconds: float) -> None:
        """Hold every response back by `seconds` (0 turns it off)."""
        if seconds < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._delay = seconds

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Use `clock` (returning aware datetimes) for every timestamp from now on."""
        with self._lock:
            self._clock = clock

    def now(self) -> datetime:
        """The simulator's current time, aware UTC."""
        with self._lock:
            moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the simulator clock must return timezone-aware datetimes")
        return moment.astimezone(UTC)

    def _install_rate_limit(self, rate_limit: RateLimit | None) -> None:
        """Replace the rate limit (None lifts it); counting starts afresh."""
        with self._lock:
            self._rate_limit = rate_limit

    # -- request handling --------------------------------------------------

    def dispatch(
        self, request: SimRequest, client_gone: Callable[[], bool] | None = None
    ) -> SimResponse:
        """Answer one request through the fault plan and the real handling.

        `client_gone` tells whether the client hung up (checked after a hold).
        Raises `DropConnection` when the connection is to be closed unanswered.
        """
        response = self._answer(request, client_gone or _never)
        with self._lock:
            delay = self._delay
        if delay:
            self._stopping.wait(delay)
        return response

    def _answer(self, request: SimRequest, gone: Callable[[], bool]) -> SimResponse:
        """The answer after any outage gate or stall; DropConnection when there is none."""
        while True:
            with self._lock:
                decided = self._decide(request)
            if isinstance(decided, SimResponse):
                return decided
            if decided.gate is None:
                assert decided.stall is not None
                return self._serve_stalled(request, decided, decided.stall, gone)
            decided.gate.wait()
            if self._stopping.is_set() or gone():
                self._drop(request, decided.label)
            # The outage changed: start over as if the request just arrived.

    def authenticate(self, request: SimRequest) -> None:
        """Raise `HttpError` when the request's credentials are not accepted."""

    def rate_limit_key(self, request: SimRequest) -> str:
        """The key an authenticated request is counted under (one bucket by default)."""
        return ""

    def route(self, request: SimRequest) -> SimResponse:
        """Answer an authenticated request with a valid (or no) JSON body."""
        raise HttpError(404, f"No route for {request.method} {request.path}")

    def error_response(self, status: int, message: str) -> SimResponse:
        """Render an error in the simulated API's error shape."""
        return SimResponse(status, {"message": message})

    def _decide(self, request: SimRequest) -> SimResponse | _Hold:
        """Under the lock: an answer (recorded), a hold, or DropConnection (recorded)."""
        if self._down == "refuse":  # a connection that slipped past the cut
            self._drop(request, "down-refuse")
        if self._down == "error":
            outage = self.error_response(503, "Service Unavailable")
            return self._record(request, outage, "down-error")
        if self._down == "hang":
            return _Hold("down-hang", gate=self._hang_gate)
        rule = self._faults.take(request.method, request.path)
        if rule is None:
            return self._record(request, *self._handle(request))
        if rule.kind is RuleKind.RESPOND:
            assert rule.response is not None
            return self._record(request, rule.response, rule.label)
        applied = self._handle(request)[0] if rule.after_apply else None
        if rule.kind is RuleKind.DROP:
            self._drop(request, rule.label)
        return _Hold(rule.label, stall=rule.stall, response=applied)

    def _serve_stalled(
        self, request: SimRequest, hold: _Hold, stall: Stall, gone: Callable[[], bool]
    ) -> SimResponse:
        try:
            released = stall.hold()
            with self._lock:
                if not released or (hold.response is None and gone() and stall.delay is None):
                    self._drop(request, hold.label)
                if hold.response is not None:
                    return self._record(request, hold.response, hold.label)
                response, fault = self._handle(request)
                return self._record(request, response, fault or hold.label)
        finally:
            stall.finished.set()
            with self._lock:
                if stall in self._stalls:
                    self._stalls.remove(stall)

    def _record(self, request: SimRequest, response: SimResponse, fault: str | None) -> SimResponse:
        self._requests.append(RecordedRequest.of(request, response.status, fault))
        return response

    def _drop(self, request: SimRequest, fault: str) -> NoReturn:
        with self._lock:
            self._requests.append(RecordedRequest.of(request, 0, fault))
        raise DropConnection(fault)

    def _handle(self, request: SimRequest) -> tuple[SimResponse, str | None]:
        """Authenticate, rate-limit and route; (answer, fault label or None)."""
        routed = request if request.method != "HEAD" else request.as_get()
        try:
            self.authenticate(routed)
            limit = self._rate_limit
            if limit is not None and not limit.limiter.admit(self.rate_limit_key(routed)):
                self._violations += 1
                return limit.response, "rate-limit"
            if routed.body_error is not None:
                raise HttpError(400, routed.body_error)
            return self.route(routed), None
        except HttpError as exc:
            return self.error_response(exc.status, exc.message), None
        except Exception as exc:  # noqa: BLE001 (a simulator bug must surface as a 500, not a hang)
            return self.error_response(500, f"simulator error: {exc!r}"), None
