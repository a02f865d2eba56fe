"""Load the config file: read the TOML, check every table, collect every mistake.

Every problem is reported, each as one line naming the file and the dotted key
(``reader``), so an SRE can fix the file in one go without reading code. API
keys are resolved here, once, into ``Secret`` values (``keys``); commands that
call no vendor load the config with ``keys=False`` and never read a key's
variable or file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ilert_statuspage_sync.config import settings
from ilert_statuspage_sync.config.actions import read_actions
from ilert_statuspage_sync.config.bridges import read_bridges
from ilert_statuspage_sync.config.reader import Reader
from ilert_statuspage_sync.config.services import read_connectors, read_ilert
from ilert_statuspage_sync.config.values import (
    DEFAULT_RETENTION_DAYS,
    NOTHING_TO_MIRROR,
    Config,
    MetricsConfig,
)
from ilert_statuspage_sync.core.lifecycle import DEFAULT_LIFECYCLE, LIFECYCLES
from ilert_statuspage_sync.errors import ConfigError

__all__ = ["LOG_LEVELS", "TOP_KEYS", "load_config", "parse_config"]

TOP_KEYS = {
    "poll_interval",
    "database_url",
    "lifecycle",
    "log_level",
    "ilert",
    "connectors",
    "incident_actions",
    "status_bridges",
    "metrics",
    "retention_days",
}
LOG_LEVELS = ("debug", "info", "warning", "error")


def load_config(
    path: Path,
    environ: Mapping[str, str] | None = None,
    *,
    keys: bool = True,
    templates: bool = True,
) -> Config:
    """Read, parse and validate the config file at ``path``.

    With ``keys=False`` (commands that call no vendor) the key settings are
    checked for shape only; no environment variable or key file is read. With
    ``templates=False`` (commands that publish nothing) templates are checked
    for shape only and compiled at their first render, if any.
    """
    environ = os.environ if environ is None else environ
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config PATH)") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    config = parse_config(
        data,
        environ,
        origin=str(path),
        base_dir=path.absolute().parent,
        keys=keys,
        templates=templates,
    )
    warnings = list(config.warnings)
    if _readable_by_others(path) and _has_inline_key(data):
        warnings.append(
            f"{path}: holds an API key inline and is readable by other users; "
            "chmod 600 it or use api_key_file / LoadCredential="
        )
    return Config(**{**config.__dict__, "path": path, "warnings": tuple(warnings)})


def parse_config(
    data: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    origin: str = "config",
    base_dir: Path | None = None,
    keys: bool = True,
    templates: bool = True,
) -> Config:
    """Validate an already-parsed TOML document; pure except for reading key files.

    Every mistake is collected; one ``ConfigError`` then carries them all.
    """
    reader = Reader(origin, environ, base_dir, keys=keys, templates=templates)
    reader.no_unknown(data, TOP_KEYS, "")
    ilert = read_ilert(reader, data.get("ilert"))
    connectors = read_connectors(reader, data.get("connectors"))
    actions = read_actions(reader, data.get("incident_actions"))
    bridges = read_bridges(reader, data.get("status_bridges"), actions)
    top = _top_level(reader, data)
    if reader.errors or ilert is None:
        raise ConfigError(*reader.errors)
    # A starter config (`discover --write`) has its actions commented out: valid, idle.
    idle = () if actions or bridges else (f"{origin}: {NOTHING_TO_MIRROR}",)
    return Config(
        ilert=ilert,
        connectors=connectors,
        incident_actions=actions,
        status_bridges=bridges,
        **top,
        warnings=(*idle, *reader.warnings),
        keys_loaded=keys,
    )


def _top_level(reader: Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level keys as ``Config`` fields, each defaulted when wrong (mistake collected)."""
    attempt = reader.attempt
    retention = data.get("retention_days", DEFAULT_RETENTION_DAYS)
    return {
        "poll_interval": attempt(
            30.0, settings.poll_interval, reader, data.get("poll_interval", 30)
        ),
        "database_url": attempt("", settings.database_url, reader, data),
        "lifecycle": attempt(
            DEFAULT_LIFECYCLE,
            reader.choice,
            data,
            "lifecycle",
            "",
            tuple(LIFECYCLES),
            DEFAULT_LIFECYCLE,
        ),
        "log_level": attempt("info", reader.choice, data, "log_level", "", LOG_LEVELS, "info"),
        "metrics": attempt(MetricsConfig(), settings.metrics, reader, data.get("metrics")),
        "retention_days": attempt(
            DEFAULT_RETENTION_DAYS, settings.retention_days, reader, retention
        ),
    }


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def _has_inline_key(data: Mapping[str, Any]) -> bool:
    tables = [data.get("ilert"), *(data.get("connectors") or {}).values()]
    return any(isinstance(table, Mapping) and "api_key" in table for table in tables)
