"""What the ``status`` command and the daemon's health line read: counts, a few rows, a stream.

``status`` is the health probe, so its default read is bounded whatever the
history holds: three counts, the failing links and the latest ones (each an
indexed read with a limit), their newest audit rows by id. ``every_line``
streams every link for ``status --all``, its newest audit row joined in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.repo import ID_CHUNK, Newest, newest_outcomes
from ilert_statuspage_sync.store.tables import Link, Replica, Transition

__all__ = [
    "LinkCounts",
    "LinkLine",
    "counts",
    "every_line",
    "incident_alerts",
    "latest_lines",
    "open_and_failing",
    "replicas",
]

# Rows fetched at a time while ``status --all`` streams.
STREAM_CHUNK: Final = 1_000


class LinkCounts(NamedTuple):
    """How many links there are, open, and carrying an error."""

    tracked: int
    open: int
    failing: int


class LinkLine(NamedTuple):
    """One link as a ``status`` row shows it, with its newest audit row (if any)."""

    incident_action: str
    alert_id: int
    mirror_status: str | None
    is_open: bool
    statuspage_incident_id: str | None
    statuspage_status: str | None
    human_override: bool
    last_error: str | None
    failures: int
    next_attempt_at: datetime | None
    updated_at: datetime
    newest: Newest | None = None


_COLUMNS = (
    Link.incident_action,
    Link.alert_id,
    Link.mirror_status,
    Link.is_open,
    Link.statuspage_incident_id,
    Link.statuspage_status,
    Link.human_override,
    Link.last_error,
    Link.failures,
    Link.next_attempt_at,
    Link.updated_at,
)


def replicas(session: Session) -> list[Replica]:
    """Every process that recorded itself, by role."""
    return list(session.scalars(sa.select(Replica).order_by(Replica.role)))


def open_and_failing(session: Session) -> tuple[int, int]:
    """How many links are open, and how many carry an error."""
    tracked = session.scalar(sa.select(sa.func.count()).where(Link.is_open)) or 0
    failing = session.scalar(sa.select(sa.func.count()).where(Link.last_error.is_not(None))) or 0
    return tracked, failing


def counts(session: Session) -> LinkCounts:
    """Links in all, open, failing: three counts the indexes answer."""
    tracked = session.scalar(sa.select(sa.func.count(Link.id))) or 0
    opened, failing = open_and_failing(session)
    return LinkCounts(tracked, opened, failing)


def latest_lines(session: Session, limit: int) -> list[LinkLine]:
    """The failing links (newest first), then the latest changed ones: ``limit`` of each at most.

    Each read is an indexed one with a limit (``ix_links_failing``,
    ``ix_links_is_open_updated_at`` for the open and for the closed links),
    so the cost does not grow with the history.
    """
    failing = sa.select(*_COLUMNS).where(Link.last_error.is_not(None)).order_by(Link.id.desc())
    latest = [
        sa.select(*_COLUMNS).where(Link.is_open.is_(state)).order_by(Link.updated_at.desc())
        for state in (True, False)
    ]
    rows = [LinkLine(*row) for row in session.execute(failing.limit(limit))]
    recent = [LinkLine(*row) for query in latest for row in session.execute(query.limit(limit))]
    recent.sort(key=lambda line: line.updated_at, reverse=True)
    seen = {(line.incident_action, line.alert_id) for line in rows}
    rows += [line for line in recent if (line.incident_action, line.alert_id) not in seen][:limit]
    newest = newest_outcomes(session, ((line.incident_action, line.alert_id) for line in rows))
    return [
        line._replace(newest=newest.get((line.incident_action, line.alert_id))) for line in rows
    ]


def incident_alerts(session: Session, incidents: Iterable[str]) -> dict[str, int]:
    """How many links each of these incidents mirrors (more than one: a shared incident)."""
    ids = sorted(set(incidents))
    found: dict[str, int] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows = session.execute(
            sa.select(Link.statuspage_incident_id, sa.func.count())
            .where(Link.statuspage_incident_id.in_(chunk))
            .group_by(Link.statuspage_incident_id)
        )
        found.update((incident, count) for incident, count in rows if incident is not None)
    return found


def every_line(session: Session) -> Iterator[tuple[LinkLine, int]]:
    """Every link by incident action and alert id, with its incident's link count: streamed.

    One statement: the newest audit row and the shared incidents' counts are
    joined in SQL, and rows are fetched ``STREAM_CHUNK`` at a time, so memory
    stays flat whatever the history holds.
    """
    newest_id = (
        sa.select(
            Transition.incident_action,
            Transition.alert_id,
            sa.func.max(Transition.id).label("newest"),
        )
        .group_by(Transition.incident_action, Transition.alert_id)
        .subquery()
    )
    shared = (
        sa.select(Link.statuspage_incident_id.label("incident"), sa.func.count().label("links"))
        .where(Link.statuspage_incident_id.is_not(None))
        .group_by(Link.statuspage_incident_id)
        .subquery()
    )
    query = (
        sa.select(
            *_COLUMNS, Transition.event, Transition.outcome, Transition.reason, shared.c.links
        )
        .outerjoin(
            newest_id,
            sa.and_(
                newest_id.c.incident_action == Link.incident_action,
                newest_id.c.alert_id == Link.alert_id,
            ),
        )
        .outerjoin(Transition, Transition.id == newest_id.c.newest)
        .outerjoin(shared, shared.c.incident == Link.statuspage_incident_id)
        .order_by(Link.incident_action, Link.alert_id)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    width = len(_COLUMNS)
    row: Any
    for row in session.execute(query):
        event, outcome, reason, links = row[width:]
        newest = Newest(event, outcome, reason) if outcome is not None else None
        yield LinkLine._make([*row[:width], newest]), links or 1
