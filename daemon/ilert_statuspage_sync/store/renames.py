"""A renamed incident action takes its links: the statements behind ``previous_names``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.tables import ActionState, ComponentRow, Link, Transition

__all__ = ["Carried", "carry_links", "held_under", "mirrored_before", "orphan_links"]


@dataclass(frozen=True)
class Carried:
    """What ``carry_links`` moved from one previous name, and what it had to leave."""

    links: int
    # Links of alerts the new name already tracks (a pass ran under it before the rename
    # was declared): left under the old name, for `check` to name.
    left: int


def held_under(session: Session, names: Collection[str]) -> bool:
    """Whether any link, action state or component hold is still stored under ``names``.

    One query, on the links' (incident_action, alert_id) index; it finds nothing
    once the names' rows were carried, so checking it every pass costs one probe.
    """
    listed = sorted(names)
    return bool(
        session.scalar(
            sa.select(
                sa.or_(
                    sa.exists().where(Link.incident_action.in_(listed)),
                    sa.exists().where(ActionState.name.in_(listed)),
                    sa.exists().where(ComponentRow.holder_action.in_(listed)),
                )
            )
        )
    )


def carry_links(session: Session, old: str, new: str) -> Carried:
    """Move ``old``'s links, action state and component holds to ``new``; the caller commits.

    Conditional UPDATEs, so running it again (each pass, or a second replica
    after a takeover) finds nothing left to move.
    """
    taken = sa.select(Link.alert_id).where(Link.incident_action == new).scalar_subquery()
    moved = session.execute(
        sa.update(Link)
        .where(Link.incident_action == old, Link.alert_id.not_in(taken))
        .values(incident_action=new)
        .execution_options(synchronize_session=False)
    )
    left = session.scalar(
        sa.select(sa.func.count()).select_from(Link).where(Link.incident_action == old)
    )
    has_new = session.scalar(sa.select(ActionState.name).where(ActionState.name == new))
    state: sa.Executable = sa.update(ActionState).where(ActionState.name == old).values(name=new)
    if has_new is not None:  # the new name's own activation stands
        state = sa.delete(ActionState).where(ActionState.name == old)
    session.execute(state, execution_options={"synchronize_session": False})
    session.execute(
        sa.update(ComponentRow)
        .where(ComponentRow.holder_action == old)
        .values(holder_action=new)
        .execution_options(synchronize_session=False)
    )
    return Carried(int(getattr(moved, "rowcount", 0) or 0), int(left or 0))


def orphan_links(session: Session, names: set[str]) -> dict[str, tuple[int, int]]:
    """Links of actions named nowhere in ``names``: (open, all) per stored action name."""
    rows = session.execute(
        sa.select(
            Link.incident_action,
            sa.func.count(),
            sa.func.count().filter(Link.is_open == sa.true()),
        )
        .where(Link.incident_action.not_in(sorted(names)))
        .group_by(Link.incident_action)
        .order_by(Link.incident_action)
    )
    return {name: (int(opened), int(total)) for name, total, opened in rows}


def mirrored_before(session: Session, pairs: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which (action name, alert id) pairs this database has mirrored: a link or an audit row.

    Evidence that an incident naming an action the config no longer knows is ours
    (a rename nobody declared), not another installation's; by alert id (indexed),
    asked only for such incidents, so a normal pass never runs it.
    """
    found: set[tuple[str, int]] = set()
    for name, alert_id in sorted(pairs):
        linked = sa.exists().where(Link.alert_id == alert_id, Link.incident_action == name)
        audited = sa.exists().where(
            Transition.alert_id == alert_id, Transition.incident_action == name
        )
        if session.scalar(sa.select(sa.or_(linked, audited))):
            found.add((name, alert_id))
    return found
