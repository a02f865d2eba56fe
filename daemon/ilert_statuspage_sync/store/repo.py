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
from ilert_statuspage_sync.core.storm import FINAL, Share
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition

__all__ = [
    "action_states",
    "find_link",
    "history",
    "incident_alerts",
    "is_empty",
    "last_transition",
    "last_transitions",
    "links_of",
    "may_share",
    "mirror_from_dict",
    "mirror_of",
    "mirror_to_dict",
    "new_link",
    "open_shares",
    "reset_backoff",
    "set_mirror",
    "share_incident",
    "share_of",
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
    reset = [
        (link.incident_action, link.alert_id, link.failures, link.last_error or "")
        for link in links
    ]
    for link in links:
        session.execute(
            sa.update(Link)
            .where(Link.id == link.id, Link.last_error.is_not(None))
            .values(failures=0, next_attempt_at=None)
        )
    return reset


def open_shares(session: Session, action: str) -> list[tuple[int, Share]]:
    """group = "action": the action's alerts that may take part in an open shared incident.

    Those linked to an incident not (as far as we know) closed, and the open ones
    not linked yet (one of them may be opening the incident), each with its link
    id, oldest link first (``may_share`` is the same test in memory). Read as
    plain columns: one query, however many links (no per-row refresh); the
    Syncer reads it once per pass and action (``storm_shares``).
    """
    linked_open = sa.and_(
        Link.statuspage_incident_id.is_not(None),
        sa.or_(Link.statuspage_status.is_(None), Link.statuspage_status.not_in(FINAL)),
    )
    unlinked_open = sa.and_(Link.statuspage_incident_id.is_(None), Link.is_open)
    rows = session.execute(
        sa.select(
            Link.id,
            Link.alert_id,
            Link.statuspage_incident_id,
            Link.alert_status,
            Link.statuspage_status,
            Link.is_open,
            Link.pending_call,
            Link.human_override,
        )
        .where(Link.incident_action == action, sa.or_(linked_open, unlinked_open))
        .order_by(Link.id)
    )
    return [
        (
            link_id,
            Share(
                alert_id=alert_id,
                incident_id=incident_id,
                alert_status=alert_status or status,
                incident_status=status,
                is_open=is_open,
                creating=(pending or {}).get("kind") == "create",
                human_override=human,
            ),
        )
        for link_id, alert_id, incident_id, alert_status, status, is_open, pending, human in rows
    ]


def may_share(share: Share) -> bool:
    """What ``open_shares`` selects: linked to an incident not closed, or open and unlinked."""
    if share.incident_id is not None:
        return share.incident_status is None or share.incident_status not in FINAL
    return share.is_open


def share_of(link: Link) -> Share:
    """One link as ``core.storm`` sees it."""
    return Share(
        alert_id=link.alert_id,
        incident_id=link.statuspage_incident_id,
        alert_status=link.alert_status or link.statuspage_status,
        incident_status=link.statuspage_status,
        is_open=link.is_open,
        creating=(link.pending_call or {}).get("kind") == "create",
        human_override=link.human_override,
    )


def share_incident(session: Session, link: Link, unstored: Iterable[Link] = ()) -> None:
    """Give every link of ``link``'s incident its status and override flag (same commit).

    Two statements, however many links share the incident. ``unstored``: links a
    dry run holds outside the session, counted as siblings too.
    """
    incident = link.statuspage_incident_id
    extra = [o for o in unstored if o.statuspage_incident_id == incident and o is not link]
    same = sa.and_(
        Link.incident_action == link.incident_action, Link.statuspage_incident_id == incident
    )
    flagged = session.scalar(sa.select(sa.exists().where(same, Link.human_override)))
    override = bool(link.human_override or flagged or any(o.human_override for o in extra))
    link.human_override = override
    session.execute(
        sa.update(Link)
        .where(same)
        .values(statuspage_status=link.statuspage_status, human_override=override)
        # The commit right after expires every loaded link: nothing stale is read.
        .execution_options(synchronize_session=False)
    )
    for other in extra:
        other.statuspage_status = link.statuspage_status
        other.human_override = override


def incident_alerts(session: Session) -> dict[str, int]:
    """How many alerts each incident mirrors (more than one: a shared incident)."""
    rows = session.execute(
        sa.select(Link.statuspage_incident_id, sa.func.count())
        .where(Link.statuspage_incident_id.is_not(None))
        .group_by(Link.statuspage_incident_id)
    )
    return {incident: count for incident, count in rows if incident is not None}
