"""Whose clock decides: iLert's for what to read and mirror, bounded local time for retries.

The VM's wall clock can jump (a bad NTP step, a resumed snapshot). A ``from=``
cursor or an activation time taken from it would skip alerts for as long as the
clock was ahead. iLert stamps ``reportTime`` with its own clock, so the cursor
and the activation come from iLert's time: the ``Date`` header of its answer,
else the newest iLert timestamp already known (never later than iLert's clock).

Retry delays are local waits; a stored ``next_attempt_at`` is clamped so a
backward jump never makes an item wait longer than its own delay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

__all__ = ["ACTIVATION_MARGIN", "PLAUSIBLE_SKEW", "due_at", "ilert_time"]

# An action first seen at iLert time T mirrors alerts reported from T minus this on:
# an alert stamped just before the first read may only become listable just after it.
ACTIVATION_MARGIN = timedelta(minutes=1)
# A stamp further than this from the VM's clock is a lie (a broken proxy, a hostile
# alert), not a skewed clock: trusting it would set a cursor or an activation that
# lasts forever (nothing mirrored again, or years of old alerts published).
PLAUSIBLE_SKEW = timedelta(days=1)


def ilert_time(
    date_header: datetime | None,
    report_times: Iterable[datetime],
    previous: datetime | None,
    *,
    local: datetime | None = None,
) -> datetime | None:
    """iLert's time at this pass's first read; None when nothing of iLert's clock is known.

    ``date_header`` is the ``Date`` of iLert's answer to that read, which the
    server stamps after running the query, so every alert it did not list was
    reported at or after it. Without it, the newest ``reportTime`` listed or the
    previous pass's time are lower bounds of iLert's clock: safe for a cursor,
    if less fresh.

    With ``local`` (the VM's clock) every stamp further than ``PLAUSIBLE_SKEW``
    from it is left out: the local clock is not trusted to the minute, only to
    the day.
    """

    def plausible(moment: datetime) -> bool:
        return local is None or abs(moment - local) <= PLAUSIBLE_SKEW

    if date_header is not None and plausible(date_header):
        return date_header
    known = [*report_times, *([previous] if previous is not None else [])]
    return max(filter(plausible, known), default=None)


def due_at(next_attempt_at: datetime | None, now: datetime, delay: timedelta) -> datetime | None:
    """When a waiting item is due: its stored time, but never more than ``delay`` after ``now``.

    A time further out than the item's own delay was computed on a clock that
    has since jumped back; waiting it out would add the jump to the delay.
    """
    if next_attempt_at is None:
        return None
    return min(next_attempt_at, now + delay)
