"""When an alert iLert answers 404 for is taken as deleted, and what its incident is told.

A 404 on ``GET /api/alerts/{id}`` means the alert does not exist *or* is not
visible to the key (iLert makes the two indistinguishable), and one 404 may be
a glitch. So an alert whose incident is open on the page is taken as deleted
only after ``CONFIRM_READS`` reads answered 404 spanning at least
``CONFIRM_SPAN``, on iLert's clock (a pass's ``ilert_now``: the ``Date`` of
iLert's answers, checked against the local clock, so a local jump moves
nothing). The span must hold on this machine's clock too (``local_since``,
kept in memory: a restart starts it afresh, which only delays), so one skewed
clock, iLert's or ours, cannot shorten it. Any answer with the alert starts
the count again; a clock that went back past the first 404 starts that clock's
span again (never confirms early).

A 404 also answers for an alert the key may no longer see. So a confirmed
deletion is still held (never resolved, one warning) while its action's alert
sources do not answer the key, and while many of one action's open incidents
have their alerts missing at once (``mass_missing``: a key whose scope was
narrowed looks exactly like that). Otherwise the incident is resolved with the
``deleted`` template's text, audited as event ``deleted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ilert_statuspage_sync.core.model import Alert, AlertStatus, Event, EventKind, Mirror
from ilert_statuspage_sync.errors import PermanentApiError

__all__ = [
    "CONFIRM_READS",
    "CONFIRM_SPAN",
    "Absence",
    "deleted_event",
    "gone_alert",
    "mass_missing",
    "not_found",
    "not_found_again",
]

CONFIRM_READS = 3
CONFIRM_SPAN = timedelta(minutes=10)
# More missing at once than this, and more than half an action's open incidents: held.
MASS_MISSING = 3


@dataclass(frozen=True)
class Absence:
    """The 404s in a row for one tracked alert: since when (iLert's and local time), how many."""

    since: datetime | None = None
    reads: int = 0
    local_since: datetime | None = None

    def confirmed(self, now: datetime, local_now: datetime) -> bool:
        """Deleted: enough 404s over a long enough span on both clocks."""
        return (
            self.since is not None
            and self.local_since is not None
            and self.reads >= CONFIRM_READS
            and now - self.since >= CONFIRM_SPAN
            and local_now - self.local_since >= CONFIRM_SPAN
        )

    def confirmed_at(self) -> datetime | None:
        """The earliest time (iLert's) the span is long enough (for the log line)."""
        return None if self.since is None else self.since + CONFIRM_SPAN


def not_found(error: BaseException) -> bool:
    """Whether a read of an alert by id failed with iLert's 404."""
    return isinstance(error, PermanentApiError) and error.status == 404


def not_found_again(absence: Absence, now: datetime, local_now: datetime) -> Absence:
    """One more 404 read at ``now`` (iLert) / ``local_now``; a clock gone back restarts its span."""
    if absence.since is None or absence.reads <= 0:
        return Absence(now, 1, local_now)
    since = now if now < absence.since else absence.since
    local = absence.local_since
    local = local_now if local is None or local_now < local else local
    return Absence(since, absence.reads + 1, local)


def mass_missing(missing: int, open_incidents: int) -> bool:
    """Whether so many of an action's open incidents lost their alerts that it is no deletion."""
    return missing > MASS_MISSING and 2 * missing > open_incidents


def gone_alert(
    alert_id: int, summary: str, mirror: Mirror | None, *, reported: datetime, now: datetime
) -> Alert:
    """The alert as last mirrored, resolved now: what a step plans the deletion against."""
    return Alert(
        id=alert_id,
        source_id=None,
        summary=summary,
        details="",
        status=AlertStatus.RESOLVED,
        priority=mirror.priority if mirror else "HIGH",
        report_time=reported,
        resolved_on=now,
        responder_ids=mirror.responder_ids if mirror else (),
        escalation_policy_id=mirror.escalation_policy_id if mirror else None,
    )


def deleted_event(mirror: Mirror | None, alert: Alert, at: datetime) -> Event:
    """The one event of a deleted alert: it ends its incident."""
    base = mirror or Mirror.of(alert, None)
    return Event(EventKind.DELETED, at, base.advanced(status=AlertStatus.RESOLVED))
