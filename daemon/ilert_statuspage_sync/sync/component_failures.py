"""Which component writes failed as their own, and how long each waits (``core.attribution``).

As for alerts: a component whose PATCH the page keeps failing backs off and
goes behind the others; the count of distinct failures that judges a
connector down starts again at each success, and after a success in the pass
the pass's later failures are the components' own. Failures in a pass whose
connector is judged down are the outage's: no delay, no warning, only their
place behind. Kept in memory: a restart tries every component again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from ilert_statuspage_sync.core.attribution import item_delay, service_down
from ilert_statuspage_sync.errors import TransientApiError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["ComponentFailures"]

log = structlog.get_logger(__name__)

Key = tuple[str, str]  # (page id, component id)


class ComponentFailures:
    """Per component: failures and when it is due; per pass: the count toward an outage."""

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self._failing: dict[Key, tuple[int, datetime | None]] = {}
        self._distinct: dict[str, set[Key]] = {}
        self._suspects: dict[str, list[tuple[Key, TransientApiError]]] = {}
        self._wrote: set[str] = set()

    def begin(self, wrote: set[str]) -> None:
        """A new pass; ``wrote``: connectors a write already succeeded on in it."""
        self._distinct, self._suspects, self._wrote = {}, {}, set(wrote)

    def order(self, key: Key) -> bool:
        """Sort key: the failing components go behind the others."""
        return key in self._failing

    def waiting(self, key: Key, now: datetime) -> bool:
        """Whether the component's back-off has not run out."""
        due = self._failing.get(key, (0, None))[1]
        return due is not None and due > now

    def succeeded(self, connector: str, key: Key) -> None:
        """A write worked: the component is well, the connector up for the pass."""
        self._failing.pop(key, None)
        self._distinct.pop(connector, None)
        self._wrote.add(connector)

    def failed(self, connector: str, key: Key, error: TransientApiError) -> bool:
        """Record the component's failure; True when it judges the connector down."""
        self._suspects.setdefault(connector, []).append((key, error))
        if connector in self._wrote:
            return False
        distinct = self._distinct.setdefault(connector, set())
        distinct.add(key)
        return service_down(len(distinct))

    def settle(self, down: Callable[[str], bool], now: datetime) -> None:
        """At the step's end: back-off for the failures of connectors still up."""
        for connector, suspects in self._suspects.items():
            for key, error in suspects:
                failures = self._failing.get(key, (0, None))[0]
                if down(connector):
                    self._failing[key] = (max(failures, 1), None)
                    continue
                failures += 1
                due = now + item_delay(failures, self.poll_interval)
                self._failing[key] = (failures, due)
                log.warning(
                    "component_write_failed",
                    page_id=key[0],
                    component_id=key[1],
                    failures=failures,
                    next_attempt_at=due.isoformat(),
                    error=scrub(str(error))[:500],
                )
        self._suspects = {}
