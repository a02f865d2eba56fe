"""The one-shot fault rules a test queues on a simulator (`inject_fault` ... `delay_next`).

`FaultControls` is mixed into `SimulatorServer`: it only queues rules (and the
stalls they hold) under the server's lock; the server meets them in `dispatch`.
"""

from __future__ import annotations

import threading
from http import HTTPStatus

from ilert_statuspage_sync.simulators._faults import (
    FaultQueue,
    FaultRule,
    RuleKind,
    Stall,
    check_count,
)
from ilert_statuspage_sync.simulators._wire import SimResponse

__all__ = ["FaultControls"]


class FaultControls:
    """Queue canned answers, drops, stalls and delays for the next matching requests."""

    # Owned and initialised by `SimulatorServer`.
    _lock: threading.RLock
    _faults: FaultQueue
    _stalls: list[Stall]

    def error_response(self, status: int, message: str) -> SimResponse:
        """Render an error in the simulated API's error shape (the server's own)."""
        raise NotImplementedError

    def inject_fault(
        self,
        status: int,
        body: object,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with this canned response instead."""
        if times < 1:
            raise ValueError("times must be at least 1")
        response = SimResponse(status, body, dict(headers or {}))
        self._queue(RuleKind.RESPOND, times, path_contains, method, "inject", response=response)

    def fail_next(
        self,
        count: int,
        status: int = 503,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests `status` with the vendor's error body.

        The body is the simulator's own error shape (`error_response`) with the
        status's reason phrase as message; the requests are not handled.
        """
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Simulated failure"
        response = self.error_response(status, message)
        self._queue(RuleKind.RESPOND, count, path_contains, method, "fail", response=response)

    def malformed_next(
        self,
        count: int = 1,
        body: bytes = b"<html>502 Bad Gateway</html>",
        status: int = 200,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests `status` with raw `body` as text/html.

        Models a proxy page or a truncated answer where JSON was expected; the
        requests are not handled.
        """
        response = SimResponse(status, bytes(body), {"Content-Type": "text/html"})
        self._queue(RuleKind.RESPOND, count, path_contains, method, "malformed", response=response)

    def drop_next(
        self,
        count: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
        after_apply: bool = False,
    ) -> None:
        """Close the connection of the next `count` matching requests without any answer.

        By default the request is dropped before it is handled (nothing changes).
        With `after_apply` it is fully handled first (an incident is created, say)
        and only the answer is lost. Recorded with status 0.
        """
        label = "drop-after-apply" if after_apply else "drop"
        self._queue(RuleKind.DROP, count, path_contains, method, label, after_apply=after_apply)

    def stall_next(
        self,
        path_contains: str | None = None,
        method: str | None = None,
        after_apply: bool = False,
    ) -> Stall:
        """Hold the next matching request until the returned `Stall` is released.

        With `after_apply` False the request is held before it is handled, so a
        client killed meanwhile changed nothing (on release, a request whose client
        has hung up is dropped unhandled). With `after_apply` True it is handled
        first and only the answer is held. Other requests are served meanwhile;
        `stop()` aborts the hold.
        """
        stall = Stall(after_apply=after_apply)
        label = "stall-after-apply" if after_apply else "stall"
        with self._lock:
            self._stalls.append(stall)
            self._queue(RuleKind.STALL, 1, path_contains, method, label, after_apply, stall)
        return stall

    def delay_next(
        self,
        seconds: float,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> Stall:
        """Hold the next matching request `seconds`, then apply it and answer.

        A slow vendor: the request is applied when the delay ends even if its
        client hung up meanwhile (the server had received it whole), so a write
        can land long after it was sent. `release()` ends the delay early;
        `stop()` aborts it (nothing applied).
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        stall = Stall(after_apply=False, delay=seconds)
        with self._lock:
            self._stalls.append(stall)
            self._queue(RuleKind.STALL, 1, path_contains, method, "delay", stall=stall)
        return stall

    def clear_faults(self) -> None:
        """Forget every queued rule nothing has used up yet (an outage ends)."""
        with self._lock:
            self._faults.clear()

    def _queue(
        self,
        kind: RuleKind,
        count: int,
        path_contains: str | None,
        method: str | None,
        label: str,
        after_apply: bool = False,
        stall: Stall | None = None,
        *,
        response: SimResponse | None = None,
    ) -> None:
        check_count(count)
        rule = FaultRule(kind, count, path_contains, method, label, response, after_apply, stall)
        with self._lock:
            self._faults.add(rule)
