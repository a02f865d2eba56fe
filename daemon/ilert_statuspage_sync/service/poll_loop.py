"""Poll forever on the monotonic clock: run now, then every interval, never two at once.

Passes run one after another in one worker thread; ``Event.wait`` and
``time.monotonic`` do not move when the wall clock jumps, so a clock stepped
back an hour does not stop passes for an hour. A pass that overran its slot is
followed by one pass at once (missed slots coalesce into it).

SIGTERM and SIGINT ask the whole process to stop (``shutdown``): no new request
starts, the request in flight ends within its deadline, the pass records what
it did and the loop ends. Should the pass still run ``ANSWER_DEADLINE`` plus a
margin later (a hung database), or a second SIGTERM or SIGINT arrive, the
process exits at once: a write left in flight is an intent in the database,
which the next start reconciles. SIGHUP only raises a flag; the job reloads the
config at its next start, and a changed interval counts from then.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import structlog

from ilert_statuspage_sync.clients.http import answer_deadline
from ilert_statuspage_sync.runtime import shutdown

__all__ = ["EXIT_FORCED", "STOP_MARGIN", "poll_loop", "run_forever"]

log = structlog.get_logger(__name__)

# Seconds past the request deadline that a stopping pass gets to record its results.
STOP_MARGIN = 5.0
# Exit code when the process stops without finishing its pass (runtime failure).
EXIT_FORCED = 1


def run_forever(
    job: Callable[[], object],
    interval: Callable[[], float],
    *,
    on_hup: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    stop_grace: float | None = None,
) -> None:
    """Run ``job`` now and every ``interval()`` seconds until SIGTERM or SIGINT."""
    grace = answer_deadline() + STOP_MARGIN if stop_grace is None else stop_grace
    signals = _Signals(grace, on_hup, on_stop)
    # The main thread only waits, so a signal is handled at once even while a
    # pass is blocked in a socket or a database call.
    loop = threading.Thread(
        target=poll_loop, args=(job, interval, signals.stopping), name="poll-loop", daemon=True
    )
    handlers = {
        signal.SIGTERM: signals.stop,
        signal.SIGINT: signals.stop,
        signal.SIGHUP: signals.hup,
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        loop.start()
        _wait_out(loop, signals.stopping, grace)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")


class _Signals:
    """What SIGTERM, SIGINT (stop; twice: at once) and SIGHUP (reload) do."""

    def __init__(
        self,
        grace: float,
        on_hup: Callable[[], None] | None,
        on_stop: Callable[[], None] | None,
    ) -> None:
        self.grace = grace
        self.on_hup = on_hup
        self.on_stop = on_stop
        self.stopping = threading.Event()

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        """Ask the process to stop; a second stop signal exits at once."""
        name = signal.Signals(signum).name
        if self.stopping.is_set():
            log.warning(
                "stopping_now",
                signal=name,
                reason="second stop signal; a write in flight is reconciled at the next start",
            )
            os._exit(EXIT_FORCED)
        self.stopping.set()
        shutdown.request_stop()
        log.info("stopping", signal=name, within_s=self.grace)
        if self.on_stop is not None:
            self.on_stop()

    def hup(self, _signum: int, _frame: FrameType | None) -> None:
        """Raise the reload flag; the job reloads the config at its next start."""
        log.info("reload_requested")
        if self.on_hup is not None:
            self.on_hup()


def _wait_out(loop: threading.Thread, stopping: threading.Event, grace: float) -> None:
    """Wait for the loop to end; once stopping, give its pass ``grace`` seconds, then exit."""
    while loop.is_alive() and not stopping.wait(1.0):
        pass
    loop.join(grace)
    if loop.is_alive():
        log.error(
            "stop_overdue",
            waited_s=grace,
            reason="the pass did not end in time; exiting, a write in flight is "
            "reconciled at the next start",
        )
        os._exit(EXIT_FORCED)


def poll_loop(
    job: Callable[[], object],
    interval: Callable[[], float],
    stop: threading.Event,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run ``job`` now and then every ``interval()`` seconds of ``clock`` until ``stop``."""
    current = interval()
    due = clock()
    while not stop.is_set():
        try:
            job()
        except Exception:
            # A crashed pass must not end the daemon; the next one starts on time.
            log.exception("pass_crashed")
        wanted, now = interval(), clock()
        if wanted != current:
            current, due = wanted, now + wanted
            log.info("poll_interval_changed", poll_interval=wanted)
        else:
            due = max(due + current, now)
        stop.wait(max(due - clock(), 0.0))
