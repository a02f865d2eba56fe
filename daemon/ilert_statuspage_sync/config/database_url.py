"""The ``database_url`` key: which URLs the daemon can open, normalised for the engine."""

from __future__ import annotations

import sqlalchemy as sa

from ilert_statuspage_sync.errors import ConfigError

__all__ = ["check_database_url"]

_URL_EXAMPLES = (
    "sqlite:////var/lib/ilert-statuspage-sync/state.db or postgresql+psycopg://USER@HOST/DB"
)


def check_database_url(url: str) -> str:
    """``url`` as the engine needs it, or a ConfigError about ``database_url``.

    ``postgres://`` (Heroku, many PaaS) and a bare ``postgresql://`` mean the
    psycopg 3 driver the ``[postgres]`` extra installs; SQLAlchemy would look for
    a ``postgres`` dialect or for psycopg2.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"database_url: not a valid URL; use {_URL_EXAMPLES}") from None
    dialect, _, driver = parsed.drivername.partition("+")
    if dialect in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")
    elif dialect != "sqlite":
        raise ConfigError(f"database_url: {dialect} is not supported; use {_URL_EXAMPLES}")
    return parsed.render_as_string(hide_password=False)
