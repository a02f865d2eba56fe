"""Detect lifecycle events by comparing an alert with what was mirrored of it.

iLert has no event feed a poller can rely on, so events are read off the
snapshot (status, priority, responders, escalation fields) and, for comments,
off the alert's timeline. Detection rules, in the words of docs/how-it-works.md:

- created: the alert was never mirrored by this incident action;
- accepted / resolved: ``status`` moved to ``ACCEPTED`` / ``RESOLVED``;
- priority raised: ``priority`` went ``LOW`` -> ``HIGH``;
- re-assigned: the responders' user ids or the escalation policy changed;
- escalated: ``nextEscalationRuleIndex`` changed, or ``nextEscalation`` moved
  later, while the alert stayed pending;
- comment added: a comment log entry newer than the last one seen.

Log entries of the assign / escalate / raise kinds confirm an event the
snapshot missed (a LOW->HIGH->LOW flip between polls, say) and lend their
timestamp, so events from one interval are applied in the order they happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.core.model import Alert, AlertStatus, Event, EventKind, LogEntry, Mirror

__all__ = ["detect_events", "settled_mirror"]

_MARKER_TYPES: dict[EventKind, frozenset[str]] = {
    EventKind.REASSIGNED: frozenset(
        {
            "AlertAssignedByUserLogEntry",
            "AlertAssignedBySystemLogEntry",
            "AlertAssignedToPolicyLogEntry",
            "AlertAssignedToScheduleLogEntry",
        }
    ),
    EventKind.ESCALATED: frozenset({"AlertEscalatedToLevelLogEntry"}),
    EventKind.PRIORITY_RAISED: frozenset(
        {"AlertRaisedByUserLogEntry", "AlertRaisedBySystemLogEntry"}
    ),
}


@dataclass(frozen=True)
class _Found:
    kind: EventKind
    at: datetime
    changes: dict[str, Any]
    comment: str | None = None
    log_entry_id: int | None = None


def detect_events(
    mirror: Mirror | None,
    alert: Alert,
    entries: Sequence[LogEntry],
    *,
    now: datetime,
    triggered: bool = False,
) -> list[Event]:
    """The events between ``mirror`` and ``alert``, oldest first, each with its mirror.

    ``triggered`` marks the first sight of a manually triggered alert: it is
    mirrored from its current state, as the one event that describes it.
    """
    if mirror is None and triggered:
        return [_triggered(alert, entries, now)]
    new_entries = _newer(entries, mirror.last_log_entry_id if mirror else None)
    if mirror is None:
        found = _first_sight(alert, new_entries, now)
        base = Mirror.of(alert, None).advanced(status=AlertStatus.PENDING)
    else:
        found = _changes(mirror, alert, new_entries, now)
        base = mirror
    found += [
        _Found(
            EventKind.COMMENT_ADDED,
            entry.timestamp,
            {"last_log_entry_id": entry.id},
            comment=entry.comment,
            log_entry_id=entry.id,
        )
        for entry in new_entries
        if entry.comment is not None
    ]
    found.sort(key=lambda f: (f.at, f.kind.rank, f.log_entry_id or 0))
    events: list[Event] = []
    state = base
    for item in found:
        state = state.advanced(**item.changes)
        events.append(
            Event(
                kind=item.kind,
                at=item.at,
                mirror_after=state,
                comment=item.comment,
                log_entry_id=item.log_entry_id,
            )
        )
    return events


def settled_mirror(alert: Alert, entries: Sequence[LogEntry], mirror: Mirror | None) -> Mirror:
    """The mirror once every event of this pass has been handled."""
    previous = mirror.last_log_entry_id if mirror else None
    newest = max((entry.id for entry in entries), default=previous)
    if previous is not None and newest is not None:
        newest = max(newest, previous)
    settled = Mirror.of(alert, newest)
    if alert.status not in AlertStatus.KNOWN and mirror is not None:
        # An unknown status is not an event; keep the last known one so a later
        # known status is still compared against something meaningful.
        settled = settled.advanced(status=mirror.status)
    return settled


def _triggered(alert: Alert, entries: Sequence[LogEntry], now: datetime) -> Event:
    """The event a manual trigger mirrors: the alert's state, or its latest event."""
    settled = settled_mirror(alert, entries, None)
    if alert.status == AlertStatus.RESOLVED:
        return Event(EventKind.RESOLVED, alert.resolved_on or now, settled)
    if alert.status == AlertStatus.ACCEPTED:
        return Event(EventKind.ACCEPTED, alert.accepted_at or now, settled)
    for entry in sorted(entries, key=lambda e: e.id, reverse=True):
        if entry.comment is not None:
            return Event(EventKind.COMMENT_ADDED, entry.timestamp, settled, entry.comment, entry.id)
        for kind, types in _MARKER_TYPES.items():
            if entry.type in types:
                return Event(kind, entry.timestamp, settled)
    return Event(EventKind.CREATED, alert.report_time, settled)


def _newer(entries: Sequence[LogEntry], cursor: int | None) -> list[LogEntry]:
    fresh = [entry for entry in entries if cursor is None or entry.id > cursor]
    return sorted(fresh, key=lambda entry: entry.id)


def _first_sight(alert: Alert, entries: Sequence[LogEntry], now: datetime) -> list[_Found]:
    found = [_Found(EventKind.CREATED, alert.report_time, {})]
    # Escalations and raises since creation are events of their own; assignment
    # entries are not, since routing assigns every new alert.
    for kind in (EventKind.ESCALATED, EventKind.PRIORITY_RAISED):
        markers = [entry for entry in entries if entry.type in _MARKER_TYPES[kind]]
        if markers:
            found.append(_Found(kind, markers[0].timestamp, {}))
    # A resolved alert only shows an accept when it says when; otherwise the
    # accept would sort after the resolve.
    if alert.status == AlertStatus.ACCEPTED or (
        alert.status == AlertStatus.RESOLVED and alert.accepted_at
    ):
        found.append(_accepted(alert, now))
    if alert.status == AlertStatus.RESOLVED:
        found.append(_resolved(alert, now))
    return found


def _changes(
    mirror: Mirror, alert: Alert, entries: Sequence[LogEntry], now: datetime
) -> list[_Found]:
    found: list[_Found] = []
    kinds = _snapshot_kinds(mirror, alert)
    for kind, types in _MARKER_TYPES.items():
        markers = [entry for entry in entries if entry.type in types]
        if kind in kinds or markers:
            at = markers[0].timestamp if markers else now
            found.append(_Found(kind, at, _marker_changes(kind, alert)))
    if mirror.status == AlertStatus.PENDING and alert.status == AlertStatus.ACCEPTED:
        found.append(_accepted(alert, now))
    if mirror.status != AlertStatus.RESOLVED and alert.status == AlertStatus.RESOLVED:
        if mirror.status == AlertStatus.PENDING and alert.accepted_at:
            found.append(_accepted(alert, now))
        found.append(_resolved(alert, now))
    return found


def _snapshot_kinds(mirror: Mirror, alert: Alert) -> set[EventKind]:
    kinds: set[EventKind] = set()
    if mirror.priority == "LOW" and alert.priority == "HIGH":
        kinds.add(EventKind.PRIORITY_RAISED)
    pending = mirror.status == alert.status == AlertStatus.PENDING
    rule_moved = (
        alert.escalation_rule_index is not None
        and mirror.escalation_rule_index is not None
        and alert.escalation_rule_index != mirror.escalation_rule_index
    )
    responders_changed = alert.responder_ids != mirror.responder_ids
    if alert.escalation_policy_id != mirror.escalation_policy_id:
        kinds.add(EventKind.REASSIGNED)
    elif pending and rule_moved:
        # An escalation step brings its own responders: not a re-assignment.
        kinds.add(EventKind.ESCALATED)
    elif responders_changed and alert.responder_ids:
        kinds.add(EventKind.REASSIGNED)
    elif pending and _later(alert.next_escalation, mirror.next_escalation):
        kinds.add(EventKind.ESCALATED)
    return kinds


def _later(current: datetime | None, previous: datetime | None) -> bool:
    return current is not None and previous is not None and current > previous


def _marker_changes(kind: EventKind, alert: Alert) -> dict[str, Any]:
    if kind is EventKind.PRIORITY_RAISED:
        return {"priority": alert.priority}
    return {
        "responder_ids": alert.responder_ids,
        "escalation_policy_id": alert.escalation_policy_id,
        "escalation_rule_index": alert.escalation_rule_index,
        "next_escalation": alert.next_escalation,
    }


def _accepted(alert: Alert, now: datetime) -> _Found:
    return _Found(EventKind.ACCEPTED, alert.accepted_at or now, {"status": AlertStatus.ACCEPTED})


def _resolved(alert: Alert, now: datetime) -> _Found:
    return _Found(EventKind.RESOLVED, alert.resolved_on or now, {"status": AlertStatus.RESOLVED})
