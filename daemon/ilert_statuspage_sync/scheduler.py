"""Poll forever on APScheduler 3.x: one job, coalesced, never two at once.

SIGTERM and SIGINT only ask the scheduler to stop; ``shutdown(wait=True)``
lets the pass in flight finish, so a stop never leaves a write half-recorded.
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


def run_forever(job: Callable[[], object], interval: float) -> None:
    """Run ``job`` now and every ``interval`` seconds until SIGTERM or SIGINT."""
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            # A pass that overran its slot still runs, once, as soon as it can.
            "misfire_grace_time": max(int(interval), 1),
        },
    )
    scheduler.add_job(
        job, "interval", seconds=interval, next_run_time=datetime.now(UTC), id="sync_pass"
    )
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("stopping", signal=signal.Signals(signum).name)
        # Shut down from a helper thread: wait=True blocks until the pass ends,
        # which must not happen inside the signal handler's frame.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
