"""Reads and writes of the state tables; the caller owns the session and commits.

Conversions between table rows and core values (``Mirror``) live here so the
pass never touches column names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from ilert_statuspage_sync.core.model import Mirror
from ilert_statuspage_sync.core.storm import FINAL, Share
from ilert_statuspage_sync.store import overview
from ilert_statuspage_sync.store.core_reads import rows_of
from ilert_statuspage_sync.store.held import Held, OpenLink, build, load_open
from ilert_statuspage_sync.store.overview import ID_CHUNK, Newest, id_chunks
from ilert_statuspage_sync.store.tables import REASON, ActionState, Link, Transition

__all__ = [
    "ID_CHUNK",
    "Newest",
    "Untrigger",
    "action_states",
    "delete_links",
    "delete_transitions",
    "expired_links",
    "expired_transitions",
    "find_link",
    "held_on_page",
    "history",
    "is_empty",
    "links_of_alerts",
    "may_share",
    "mirror_columns",
    "mirror_from_dict",
    "mirror_of",
    "mirror_to_dict",
    "new_link",
    "newest_outcomes",
    "open_held",
    "open_links",
    "open_shares",
    "recently_closed",
    "reset_backoff",
    "save_columns",
    "set_mirror",
    "share_incident",
    "share_of",
    "trigger",
    "untrigger",
]


def action_states(
    session: Session,
    names: Iterable[str],
    now: datetime,
    *,
    known: Mapping[str, ActionState] | None = None,
) -> dict[str, ActionState]:
    """Each action's state, created (activated now) on first sight; ``known``: already read."""
    if known is None:
        known = {state.name: state for state in session.scalars(sa.select(ActionState))}
    states = dict(known)
    for name in names:
        if name not in states:
            states[name] = ActionState(name=name, activated_at=now, last_poll_at=None)
            session.add(states[name])
    return states


def newest_outcomes(
    session: Session, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], Newest]:
    """The newest audit row of each (incident action, alert): ``overview``'s read, in the pass."""
    return overview.newest_outcomes(rows_of(session), keys)


def is_empty(session: Session) -> bool:
    """True when nothing was ever stored: no action state and no link (new, or state lost)."""
    state = session.scalar(sa.select(ActionState.name).limit(1))
    return state is None and session.scalar(sa.select(Link.id).limit(1)) is None


# session.info key of the open links a session read (``open_held``).
_OPEN_LINKS: Final = "ilert_sync_open_links"


def stored_reason(reason: str | None) -> str | None:
    """An audit row's reason as its column stores it."""
    return REASON.stored(reason)


def open_held(session: Session) -> list[Held]:
    """Every open link of every incident action, as the pass holds it (``store.held``).

    Read once per session (a pass's session) as light rows: a pass asks for
    them in several steps (the pages to read, the human edits, the work items);
    each link's object is built only when used, and then stays the session's
    (``expire_on_commit=False``), so a later call hands out the same, still
    open. Read anew after a rollback and once the session stored a new link,
    deleted one or reopened a closed one (``_forget_open_links``).
    """
    held: list[Held] | None = session.info.get(_OPEN_LINKS)
    if held is None:
        _watch_session(session)
        held = load_open(session)
        session.info[_OPEN_LINKS] = held
    return [h for h in held if h.facts.is_open]


def open_links(session: Session) -> list[Link]:
    """Every open link as an object (``open_held``, each built): for callers that need all."""
    return build(session, open_held(session))


def _watch_session(session: Session) -> None:
    """Drop the session's open links when they may no longer be all of them."""
    if session.info.get(_OPEN_LINKS + "_watched"):
        return
    session.info[_OPEN_LINKS + "_watched"] = True
    sa.event.listen(session, "after_rollback", _forget_open_links)
    sa.event.listen(session, "after_soft_rollback", lambda s, _previous: _forget_open_links(s))
    sa.event.listen(session, "before_flush", _forget_if_links_change)


def _forget_open_links(session: Session) -> None:
    session.info.pop(_OPEN_LINKS, None)


def _forget_if_links_change(session: Session, _context: object, _instances: object) -> None:
    """A new or deleted link changes the open set."""
    if any(isinstance(obj, Link) for obj in (*session.new, *session.deleted)):
        _forget_open_links(session)


@sa.event.listens_for(Link.is_open, "set")
def _reopened(target: Link, value: bool, previous: object, _initiator: object) -> None:
    """A closed link set open in a session holding the open links: they are incomplete."""
    if value and previous is not True:
        session = object_session(target)
        if session is not None:
            _forget_open_links(session)


def links_of_alerts(session: Session, alert_ids: Iterable[int]) -> list[Link]:
    """The links (open or closed, any action) of these alerts, looked up by id."""
    ids = sorted(set(alert_ids))
    found: list[Link] = []
    for chunk in id_chunks(ids):
        found.extend(session.scalars(sa.select(Link).where(Link.alert_id.in_(chunk))))
    return found


def held_on_page(session: Session, page_id: str, actions: Sequence[str]) -> list[Held]:
    """Links of ``actions`` on the page whose incident we hold open, and open links.

    The open ones are the session's (``open_held``: objects built only for those
    used); only the closed links whose incident we still hold open (a storm's,
    or one a person keeps open) are read here, as objects.
    """
    names = set(actions)
    # Open alerts (a join of theirs may be pending), and incidents we hold open.
    found = [
        h
        for h in open_held(session)
        if h.facts.page_id == page_id and h.facts.incident_action in names
    ]
    held = sa.and_(
        Link.statuspage_incident_id.is_not(None),
        sa.or_(Link.statuspage_status.is_(None), Link.statuspage_status.not_in(FINAL)),
    )
    query = sa.select(Link).where(
        Link.page_id == page_id,
        Link.incident_action.in_(list(names)),
        Link.is_open == sa.false(),
        held,
    )
    found.extend(Held.of(link) for link in session.scalars(query))
    return found


def recently_closed(session: Session, since: datetime) -> list[Link]:
    """Closed links last changed at or after ``since``."""
    query = sa.select(Link).where(Link.is_open == sa.false(), Link.updated_at >= since)
    return list(session.scalars(query))


def _no_intent() -> sa.ColumnElement[bool]:
    # A cleared intent is stored as JSON null, a never-set one as SQL NULL.
    return sa.or_(Link.pending_call.is_(None), sa.cast(Link.pending_call, sa.Text) == "null")


def expired_links(session: Session, cutoff: datetime, limit: int) -> list[int]:
    """Up to ``limit`` ids of closed, settled links last changed before ``cutoff``, oldest first.

    Settled: no intent, no failure or retry pending, not triggered by hand
    (a pruned triggered link would let a second ``trigger`` mirror the alert again),
    and no incident still open on the page (a storm's other alerts or a person
    keep it open: the link is what knows it as ours).
    """
    query = (
        sa.select(Link.id)
        .where(
            Link.is_open == sa.false(),
            Link.updated_at < cutoff,
            Link.created_at < cutoff,
            Link.triggered_at.is_(None),
            Link.failures == 0,
            Link.last_error.is_(None),
            Link.next_attempt_at.is_(None),
            _no_intent(),
            sa.or_(Link.statuspage_incident_id.is_(None), Link.statuspage_status.in_(FINAL)),
        )
        .order_by(Link.updated_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def expired_transitions(session: Session, cutoff: datetime, limit: int) -> list[int]:
    """Up to ``limit`` ids of audit rows written before ``cutoff``, oldest first."""
    query = sa.select(Transition.id).where(Transition.at < cutoff).order_by(Transition.at)
    return list(session.scalars(query.limit(limit)))


def delete_links(session: Session, ids: Sequence[int]) -> None:
    """Delete these links (ids from ``expired_links``), still only if closed."""
    for chunk in id_chunks(ids):
        session.execute(
            sa.delete(Link)
            .where(Link.id.in_(chunk), Link.is_open == sa.false())
            .execution_options(synchronize_session=False)
        )


def delete_transitions(session: Session, ids: Sequence[int]) -> None:
    """Delete these audit rows."""
    for chunk in id_chunks(ids):
        session.execute(
            sa.delete(Transition)
            .where(Transition.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )


def save_columns(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write column values to links by primary key (``id`` in each row): one executemany."""
    if rows:
        session.execute(sa.update(Link), list(rows))


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


class Untrigger(enum.Enum):
    """What ``untrigger`` found."""

    CANCELLED = "cancelled"
    NOT_TRIGGERED = "not_triggered"
    PUBLISHED = "published"


def untrigger(session: Session, action: str, alert_id: int) -> Untrigger:
    """Forget a trigger, but only while nothing of the alert reached (or is on its way to) the page.

    One conditional DELETE, so a daemon that records a write's intent at the
    same moment wins: either its intent is stored first (then nothing is
    deleted: PUBLISHED) or the link is gone first (then its intent's UPDATE
    matches no row and nothing is sent).
    """
    link = find_link(session, action, alert_id)
    if link is None or link.triggered_at is None:
        return Untrigger.NOT_TRIGGERED
    # A JSON column keeps a cleared intent as JSON null, not SQL NULL.
    no_intent = sa.or_(Link.pending_call.is_(None), sa.cast(Link.pending_call, sa.Text) == "null")
    deleted = session.execute(
        sa.delete(Link).where(
            Link.id == link.id,
            Link.triggered_at.is_not(None),
            Link.statuspage_incident_id.is_(None),
            no_intent,
        )
    )
    session.expunge(link)
    return Untrigger.CANCELLED if _rowcount(deleted) else Untrigger.PUBLISHED


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def mirror_of(link: Link | OpenLink) -> Mirror | None:
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


def mirror_columns(mirror: Mirror) -> dict[str, Any]:
    """The link columns that hold ``mirror``, by attribute name."""
    return {
        "mirror_status": mirror.status,
        "mirror_priority": mirror.priority,
        "mirror_responders": list(mirror.responder_ids),
        "mirror_policy_id": mirror.escalation_policy_id,
        "mirror_rule_index": mirror.escalation_rule_index,
        "mirror_next_escalation": mirror.next_escalation,
        "last_log_entry_id": mirror.last_log_entry_id,
    }


def set_mirror(link: Link, mirror: Mirror) -> None:
    """Store ``mirror`` in the link's columns."""
    for name, value in mirror_columns(mirror).items():
        setattr(link, name, value)


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
    reset = []
    for link in _failing(session, action, alert_id):
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


def _failing(session: Session, action: str | None, alert_id: int | None) -> list[Link]:
    """Open links with an error, of ``action`` and ``alert_id`` when given, in status order."""
    query = sa.select(Link).where(Link.last_error.is_not(None), Link.is_open.is_(True))
    if action is not None:
        query = query.where(Link.incident_action == action)
    if alert_id is not None:
        query = query.where(Link.alert_id == alert_id)
    return list(session.scalars(query.order_by(Link.incident_action, Link.alert_id)))


def open_shares(session: Session, action: str) -> list[tuple[int, Share]]:
    """group = "action": the action's alerts that may take part in an open shared incident.

    Those linked to an incident not (as far as we know) closed, and the open ones
    not linked yet (one of them may be opening the incident), each with its link
    id, oldest link first (``may_share`` is the same test in memory). Read as
    plain columns: one query, however many links (no per-row refresh); the
    Syncer reads it once per pass and action (``sync.storm``).
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
    return [(row[0], _share_of_row(*row[1:])) for row in rows]


def _share_of_row(
    alert_id: int,
    incident_id: str | None,
    alert_status: str | None,
    status: str | None,
    is_open: bool,
    pending: dict[str, Any] | None,
    human: bool,
) -> Share:
    return Share(
        alert_id=alert_id,
        incident_id=incident_id,
        alert_status=alert_status or status,
        incident_status=status,
        is_open=is_open,
        creating=(pending or {}).get("kind") == "create",
        human_override=human,
    )


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
        # The session keeps its links past commits (``open_links``): the loaded siblings
        # take the values too, evaluated in Python, with no second query.
        .execution_options(synchronize_session="evaluate")
    )
    for other in extra:
        other.statuspage_status = link.statuspage_status
        other.human_override = override
    # The pass's light rows of the siblings not built yet take them as well.
    values = {"statuspage_status": link.statuspage_status, "human_override": override}
    for held in session.info.get(_OPEN_LINKS) or ():
        row = held.facts
        if (row.statuspage_incident_id, row.incident_action) == (incident, link.incident_action):
            held.refresh(values)
