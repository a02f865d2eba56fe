"""A database URL is shown without any credential in any form: the user part's password,
``?password=`` (a valid libpq form, percent-encoded or not), and every parameter not known
to be harmless."""

from __future__ import annotations

import pytest

from ilert_statuspage_sync.config.database_url import safe_url

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
