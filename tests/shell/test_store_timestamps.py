"""Timestamps read back from the state database: aware UTC, whatever path parsed them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ilert_statuspage_sync.store.types import UTCDateTime

STORED = [
    "2026-12-07 21:00:00.123456",  # what the SQLite dialect writes
    "2026-12-07 21:00:00",
    "2026-12-07T21:00:00.5",
    "2026-12-07 21:00:00+00:00",  # an offset already: the general path
    "2026-12-07 23:00:00.000001+02:00",
    None,
]


@pytest.mark.parametrize("text", STORED)
def test_sqlites_quick_parse_gives_the_general_paths_value(text: str | None):
    """The one-call SQLite parse yields the same aware UTC value as the general path,
    for the dialect's own format and for any other form a row may hold."""
    dialect = sqlite.dialect()
    kind = UTCDateTime().dialect_impl(dialect)  # as a query uses it: SQLite's text parser inside
    assert isinstance(kind, UTCDateTime)
    quick = kind.result_processor(dialect, None)
    general: Any = sa.types.TypeDecorator.result_processor(kind, dialect, None)
    assert quick is not None and general is not None
    got, want = quick(text), general(text)
    assert got == want
    if got is not None:
        assert got.utcoffset() == timedelta(0) and got.tzinfo is UTC


def test_a_stored_timestamp_reads_back_aware_on_sqlite(tmp_path):
    """Written aware, read back the same instant as aware UTC through a real SQLite file."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UTCDateTime()))
    table.create(engine)
    moment = datetime(2026, 12, 7, 23, 0, 0, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"at": moment}, {"at": None}])
        read = connection.execute(sa.select(table.c.at)).scalars().all()
    assert read == [moment, None] and read[0].tzinfo is UTC


def test_other_databases_keep_the_general_path():
    """Only SQLite's stored text takes the quick parse: PostgreSQL's datetimes are converted
    as before (a naive one taken as UTC, an aware one moved to UTC)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    kind = UTCDateTime().dialect_impl(dialect)
    assert isinstance(kind, UTCDateTime)
    process = kind.result_processor(dialect, None)
    assert process is not None
    naive = datetime(2026, 12, 7, 21, 0)  # noqa: DTZ001 - what a driver may hand back
    assert process(naive) == naive.replace(tzinfo=UTC)
    east = datetime(2026, 12, 7, 23, 0, tzinfo=timezone(timedelta(hours=2)))
    moved = process(east)
    assert moved == naive.replace(tzinfo=UTC) and moved is not None and moved.tzinfo is UTC
