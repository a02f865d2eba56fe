"""A migration killed at any statement leaves a database the next ``db upgrade`` finishes.

A real ``db upgrade`` process pauses before its N-th write (the test seam
``ILERT_SYNC_TEST_PAUSE_AT=migration:N``) and is SIGKILLed there: from an empty
database before every write of every migration, and from every revision short
of head before its upgrade's first, middle and last write. The upgrade is one
transaction whatever it starts from, so the start only changes the database the
kill must leave; every statement is swept once. The migrations are read from
the script directory, so a new migration is swept without touching this file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from ilert_statuspage_sync.store import database
from ilert_statuspage_sync.store.database import (
    atomic_sqlite,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from tests.support.proc import cli_argv, write_config

PAUSE_TIMEOUT = 60.0


def _revisions() -> list[str]:
    """Every shipped revision, oldest first."""
    script = ScriptDirectory.from_config(database._alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _migrate_to(path: Path, revision: str | None) -> None:
    if revision is None:
        return
    engine = make_engine(f"sqlite:///{path}")
    config = database._alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        with atomic_sqlite(connection):
            command.upgrade(config, revision)
    engine.dispose()


def _upgrade_paused_at(config: Path, number: int) -> bool:
    """Run ``db upgrade`` pausing before write ``number``; SIGKILL it there.

    False when the upgrade finished instead (there is no such write).
    """
    process = subprocess.Popen(
        cli_argv(config, "db", "upgrade"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ILERT_SYNC_TEST_PAUSE_AT": f"migration:{number}"},
    )
    assert process.stderr is not None
    try:
        line = process.stderr.readline()  # blocks until the pause line or the exit
        if line.strip() == f"paused at migration:{number}":
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=PAUSE_TIMEOUT)
            return True
        _out, err = process.communicate(timeout=PAUSE_TIMEOUT)
        assert process.returncode == 0, line + err
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
        if process.stdout is not None:
            process.stdout.close()


def _writes(template: Path, folder: Path) -> int:
    """How many writes an upgrade from ``template`` makes (counted in-process on a copy)."""
    copy = folder / "count.db"
    if template.exists():
        shutil.copy(template, copy)
    engine = make_engine(f"sqlite:///{copy}")
    seen: list[str] = []
    try:
        upgrade(engine, on_statement=lambda _number, sql: seen.append(sql))
    finally:
        engine.dispose()
    # As the seam counts (``service.wiring.migration_pause``): reads are not writes.
    return sum(not sql.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN")) for sql in seen)


def _kill_points(start: str | None, writes: int) -> list[int]:
    """Every write from empty; the first, middle and last from a revision."""
    if start is None:
        return list(range(1, writes + 1))
    return sorted({1, (writes + 1) // 2, writes})


def _assert_recovers(path: Path) -> None:
    """The next upgrade succeeds and the schema is exactly what the models describe."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        config = database._alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.check(config)
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("start", [None, *_revisions()[:-1]], ids=lambda r: f"from-{r or 'empty'}")
def test_sigkill_at_every_migration_statement_then_upgrade_succeeds(
    tmp_path: Path, start: str | None
) -> None:
    """SIGKILL before each migration write leaves a database the next upgrade completes."""
    template = tmp_path / "template.db"
    _migrate_to(template, start)
    folder = tmp_path / "run"
    folder.mkdir()
    db_path = folder / "state.db"
    config = write_config(
        folder, "http://127.0.0.1:9", "http://127.0.0.1:9", f"sqlite:///{db_path}"
    )
    writes = _writes(template, tmp_path)
    assert writes >= 1, "an upgrade from here writes nothing: no migration is left"
    for number in [*_kill_points(start, writes), writes + 1]:
        for stale in folder.glob("state.db*"):
            stale.unlink()
        if template.exists():
            shutil.copy(template, db_path)
        paused = _upgrade_paused_at(config, number)
        # The process pauses at each counted write and at no other: the seam and the count agree.
        assert paused == (number <= writes), (number, writes)
        if not paused:
            break
        # The kill left the revision the database had before this migration began.
        engine = make_engine(f"sqlite:///{db_path}")
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        before = current_revision(engine)
        engine.dispose()
        assert before == start, (number, before)
        if before is None:
            assert tables <= {"alembic_version"}, (number, tables)
        _assert_recovers(db_path)
