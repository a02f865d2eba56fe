"""A plain SQLite file URL is read without SQLAlchemy, exactly as SQLAlchemy reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config.database_url import check_database_url, safe_url
from ilert_statuspage_sync.config.sqlite_url import plain_sqlite

PLAIN = [
    "sqlite:///state.db",
    "sqlite:////var/lib/ilert-statuspage-sync/state.db",
    "sqlite:////tmp/with space/a+b_c~d.db",
    "sqlite:///~/state.db",
    "sqlite+pysqlite:////srv/x.db",
    "sqlite:////srv/x.db?timeout=2.5",
    "sqlite:///x.db?timeout=30",
]
NOT_PLAIN = [
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite:////tmp/a%20b.db",
    "sqlite:////tmp/a:b@c.db",
    "sqlite:///x.db?timeout=soon",
    "sqlite:///x.db?mode=ro&uri=true",
    "sqlite:///x.db?timeout=1&timeout=2",
    "sqlite+aiosqlite:///x.db",
    "postgresql+psycopg://u:p@db/x",
]


@pytest.mark.parametrize("url", PLAIN)
def test_a_plain_sqlite_url_reads_as_sqlalchemy_reads_it(url: str) -> None:
    """The same file and timeout as SQLAlchemy's parse; it is its own normal and shown form."""
    plain = plain_sqlite(url)
    parsed = sa.make_url(url)

    assert plain is not None
    assert plain.path == Path(parsed.database or "").expanduser().resolve()
    assert plain.timeout == parsed.query.get("timeout")
    assert parsed.render_as_string(hide_password=False) == url
    assert check_database_url(url) == url
    assert safe_url(url) == url


@pytest.mark.parametrize("url", NOT_PLAIN)
def test_any_other_url_is_left_to_sqlalchemy(url: str) -> None:
    """In memory, percent-encoded, other options, other drivers or databases: not plain."""
    assert plain_sqlite(url) is None
