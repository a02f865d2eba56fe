"""The audit trail: every detected event and its decision, as a log line and a row.

One schema for the log's ``transition`` lines and ``history --json`` (stable
field names, documented in docs/commands.md): ``timestamp``, ``level``,
``event="transition"`` and ``TRAIL_FIELDS``: ``alert_id``, ``incident_action``,
``page_id``, ``statuspage_incident_id``, ``ilert_event``, ``outcome``,
``from_status``, ``to_status``, ``reason``, ``dry_run``, ``published_name``,
``published_body`` (null when the write published no text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.storable import ERROR_LENGTH, clean_text
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store.tables import Transition

__all__ = ["TRAIL_FIELDS", "AuditRecord", "trail_line", "write_audit", "write_audits"]

log = structlog.get_logger("ilert_statuspage_sync.store.audit")


@dataclass(frozen=True)
class AuditRecord:
    """One decision about one event."""

    alert_id: int
    incident_action: str
    page_id: str
    statuspage_incident_id: str | None
    ilert_event: str
    outcome: str
    from_status: str | None
    to_status: str | None
    reason: str | None = None
    published_name: str | None = None
    published_body: str | None = None


def write_audit(
    session: Session | None, record: AuditRecord, *, at: datetime, dry_run: bool
) -> None:
    """Log ``record``; also add its row to ``session`` unless this is a dry run."""
    fields = _fields(record, dry_run)
    if session is None or dry_run:
        _log(fields)
        return
    _log_on_commit(session, [fields])
    session.add(Transition(**_row(fields, at)))


def write_audits(
    session: Session, records: Sequence[AuditRecord], *, at: datetime, dry_run: bool
) -> None:
    """Log ``records``; also insert their rows in one statement unless this is a dry run.

    Rows nothing in the session refers to (a filtered alert's): a plain
    executemany, not one INSERT per row as the ORM's flush of new objects.
    """
    lines = [_fields(record, dry_run) for record in records]
    if dry_run:
        for fields in lines:
            _log(fields)
        return
    if lines:
        _log_on_commit(session, lines)
        session.execute(sa.insert(Transition), [_row(fields, at) for fields in lines])


def _fields(record: AuditRecord, dry_run: bool) -> dict[str, Any]:
    """The log line's fields of ``record``: its texts scrubbed and clipped."""
    reason = clean_text(scrub(record.reason))[:ERROR_LENGTH] if record.reason else None
    published = {
        key: value
        for key, value in (
            ("published_name", record.published_name),
            ("published_body", record.published_body),
        )
        if value is not None
    }
    published = {key: scrub(value) for key, value in published.items()}
    return {
        "alert_id": record.alert_id,
        "incident_action": record.incident_action,
        "page_id": record.page_id,
        "statuspage_incident_id": record.statuspage_incident_id,
        "ilert_event": record.ilert_event,
        "outcome": record.outcome,
        "from_status": record.from_status,
        "to_status": record.to_status,
        "reason": reason,
        "dry_run": dry_run,
        "published_name": published.get("published_name"),
        "published_body": published.get("published_body"),
    }


def _row(fields: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The ``transitions`` row of a line's fields."""
    row = {key: value for key, value in fields.items() if key not in _NOT_STORED}
    row["event"] = fields["ilert_event"]
    row["at"] = at
    return row


_NOT_STORED = frozenset({"ilert_event", "dry_run"})


def _log_on_commit(session: Session, lines: list[dict[str, Any]]) -> None:
    """The lines are written once the rows commit: a refused commit (a deposed leader,
    a locked database) must not leave a transition in the log that the trail lacks."""
    session.info.setdefault(_PENDING, []).extend(lines)
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        sa.event.listen(session, "after_commit", _log_committed)
        sa.event.listen(session, "after_rollback", _drop_uncommitted)


TRAIL_FIELDS = (
    "alert_id",
    "incident_action",
    "page_id",
    "statuspage_incident_id",
    "ilert_event",
    "outcome",
    "from_status",
    "to_status",
    "reason",
    "dry_run",
    "published_name",
    "published_body",
)


def trail_line(row: Transition) -> dict[str, Any]:
    """A stored row as the log's ``transition`` line showed it (``history --json``)."""
    # In the order the log renders its line: fields, then event, level, timestamp.
    return {
        "alert_id": row.alert_id,
        "incident_action": row.incident_action,
        "page_id": row.page_id,
        "statuspage_incident_id": row.statuspage_incident_id,
        "ilert_event": row.event,
        "outcome": row.outcome,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "reason": row.reason,
        "dry_run": False,  # a dry run stores no row
        "published_name": row.published_name,
        "published_body": row.published_body,
        "event": "transition",
        "level": _level_name(row.outcome),
        "timestamp": row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _level_name(outcome: str) -> str:
    return "warning" if outcome == "failed" else "info"


_PENDING = "audit_lines_pending"
_LISTENING = "audit_lines_listening"


def _log(fields: dict[str, Any]) -> None:
    level = log.warning if _level_name(fields["outcome"]) == "warning" else log.info
    level("transition", **fields)


def _log_committed(session: Session) -> None:
    for fields in session.info.pop(_PENDING, []):
        _log(fields)


def _drop_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING, None)
