"""Plain core values for tests of pure decisions: an alert and its time."""

from __future__ import annotations

from datetime import UTC, datetime

from ilert_statuspage_sync.core.model import Alert

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def an_alert(alert_id: int = 42, **changes: object) -> Alert:
    """An open alert of source 1 reported at ``T0``, with ``changes`` applied."""
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
