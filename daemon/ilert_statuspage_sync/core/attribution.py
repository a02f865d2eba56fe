"""Whose failure a failed Statuspage call is: one item's, or its service's.

A call the server received and then failed (a 5xx, no answer in time, a
dropped connection) may be about that one item: an incident the page cannot
update, a payload it chokes on. Judging the connector down for it would hold
every other alert back, pass after pass, behind the oldest poisoned one. So
such a failure is the item's: it goes behind the items that are not failing
and backs off (``item_delay``): the first failure is tried again next pass
(most heal by then), each further one waits as a refused item does.

A service is down when its reads fail (the page read, iLert's reads; a
connector that has not answered yet in the pass, by a page read or a write,
is asked for its page when an item's call fails), when a call never reached
it (cannot connect, throttled), or when ``DOWN_AFTER_ITEMS`` distinct items'
calls failed in one pass with no call of that connector succeeding between
them. After a success in the pass, its later failures are the items' own.

A back-off is given at the pass's end, only to the failures of a connector
not judged down in it: in an outage the items failing before the third were
failing for the service, so they get no delay (only their place behind the
others) and no warning, and are due as soon as it recovers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ilert_statuspage_sync.core.backoff import retry_delay
from ilert_statuspage_sync.errors import StopRequestedError, TransientApiError

__all__ = ["DOWN_AFTER_ITEMS", "attempt_order", "item_delay", "item_fault", "service_down"]

DOWN_AFTER_ITEMS = 3


def item_fault(error: TransientApiError) -> bool:
    """Whether a Statuspage call's transient failure may be the item's own.

    Only a call the server got: it answered 5xx, or it may have applied it.
    A call that never reached it (refused, throttled, a stop) is the service's.
    """
    if isinstance(error, StopRequestedError) or error.service == "ilert":
        return False
    answered_5xx = error.status is not None and error.status >= 500
    return answered_5xx or error.maybe_applied


def service_down(distinct_failed_items: int) -> bool:
    """Whether that many distinct items failing in a row, nothing succeeding, is an outage."""
    return distinct_failed_items >= DOWN_AFTER_ITEMS


def attempt_order(
    failing: bool, creating: bool, report_time: datetime, alert_id: int
) -> tuple[bool, datetime, int]:
    """Where an item goes in a pass: oldest first, the failing ones behind the others.

    A failing item whose create may have landed (``creating``: that intent is
    still recorded) keeps its place: settling it comes first, as a storm's
    next alerts wait for that create to join it.
    """
    return (failing and not creating, report_time, alert_id)


def item_delay(failures: int, poll_interval: float) -> timedelta:
    """How long an item waits after its ``failures``-th failed call: none, then doubling."""
    return retry_delay(failures - 1, poll_interval) if failures > 1 else timedelta(0)
