"""Databases for tests: a SQLite file or a PostgreSQL database of their own.

Migrating with Alembic costs about half a second, so each test session (each
xdist worker) migrates one template once: SQLite tests copy the template file,
PostgreSQL tests ``CREATE DATABASE ... TEMPLATE`` it. Tests that drive the
daemon in process get a migrated copy; every other ``database_url`` is empty, so
tests of the migrations themselves still run Alembic on an empty database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.store.database import make_engine, upgrade

POSTGRES_ENV = "ILERT_SYNC_TEST_POSTGRES_URL"
# The fixtures that run the daemon in process and so want a migrated database.
MIGRATED_FOR = ("make_harness",)


def postgres_base() -> str:
    """The admin URL of the test PostgreSQL server, or skip the test."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV}=postgresql+psycopg://USER:PASS@HOST/postgres "
            "(a role with CREATEDB); .ci/run starts PostgreSQL and sets it"
        )
    return base


def _admin(base: str) -> sa.Engine:
    return sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _create(base: str, name: str, template: str | None = None) -> str:
    clause = f' TEMPLATE "{template}"' if template else ""
    admin = _admin(base)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"{clause}'))
    admin.dispose()
    return sa.make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop(base: str, name: str) -> None:
    admin = _admin(base)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped afterwards."""
    base = postgres_base()
    name = f"ilert_sync_test_{uuid.uuid4().hex[:12]}"
    try:
        yield _create(base, name, template)
    finally:
        _drop(base, name)


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


class Templates:
    """One migrated template per database kind, made on first use in this process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_file: Path | None = None
        self.postgres_name: str | None = None

    def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.folder / "template.db"
            _migrate(f"sqlite:///{path}")
            self.sqlite_file = path
        return self.sqlite_file

    def postgres(self) -> str:
        if self.postgres_name is None:
            base = postgres_base()
            name = f"ilert_sync_tmpl_{uuid.uuid4().hex[:12]}"
            _migrate(_create(base, name))
            self.postgres_name = name
        return self.postgres_name

    def drop(self) -> None:
        if self.postgres_name is not None:
            _drop(os.environ[POSTGRES_ENV], self.postgres_name)


@pytest.fixture(name="database_templates", scope="session")
def _database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


@pytest.fixture(
    name="database_url",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def _database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_templates: Templates
) -> Iterator[str]:
    """A database of the test's own: empty, or a migrated copy for in-process passes."""
    migrated = any(name in request.fixturenames for name in MIGRATED_FOR)
    if request.param == "sqlite":
        path = tmp_path / "state.db"
        if migrated:
            shutil.copyfile(database_templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    template = database_templates.postgres() if migrated else None
    yield from postgres_database(template)


# -- a database that refuses one alert's rows (a real refusal, on SQLite and PostgreSQL) --


def refuse_links(engine: sa.Engine, operation: str, condition: str) -> None:
    """Make the database abort ``operation`` on ``links`` rows where ``condition`` holds."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                sa.text(
                    f"CREATE TRIGGER refuse_alert BEFORE {operation} ON links "
                    f"WHEN {condition} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
            return
        connection.execute(
            sa.text(
                "CREATE FUNCTION refuse_alert() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            )
        )
        connection.execute(
            sa.text(
                f"CREATE TRIGGER refuse_alert BEFORE {operation} ON links FOR EACH ROW "
                f"WHEN ({condition}) EXECUTE FUNCTION refuse_alert()"
            )
        )


def allow_links(engine: sa.Engine) -> None:
    """Drop what ``refuse_links`` made: the database takes every row again."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(sa.text("DROP TRIGGER refuse_alert"))
        else:
            connection.execute(sa.text("DROP TRIGGER refuse_alert ON links"))
            connection.execute(sa.text("DROP FUNCTION refuse_alert()"))
