"""How a refused item backs off, and what a failure means for its link.

A refused item waits one poll interval, then twice that, at most an hour.
A service that is down is no one's fault: the item is deferred, with no
back-off and no audit row. A 404 on an alert's linked incident means a person
deleted the incident on Statuspage: the alert is no longer mirrored.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    SyncError,
    TransientApiError,
)

__all__ = [
    "MAX_RETRY_DELAY",
    "Failure",
    "deleted_incident",
    "failure_kind",
    "read_failure_backs_off",
    "retry_delay",
]

MAX_RETRY_DELAY = timedelta(hours=1)


def retry_delay(failures: int, poll_interval: float) -> timedelta:
    """How long a refused item waits: one interval, doubling, at most an hour."""
    doublings = min(max(failures - 1, 0), 32)  # past the cap anyway; keeps the number small
    return min(timedelta(seconds=poll_interval * 2**doublings), MAX_RETRY_DELAY)


class Failure(StrEnum):
    """What one alert's failed step was, for its record and its log line."""

    DEFERRED = "deferred"  # a service is down: no back-off, no audit row
    UNREADABLE = "unreadable"  # iLert sent an alert the daemon cannot read
    STORE = "store"  # the database refused this alert's rows
    REFUSED = "refused"  # an API or the daemon's own rules refused it
    CRASHED = "crashed"  # a bug: logged with its traceback at debug level


def failure_kind(error: BaseException, *, database: bool) -> Failure:
    """Classify ``error``; ``database`` tells whether it came from the database layer."""
    if isinstance(error, TransientApiError):
        return Failure.DEFERRED
    if isinstance(error, PayloadError):
        return Failure.UNREADABLE
    if database:
        return Failure.STORE
    if isinstance(error, ApiError | SyncError):
        return Failure.REFUSED
    return Failure.CRASHED


def deleted_incident(error: BaseException, *, published: bool) -> bool:
    """Whether the failure says a person deleted the linked incident (a 404 on it).

    Statuspage's 404 only: iLert's (a deleted alert's timeline) says nothing of the
    incident, which stays to be resolved once the deletion is confirmed (core.deletion).
    """
    return (
        isinstance(error, PermanentApiError)
        and error.status == 404
        and error.service == "statuspage"
        and published
    )


def read_failure_backs_off(*, manual: bool, published: bool) -> bool:
    """Whether a tracked id iLert will not give is a failing item with a back-off.

    Only a manual trigger with nothing published yet: ``untrigger`` ends it. Any
    other link has no such way out, so it is read each pass, never failed for good.
    """
    return manual and not published
