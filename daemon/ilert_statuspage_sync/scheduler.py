"""Poll forever on APScheduler 3.x: one job, coalesced, never two at once.

SIGTERM and SIGINT only ask the scheduler to stop; ``shutdown(wait=True)``
lets the pass in flight finish, so a stop never leaves a write half-recorded.
SIGHUP only raises a flag; the job reloads the config at its next start, and
a changed ``poll_interval`` reschedules the job.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler

__all__ = ["run_forever"]

log = structlog.get_logger(__name__)

_JOB_ID = "sync_pass"


def run_forever(
    job: Callable[[], object],
    interval: Callable[[], float],
    *,
    on_hup: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Run ``job`` now and every ``interval()`` seconds until SIGTERM or SIGINT."""
    current = interval()
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            # A pass that overran its slot still runs, once, as soon as it can.
            "misfire_grace_time": max(int(current), 1),
        },
    )

    def tick() -> None:
        nonlocal current
        job()
        wanted = interval()
        if wanted != current:
            current = wanted
            scheduler.reschedule_job(_JOB_ID, trigger="interval", seconds=wanted)
            log.info("poll_interval_changed", poll_interval=wanted)

    scheduler.add_job(
        tick, "interval", seconds=current, next_run_time=datetime.now(UTC), id=_JOB_ID
    )
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("stopping", signal=signal.Signals(signum).name)
        if on_stop is not None:
            on_stop()
        # Shut down from a helper thread: wait=True blocks until the pass ends,
        # which must not happen inside the signal handler's frame.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    def _hup(_signum: int, _frame: FrameType | None) -> None:
        log.info("reload_requested")
        if on_hup is not None:
            on_hup()

    handlers = {signal.SIGTERM: _stop, signal.SIGINT: _stop, signal.SIGHUP: _hup}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
