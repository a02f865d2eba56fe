"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ilert_statuspage_sync.store import database
from ilert_statuspage_sync.store.database import head_revision, make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]


def test_upgrade_builds_head_and_alembic_check_passes(database_url: str):
    """After upgrading, `alembic check` finds no difference between models and schema."""
    engine = make_engine(database_url)
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)
    assert set(sa.inspect(engine).get_table_names()) >= {"links", "transitions", "action_state"}


def test_upgrade_is_idempotent(database_url: str):
    """A second upgrade changes nothing."""
    engine = make_engine(database_url)
    upgrade(engine)
    assert upgrade(engine) == (head_revision(), head_revision())


def test_downgrade_to_base_and_back(database_url: str):
    """Every migration can be undone and redone."""
    engine = make_engine(database_url)
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
    alembic = [sys.executable, "-m", "alembic", "-x", f"url={url}"]
    for args in (["upgrade", "head"], ["check"]):
        result = subprocess.run(
            [*alembic, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
