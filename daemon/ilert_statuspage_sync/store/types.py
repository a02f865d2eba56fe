"""The state database's own column types, apart from the ORM models.

``status`` reads through SQLAlchemy Core alone (its start-up is its cost), yet
reads timestamps exactly as the models do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ilert_statuspage_sync.core.storable import clean_text
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["MaskedText", "UTCDateTime"]


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """On SQLite, the stored text parsed as aware UTC in one call.

        A pass reads a few timestamps of every open link: parsing the naive text
        and then setting its zone, through two Python layers, was a tenth of a
        quiet pass at 10,000 open alerts. Text of any other form takes the
        general path, which gives the same value.
        """
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    return parse(value + "+00:00")
            return general(value)

        return process


class MaskedText(sa.TypeDecorator[str]):
    """A text column (an error, a reason, a summary, a published name): stored cleaned, keyless.

    Every write to such a column passes here, whoever composed the text, so a
    vendor's echo of a key never reaches the database: ``clean_text`` first
    (NUL and controls out, as PostgreSQL needs), then ``scrub`` on what is left,
    then clipped to the column.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return self.stored(value)

    def stored(self, value: str | None) -> str | None:
        """``value`` as this column stores it (and reads it back)."""
        if value is None:
            return None
        return scrub(clean_text(value))[: self.length]

    # No ``process_result_value``: read back as stored, with no call per value read
    # (SQLAlchemy skips the result processing of a decorator that does not define one).
