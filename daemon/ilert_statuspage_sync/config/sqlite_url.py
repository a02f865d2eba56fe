"""A plain SQLite file URL, read without SQLAlchemy: the ``status`` probe's start-up is its cost.

Plain means ``sqlite:///PATH`` (or ``sqlite+pysqlite:///PATH``), at most
``?timeout=SECONDS``, and a path of the characters URL quoting leaves as they
are: SQLAlchemy reads such a URL as this same path and renders it back
unchanged (a test holds the two to each other). Any other URL, SQLite or not,
is SQLAlchemy's to parse.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

__all__ = ["PlainSqlite", "plain_sqlite"]

_PLAIN = re.compile(
    r"sqlite(?:\+pysqlite)?:///(?P<path>[A-Za-z0-9_./~+ -]+)"
    r"(?:\?timeout=(?P<timeout>[0-9]+(?:\.[0-9]+)?))?"
)


class PlainSqlite(NamedTuple):
    """The file of a plain SQLite URL (absolute) and its ``?timeout=`` as written, if any."""

    path: Path
    timeout: str | None


def plain_sqlite(url: str) -> PlainSqlite | None:
    """The file and timeout of a plain SQLite file URL; None for any other URL."""
    found = _PLAIN.fullmatch(url)
    if found is None:
        return None
    return PlainSqlite(Path(found["path"]).expanduser().resolve(), found["timeout"])
