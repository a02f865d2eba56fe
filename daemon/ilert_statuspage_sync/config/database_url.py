"""The ``database_url`` key: which URLs the daemon can open, normalised for the engine,
and how one is shown (``safe_url``: never with a credential).

A plain SQLite file URL (``sqlite_url``) is its own normal form and shows no
credential, so neither needs SQLAlchemy: ``status`` on the default database
never loads it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from ilert_statuspage_sync.config.sqlite_url import plain_sqlite
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.runtime.secrets import register_secrets

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["check_database_url", "safe_url"]

_URL_EXAMPLES = (
    "sqlite:////var/lib/ilert-statuspage-sync/state.db or postgresql+psycopg://USER@HOST/DB"
)

HIDDEN = "***"
UNPARSABLE = "<unparsable database URL>"
# Query parameters whose value is a password: masked like a key wherever it turns up.
_PASSWORD_PARAMETERS = frozenset({"password", "sslpassword"})
_CONNINFO = re.compile(r"=|://")
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
# Query parameters of a database URL whose values are shown: libpq's and
# SQLite's that can never hold a credential; every other value is hidden.
_SHOWN_PARAMETERS = frozenset(
    {
        "application_name",
        "channel_binding",
        "client_encoding",
        "connect_timeout",
        "gssencmode",
        "host",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "load_balance_hosts",
        "mode",
        "port",
        "sslmode",
        "sslrootcert",
        "target_session_attrs",
        "timeout",
        "uri",
        "user",
    }
)


def check_database_url(url: str) -> str:
    """``url`` as the engine needs it, or a ConfigError about ``database_url``.

    ``postgres://`` (Heroku, many PaaS) and a bare ``postgresql://`` mean the
    psycopg 3 driver the ``[postgres]`` extra installs; SQLAlchemy would look for
    a ``postgres`` dialect or for psycopg2.
    """
    if plain_sqlite(url) is not None:
        return url
    parsed = _parsed(url)
    if parsed is None:
        raise ConfigError(
            "database_url: not a valid URL (a port is one number; several hosts go in "
            f"?host=h1,h2&port=p1,p2); use {_URL_EXAMPLES}"
        )
    if "@" in (parsed.host or ""):
        # An unencoded "@" in the password: the rest of the password would pass for the host.
        raise ConfigError(
            "database_url: the host part holds '@'; percent-encode an '@' in the password as %40"
        )
    register_secrets(_passwords(parsed, safe_url(url)))  # a driver error repeating one is masked
    dialect, _, driver = parsed.drivername.partition("+")
    if dialect in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")
    elif dialect != "sqlite":
        raise ConfigError(f"database_url: {dialect} is not supported; use {_URL_EXAMPLES}")
    return parsed.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL for messages and logs, without any credential in any form.

    The password in the user part is masked, and so is the value of every
    query parameter not known to be harmless: ``?password=`` is a valid libpq
    form, and ``sslpassword``, ``passfile``, ``sslkey`` or a driver's own
    option may carry or point at one; so may ``dbname`` or a database name
    that libpq reads as a connection string. The parameters are compared after
    percent-decoding (``pass%77ord`` is ``password``).
    """
    if plain_sqlite(url) is not None:
        return url
    import sqlalchemy as sa

    parsed = _parsed(url)
    if parsed is None or "@" in (parsed.host or ""):
        return UNPARSABLE  # a host holding "@" holds the rest of a password
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    if not parsed.drivername.startswith("sqlite") and _CONNINFO.search(parsed.database or ""):
        # libpq reads a database name holding "=" or "://" as a connection string.
        server = sa.URL.create(
            parsed.drivername, parsed.username, parsed.password, parsed.host, parsed.port
        )  # URL.set ignores database=None
        shown = f"{server.render_as_string(hide_password=True)}/{HIDDEN}"
    pairs = [
        _shown_parameter(name, value)
        for name, values in parsed.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    ]
    return f"{shown}?{'&'.join(pairs)}" if pairs else shown


def _shown_parameter(name: str, value: str) -> str:
    if name in _SHOWN_PARAMETERS:
        return f"{name}={quote(value, safe='/:,')}"
    # A name that is not a parameter's may be a credential pasted as one.
    return f"{name if _PARAMETER_NAME.fullmatch(name) else HIDDEN}={HIDDEN}"


def _parsed(url: str) -> sa.URL | None:
    """``url`` parsed, or None: SQLAlchemy raises ValueError for a port it cannot read
    (libpq's ``h1:5432,h2:5433`` included), and its text holds the URL."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return None


def _passwords(parsed: sa.URL, shown: str) -> list[str]:
    """The URL's passwords, but not one the shown URL spells anyway (``postgres`` in the
    driver's name, a password equal to the user name): masking it would garble every line
    that names the database, and it hides nothing."""
    found = [parsed.password] if isinstance(parsed.password, str) else []
    for name, values in parsed.query.items():
        if name.lower() in _PASSWORD_PARAMETERS:
            found += [values] if isinstance(values, str) else list(values)
    return [password for password in found if password.lower() not in shown.lower()]
