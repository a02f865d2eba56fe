"""Load and validate the one TOML config file into a frozen ``Config`` value.

Every problem raises ``ConfigError`` naming the file and the dotted key
(``connectors.main.api_key_file``), so an SRE can fix it without reading code.
API keys are resolved here, once, into ``Secret`` values whose ``repr`` and
``str`` never show the key.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ilert_statuspage_sync.core.lifecycle import LIFECYCLES
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.storable import ID_MAX as MAX_ID
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.publish_config import PUBLISH_KEYS, parse_publish_policy

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Config",
    "ConnectorConfig",
    "IlertConfig",
    "IncidentAction",
    "MetricsConfig",
    "Secret",
    "is_loopback_host",
    "load_config",
    "parse_config",
]

DEFAULT_CONFIG_PATH = Path("/etc/ilert-statuspage-sync/config.toml")
MIN_POLL_INTERVAL = 5.0
NOTHING_TO_MIRROR = (
    "no [[incident_actions]]: nothing to mirror; add one (`discover --write` shows examples)"
)
MAX_POLL_INTERVAL = 86_400.0
# Far above any vendor limit (60 to 120 a minute), far below what overflows a pacer's float.
MAX_REQUESTS_PER_MINUTE = 100_000
# The vendors' own limits per API key: the budgets run at them (``clients.http.RateBudget``).
DEFAULT_ILERT_RATE = 120  # iLert: 120 a minute
DEFAULT_STATUSPAGE_RATE = 60  # Statuspage: 60 per rolling 60 s
_NO_CONTROL = "remove it (e.g. a NUL, tab or line break)"
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Secret:
    """An API key that cannot leak through repr, str, f-strings or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself: only the HTTP layer calls this, to build a header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class IlertConfig:
    """Where iLert is and how to authenticate."""

    api_url: str
    api_key: Secret
    key_origin: str
    # iLert allows 120 requests per minute per key; the budget runs at that limit
    # (``clients.http.RateBudget``: exact window accounting, a 1 s margin).
    requests_per_minute: int = DEFAULT_ILERT_RATE


@dataclass(frozen=True)
class ConnectorConfig:
    """One Statuspage account (API key)."""

    name: str
    api_url: str
    api_key: Secret
    key_origin: str
    # Statuspage allows 1 request/s on a 60 s rolling window per key: 60 a minute.
    requests_per_minute: int = DEFAULT_STATUSPAGE_RATE


@dataclass(frozen=True)
class IncidentAction:
    """Links alert sources to one Statuspage page through a connector."""

    name: str
    alert_sources: tuple[int, ...]
    connector: str
    page_id: str
    trigger_mode: str = "automatic"
    notify_subscribers: bool = True
    # What the public sees: filters, flap guard, templates, ... (publish_config.py).
    publish: PublishPolicy = field(default_factory=PublishPolicy)

    @property
    def manual(self) -> bool:
        """Only alerts triggered with ``trigger`` are mirrored."""
        return self.trigger_mode == "manual"


@dataclass(frozen=True)
class MetricsConfig:
    """Where Prometheus metrics go: a node_exporter textfile, a loopback port, both or none."""

    textfile: Path | None = None
    # IPv6 hosts are kept without brackets ("::1"), ready for a socket bind.
    listen_host: str | None = None
    listen_port: int | None = None


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration."""

    ilert: IlertConfig
    connectors: Mapping[str, ConnectorConfig]
    incident_actions: tuple[IncidentAction, ...]
    poll_interval: float = 30.0
    # Kept out of repr: a PostgreSQL URL may carry a password.
    database_url: str = field(default="sqlite:///state.db", repr=False)
    lifecycle: str = "classic"
    log_level: str = "info"
    path: Path | None = None
    warnings: tuple[str, ...] = field(default=())
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def action(self, name: str) -> IncidentAction:
        """The incident action called ``name``, or a ConfigError listing the known ones."""
        for action in self.incident_actions:
            if action.name == name:
                return action
        known = ", ".join(a.name for a in self.incident_actions)
        raise ConfigError(f"no incident action named {name!r} (configured: {known})")


_TOP_KEYS = {
    "poll_interval",
    "database_url",
    "lifecycle",
    "log_level",
    "ilert",
    "connectors",
    "incident_actions",
    "metrics",
}
_KEY_SOURCES = {"api_key_env", "api_key_file", "api_key"}
_SERVICE_KEYS = {"api_url", "requests_per_minute", "allow_insecure_http"} | _KEY_SOURCES
# Only a value shaped like this is echoed back from api_key_env: anything else may be a key.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_ACTION_KEYS = {
    "name",
    "alert_sources",
    "connector",
    "page_id",
    "trigger_mode",
    "notify_subscribers",
} | PUBLISH_KEYS
_METRICS_KEYS = {"textfile", "listen"}
_LOG_LEVELS = ("debug", "info", "warning", "error")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, parse and validate the config file at ``path``."""
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
    config = parse_config(data, environ, origin=str(path), base_dir=path.parent)
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
) -> Config:
    """Validate an already-parsed TOML document; pure except for reading key files."""
    reader = _Reader(origin, environ, base_dir)
    reader.no_unknown(data, _TOP_KEYS, "")
    connectors = reader.connectors(data.get("connectors"))
    actions = reader.actions(data.get("incident_actions"), connectors)
    # A starter config (`discover --write`) has its actions commented out: valid, idle.
    idle = () if actions else (f"{origin}: {NOTHING_TO_MIRROR}",)
    return Config(
        ilert=reader.ilert(data.get("ilert")),
        connectors=connectors,
        incident_actions=actions,
        poll_interval=reader.poll_interval(data.get("poll_interval", 30)),
        database_url=reader.string(data, "database_url", "", default="sqlite:///state.db"),
        lifecycle=reader.choice(data, "lifecycle", "", tuple(LIFECYCLES), "classic"),
        log_level=reader.choice(data, "log_level", "", _LOG_LEVELS, "info"),
        metrics=reader.metrics(data.get("metrics")),
        warnings=idle,
    )


class _Reader:
    """Validation helpers that know where they are in the file."""

    def __init__(self, origin: str, environ: Mapping[str, str], base_dir: Path | None) -> None:
        self.origin = origin
        self.environ = environ
        self.base_dir = base_dir

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(
            f"{self.origin}: {key}: {message}" if key else f"{self.origin}: {message}"
        )

    def no_unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                known = ", ".join(sorted(allowed))
                raise self.fail(_join(prefix, key), f"unknown key{suggestion}; known keys: {known}")

    def table(self, value: object, key: str) -> Mapping[str, Any]:
        if value is None:
            raise self.fail(key, "missing table")
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table, got {_kind(value)}")
        return value

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        default: str | None = None,
        *,
        printable: bool = True,
    ) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(_join(prefix, key), "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_join(prefix, key), f"must be a non-empty string, got {_kind(value)}")
        if printable and not value.strip().isprintable():
            # A NUL or line break would reach a driver, a path or a log line (not echoed).
            raise self.fail(_join(prefix, key), f"holds a control character; {_NO_CONTROL}")
        return value.strip()

    def choice(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        allowed: tuple[str, ...],
        default: str,
    ) -> str:
        value = self.string(table, key, prefix, default)
        if value not in allowed:
            raise self.fail(_join(prefix, key), f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def poll_interval(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail("poll_interval", f"must be a number of seconds, got {_kind(value)}")
        if not math.isfinite(value):
            raise self.fail("poll_interval", f"must be a finite number of seconds, got {value}")
        if value < MIN_POLL_INTERVAL:
            raise self.fail("poll_interval", f"must be at least {MIN_POLL_INTERVAL:g} seconds")
        if value > MAX_POLL_INTERVAL:
            raise self.fail(
                "poll_interval", f"must be at most {MAX_POLL_INTERVAL:g} seconds (one day)"
            )
        return float(value)

    def url(self, table: Mapping[str, Any], prefix: str, default: str) -> str:
        value = self.string(table, "api_url", prefix, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(_join(prefix, "api_url"), f"{value!r} is not an http(s) URL")
        if parts.path.strip("/") or parts.query:
            raise self.fail(
                _join(prefix, "api_url"), "give only scheme and host; the client adds /api or /v1"
            )
        try:
            port = parts.port  # raises ValueError for a port outside 0..65535 or not a number
        except ValueError:
            port = 0
        if port == 0:
            raise self.fail(_join(prefix, "api_url"), f"{value!r}: port must be 1 to 65535")
        insecure = table.get("allow_insecure_http", False)
        if not isinstance(insecure, bool):
            raise self.fail(_join(prefix, "allow_insecure_http"), "must be true or false")
        # Plain HTTP would send the key in clear text; loopback stays allowed (simulators).
        if parts.scheme == "http" and not insecure and not is_loopback_host(parts.hostname or ""):
            raise self.fail(
                _join(prefix, "api_url"),
                f"{value!r} would send the API key unencrypted; use https://, or set "
                f"allow_insecure_http = true in [{prefix}] for a trusted network",
            )
        return f"{parts.scheme}://{parts.netloc}"

    def rate(self, table: Mapping[str, Any], prefix: str, default: int) -> int:
        value = table.get("requests_per_minute", default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(
                _join(prefix, "requests_per_minute"),
                f"must be a whole number >= 1, got {_kind(value)}",
            )
        if value > MAX_REQUESTS_PER_MINUTE:
            raise self.fail(
                _join(prefix, "requests_per_minute"),
                f"must be at most {MAX_REQUESTS_PER_MINUTE:,} (the vendors allow 60 to 120)",
            )
        return value

    def secret(self, table: Mapping[str, Any], prefix: str) -> tuple[Secret, str]:
        given = [key for key in ("api_key_env", "api_key_file", "api_key") if key in table]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise self.fail(
                prefix, f"set exactly one of api_key_env, api_key_file, api_key (found {what})"
            )
        key = given[0]
        dotted = _join(prefix, key)
        if not isinstance(table[key], str) or not table[key].strip():
            # Never echo the value: it may be a real key written without quotes.
            raise self.fail(dotted, "must be a non-empty string (in quotes)")
        name = table[key].strip()
        if key != "api_key" and not name.isprintable():
            # A NUL would reach open() or the environment as an internal error.
            raise self.fail(dotted, f"holds a control character (content not shown); {_NO_CONTROL}")
        if key == "api_key":
            return Secret(self._one_line(name, dotted, "the key")), "inline"
        if key == "api_key_env":
            value = self.environ.get(name, "").strip()
            if not value:
                # A key pasted here by mistake must not be echoed: name the variable
                # only when it looks like one.
                what = name if _ENV_NAME.fullmatch(name) else "(name not shown: not A-Z, 0-9, _)"
                raise self.fail(dotted, f"environment variable {what} is not set")
            return Secret(self._one_line(value, dotted, "the variable")), f"env {name}"
        path = self._key_path(name)
        # Show the path only when the setting holds a "/": a bare name may be a pasted key.
        shown = str(path) if "/" in name else f"(name not shown) in {path.parent}"
        try:
            value = path.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise self.fail(dotted, f"key file {shown} is not UTF-8 text") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise self.fail(dotted, f"cannot read key file {shown}: {reason}") from None
        if not value:
            raise self.fail(dotted, f"key file {shown} is empty")
        return Secret(self._one_line(value, dotted, f"key file {shown}")), f"file {path}"

    def _one_line(self, value: str, dotted: str, what: str) -> str:
        """The key itself; a second line (a comment, a second key) is an error never echoed."""
        lines = [line for line in value.splitlines() if line.strip()]
        if len(lines) > 1:
            raise self.fail(
                dotted,
                f"{what} holds {len(lines)} non-empty lines; it must hold only the key, "
                "on one line (content not shown)",
            )
        if not value.isprintable():
            raise self.fail(
                dotted, f"{what} holds a control character (content not shown); keep only the key"
            )
        return value

    def header_safe(self, key: Secret, table: Mapping[str, Any], prefix: str) -> None:
        """A key travels in an HTTP header, which is latin-1: refuse others at load, unshown."""
        try:
            key.reveal().encode("latin-1")
        except UnicodeEncodeError:
            source = next((k for k in sorted(_KEY_SOURCES) if k in table), "api_key")
            raise self.fail(
                _join(prefix, source),
                "the API key holds a character HTTP headers cannot carry (not latin-1); "
                "copy the key again from the vendor's console",
            ) from None

    def _key_path(self, name: str) -> Path:
        path = Path(name)
        if path.is_absolute():
            return path
        # systemd's LoadCredential= puts credentials in $CREDENTIALS_DIRECTORY.
        credentials = self.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            return Path(credentials) / path
        return (self.base_dir or Path.cwd()) / path

    def ilert(self, value: object) -> IlertConfig:
        table = self.table(value, "ilert")
        self.no_unknown(table, _SERVICE_KEYS, "ilert")
        key, origin = self.secret(table, "ilert")
        self.header_safe(key, table, "ilert")
        url = self.url(table, "ilert", "https://api.ilert.com")
        return IlertConfig(url, key, origin, self.rate(table, "ilert", DEFAULT_ILERT_RATE))

    def connectors(self, value: object) -> dict[str, ConnectorConfig]:
        tables = self.table(value, "connectors")
        if not tables:
            raise self.fail("connectors", "define at least one [connectors.NAME] table")
        connectors = {}
        for name, raw in tables.items():
            prefix = f"connectors.{name}"
            table = self.table(raw, prefix)
            self.no_unknown(table, _SERVICE_KEYS, prefix)
            key, origin = self.secret(table, prefix)
            self.header_safe(key, table, prefix)
            url = self.url(table, prefix, "https://api.statuspage.io")
            rate = self.rate(table, prefix, DEFAULT_STATUSPAGE_RATE)
            connectors[name] = ConnectorConfig(name, url, key, origin, rate)
        return connectors

    def actions(
        self, value: object, connectors: Mapping[str, ConnectorConfig]
    ) -> tuple[IncidentAction, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail("incident_actions", "must be [[incident_actions]] tables")
        actions: list[IncidentAction] = []
        for index, raw in enumerate(value):
            prefix = f"incident_actions[{index}]"
            table = self.table(raw, prefix)
            self.no_unknown(table, _ACTION_KEYS, prefix)
            action = self.action(table, prefix, connectors)
            if any(existing.name == action.name for existing in actions):
                raise self.fail(_join(prefix, "name"), f"{action.name!r} is used twice")
            actions.append(action)
        return tuple(actions)

    def action(
        self, table: Mapping[str, Any], prefix: str, connectors: Mapping[str, ConnectorConfig]
    ) -> IncidentAction:
        connector = self.string(table, "connector", prefix)
        if connector not in connectors:
            known = ", ".join(sorted(connectors))
            raise self.fail(
                _join(prefix, "connector"), f"unknown connector {connector!r} (defined: {known})"
            )
        notify = table.get("notify_subscribers", True)
        if not isinstance(notify, bool):
            raise self.fail(_join(prefix, "notify_subscribers"), "must be true or false")
        return IncidentAction(
            name=self.stored_string(table, "name", prefix, 200),
            alert_sources=self.sources(table.get("alert_sources"), _join(prefix, "alert_sources")),
            connector=connector,
            page_id=self.page_id(table, prefix),
            trigger_mode=self.choice(
                table, "trigger_mode", prefix, ("automatic", "manual"), "automatic"
            ),
            notify_subscribers=notify,
            publish=parse_publish_policy(table, prefix, self.origin),
        )

    def stored_string(self, table: Mapping[str, Any], key: str, prefix: str, limit: int) -> str:
        """A string the state database stores in a String(limit) column, as it is."""
        value = self.string(table, key, prefix, printable=False)  # checked here, with the limit
        if len(value) > limit or not value.isprintable():
            raise self.fail(_join(prefix, key), f"must be at most {limit} printable characters")
        return value

    def page_id(self, table: Mapping[str, Any], prefix: str) -> str:
        """A Statuspage page id: it becomes a request path segment, so no / ? # or dots."""
        value = self.string(table, "page_id", prefix)
        if not _PAGE_ID.fullmatch(value):
            raise self.fail(
                _join(prefix, "page_id"),
                "must be at most 64 printable characters, only letters, digits, '-' or '_' "
                "(the id in the page's API URL)",
            )
        return value

    def sources(self, value: object, key: str) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of alert source ids")
        if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            raise self.fail(key, "alert source ids must be integers")
        if not all(1 <= item <= MAX_ID for item in value):
            raise self.fail(key, f"alert source ids must be from 1 to {MAX_ID} (2^63-1)")
        return tuple(value)

    def metrics(self, value: object) -> MetricsConfig:
        if value is None:
            return MetricsConfig()
        table = self.table(value, "metrics")
        self.no_unknown(table, _METRICS_KEYS, "metrics")
        textfile = None
        if "textfile" in table:
            name = self.string(table, "textfile", "metrics")
            textfile = Path(name)
            if not textfile.is_absolute() or textfile.suffix != ".prom" or textfile.stem == "":
                raise self.fail(
                    "metrics.textfile",
                    f"{name!r} must be an absolute path ending in .prom "
                    "(e.g. /var/lib/node_exporter/textfile/ilert_statuspage_sync.prom)",
                )
        host, port = None, None
        if "listen" in table:
            host, port = self.listen(self.string(table, "listen", "metrics"))
        return MetricsConfig(textfile=textfile, listen_host=host, listen_port=port)

    def listen(self, value: str) -> tuple[str, int]:
        example = 'e.g. "127.0.0.1:9464" or "[::1]:9464"'
        if value.startswith("["):
            host, sep, port_text = value[1:].partition("]:")
        else:
            host, sep, port_text = value.rpartition(":")
            if ":" in host:
                raise self.fail(
                    "metrics.listen", f"{value!r}: put an IPv6 address in brackets ({example})"
                )
        if not sep or not host:
            raise self.fail("metrics.listen", f"{value!r} is not HOST:PORT ({example})")
        if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise self.fail(
                "metrics.listen", f"{value!r}: port must be a number from 1 to 65535 ({example})"
            )
        if value.startswith("[") and ":" not in host:
            raise self.fail(
                "metrics.listen", f"{value!r}: brackets are only for IPv6 addresses ({example})"
            )
        if not is_loopback_host(host):
            raise self.fail(
                "metrics.listen",
                f"{value!r}: the metrics endpoint has no authentication, so it listens only "
                "on a loopback address (127.0.0.0/8, [::1] or localhost); "
                "scrape it locally or use textfile",
            )
        return host, int(port_text)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, an IPv4 address in 127.0.0.0/8 and ``::1`` (no brackets)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def _has_inline_key(data: Mapping[str, Any]) -> bool:
    tables = [data.get("ilert"), *(data.get("connectors") or {}).values()]
    return any(isinstance(table, Mapping) and "api_key" in table for table in tables)
