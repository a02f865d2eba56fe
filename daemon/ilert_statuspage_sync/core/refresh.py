"""Which mirrored alerts a pass reads by id while the open set's listing spans passes.

Once the open set outgrows a pass (``core.listing``), an open alert this pass
did not list is known only by its snapshot until the cycle lists its page again:
5 passes at 30,000 open alerts, 17 or more at 100,000. A *mirrored* alert (its
incident is on the page) cannot wait that long: it is read by id
(``GET /api/alerts/{id}``, one request), so its resolve or accept is on the page
the pass after it happened, and a changed status makes its timeline read a must
(``core.timeline_checks``), which carries its comments.

Mirrored alerts are few, but not always: a pass spends at most
``refresh_reads`` requests on them (a quarter of its iLert budget: 15 at the
default 120 a minute and 30 s). When more are mirrored than that, they take
turns, the longest unread first (a listing or a read by id counts), so each one
waits at most ``ceil(n / refresh_reads)`` passes, or less when the listing
reaches it first; and when the turns would take as long as the listing cycle,
no pass reads them by id at all (the budget goes to their timelines). The
listing reserves what a pass may read of them (``core.listing.listing_pages``),
so the pass stays inside its budget.

A read by id that answers 404 counts towards the deletion rule
(``core.deletion``) as any read by id does, and takes its turn like an answer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["REFRESH_SHARE", "choose_refreshes", "refresh_reads"]

# A pass spends at most 1/REFRESH_SHARE of its iLert budget reading mirrored alerts by id.
REFRESH_SHARE = 4

_NEVER = datetime.min.replace(tzinfo=UTC)


def refresh_reads(
    requests_per_minute: int,
    poll_interval: float,
    candidates: int = 0,
    cycle_passes: int | None = None,
) -> int:
    """Mirrored alerts one pass may read by id: a quarter of its budget, at least one.

    None (0) when their turns would come round no sooner than the listing cycle
    (``cycle_passes``, None while unknown) reads them anyway: so many mirrored
    alerts that reading them by id would only take the timelines' budget.
    """
    per_pass = max(int(requests_per_minute * poll_interval / 60) // REFRESH_SHARE, 1)
    if cycle_passes is not None and math.ceil(candidates / per_pass) >= cycle_passes:
        return 0
    return per_pass


def choose_refreshes(last_read: Mapping[int, datetime | None], per_pass: int) -> list[int]:
    """The alert ids to read by id now: the longest unread first (never read: first of all)."""
    # The few of many (every unlisted mirrored alert is a candidate): no sort of them all.
    return heapq.nsmallest(
        max(per_pass, 0),
        last_read,
        key=lambda alert_id: (last_read[alert_id] or _NEVER, alert_id),
    )
