"""The top-level keys: poll interval, retention, database URL and the ``[metrics]`` table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ilert_statuspage_sync.config.addresses import listen_address
from ilert_statuspage_sync.config.reader import Reader, kind
from ilert_statuspage_sync.config.values import (
    MAX_POLL_INTERVAL,
    MAX_RETENTION_DAYS,
    MIN_POLL_INTERVAL,
    MetricsConfig,
)
from ilert_statuspage_sync.errors import ConfigError

__all__ = ["METRICS_KEYS", "database_url", "metrics", "poll_interval", "retention_days"]

METRICS_KEYS = {"textfile", "listen"}


def database_url(reader: Reader, data: Mapping[str, Any]) -> str:
    """The URL as the engine needs it: sqlite or postgresql (``postgres://`` normalised)."""
    from ilert_statuspage_sync.config.database_url import check_database_url  # SQLAlchemy

    url = reader.string(data, "database_url", "", default="sqlite:///state.db")
    try:
        return check_database_url(url)
    except ConfigError as error:
        raise ConfigError(f"{reader.origin}: {error}") from None


def poll_interval(reader: Reader, value: object) -> float:
    """Seconds between passes, within [MIN_POLL_INTERVAL, MAX_POLL_INTERVAL]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise reader.fail("poll_interval", f"must be a number of seconds, got {kind(value)}")
    if not math.isfinite(value):
        raise reader.fail("poll_interval", f"must be a finite number of seconds, got {value}")
    if value < MIN_POLL_INTERVAL:
        raise reader.fail("poll_interval", f"must be at least {MIN_POLL_INTERVAL:g} seconds")
    if value > MAX_POLL_INTERVAL:
        raise reader.fail(
            "poll_interval", f"must be at most {MAX_POLL_INTERVAL:g} seconds (one day)"
        )
    return float(value)


def retention_days(reader: Reader, value: object) -> int:
    """Days closed links and audit rows are kept; 0 keeps everything."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise reader.fail(
            "retention_days",
            f"must be a whole number of days >= 0 (0 keeps everything), got {kind(value)}",
        )
    if value > MAX_RETENTION_DAYS:
        raise reader.fail(
            "retention_days",
            f"must be at most {MAX_RETENTION_DAYS:,} days; use 0 to keep everything",
        )
    return value


def metrics(reader: Reader, value: object) -> MetricsConfig:
    """The ``[metrics]`` table: a textfile, a loopback listen address, both or none."""
    if value is None:
        return MetricsConfig()
    table = reader.table(value, "metrics")
    reader.no_unknown(table, METRICS_KEYS, "metrics")
    textfile = reader.attempt(None, _textfile, reader, table) if "textfile" in table else None
    address: tuple[str, int] | None = None
    if "listen" in table:
        listen = reader.attempt("", reader.string, table, "listen", "metrics")
        address = reader.attempt(None, listen_address, reader, listen) if listen else None
    host, port = address or (None, None)
    return MetricsConfig(textfile=textfile, listen_host=host, listen_port=port)


def _textfile(reader: Reader, table: Mapping[str, Any]) -> Path:
    name = reader.string(table, "textfile", "metrics")
    textfile = Path(name)
    if not textfile.is_absolute() or textfile.suffix != ".prom" or textfile.stem == "":
        raise reader.fail(
            "metrics.textfile",
            f"{name!r} must be an absolute path ending in .prom "
            "(e.g. /var/lib/node_exporter/textfile/ilert_statuspage_sync.prom)",
        )
    return textfile
