"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from ilert_statuspage_sync.store import database
from ilert_statuspage_sync.store.database import head_revision, make_engine, upgrade
from tests.support.proc import python_module_argv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="engine")
def _engine(database_url: str):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrade_builds_head_and_alembic_check_passes(engine: sa.Engine):
    """After upgrading, `alembic check` finds no difference between models and schema."""
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)
    assert set(sa.inspect(engine).get_table_names()) >= {"links", "transitions", "action_state"}


def test_upgrade_is_idempotent(engine: sa.Engine):
    """A second upgrade changes nothing."""
    upgrade(engine)
    assert upgrade(engine) == (head_revision(), head_revision())


def test_downgrade_to_base_and_back(engine: sa.Engine):
    """Every migration can be undone and redone."""
    upgrade(engine)
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert "links" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    assert "links" in sa.inspect(engine).get_table_names()


def test_alembic_command_line_check(tmp_path: Path):
    """The `alembic` CLI, run from the checkout, upgrades and checks via pyproject.toml."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic = python_module_argv("alembic", "-x", f"url={url}")
    for args in (["upgrade", "head"], ["check"]):
        result = subprocess.run(
            [*alembic, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr


def test_the_shipped_revisions_read_from_file_names_are_alembics_own() -> None:
    """The revisions read without Alembic (file names) are Alembic's chain, oldest first."""
    from alembic.script import ScriptDirectory

    from ilert_statuspage_sync.store import database

    script = ScriptDirectory.from_config(database._alembic_config())
    walked = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert database.revisions() == walked
    assert database.head_revision() == script.get_current_head()
