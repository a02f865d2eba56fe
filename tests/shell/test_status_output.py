"""``status`` is the health probe: its default output and reads are bounded by what it shows.

A migrated database seeded in SQL with N links and their audit rows; the
command runs in process (``sqlite3`` on SQLite, SQLAlchemy on PostgreSQL).
Assertions count printed lines, SQL statements and rows: never wall-clock time.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.commands.output import EXIT_FAILED
from ilert_statuspage_sync.commands.status import SHOWN, reads, show, status
from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.store.database import make_engine, upgrade
from ilert_statuspage_sync.store.overview import Run
from ilert_statuspage_sync.store.tables import Link, Transition
from tests.support.settings import ENV, ORIGIN, minimal_settings

ACTION = "checkout"
FIRST = 10**9


def seeded(database_url: str, closed: int, *, failing: int = 0, shared: int = 0) -> Config:
    """A migrated database with ``closed`` closed links (two audit rows each), ``failing``
    failing open ones and ``shared`` open ones on one incident; the config naming it."""
    engine = make_engine(database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    links: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    kinds = ["closed"] * closed + ["failing"] * failing + ["shared"] * shared
    for n, kind in enumerate(kinds):
        when = now - timedelta(seconds=len(kinds) - n)
        incident = "shared01" if kind == "shared" else f"inc{n:06d}"
        links.append(
            {
                "incident_action": ACTION,
                "alert_id": FIRST + n,
                "page_id": "kctbh9vrtdwd",
                "statuspage_incident_id": incident,
                "statuspage_status": "resolved" if kind == "closed" else "identified",
                "is_open": kind != "closed",
                "mirror_status": "RESOLVED" if kind == "closed" else "PENDING",
                "failures": 2 if kind == "failing" else 0,
                "last_error": "HTTP 422: Name is invalid" if kind == "failing" else None,
                "created_at": when,
                "updated_at": when,
            }
        )
        for event, outcome in (("created", "created"), ("resolved", "status_changed")):
            audit.append(
                {
                    "at": when,
                    "alert_id": FIRST + n,
                    "incident_action": ACTION,
                    "page_id": "kctbh9vrtdwd",
                    "statuspage_incident_id": incident,
                    "event": event,
                    "outcome": outcome,
                }
            )
    with engine.begin() as connection:
        if links:
            connection.execute(sa.insert(Link), links)
            connection.execute(sa.insert(Transition), audit)
    engine.dispose()
    data = {**minimal_settings(), "database_url": database_url}
    return parse_config(data, ENV, origin=ORIGIN)


def counted(run: Run, seen: list[str]) -> Run:
    """``run``, recording each statement it runs (either engine: every read passes here)."""

    def counting(
        sql: str, params: Mapping[str, object] | None = None, /, *, stream: bool = False
    ) -> Iterable[Sequence[Any]]:
        seen.append(sql)
        return run(sql, params, stream=stream)

    return counting


def run_status(config: Config, capsys: pytest.CaptureFixture[str], **options: Any) -> list[str]:
    """``status``'s printed lines; its exit code is 1 (no daemon reports passes here)."""
    assert status(config, argparse.Namespace(**{"all": False, **options})) == EXIT_FAILED
    return capsys.readouterr().out.splitlines()


def table(lines: list[str]) -> list[list[str]]:
    """The rows under the header (cells two spaces apart), without the closing line."""
    start = next(i for i, line in enumerate(lines) if line.startswith("ACTION"))
    rows = lines[start + 1 :]
    return [re.split(r"\s{2,}", line) for line in rows if not line.endswith("lists every one")]


@pytest.mark.parametrize("closed", [30, 600])
def test_status_prints_and_reads_the_same_whatever_the_history(
    database_url: str, capsys: pytest.CaptureFixture[str], closed: int
) -> None:
    """30 or 600 closed links: the same lines and statements; the rest is left to --all."""
    config = seeded(database_url, closed, failing=3)

    sql: list[str] = []
    with reads(config) as run:
        assert show(counted(run, sql), argparse.Namespace(all=False), datetime.now(UTC)) == 1
    lines = capsys.readouterr().out.splitlines()

    assert f"alerts tracked: {closed + 3:,}, open: 3" in lines
    rows = table(lines)
    assert len(rows) == 3 + SHOWN  # the 3 failing, then the latest changed
    assert lines[-1] == f"{3 + SHOWN} of {closed + 3:,} shown (failing first, then the latest " + (
        "changed); `status --all` lists every one"
    )
    assert len(lines) <= 4 + 1 + 1 + 2 * SHOWN + 1
    # 3 counts, the replicas, the failing, the latest open and closed, their newest audit rows
    # and their incidents' link counts, the bridged objects (none): the same 10 whatever the
    # history.
    assert len(sql) == 10, sql


def test_status_shows_failing_alerts_first_then_the_latest(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Failing alerts come first with their problem; then the newest changed, newest first."""
    config = seeded(database_url, 50, failing=2)

    rows = table(run_status(config, capsys))

    failing = [FIRST + 50, FIRST + 51]
    assert [int(row[1]) for row in rows[:2]] == sorted(failing, reverse=True)
    assert all("2x," in " ".join(row) and "HTTP 422" in " ".join(row) for row in rows[:2])
    latest = [int(row[1]) for row in rows[2:]]
    assert latest == list(range(FIRST + 49, FIRST + 49 - len(latest), -1))
    assert rows[2][2:6] == ["done", "inc000049", "resolved", "resolved -> status_changed"]


def test_status_all_streams_every_link_with_its_newest_row_and_shared_count(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--all: every link by action and alert id, its newest audit row and a shared count."""
    config = seeded(database_url, 40, failing=1, shared=3)

    lines = run_status(config, capsys, all=True)

    rows = table(lines)
    assert [int(row[1]) for row in rows] == list(range(FIRST, FIRST + 44))
    assert all("resolved -> status_changed" in row for row in rows)
    assert [row[3] for row in rows[-3:]] == ["shared01 (3 alerts)"] * 3
    assert not lines[-1].endswith("lists every one")


def test_status_says_nothing_is_tracked_on_an_empty_database(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No link yet: the counts say 0, and the table ends with the hint."""
    config = seeded(database_url, 0)

    lines = run_status(config, capsys)

    assert "alerts tracked: 0, open: 0" in lines
    assert lines[-1] == "no alerts tracked yet"


def test_status_columns_match_the_models() -> None:
    """Each column ``status``'s reads name is a column of the models' tables."""
    from ilert_statuspage_sync.store import overview
    from ilert_statuspage_sync.store.tables import BridgedRow, Replica

    for names, model in (
        (overview.LINK_COLUMNS, Link),
        (overview.TRANSITION_COLUMNS, Transition),
        (overview.REPLICA_COLUMNS, Replica),
        (overview.BRIDGED_COLUMNS, BridgedRow),
    ):
        table = model.__table__
        assert isinstance(table, sa.Table)
        assert set(names) <= set(table.c.keys()), (table.name, set(names) - set(table.c.keys()))
