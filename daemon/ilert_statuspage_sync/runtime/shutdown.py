"""The process-wide stop flag, an interruptible sleep and the keep-alive hook.

After SIGTERM no new request starts: ``HttpService`` asks ``stop_requested``
before every request, every wait inside a pass (rate budget, read retry) goes
through ``sleep`` and wakes on the flag, and the pass checks it between
alerts. The request already in flight ends within its deadline; what it left
undone is an intent that the next start reconciles.

``keepalive`` is called before each request and during those waits, so a pass
that paces a long burst still tells systemd's watchdog it is alive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ilert_statuspage_sync.errors import StopRequestedError

__all__ = ["keepalive", "request_stop", "reset", "set_keepalive", "sleep", "stop_requested"]

# A wait wakes at least this often to call the keep-alive hook.
_SLICE = 1.0

_stop = threading.Event()
_keepalive: Callable[[], None] | None = None


def request_stop() -> None:
    """From now on no new request starts in this process."""
    _stop.set()


def stop_requested() -> bool:
    """True once a stop was requested."""
    return _stop.is_set()


def reset() -> None:
    """Forget a stop request and the hook (tests run many daemons in one process)."""
    global _keepalive
    _stop.clear()
    _keepalive = None


def set_keepalive(hook: Callable[[], None] | None) -> None:
    """Install the hook ``keepalive`` calls (the daemon's systemd watchdog ping)."""
    global _keepalive
    _keepalive = hook


def keepalive() -> None:
    """Tell whoever listens that the process is making progress (rate-limited by the hook)."""
    hook = _keepalive
    if hook is not None:
        hook()


def sleep(seconds: float) -> None:
    """``time.sleep`` that calls ``keepalive`` every second and raises on a stop request."""
    deadline = time.monotonic() + seconds
    while True:
        if _stop.is_set():
            raise StopRequestedError
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        keepalive()
        _stop.wait(min(remaining, _SLICE))
