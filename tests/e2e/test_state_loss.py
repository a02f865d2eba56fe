"""State lost: an emptied database rebuilds its links from Statuspage; a replaced one stops `run`.

Real processes (`sync`, `run`) against the simulators and a real SQLite file.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.errors import DatabaseReplacedError
from ilert_statuspage_sync.simulators import StatuspageSimulator
from ilert_statuspage_sync.store.database import (
    check_database,
    make_engine,
    make_sessions,
    upgrade,
)
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition
from tests.support.proc import Daemon, said, wait_until
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

SIDE_FILES = ("-wal", "-shm")


def _sync(config: Path) -> Daemon:
    """One `sync` process, run to its end; it must exit 0."""
    process = Daemon(config, "sync")
    process.process.wait(timeout=60)
    code = process.stop()  # already ended: only closes its log
    assert code == 0, process.log_path.read_text()
    return process


def _logged(process: Daemon, event: str) -> list[dict[str, Any]]:
    return [line for line in process.lines() if line.get("event") == event]


def _bodies(incident: dict[str, Any]) -> list[str]:
    return [update["body"] for update in incident["incident_updates"]]


def _one_incident(statuspage: StatuspageSimulator) -> dict[str, Any]:
    (incident,) = statuspage.incidents(AUTO_PAGE)
    return incident


@pytest.mark.slow
def test_sync_on_a_truncated_database_rebuilds_and_still_resolves(config: Path, sims):
    """A database truncated to 0 bytes is rebuilt from Statuspage (`state_rebuilt`); the alert's
    later comment and resolve reach the same incident, and no comment is posted twice."""
    ilert, statuspage = sims
    _sync(config)  # activates
    alert_id = ilert.create_alert(AUTO_SOURCE, "Checkout down", "5xx")
    ilert.comment(alert_id, "looking into it")
    _sync(config)
    assert _bodies(_one_incident(statuspage)).count("looking into it") == 1

    database = config.parent / "state.db"
    os.truncate(database, 0)
    for suffix in SIDE_FILES:
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    rebuilt = _sync(config)
    (line,) = _logged(rebuilt, "state_rebuilt")
    assert (line["pages_read"], line["incidents_found"], line["links_rebuilt"]) == (1, 1, 1)

    ilert.comment(alert_id, "fixed the pool")
    ilert.resolve(alert_id)
    _sync(config)
    incident = _one_incident(statuspage)
    assert incident["status"] == "resolved"
    assert _bodies(incident).count("looking into it") == 1
    assert _bodies(incident).count("fixed the pool") == 1
    assert [w.method for w in statuspage.writes()].count("POST") == 1


def _digest(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]


@pytest.mark.slow
def test_run_stops_when_its_database_is_deleted_and_a_restart_rebuilds(
    config: Path, sims, tmp_path: Path
):
    """Deleting state.db (+ -wal, -shm) under `run` stops it with exit 1 and `database_replaced`
    before it writes anywhere; the restarted `run` rebuilds and sends the resolve."""
    ilert, statuspage = sims
    _sync(config)
    alert_id = ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 > 2s")
    _sync(config)
    assert _one_incident(statuspage)["status"] == "identified"

    daemon = Daemon(config)
    try:
        daemon.wait_for("pass_finished")
        # Hard links keep the deleted inodes readable, to prove nothing is written to them
        # (the -shm index changes on every read, so only the database and its WAL count).
        database = tmp_path / "state.db"
        kept = []
        for suffix in ("", *SIDE_FILES):
            source = Path(f"{database}{suffix}")
            if source.exists() and suffix != "-shm":
                os.link(source, tmp_path / f"kept{suffix}")
                kept.append(tmp_path / f"kept{suffix}")
            source.unlink(missing_ok=True)
        assert kept[0] == tmp_path / "kept"
        before = _digest(kept)
        ilert.resolve(alert_id)  # work the old process must not do into the deleted file

        daemon.process.wait(timeout=30)
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    code = daemon.stop()
    log = daemon.log_path.read_text()
    assert code == 1, log
    assert "database_replaced" in daemon.events()
    assert f"error: the state database {database} was deleted" in said(log)
    assert _digest(kept) == before
    assert _one_incident(statuspage)["status"] == "identified"

    restarted = Daemon(config)
    try:
        restarted.wait_for("state_rebuilt")
        wait_until(lambda: _one_incident(statuspage)["status"] == "resolved", what="resolve")
    finally:
        assert restarted.stop() == 0
    (line,) = _logged(restarted, "state_rebuilt")
    assert line["links_rebuilt"] == 1
    assert len(statuspage.incidents(AUTO_PAGE)) == 1


@pytest.mark.parametrize("lifecycle", ["classic", "realtime"])
def test_rebuild_covers_both_actions_and_changes_made_while_state_was_lost(
    make_harness, lifecycle: str
):
    """On an emptied database (SQLite or PostgreSQL) both actions' links come back; an accept
    and a resolve that happened while the state was lost still reach their incidents."""
    harness = make_harness(lifecycle)
    harness.sync()
    auto = harness.ilert.create_alert(AUTO_SOURCE, "auto", "")
    manual = harness.ilert.create_alert(MANUAL_SOURCE, "manual", "")
    harness.trigger("manual-review", manual)
    harness.sync()
    with harness.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    harness.ilert.accept(auto)
    harness.ilert.resolve(manual)
    harness.syncer = harness.new_syncer()  # a restart on the emptied database
    harness.sync()
    (auto_incident,) = harness.incidents(AUTO_PAGE)
    (manual_incident,) = harness.incidents(MANUAL_PAGE)
    accepted = "in_progress" if lifecycle == "classic" else "identified"
    assert auto_incident["status"] == accepted
    assert manual_incident["status"] == "resolved"
    harness.ilert.comment(auto, "still mirrored")
    harness.ilert.resolve(auto)
    harness.sync()
    (auto_incident,) = harness.incidents(AUTO_PAGE)
    assert auto_incident["status"] == "resolved"
    assert _bodies(auto_incident).count("still mirrored") == 1
    assert [w.method for w in harness.statuspage.writes()].count("POST") == 2


def test_a_sqlite_file_replaced_under_an_open_engine_refuses_the_next_commit(tmp_path: Path):
    """Another file moved over state.db: the next commit raises `DatabaseReplacedError` naming
    the file, and neither file gets the row."""
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    other.dispose()
    os.replace(tmp_path / "other.db", tmp_path / "state.db")
    try:
        with make_sessions(engine)() as session:
            session.add(ActionState(name="x", activated_at=datetime.now(UTC)))
            with pytest.raises(DatabaseReplacedError, match=r"state\.db was replaced by another"):
                session.commit()
        with pytest.raises(DatabaseReplacedError):
            check_database(engine)
    finally:
        engine.dispose()
    fresh = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with make_sessions(fresh)() as session:
        assert session.scalars(sa.select(ActionState)).all() == []
    fresh.dispose()
