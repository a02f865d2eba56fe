"""A database URL is shown without any credential in any form: the user part's password,
``?password=`` (a valid libpq form, percent-encoded or not), and every parameter not known
to be harmless."""

from __future__ import annotations

import pytest

from ilert_statuspage_sync.config.database_url import check_database_url, safe_url
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.runtime.secrets import MASK, scrub

SECRET = "s3cr3tpw"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql+psycopg://u:{SECRET}@h:5432/db?sslmode=require",
            "postgresql+psycopg://u:***@h:5432/db?sslmode=require",
        ),
        (
            f"postgresql+psycopg://u@h/db?password={SECRET}&sslmode=require",
            "postgresql+psycopg://u@h/db?password=***&sslmode=require",
        ),
        (f"postgresql://u@h/db?pass%77ord={SECRET}", "postgresql://u@h/db?password=***"),
        (
            f"postgresql://u@h/db?password={SECRET}&password=x",
            "postgresql://u@h/db?password=***&password=***",
        ),
        (
            f"postgresql://u@h/db?sslpassword={SECRET}&passfile=/p&sslkey=/k&service={SECRET}",
            "postgresql://u@h/db?sslpassword=***&passfile=***&sslkey=***&service=***",
        ),
        (f"postgresql://u@h/db?{SECRET}-x=1", "postgresql://u@h/db?***=***"),
        (
            f"postgresql://u@h/db?dbname=postgresql://u:{SECRET}@h/db",
            "postgresql://u@h/db?dbname=***",
        ),
        (f"postgresql://u@h/password={SECRET}", "postgresql://u@h/***"),
        ("postgresql://u@/db?host=/run/postgresql", "postgresql://u@/db?host=/run/postgresql"),
        ("sqlite:////var/lib/x/state.db?timeout=5", "sqlite:////var/lib/x/state.db?timeout=5"),
        ("not a url", "<unparsable database URL>"),
    ],
)
def test_a_database_url_is_shown_without_a_credential(url: str, shown: str):
    """Each form of a credential is hidden; host, port, database and harmless options stay."""
    assert safe_url(url) == shown
    assert SECRET not in safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:Pa@MySecretTail99@127.0.0.1/db",  # an unencoded "@" in the password
        "postgresql://u:MySecretTail99@h1:5432,h2:5433/db",  # libpq's several hosts
        "postgresql+psycopg://u:MySecretTail99@h:notaport/db",
    ],
    ids=["at-in-password", "multi-host", "bad-port"],
)
def test_a_url_that_cannot_be_read_whole_is_one_config_error_without_its_text(url: str):
    """A password with an unencoded '@', or a port SQLAlchemy cannot read, is a ConfigError
    that shows no part of the URL, and the URL is never shown with the password's tail."""
    with pytest.raises(ConfigError) as raised:
        check_database_url(url)
    assert "MySecretTail99" not in str(raised.value) and "database_url" in str(raised.value)
    assert "MySecretTail99" not in safe_url(url)


def test_the_database_password_is_masked_in_any_later_text():
    """The URL's password and a ?sslpassword= value are registered: a driver error quoting
    either is masked."""
    check_database_url("postgresql://u:DbPassw0rd77@h/db?sslpassword=CertPassw0rd")
    assert (
        scrub("auth failed for DbPassw0rd77 / CertPassw0rd") == f"auth failed for {MASK} / {MASK}"
    )


def test_a_password_the_shown_url_spells_anyway_is_not_masked_elsewhere():
    """A password equal to the user name, or ``postgres``, would mask every line naming the
    database: it is not registered, and the URL is still shown with the user name."""
    check_database_url("postgresql://ci_user:ci_user@h/db")
    check_database_url("postgresql://u:postgres@h/db")
    assert scrub("database postgresql+psycopg://ci_user:***@h/db") == (
        "database postgresql+psycopg://ci_user:***@h/db"
    )
