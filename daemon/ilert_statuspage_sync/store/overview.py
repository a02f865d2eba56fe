"""What the ``status`` command and the daemon's health line read: counts, a few rows, a stream.

``status`` is the health probe, so its default read is bounded whatever the
history holds: three counts, the failing links and the latest ones (each an
indexed read with a limit), their newest audit rows by id. ``every_line``
streams every link for ``status --all``, its newest audit row joined in SQL.

Everything here is SQLAlchemy Core on the few columns these reads name, so a
fresh ``status`` process never loads the ORM (``store.tables``); a test holds
these columns to the models. Each function takes a Core connection or an ORM
session alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeAlias, TypeVar

import sqlalchemy as sa

from ilert_statuspage_sync.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    Reads: TypeAlias = sa.Connection | Session

__all__ = [
    "ID_CHUNK",
    "LINKS",
    "REPLICAS",
    "TRANSITIONS",
    "LinkCounts",
    "LinkLine",
    "Newest",
    "ReplicaLine",
    "counts",
    "every_line",
    "id_chunks",
    "incident_alerts",
    "latest_lines",
    "newest_outcomes",
    "open_and_failing",
    "replicas",
]

# Rows fetched at a time while ``status --all`` streams.
STREAM_CHUNK: Final = 1_000
# Ids per ``IN (...)`` list: far below SQLite's oldest variable limit (999).
ID_CHUNK: Final = 500

_Id = TypeVar("_Id")


def id_chunks(ids: Sequence[_Id]) -> Iterator[Sequence[_Id]]:
    """``ids`` in slices of ``ID_CHUNK``: one ``IN (...)`` list each."""
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


LINKS = sa.table(
    "links",
    sa.column("id", sa.Integer),
    sa.column("incident_action", sa.String),
    sa.column("alert_id", sa.BigInteger),
    sa.column("mirror_status", sa.String),
    sa.column("is_open", sa.Boolean),
    sa.column("statuspage_incident_id", sa.String),
    sa.column("statuspage_status", sa.String),
    sa.column("human_override", sa.Boolean),
    sa.column("last_error", sa.String),
    sa.column("failures", sa.Integer),
    sa.column("next_attempt_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)
TRANSITIONS = sa.table(
    "transitions",
    sa.column("id", sa.Integer),
    sa.column("incident_action", sa.String),
    sa.column("alert_id", sa.BigInteger),
    sa.column("event", sa.String),
    sa.column("outcome", sa.String),
    sa.column("reason", sa.String),
)
REPLICAS = sa.table(
    "replicas",
    sa.column("instance_id", sa.String),
    sa.column("host", sa.String),
    sa.column("pid", sa.Integer),
    sa.column("role", sa.String),
    sa.column("last_seen_at", UTCDateTime),
    sa.column("last_pass_at", UTCDateTime),
    sa.column("last_pass_ok", sa.Boolean),
    sa.column("poll_interval", sa.Double),
)
_L, _T = LINKS.c, TRANSITIONS.c


class Newest(NamedTuple):
    """The newest audit row of an (incident action, alert): what status and the filters read."""

    event: str
    outcome: str
    reason: str | None


class ReplicaLine(NamedTuple):
    """A running daemon (leader or follower) as ``status`` judges its health."""

    instance_id: str
    host: str
    pid: int
    role: str
    last_seen_at: datetime
    last_pass_at: datetime | None
    last_pass_ok: bool | None
    poll_interval: float


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


_COLUMNS = tuple(LINKS.c[name] for name in LinkLine._fields[:-1])


def replicas(session: Reads) -> list[ReplicaLine]:
    """Every process that recorded itself, by role."""
    columns = [REPLICAS.c[name] for name in ReplicaLine._fields]
    query = sa.select(*columns).order_by(REPLICAS.c.role)
    return [ReplicaLine._make(row) for row in session.execute(query)]


def newest_outcomes(
    session: Reads, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], Newest]:
    """The newest audit row of each (incident action, alert): by alert id chunks."""
    wanted = set(keys)
    ids = sorted({alert_id for _action, alert_id in wanted})
    found: dict[tuple[str, int], Newest] = {}
    for chunk in id_chunks(ids):
        newest = (
            sa.select(sa.func.max(_T.id))
            .where(_T.alert_id.in_(chunk))
            .group_by(_T.incident_action, _T.alert_id)
            .scalar_subquery()
        )
        rows = session.execute(
            sa.select(_T.incident_action, _T.alert_id, _T.event, _T.outcome, _T.reason).where(
                _T.id.in_(newest)
            )
        )
        for action, alert_id, event, outcome, reason in rows:
            if (action, alert_id) in wanted:
                found[action, alert_id] = Newest(event, outcome, reason)
    return found


def open_and_failing(session: Reads) -> tuple[int, int]:
    """How many links are open, and how many carry an error."""
    tracked = session.scalar(sa.select(sa.func.count()).where(_L.is_open)) or 0
    failing = session.scalar(sa.select(sa.func.count()).where(_L.last_error.is_not(None))) or 0
    return tracked, failing


def counts(session: Reads) -> LinkCounts:
    """Links in all, open, failing: three counts the indexes answer."""
    # count(*), not count(id): SQLite counts index entries without reading a value (7x less).
    tracked = session.scalar(sa.select(sa.func.count()).select_from(LINKS)) or 0
    opened, failing = open_and_failing(session)
    return LinkCounts(tracked, opened, failing)


def latest_lines(session: Reads, limit: int) -> list[LinkLine]:
    """The failing links (newest first), then the latest changed ones: ``limit`` of each at most.

    Each read is an indexed one with a limit (``ix_links_failing``,
    ``ix_links_is_open_updated_at`` for the open and for the closed links),
    so the cost does not grow with the history.
    """
    failing = sa.select(*_COLUMNS).where(_L.last_error.is_not(None)).order_by(_L.id.desc())
    latest = [
        sa.select(*_COLUMNS).where(_L.is_open.is_(state)).order_by(_L.updated_at.desc())
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


def incident_alerts(session: Reads, incidents: Iterable[str]) -> dict[str, int]:
    """How many links each of these incidents mirrors (more than one: a shared incident)."""
    ids = sorted(set(incidents))
    found: dict[str, int] = {}
    for chunk in id_chunks(ids):
        rows = session.execute(
            sa.select(_L.statuspage_incident_id, sa.func.count())
            .where(_L.statuspage_incident_id.in_(chunk))
            .group_by(_L.statuspage_incident_id)
        )
        found.update((incident, count) for incident, count in rows if incident is not None)
    return found


def every_line(session: Reads) -> Iterator[tuple[LinkLine, int]]:
    """Every link by incident action and alert id, with its incident's link count: streamed.

    One statement: the newest audit row and the shared incidents' counts are
    joined in SQL, and rows are fetched ``STREAM_CHUNK`` at a time, so memory
    stays flat whatever the history holds.
    """
    newest_id = (
        sa.select(
            _T.incident_action,
            _T.alert_id,
            sa.func.max(_T.id).label("newest"),
        )
        .group_by(_T.incident_action, _T.alert_id)
        .subquery()
    )
    shared = (
        sa.select(_L.statuspage_incident_id.label("incident"), sa.func.count().label("links"))
        .where(_L.statuspage_incident_id.is_not(None))
        .group_by(_L.statuspage_incident_id)
        .subquery()
    )
    query = (
        sa.select(*_COLUMNS, _T.event, _T.outcome, _T.reason, shared.c.links)
        .outerjoin(
            newest_id,
            sa.and_(
                newest_id.c.incident_action == _L.incident_action,
                newest_id.c.alert_id == _L.alert_id,
            ),
        )
        .outerjoin(TRANSITIONS, _T.id == newest_id.c.newest)
        .outerjoin(shared, shared.c.incident == _L.statuspage_incident_id)
        .order_by(_L.incident_action, _L.alert_id)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    width = len(_COLUMNS)
    row: Any
    for row in session.execute(query):
        event, outcome, reason, links = row[width:]
        newest = Newest(event, outcome, reason) if outcome is not None else None
        yield LinkLine._make([*row[:width], newest]), links or 1
