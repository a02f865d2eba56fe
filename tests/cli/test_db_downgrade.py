"""``db downgrade REVISION``: the rollback path, undone by the release that migrated it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.commands.cli import main
from ilert_statuspage_sync.errors import DatabaseFailureError, StoreError
from ilert_statuspage_sync.service.leadership import FileLeadership
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    revisions,
    upgrade,
)
from ilert_statuspage_sync.store.tables import ComponentRow, Link
from tests.support.proc import run_cli, said, write_config


def test_downgrade_undoes_the_newest_migration_and_upgrade_redoes_it(database_url: str) -> None:
    """Down to the previous revision and back up, on SQLite and PostgreSQL, data kept."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        previous = revisions()[-2]
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO transitions (at, alert_id, incident_action, page_id, event, "
                    "outcome) VALUES (:at, 1, 'a', 'pg', 'created', 'created')"
                ),
                {"at": "2026-01-01 00:00:00"},
            )
        assert downgrade(engine, previous) == (head_revision(), previous)
        assert current_revision(engine) == previous
        assert upgrade(engine) == (previous, head_revision())
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM transitions")).scalar() == 1
        with pytest.raises(StoreError, match="unknown revision"):
            downgrade(engine, "9999")
    finally:
        engine.dispose()


def test_shared_links_and_component_tables_round_trip_with_data(database_url: str) -> None:
    """Down to 0005 and up again with shared links and component rows stored: the links
    survive (their new columns reset), component rows go with their table, upgrade works."""
    engine = make_engine(database_url)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    try:
        upgrade(engine)
        with Session(engine) as session:
            for alert_id in (1, 2):
                link = repo.new_link("a", alert_id, "pg", now)
                link.statuspage_incident_id = "inc"
                link.statuspage_status = "identified"
                link.alert_status = "identified"
                link.human_override = alert_id == 2
                session.add(link)
            session.add(
                ComponentRow(
                    page_id="pg",
                    component_id="c1",
                    last_set="major_outage",
                    holder_alert_id=1,
                    holder_action="a",
                    pending_call={"kind": "component", "status": "major_outage"},
                    updated_at=now,
                )
            )
            session.commit()
        downgrade(engine, "0005")
        assert current_revision(engine) == "0005"
        assert upgrade(engine) == ("0005", head_revision())
        with Session(engine) as session:
            links = session.scalars(sa.select(Link).order_by(Link.alert_id)).all()
            assert [(k.alert_id, k.alert_status, k.human_override) for k in links] == [
                (1, None, False),
                (2, None, False),
            ]
            assert session.scalars(sa.select(ComponentRow)).all() == []
    finally:
        engine.dispose()


@pytest.mark.slow
def test_db_downgrade_command_lines(tmp_path: Path) -> None:
    """The command: one line per outcome; a wrong or missing revision is a usage error."""
    config = write_config(
        tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", f"sqlite:///{tmp_path / 's.db'}"
    )
    missing = run_cli(config, "db", "downgrade", revisions()[0])
    assert missing.returncode == 1
    assert said(missing.stderr).startswith("error: no database at")
    assert not (tmp_path / "s.db").exists()
    assert run_cli(config, "db", "upgrade").returncode == 0
    head, previous = head_revision(), revisions()[-2]
    down = run_cli(config, "db", "downgrade", previous)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip().endswith(f": {head} -> {previous}")
    status = run_cli(config, "status")
    assert status.returncode == 1
    assert f"this version needs {head}" in status.stderr
    unknown = run_cli(config, "db", "downgrade", "9999")
    assert unknown.returncode == 2
    assert said(unknown.stderr).strip().splitlines() == [
        f"error: db downgrade: unknown revision '9999'; this version knows {', '.join(revisions())}"
    ]
    refused = json.loads(unknown.stderr)
    assert (refused["event"], refused["exit_code"]) == ("usage_error", 2)  # an exit-2 event
    bare = run_cli(config, "db", "downgrade")
    assert bare.returncode == 2
    assert "needs a REVISION" in bare.stderr
    up = run_cli(config, "db", "upgrade")
    assert up.returncode == 0
    assert up.stdout.strip().endswith(f": {previous} -> {head}")


@pytest.mark.slow
def test_a_database_from_a_newer_release_is_one_line_everywhere(tmp_path: Path) -> None:
    """A schema this version does not know: status, check, db upgrade and downgrade say so."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    config = write_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", url)
    assert run_cli(config, "db", "upgrade").returncode == 0
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    line = (
        f"database {tmp_path / 's.db'} is at revision 9999_future, newer than this version "
        f"knows (up to {head_revision()}); install the release that migrated it, or run its "
        f"`db downgrade {head_revision()}` first"
    )
    for args in (("status",), ("db", "upgrade"), ("db", "downgrade", revisions()[0])):
        result = run_cli(config, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert said(result.stderr).strip().splitlines() == [f"error: {line}"], args
    check = run_cli(config, "check", "--offline")
    assert check.returncode == 1
    assert f"FAIL {line}" in check.stdout


def test_db_downgrade_under_a_running_daemon_refuses_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The leader lock held: no 30 s wait, no "applies migrations itself" hint, schema kept."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    config = write_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", url)
    engine = make_engine(url)
    upgrade(engine)
    daemon = FileLeadership(tmp_path / "s.db")
    assert daemon.try_acquire()
    try:
        started = time.monotonic()
        code = main(["--config", str(config), "db", "downgrade", revisions()[0]])
        waited = time.monotonic() - started
    finally:
        daemon.release()
    assert code == 2
    assert waited < 10
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is held by a running daemon; stop it first" in err
    assert current_revision(engine) == head_revision()
    engine.dispose()


WRITES = ("CREATE", "INSERT", "DROP", "ALTER", "UPDATE")


@pytest.mark.parametrize("failing_write", [4, 8], ids=["mid-step", "after-two-steps"])
def test_a_downgrade_that_dies_half_way_leaves_the_schema_it_started_from(
    database_url: str, failing_write: int
) -> None:
    """A failure at a later write of a multi-step downgrade rolls every step back."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        before = {name: _columns(engine, name) for name in sa.inspect(engine).get_table_names()}
        writes = iter(range(1, 1000))

        def dies(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
            if sql.lstrip().upper().startswith(WRITES) and next(writes) == failing_write:
                raise sa.exc.OperationalError(sql[:40], None, Exception("killed"))

        sa.event.listen(engine, "before_cursor_execute", dies)
        with pytest.raises(DatabaseFailureError):
            downgrade(engine, revisions()[0])
        sa.event.remove(engine, "before_cursor_execute", dies)
        assert current_revision(engine) == head_revision()
        after = {name: _columns(engine, name) for name in sa.inspect(engine).get_table_names()}
        assert after == before
    finally:
        engine.dispose()


def _columns(engine: sa.Engine, table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(engine).get_columns(table)]
