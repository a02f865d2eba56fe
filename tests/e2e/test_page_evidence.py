"""One read is not a fact: the page's own evidence wins over a stale list and a database behind it.

In process (real Syncer, simulators, SQLite and PostgreSQL) for the stale list
and the restored backup; a real process killed with SIGKILL for the lost WAL.
"""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.store.tables import Base, Link
from tests.support.harness import Harness
from tests.support.proc import Daemon, wait_until
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

Snapshot = dict[str, list[dict[str, Any]]]


def _incident_of(harness: Harness, alert_id: int) -> str:
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    return link.statuspage_incident_id


def _bodies(incident: dict[str, Any]) -> list[str]:
    return [update["body"] for update in incident["incident_updates"]]


def _snapshot(engine: sa.Engine) -> Snapshot:
    """Every row of every table: a backup taken now (SQLite and PostgreSQL alike)."""
    with engine.connect() as connection:
        return {
            table.name: [dict(row._mapping) for row in connection.execute(sa.select(table))]
            for table in Base.metadata.sorted_tables
        }


def _restore(engine: sa.Engine, snapshot: Snapshot) -> None:
    """Put the backup back: every table holds exactly the rows it held then."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            if snapshot[table.name]:
                connection.execute(table.insert(), snapshot[table.name])


def test_a_stale_status_in_the_unresolved_list_is_not_taken_for_a_person(harness: Harness):
    """The list serves the incident's old status once: the incident itself is read before a
    person is believed, so no override is recorded and the alert's resolve still lands."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    stale = copy.deepcopy(harness.statuspage.incident(incident_id))
    harness.ilert.accept(alert_id)
    harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "in_progress"
    assert stale["status"] == "identified"
    harness.statuspage.inject_fault(
        200, [stale], path_contains="/incidents/unresolved", method="GET"
    )
    with capture_logs() as logs:
        harness.sync()
    assert "human_override" not in [e["event"] for e in logs]
    link = harness.link("public-api", alert_id)
    assert link is not None and not link.human_override
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "resolved"


def test_a_person_edit_confirmed_by_the_incident_is_still_respected(harness: Harness):
    """A person's status change, shown by the list and by the incident itself, still wins."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    harness.statuspage.person_sets_status(incident_id, "monitoring")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override
    harness.ilert.accept(alert_id)
    harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "monitoring"


def test_an_older_backup_restored_yields_no_duplicate_and_the_resolves_land(harness: Harness):
    """A backup from before an accept, a comment and a second alert is restored: no second
    incident, no comment twice, the daemon's own writes not taken for a person's, and both
    alerts' resolves still reach their incidents."""
    first = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    backup = _snapshot(harness.engine)
    harness.ilert.accept(first)
    harness.ilert.comment(first, "looking into it")
    second = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "")
    harness.sync()
    posts = [w.method for w in harness.statuspage.writes()].count("POST")
    assert posts == 2
    writes = len(harness.statuspage.writes())

    _restore(harness.engine, backup)
    harness.syncer = harness.new_syncer()  # restarted on the restored backup
    with capture_logs() as logs:
        harness.sync()
        harness.sync()
    assert "human_override" not in [e["event"] for e in logs]
    assert len(harness.statuspage.writes()) == writes  # nothing sent again
    assert len(harness.incidents(AUTO_PAGE)) == 2
    with harness.sessions() as session:
        assert not session.scalars(sa.select(Link).where(Link.human_override)).all()

    harness.ilert.resolve(first)
    harness.ilert.resolve(second)
    harness.sync()
    incidents = {i["id"]: i for i in harness.statuspage.incidents(AUTO_PAGE)}
    assert len(incidents) == 2
    assert {i["status"] for i in incidents.values()} == {"resolved"}
    assert _bodies(incidents[_incident_of(harness, first)]).count("looking into it") == 1
    assert [w.method for w in harness.statuspage.writes()].count("POST") == 2


def test_our_resolve_lost_by_a_restore_is_not_taken_for_a_persons(harness: Harness):
    """The daemon resolved the incident after the backup: restored, the incident is gone from
    the list and read on its own; its record says the resolve was ours, so no person is
    recorded and nothing is written."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    backup = _snapshot(harness.engine)
    harness.ilert.resolve(alert_id)
    harness.sync()
    writes = len(harness.statuspage.writes())
    _restore(harness.engine, backup)
    harness.syncer = harness.new_syncer()
    with capture_logs() as logs:
        harness.sync()
    assert "human_override" not in [e["event"] for e in logs]
    assert "human_edit" not in [t[0] for t in harness.transitions(alert_id)]
    assert len(harness.statuspage.writes()) == writes


def test_a_persons_takeover_after_the_backup_survives_its_restore(harness: Harness):
    """A person sets `monitoring` after the backup and a comment posts after it: restored, the
    daemon still knows the incident is the person's and never sets its status again."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    backup = _snapshot(harness.engine)
    harness.statuspage.person_sets_status(incident_id, "monitoring")
    harness.sync()
    harness.ilert.comment(alert_id, "still on it")
    harness.sync()
    _restore(harness.engine, backup)
    harness.syncer = harness.new_syncer()
    harness.ilert.accept(alert_id)
    harness.ilert.resolve(alert_id)
    harness.sync()
    incident = harness.statuspage.incident(incident_id)
    assert incident["status"] == "monitoring"
    assert _bodies(incident).count("still on it") == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override


def test_a_lost_wal_then_a_crash_sends_nothing_twice(config: Path, sims):
    """`run` writes, its -wal and -shm are deleted and it is killed (SIGKILL): the database is
    behind the page, yet the restart posts no second incident and no comment twice, and the
    resolve lands."""
    ilert, statuspage = sims
    first_sync = Daemon(config, "sync")
    assert first_sync.process.wait(timeout=60) == 0
    first_sync.stop()
    first = ilert.create_alert(AUTO_SOURCE, "API down", "")
    daemon = Daemon(config)
    try:
        wait_until(lambda: len(statuspage.incidents(AUTO_PAGE)) == 1, what="first incident")
        daemon.wait_for("pass_finished")
        ilert.accept(first)
        ilert.comment(first, "looking into it")
        second = ilert.create_alert(AUTO_SOURCE, "Search slow", "")
        wait_until(lambda: len(statuspage.incidents(AUTO_PAGE)) == 2, what="second incident")
        wait_until(
            lambda: any("looking into it" in _bodies(i) for i in statuspage.incidents(AUTO_PAGE)),
            what="comment",
        )
        count = daemon.events().count("pass_finished")
        daemon.wait_for("pass_finished", count=count + 1)
        for suffix in ("-wal", "-shm"):
            Path(f"{config.parent / 'state.db'}{suffix}").unlink(missing_ok=True)
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(timeout=30)
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        else:
            daemon.stop()
    writes = len(statuspage.writes())
    ilert.resolve(first)
    ilert.resolve(second)
    restarted = Daemon(config)
    try:
        wait_until(
            lambda: {i["status"] for i in statuspage.incidents(AUTO_PAGE)} == {"resolved"},
            what="both resolves",
        )
    finally:
        assert restarted.stop() == 0, restarted.log_path.read_text()
    assert "human_override" not in restarted.events()
    incidents = statuspage.incidents(AUTO_PAGE)
    assert len(incidents) == 2
    assert sum(_bodies(i).count("looking into it") for i in incidents) == 1
    assert len(statuspage.writes()) == writes + 2  # the two resolves, nothing else
    assert os.path.exists(config.parent / "state.db")
