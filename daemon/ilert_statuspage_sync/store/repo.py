"""Reads and writes of the state tables; the caller owns the session and commits.

Conversions between table rows and core values (``Mirror``) live here so the
runner never touches column names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.model import Mirror
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition

__all__ = [
    "action_states",
    "find_link",
    "history",
    "is_empty",
    "last_transition",
    "last_transitions",
    "links_of",
    "mirror_from_dict",
    "mirror_of",
    "mirror_to_dict",
    "new_link",
    "reset_backoff",
    "set_mirror",
    "trigger",
]


def action_states(session: Session, names: Iterable[str], now: datetime) -> dict[str, ActionState]:
    """Each action's state, created (activated now) on first sight."""
    states = {state.name: state for state in session.scalars(sa.select(ActionState))}
    for name in names:
        if name not in states:
            states[name] = ActionState(name=name, activated_at=now, last_poll_at=None)
            session.add(states[name])
    return states


def is_empty(session: Session) -> bool:
    """True when nothing was ever stored: no action state and no link (new, or state lost)."""
    state = session.scalar(sa.select(ActionState.name).limit(1))
    return state is None and session.scalar(sa.select(Link.id).limit(1)) is None


def links_of(session: Session, action: str) -> dict[int, Link]:
    """Every link of one incident action, by alert id."""
    rows = session.scalars(sa.select(Link).where(Link.incident_action == action))
    return {row.alert_id: row for row in rows}


def find_link(session: Session, action: str, alert_id: int) -> Link | None:
    """One link, if the alert was ever tracked by this action."""
    return session.scalars(
        sa.select(Link).where(Link.incident_action == action, Link.alert_id == alert_id)
    ).one_or_none()


def new_link(action: str, alert_id: int, page_id: str, now: datetime) -> Link:
    """A fresh link for an alert nothing was mirrored of yet."""
    return Link(
        incident_action=action,
        alert_id=alert_id,
        page_id=page_id,
        alert_summary="",
        is_open=True,
        failures=0,
        created_at=now,
        updated_at=now,
    )


def trigger(session: Session, action: str, alert_id: int, page_id: str, now: datetime) -> bool:
    """Mark an alert for a manual action; False when it already was."""
    link = find_link(session, action, alert_id)
    if link is None:
        link = new_link(action, alert_id, page_id, now)
        session.add(link)
    if link.triggered_at is not None:
        return False
    link.triggered_at = now
    link.updated_at = now
    return True


def mirror_of(link: Link) -> Mirror | None:
    """The core ``Mirror`` stored in a link (None when nothing was mirrored yet)."""
    if link.mirror_status is None:
        return None
    return Mirror(
        status=link.mirror_status,
        priority=link.mirror_priority or "HIGH",
        responder_ids=tuple(link.mirror_responders or ()),
        escalation_policy_id=link.mirror_policy_id,
        escalation_rule_index=link.mirror_rule_index,
        next_escalation=link.mirror_next_escalation,
        last_log_entry_id=link.last_log_entry_id,
    )


def set_mirror(link: Link, mirror: Mirror) -> None:
    """Store ``mirror`` in the link's columns."""
    link.mirror_status = mirror.status
    link.mirror_priority = mirror.priority
    link.mirror_responders = list(mirror.responder_ids)
    link.mirror_policy_id = mirror.escalation_policy_id
    link.mirror_rule_index = mirror.escalation_rule_index
    link.mirror_next_escalation = mirror.next_escalation
    link.last_log_entry_id = mirror.last_log_entry_id


def mirror_to_dict(mirror: Mirror) -> dict[str, Any]:
    """JSON-ready form, for the intent recorded before a write."""
    return {
        "status": mirror.status,
        "priority": mirror.priority,
        "responder_ids": list(mirror.responder_ids),
        "escalation_policy_id": mirror.escalation_policy_id,
        "escalation_rule_index": mirror.escalation_rule_index,
        "next_escalation": mirror.next_escalation.isoformat() if mirror.next_escalation else None,
        "last_log_entry_id": mirror.last_log_entry_id,
    }


def mirror_from_dict(data: dict[str, Any]) -> Mirror:
    """Inverse of ``mirror_to_dict``."""
    escalation = data.get("next_escalation")
    return Mirror(
        status=data["status"],
        priority=data["priority"],
        responder_ids=tuple(data.get("responder_ids") or ()),
        escalation_policy_id=data.get("escalation_policy_id"),
        escalation_rule_index=data.get("escalation_rule_index"),
        next_escalation=datetime.fromisoformat(escalation) if escalation else None,
        last_log_entry_id=data.get("last_log_entry_id"),
    )


def last_transition(session: Session, action: str, alert_id: int) -> Transition | None:
    """The newest audit row of one (incident action, alert)."""
    return session.scalars(
        sa.select(Transition)
        .where(Transition.incident_action == action, Transition.alert_id == alert_id)
        .order_by(Transition.id.desc())
        .limit(1)
    ).one_or_none()


def last_transitions(session: Session) -> dict[tuple[str, int], Transition]:
    """The newest audit row of every (incident action, alert)."""
    newest = (
        sa.select(sa.func.max(Transition.id))
        .group_by(Transition.incident_action, Transition.alert_id)
        .scalar_subquery()
    )
    rows = session.scalars(sa.select(Transition).where(Transition.id.in_(newest)))
    return {(row.incident_action, row.alert_id): row for row in rows}


def history(
    session: Session, *, alert_id: int | None = None, limit: int = 200
) -> Sequence[Transition]:
    """The newest audit rows, oldest first."""
    query = sa.select(Transition).order_by(Transition.id.desc()).limit(limit)
    if alert_id is not None:
        query = query.where(Transition.alert_id == alert_id)
    return list(reversed(session.scalars(query).all()))


def reset_backoff(
    session: Session, action: str | None, alert_id: int | None
) -> list[tuple[str, int, int, str]]:
    """Make failing items due at once with a fresh back-off.

    ``action``/``alert_id`` narrow it (both None: every failing item). Returns
    (action, alert id, failures so far, last error) of each item reset. One
    conditional UPDATE per link, so it may run while the daemon does: a pass
    that retried the item meanwhile simply keeps its own outcome.
    """
    query = sa.select(Link).where(Link.last_error.is_not(None), Link.is_open.is_(True))
    if action is not None:
        query = query.where(Link.incident_action == action)
    if alert_id is not None:
        query = query.where(Link.alert_id == alert_id)
    links = list(session.scalars(query.order_by(Link.incident_action, Link.alert_id)))
    reset = []
    for link in links:
        seen = (link.incident_action, link.alert_id, link.failures, link.last_error or "")
        result = session.execute(
            sa.update(Link)
            .where(Link.id == link.id, Link.last_error.is_not(None))
            .values(failures=0, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:  # else fixed by a pass meanwhile: not ours
            reset.append(seen)
    return reset
