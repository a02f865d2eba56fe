"""Fault plans of the simulators: one-shot rules, stalls, rate limiters and outage modes.

The classes here hold state only; `SimulatorServer` calls them under its own lock
(except `Stall`, whose events are shared with the test thread and are thread-safe).
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ilert_statuspage_sync.simulators._wire import SimResponse

__all__ = [
    "DOWN_MODES",
    "FaultQueue",
    "FaultRule",
    "FixedWindowLimiter",
    "RateLimit",
    "RateLimiter",
    "RollingWindowLimiter",
    "RuleKind",
    "Stall",
    "check_count",
]

# `set_down` modes; None means up.
DOWN_MODES = ("refuse", "error", "hang")


def check_count(count: int) -> None:
    """Reject a fault count below one (a count of 0 would silently do nothing)."""
    if count < 1:
        raise ValueError("count must be at least 1")


class Stall:
    """A hold on one request, made by `stall_next`; thread-safe.

    `arrived` is set once the matching request is being held. `release()` lets it
    go on: a request held before its state change is then handled normally (unless
    its client hung up meanwhile, in which case it is dropped unapplied), one held
    after its state change gets the answer computed before the hold. Releasing
    before the request arrives lets it pass without a hold. `finished` is set once
    the held request was answered or dropped. Stopping the server aborts the hold:
    the connection is closed without an answer.
    """

    def __init__(self, *, after_apply: bool, delay: float | None = None) -> None:
        self.after_apply = after_apply
        # `delay_next`: the hold ends by itself after this many seconds, and the
        # request is then applied even if its client hung up (the server had it all).
        self.delay = delay
        self.arrived = threading.Event()
        self.finished = threading.Event()
        self._released = threading.Event()
        self._aborted = False
        self._lock = threading.Lock()

    def release(self) -> None:
        """Let the held (or the next matching) request continue."""
        with self._lock:
            self._released.set()

    @property
    def released(self) -> bool:
        """Whether `release()` was called or the server stopped."""
        return self._released.is_set()

    def wait_arrived(self, timeout: float | None = None) -> bool:
        """Wait until the matching request is held; False on timeout."""
        return self.arrived.wait(timeout)

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Wait until the held request was answered or dropped; False on timeout."""
        return self.finished.wait(timeout)

    def abort(self) -> None:
        """End the hold because the server stops (no effect once released)."""
        with self._lock:
            if not self._released.is_set():
                self._aborted = True
                self._released.set()

    def hold(self) -> bool:
        """Block the calling request thread; True when released, False when aborted."""
        self.arrived.set()
        self._released.wait(self.delay)
        with self._lock:
            return not self._aborted


class RuleKind(Enum):
    """What a one-shot rule does to the request it matches."""

    RESPOND = "respond"  # answer a canned response, the request is not handled
    DROP = "drop"  # close the connection without an answer
    STALL = "stall"  # hold the request until the `Stall` is released


@dataclass
class FaultRule:
    """A one-shot rule for the next `remaining` matching requests."""

    kind: RuleKind
    remaining: int
    path_contains: str | None
    method: str | None
    label: str
    response: SimResponse | None = None
    after_apply: bool = False
    stall: Stall | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path is one the rule targets."""
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_contains is None or self.path_contains in path


class FaultQueue:
    """One-shot rules; the first match, in the order they were added, is consumed."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Queue `rule` behind the ones already queued."""
        check_count(rule.remaining)
        self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one use of the first matching rule, or None when none matches."""
        for rule in self._rules:
            if rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        """Forget every rule (a stall already met keeps its own release)."""
        self._rules = []

    def remove_stalls(self) -> None:
        """Forget stall rules that nothing has matched yet (the server stops)."""
        self._rules = [rule for rule in self._rules if rule.kind is not RuleKind.STALL]


class RateLimiter(ABC):
    """Counts admitted requests per key against `limit` per `window` seconds."""

    def __init__(
        self, limit: int, window: float, monotonic: Callable[[], float] | None = None
    ) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        if not window > 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._monotonic = monotonic or time.monotonic

    @abstractmethod
    def admit(self, key: str) -> bool:
        """Count the request and return True, or return False (uncounted) when over."""


class RollingWindowLimiter(RateLimiter):
    """At most `limit` admitted requests in any `window` seconds (Statuspage's rule)."""

    def __init__(
        self, limit: int, window: float, monotonic: Callable[[], float] | None = None
    ) -> None:
        super().__init__(limit, window, monotonic)
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, key: str) -> bool:
        now = self._monotonic()
        admitted = self._admitted.setdefault(key, deque())
        while admitted and admitted[0] <= now - self.window:
            admitted.popleft()
        if len(admitted) >= self.limit:
            return False
        admitted.append(now)
        return True


class FixedWindowLimiter(RateLimiter):
    """At most `limit` admitted requests per window [k*window, (k+1)*window) (iLert's rule)."""

    def __init__(
        self, limit: int, window: float, monotonic: Callable[[], float] | None = None
    ) -> None:
        super().__init__(limit, window, monotonic)
        self._counts: dict[str, tuple[int, int]] = {}

    def admit(self, key: str) -> bool:
        index = math.floor(self._monotonic() / self.window)
        window_index, count = self._counts.get(key, (index, 0))
        if window_index != index:
            count = 0
        if count >= self.limit:
            return False
        self._counts[key] = (index, count + 1)
        return True


@dataclass(frozen=True)
class RateLimit:
    """A limiter and the vendor-shaped answer to a request over the limit."""

    limiter: RateLimiter
    response: SimResponse
