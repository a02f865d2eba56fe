"""Values the pure core works on: what iLert says, what we mirrored, what happened.

Nothing here touches the network, the database or the clock. The shell parses
vendor JSON into these values at the boundary (``core.parse``) and stores
``Mirror`` values in the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

__all__ = [
    "CLOSED_STATUSES",
    "Alert",
    "AlertStatus",
    "Event",
    "EventKind",
    "LogEntry",
    "Mirror",
]


# Incident statuses after which nothing more is written: Statuspage's final
# ones, and ``postmortem`` (real incidents carry it after resolved; not a write value).
CLOSED_STATUSES = frozenset({"resolved", "completed", "postmortem"})


class AlertStatus:
    """iLert alert statuses we act on. The enum is open: other strings may arrive."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    RESOLVED = "RESOLVED"
    KNOWN = frozenset({PENDING, ACCEPTED, RESOLVED})


class EventKind(enum.StrEnum):
    """The iLert alert events of the lifecycle table, in their tie-break order."""

    CREATED = "created"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    PRIORITY_RAISED = "priority_raised"
    ACCEPTED = "accepted"
    COMMENT_ADDED = "comment_added"
    RESOLVED = "resolved"
    # The alert is gone from iLert (404s confirmed over time, core.deletion).
    DELETED = "deleted"

    @property
    def rank(self) -> int:
        """Order among events that carry the same timestamp."""
        return list(EventKind).index(self)


@dataclass(frozen=True, slots=True)  # a daemon holds one per open alert: no dict each
class Alert:
    """One iLert alert, as read from ``GET /api/alerts`` and parsed."""

    id: int
    source_id: int | None
    summary: str
    details: str
    status: str
    priority: str
    report_time: datetime
    resolved_on: datetime | None = None
    responder_ids: tuple[str, ...] = ()
    accepted_at: datetime | None = None
    escalation_policy_id: int | None = None
    escalation_rule_index: int | None = None
    next_escalation: datetime | None = None
    source_name: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """One entry of an alert's timeline; ``comment`` is set for comment entries."""

    id: int
    timestamp: datetime
    type: str
    comment: str | None = None


@dataclass(frozen=True)
class Mirror:
    """What one incident action has mirrored of one alert so far.

    Diffing the current alert against this value yields the events that still
    have to reach Statuspage. It only moves forward once they did.
    """

    status: str
    priority: str
    responder_ids: tuple[str, ...] = ()
    escalation_policy_id: int | None = None
    escalation_rule_index: int | None = None
    next_escalation: datetime | None = None
    last_log_entry_id: int | None = None

    @classmethod
    def of(cls, alert: Alert, last_log_entry_id: int | None) -> Mirror:
        """The mirror of an alert whose every event has been handled."""
        return cls(
            status=alert.status,
            priority=alert.priority,
            responder_ids=alert.responder_ids,
            escalation_policy_id=alert.escalation_policy_id,
            escalation_rule_index=alert.escalation_rule_index,
            next_escalation=alert.next_escalation,
            last_log_entry_id=last_log_entry_id,
        )

    def advanced(self, **changes: object) -> Mirror:
        """A copy with some fields moved forward."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Event:
    """One detected iLert event, with the mirror state once it has been handled."""

    kind: EventKind
    at: datetime
    mirror_after: Mirror
    comment: str | None = None
    log_entry_id: int | None = None
    detail: dict[str, str] = field(default_factory=dict)
    # Set when the publish policy keeps this event off the page (e.g. an unmarked comment).
    withheld: str | None = None
