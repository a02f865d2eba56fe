"""What history is old enough to prune: closed links and audit rows past ``retention_days``.

A pass never reads the closed history, but the database would still grow with
it forever. Each pass deletes at most ``PRUNE_BATCH`` expired links and as many
audit rows, oldest first, so a first run on years of history spreads the work
over many passes instead of stalling one.

A pruned link must never come back as a new one: the alert would be mirrored
again, a second public incident. Only closed links are pruned, and iLert never
reopens a resolved alert, so the open listing cannot bring one back. The other
listing, alerts reported since the last poll (less an overlap), could: so the
cutoff also stays a plausible clock skew before that window's start. A link is
created after its alert was reported, so one changed before that point belongs
to an alert the window can no longer return.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from ilert_statuspage_sync.core.clock import PLAUSIBLE_SKEW

__all__ = ["PRUNE_BATCH", "prune_cutoff"]

# Links (and, separately, audit rows) deleted per pass at most: a few milliseconds
# of work; 100,000 expired links are gone after 200 passes (under 2 h at 30 s).
PRUNE_BATCH: Final = 500


def prune_cutoff(
    clocks: Iterable[datetime | None], retention_days: int, listed_since: datetime
) -> datetime | None:
    """Prune what last changed before this instant; None when retention is off (0 days).

    ``clocks`` are this pass's readings of the time (the VM's clock, iLert's
    ``Date``): the earliest counts, so one clock that jumped or lies ahead
    never prunes what is still young. ``listed_since`` is the start of this
    pass's "reported since" listing.
    """
    readings = [clock for clock in clocks if clock is not None]
    if retention_days <= 0 or not readings:
        return None
    return min(min(readings) - timedelta(days=retention_days), listed_since - PLAUSIBLE_SKEW)
