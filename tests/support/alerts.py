"""Alerts, mirrors and events of the pure core, built from one base alert at T0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.core.model import Alert, Event, EventKind, Mirror

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def alert(**changes: object) -> Alert:
    """A pending high-priority alert reported at T0, with ``changes`` applied."""
    base: dict[str, object] = {
        "id": 42,
        "source_id": 1,
        "summary": "API errors",
        "details": "5xx above 2%",
        "status": "PENDING",
        "priority": "HIGH",
        "report_time": T0,
        "responder_ids": ("1",),
        "escalation_policy_id": 9,
        "escalation_rule_index": 0,
        "next_escalation": T0 + timedelta(minutes=5),
    }
    base.update(changes)
    return Alert(**base)  # type: ignore[arg-type]


def mirrored(**changes: object) -> Mirror:
    """The mirror of ``alert()`` on incident 100, advanced by ``changes``."""
    return Mirror.of(alert(), 100).advanced(**changes)


def ev(kind: EventKind, minute: int = 0, text: str | None = None, status: str = "PENDING") -> Event:
    """An event ``minute`` minutes after T0 on a mirror in ``status``."""
    return Event(kind, T0 + timedelta(minutes=minute), mirrored(status=status), comment=text)


def an_alert(alert_id: int = 42, **changes: object) -> Alert:
    """An open alert of source 1 reported at ``T0`` (no responders, no escalation), changed."""
    base: dict[str, object] = {
        "id": alert_id,
        "source_id": 1,
        "summary": "API errors",
        "details": "5xx above 2%",
        "status": "PENDING",
        "priority": "HIGH",
        "report_time": T0,
    }
    base.update(changes)
    return Alert(**base)  # type: ignore[arg-type]
