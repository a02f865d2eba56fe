"""One log line per change of a service's state, not one per failed call.

During an outage every pass fails the same way; the operator needs to know
when it started, what it looks like and when it ended.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from ilert_statuspage_sync.errors import StopRequestedError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["ServiceHealth"]

log = structlog.get_logger(__name__)


class ServiceHealth:
    """Up/down state of one service (iLert, or one Statuspage connector)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.down_since: datetime | None = None
        self.last_error: str | None = None
        # Judged down by its writes (``core.attribution``): a read that works does not end it.
        self.writes_down = False

    def failed(self, error: Exception, now: datetime, *, writes: bool = False) -> None:
        """Record a transient failure; logs only when the service was up."""
        if isinstance(error, StopRequestedError):
            return  # not the service's fault: this process is stopping
        self.last_error = scrub(str(error))
        if self.down_since is None:
            self.down_since = now
            self.writes_down = writes
            log.error("service_unreachable", service=self.name, error=self.last_error)

    def succeeded(self, now: datetime, *, writes: bool = False) -> None:
        """Record a success; logs only when the service was down (a write's, if writes failed)."""
        if self.writes_down and not writes:
            return
        if self.down_since is not None:
            log.warning(
                "service_recovered",
                service=self.name,
                down_for_s=round((now - self.down_since).total_seconds(), 1),
            )
            self.down_since = None
            self.last_error = None
            self.writes_down = False
