"""The ``[ilert]`` and ``[connectors.NAME]`` tables: where each vendor is, its key and rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ilert_statuspage_sync.config.addresses import api_url
from ilert_statuspage_sync.config.keys import KEY_SOURCES, UNREAD, header_safe, read_key
from ilert_statuspage_sync.config.reader import Reader, join, kind
from ilert_statuspage_sync.config.values import (
    DEFAULT_ILERT_RATE,
    DEFAULT_STATUSPAGE_RATE,
    MAX_REQUESTS_PER_MINUTE,
    ConnectorConfig,
    IlertConfig,
)
from ilert_statuspage_sync.runtime.secrets import Secret

__all__ = ["SERVICE_KEYS", "read_connectors", "read_ilert"]

SERVICE_KEYS = {"api_url", "requests_per_minute", "allow_insecure_http"} | KEY_SOURCES


def read_ilert(reader: Reader, value: object) -> IlertConfig | None:
    """The ``[ilert]`` table, or None (with the mistakes collected)."""
    table = reader.attempt(None, reader.table, value, "ilert")
    if table is None:
        return None
    url, key, origin, rate = _service(
        reader, table, "ilert", "https://api.ilert.com", DEFAULT_ILERT_RATE
    )
    return IlertConfig(url, key, origin, rate)


def read_connectors(reader: Reader, value: object) -> dict[str, ConnectorConfig]:
    """Every ``[connectors.NAME]`` table; remembers the names for the actions to check."""
    tables = reader.attempt(None, reader.table, value, "connectors")
    if tables is None:
        return {}
    if not tables:
        reader.report("connectors", "define at least one [connectors.NAME] table")
    reader.connector_names = set(tables)
    connectors = {}
    for name, raw in tables.items():
        prefix = f"connectors.{name}"
        table = reader.attempt(None, reader.table, raw, prefix)
        if table is not None:
            url, key, origin, rate = _service(
                reader, table, prefix, "https://api.statuspage.io", DEFAULT_STATUSPAGE_RATE
            )
            connectors[name] = ConnectorConfig(name, url, key, origin, rate)
    return connectors


def _service(
    reader: Reader, table: Mapping[str, Any], prefix: str, default_url: str, default_rate: int
) -> tuple[str, Secret, str, int]:
    """URL, key, key origin and rate, as iLert and every connector share them."""
    reader.no_unknown(table, SERVICE_KEYS, prefix)
    key, origin = reader.attempt((Secret(UNREAD), ""), read_key, reader, table, prefix)
    reader.attempt(None, header_safe, reader, key, table, prefix)
    url = reader.attempt("", api_url, reader, table, prefix, default_url)
    rate = reader.attempt(default_rate, _rate, reader, table, prefix, default_rate)
    return url, key, origin, rate


def _rate(reader: Reader, table: Mapping[str, Any], prefix: str, default: int) -> int:
    value = table.get("requests_per_minute", default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise reader.fail(
            join(prefix, "requests_per_minute"),
            f"must be a whole number >= 1, got {kind(value)}",
        )
    if value > MAX_REQUESTS_PER_MINUTE:
        raise reader.fail(
            join(prefix, "requests_per_minute"),
            f"must be at most {MAX_REQUESTS_PER_MINUTE:,} (the vendors allow 60 to 120)",
        )
    return value
