"""What the ``status`` command and the daemon's health line read: counts, a few rows, a stream.

``status`` is the health probe, so its default read is bounded whatever the
history holds: three counts, the failing links and the latest ones (each an
indexed read with a limit), their newest audit rows by id. ``every_line``
streams every link for ``status --all``, its newest audit row joined in SQL.

Each read is written once, as SQL both databases run, on the few columns it
names (a test holds them to the models), and given a ``Run``: SQLAlchemy's
(``core_reads``: a connection or an ORM session) or, for ``status`` on a plain
SQLite file, ``sqlite3``'s (``sqlite_reads``), so that probe loads no SQLAlchemy.
The values are read as the models read them: aware UTC datetimes, booleans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, Protocol, TypeVar

__all__ = [
    "BRIDGED_COLUMNS",
    "ID_CHUNK",
    "LINK_COLUMNS",
    "REPLICA_COLUMNS",
    "STREAM_CHUNK",
    "TRANSITION_COLUMNS",
    "BridgedLine",
    "LinkCounts",
    "LinkLine",
    "Newest",
    "ReplicaLine",
    "Run",
    "bridged_lines",
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


class Run(Protocol):
    """Run one statement (named ``:parameters``) and give its rows; ``stream``: a few at a time."""

    def __call__(
        self, sql: str, params: Mapping[str, object] | None = None, /, *, stream: bool = False
    ) -> Iterable[Sequence[Any]]: ...


def id_chunks(ids: Sequence[_Id]) -> Iterator[Sequence[_Id]]:
    """``ids`` in slices of ``ID_CHUNK``: one ``IN (...)`` list each."""
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


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


class BridgedLine(NamedTuple):
    """One iLert object a status bridge mirrors, as a ``status`` row shows it."""

    bridge: str
    kind: str
    ilert_id: int
    statuspage_id: str | None
    is_open: bool
    held: bool
    updated_at: datetime


# The columns each table's reads name: the test of the models holds them to the tables.
LINK_COLUMNS: Final = LinkLine._fields[:-1]
BRIDGED_COLUMNS: Final = BridgedLine._fields
REPLICA_COLUMNS: Final = ReplicaLine._fields
TRANSITION_COLUMNS: Final = ("id", "incident_action", "alert_id", "event", "outcome", "reason")

_LINK = ", ".join(f"links.{name}" for name in LINK_COLUMNS)
_WIDTH = len(LINK_COLUMNS)


def _utc(value: datetime | str | None) -> datetime | None:
    """A timestamp as the models read it: SQLite's text or the server's value, aware UTC."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _at(value: datetime | str) -> datetime:
    """A NOT NULL timestamp column's value, aware UTC."""
    when = _utc(value)
    if when is None:
        raise ValueError("a NOT NULL timestamp read as NULL")
    return when


def _link(row: Sequence[Any], newest: Newest | None = None) -> LinkLine:
    """A ``LinkLine`` from the ``LINK_COLUMNS`` of a row, read as the models read them."""
    line = LinkLine._make([*row[:_WIDTH], newest])
    return line._replace(
        is_open=bool(line.is_open),
        human_override=bool(line.human_override),
        next_attempt_at=_utc(line.next_attempt_at),
        updated_at=_at(line.updated_at),
    )


def _in(name: str, values: Sequence[object]) -> tuple[str, dict[str, object]]:
    """An ``IN (:name0, :name1, ...)`` list and its parameters (one ``ID_CHUNK`` at most)."""
    params = {f"{name}{n}": value for n, value in enumerate(values)}
    return "IN (" + ", ".join(f":{key}" for key in params) + ")", params


def _scalar(run: Run, sql: str, params: Mapping[str, object] | None = None) -> int:
    for row in run(sql, params):
        return int(row[0] or 0)
    return 0


def replicas(run: Run) -> list[ReplicaLine]:
    """Every process that recorded itself, by role (and id: the same order every time)."""
    rows = run(f"SELECT {', '.join(REPLICA_COLUMNS)} FROM replicas ORDER BY role, instance_id")
    return [
        ReplicaLine(
            instance_id,
            host,
            pid,
            role,
            _at(seen),
            _utc(passed),
            None if ok is None else bool(ok),
            float(interval),
        )
        for instance_id, host, pid, role, seen, passed, ok, interval in rows
    ]


def newest_outcomes(run: Run, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Newest]:
    """The newest audit row of each (incident action, alert): by alert id chunks."""
    wanted = set(keys)
    ids = sorted({alert_id for _action, alert_id in wanted})
    found: dict[tuple[str, int], Newest] = {}
    for chunk in id_chunks(ids):
        among, params = _in("alert", chunk)
        rows = run(
            "SELECT incident_action, alert_id, event, outcome, reason FROM transitions "
            "WHERE id IN (SELECT max(id) FROM transitions "
            f"WHERE alert_id {among} GROUP BY incident_action, alert_id)",
            params,
        )
        for action, alert_id, event, outcome, reason in rows:
            if (action, alert_id) in wanted:
                found[action, alert_id] = Newest(event, outcome, reason)
    return found


def open_and_failing(run: Run) -> tuple[int, int]:
    """How many links are open, and how many carry an error."""
    opened = _scalar(run, "SELECT count(*) FROM links WHERE is_open = :open", {"open": True})
    failing = _scalar(run, "SELECT count(*) FROM links WHERE last_error IS NOT NULL")
    return opened, failing


def counts(run: Run) -> LinkCounts:
    """Links in all, open, failing: three counts the indexes answer."""
    # count(*), not count(id): SQLite counts index entries without reading a value (7x less).
    tracked = _scalar(run, "SELECT count(*) FROM links")
    opened, failing = open_and_failing(run)
    return LinkCounts(tracked, opened, failing)


def latest_lines(run: Run, limit: int) -> list[LinkLine]:
    """The failing links (newest first), then the latest changed ones: ``limit`` of each at most.

    Each read is an indexed one with a limit (``ix_links_failing``,
    ``ix_links_is_open_updated_at`` for the open and for the closed links),
    so the cost does not grow with the history.
    """
    failing = (
        f"SELECT {_LINK} FROM links WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT :limit"
    )
    latest = (
        f"SELECT {_LINK} FROM links WHERE is_open = :open ORDER BY updated_at DESC LIMIT :limit"
    )
    rows = [_link(row) for row in run(failing, {"limit": limit})]
    recent = [
        _link(row)
        for state in (True, False)
        for row in run(latest, {"open": state, "limit": limit})
    ]
    recent.sort(key=lambda line: line.updated_at, reverse=True)
    seen = {(line.incident_action, line.alert_id) for line in rows}
    rows += [line for line in recent if (line.incident_action, line.alert_id) not in seen][:limit]
    newest = newest_outcomes(run, ((line.incident_action, line.alert_id) for line in rows))
    return [
        line._replace(newest=newest.get((line.incident_action, line.alert_id))) for line in rows
    ]


def incident_alerts(run: Run, incidents: Iterable[str]) -> dict[str, int]:
    """How many links each of these incidents mirrors (more than one: a shared incident)."""
    ids = sorted(set(incidents))
    found: dict[str, int] = {}
    for chunk in id_chunks(ids):
        among, params = _in("incident", chunk)
        rows = run(
            "SELECT statuspage_incident_id, count(*) FROM links "
            f"WHERE statuspage_incident_id {among} GROUP BY statuspage_incident_id",
            params,
        )
        found.update((incident, count) for incident, count in rows if incident is not None)
    return found


# Every link, its newest audit row and its incident's link count, joined in SQL.
_EVERY = f"""\
SELECT {_LINK}, transitions.event, transitions.outcome, transitions.reason, shared.links
FROM links
LEFT OUTER JOIN (
    SELECT incident_action, alert_id, max(id) AS newest
    FROM transitions GROUP BY incident_action, alert_id
) AS newest_id
    ON newest_id.incident_action = links.incident_action AND newest_id.alert_id = links.alert_id
LEFT OUTER JOIN transitions ON transitions.id = newest_id.newest
LEFT OUTER JOIN (
    SELECT statuspage_incident_id AS incident, count(*) AS links
    FROM links WHERE statuspage_incident_id IS NOT NULL GROUP BY statuspage_incident_id
) AS shared ON shared.incident = links.statuspage_incident_id
ORDER BY links.incident_action, links.alert_id"""


def every_line(run: Run) -> Iterator[tuple[LinkLine, int]]:
    """Every link by incident action and alert id, with its incident's link count: streamed.

    One statement: the newest audit row and the shared incidents' counts are
    joined in SQL, and rows are fetched ``STREAM_CHUNK`` at a time, so memory
    stays flat whatever the history holds.
    """
    for row in run(_EVERY, stream=True):
        event, outcome, reason, links = row[_WIDTH:]
        newest = Newest(event, outcome, reason) if outcome is not None else None
        yield _link(row, newest), links or 1


def bridged_lines(run: Run, limit: int) -> tuple[int, list[BridgedLine]]:
    """How many objects the bridges mirror, open, and the ``limit`` latest changed (open first).

    No bridged object (the common case): one read.
    """
    columns = ", ".join(BRIDGED_COLUMNS)
    rows = run(
        f"SELECT {columns} FROM bridged ORDER BY is_open DESC, updated_at DESC LIMIT :limit",
        {"limit": limit},
    )
    lines = [
        BridgedLine(
            str(row[0]), str(row[1]), int(row[2]), row[3], bool(row[4]), bool(row[5]), _at(row[6])
        )
        for row in rows
    ]
    if not lines:
        return 0, lines
    opened = _scalar(run, "SELECT count(*) FROM bridged WHERE is_open = :open", {"open": True})
    return opened, lines
