"""``status`` reads a plain SQLite file through ``sqlite3``, anything else through SQLAlchemy.

One definition of what it shows: the same seeded rows print the same lines
either way, and a database it cannot read is refused with the same line.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.commands.status import core_reads, reads, show
from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.errors import DatabaseFailureError
from ilert_statuspage_sync.store.database import make_engine, upgrade
from ilert_statuspage_sync.store.diagnose import explain
from ilert_statuspage_sync.store.overview import Run
from tests.support.settings import ENV, ORIGIN, minimal_settings

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
PAGE = "kctbh9vrtdwd"

Reads = Callable[[Config], AbstractContextManager[Run]]


def _link(n: int, action: str, **values: Any) -> dict[str, Any]:
    when = NOW - timedelta(minutes=50 - n)
    return {
        "incident_action": action,
        "alert_id": 7_000 + n,
        "page_id": PAGE,
        "statuspage_incident_id": f"inc{n:03d}",
        "statuspage_status": "identified",
        "is_open": True,
        "mirror_status": "ACCEPTED",
        "failures": 0,
        "last_error": None,
        "next_attempt_at": None,
        "human_override": False,
        "created_at": when,
        "updated_at": when,
        **values,
    }


def _links() -> list[dict[str, Any]]:
    """Closed, failing (with and without back-off), edited by a person, waiting, shared."""
    return [
        _link(1, "checkout", is_open=False, statuspage_status="resolved", mirror_status="RESOLVED"),
        _link(
            2,
            "checkout",
            failures=3,
            last_error="HTTP 422: Name is invalid",
            next_attempt_at=NOW + timedelta(seconds=90),
        ),
        _link(3, "checkout", last_error="iLert answers 404 for this alert"),
        _link(4, "checkout", human_override=True, statuspage_status="monitoring"),
        _link(5, "search", statuspage_incident_id=None, statuspage_status=None, mirror_status=None),
        *(_link(n, "search", statuspage_incident_id="shared01") for n in (6, 7, 8)),
    ]


def _transitions() -> list[dict[str, Any]]:
    """Two rows for most links (the newest counts); a filtered alert's reason."""
    rows = []
    for link in _links():
        steps = [("created", "created"), ("accepted", "status_changed")]
        if link["statuspage_incident_id"] is None:
            steps = [("created", "filtered")]
        for event, outcome in steps:
            rows.append(
                {
                    "at": link["updated_at"],
                    "alert_id": link["alert_id"],
                    "incident_action": link["incident_action"],
                    "page_id": PAGE,
                    "statuspage_incident_id": link["statuspage_incident_id"],
                    "event": event,
                    "outcome": outcome,
                    "reason": "priority LOW" if outcome == "filtered" else None,
                }
            )
    return rows


def _replica(
    name: str, role: str, seen: int, passed: int | None, *, ok: bool | None
) -> dict[str, Any]:
    return {
        "instance_id": name,
        "host": f"host-{name}",
        "pid": ord(name),
        "role": role,
        "started_at": NOW - timedelta(hours=1),
        "last_seen_at": NOW - timedelta(seconds=seen),
        "last_pass_at": None if passed is None else NOW - timedelta(seconds=passed),
        "last_pass_ok": ok,
        "poll_interval": 30.0,
    }


def _replicas() -> list[dict[str, Any]]:
    """A leader that passed 10 s ago, a follower waiting, one gone."""
    return [
        _replica("a", "leader", 10, 10, ok=True),
        _replica("b", "follower", 20, None, ok=None),
        _replica("c", "follower", 500, None, ok=False),
    ]


def seeded(database_url: str) -> Config:
    """The database migrated and holding the same rows every time; the config naming it."""
    from ilert_statuspage_sync.store.tables import Link, Replica, Transition

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(Link), _links())
        connection.execute(sa.insert(Transition), _transitions())
        connection.execute(sa.insert(Replica), _replicas())
    engine.dispose()
    return _config(database_url)


def _config(database_url: str) -> Config:
    return parse_config({**minimal_settings(), "database_url": database_url}, ENV, origin=ORIGIN)


def _shown(
    config: Config, how: Reads, capsys: pytest.CaptureFixture[str], *, every: bool
) -> tuple[int, list[str]]:
    with how(config) as run:
        code = show(run, argparse.Namespace(all=every), NOW)
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("every", [False, True], ids=["default", "all"])
def test_sqlite3_and_sqlalchemy_show_the_same_lines(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], every: bool
) -> None:
    """The same rows: ``sqlite3`` on a SQLite file prints what SQLAlchemy prints (either engine)."""
    twin = seeded(f"sqlite:///{tmp_path / 'twin.db'}")
    config = seeded(database_url)

    light = _shown(twin, reads, capsys, every=every)
    core = _shown(config, core_reads, capsys, every=every)

    assert light == core
    code, lines = light
    assert code == 0
    text = "\n".join(lines)
    for shown in (
        "daemon: healthy: leader host-a:97, last pass 10s ago (ok), poll interval 30s",
        "follower: host-b:98, waiting, seen 20s ago",
        "follower: host-c:99, gone, seen 500s ago",
        "failing items: 2",
        "alerts tracked: 8, open: 7",
        "3x, retry 05:07:37Z: HTTP 422: Name is invalid",
        "monitoring (set by a person)",
        "filtered: priority LOW",
        "shared01 (3 alerts)",
        "accepted -> status_changed",
    ):
        assert shown in text, shown


def _refusal(config: Config, how: Reads) -> str:
    with pytest.raises(DatabaseFailureError) as refused, how(config):
        pass
    return str(refused.value)


def _with_versions(path: Path, *versions: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.executemany("INSERT INTO alembic_version VALUES (?)", [(v,) for v in versions])
    connection.close()


@pytest.mark.parametrize(
    ("versions", "says"),
    [
        (None, "is at revision none (never migrated)"),
        ((), "is at revision none (never migrated)"),
        (("9999_future",), "newer than this version knows"),
        (("0001", "0002"), "records 2 migration heads"),
        ("missing", "no database at"),
    ],
    ids=["empty-file", "no-version", "newer", "two-heads", "missing"],
)
def test_sqlite3_refuses_a_database_with_the_same_line(
    tmp_path: Path, versions: tuple[str, ...] | str | None, says: str
) -> None:
    """Never migrated, newer, two heads, missing: ``sqlite3``'s refusal is SQLAlchemy's."""
    db = tmp_path / "state.db"
    if versions is None:
        sqlite3.connect(db).close()
    elif versions != "missing":
        _with_versions(db, *versions)
    config = _config(f"sqlite:///{db}")

    line = _refusal(config, reads)

    assert line == _refusal(config, core_reads)
    assert says in line


def _failure(config: Config, how: Reads) -> str | None:
    with pytest.raises(Exception) as failed, how(config):  # noqa: PT011 - the engine's own class
        pass
    return explain(failed.value, config.database_url)


def test_sqlite3_explains_a_file_that_is_no_database_as_sqlalchemy_does(tmp_path: Path) -> None:
    """Random bytes for a database: the one line is the same whichever engine read it."""
    db = tmp_path / "state.db"
    db.write_bytes(bytes(range(256)) * 40)
    config = _config(f"sqlite:///{db}")

    line = _failure(config, reads)

    assert line == _failure(config, core_reads)
    assert line is not None and f"database {db} is not a valid SQLite database" in line
