"""Load and validate the one TOML config file into a frozen ``Config`` value.

Every problem is reported, each as one line naming the file and the dotted key
(``connectors.main.api_key_file``), all at once in one ``ConfigError``, so an
SRE can fix the file in one go without reading code. API keys are resolved
here, once, into ``Secret`` values whose ``repr`` and ``str`` never show the
key; commands that call no vendor load the config with ``keys=False`` and
never read a key's variable or file.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ilert_statuspage_sync.config.publish import PUBLISH_KEYS, parse_publish_policy
from ilert_statuspage_sync.core.components import DEFAULT_COMPONENT_STATUS, SETTABLE_STATUSES
from ilert_statuspage_sync.core.lifecycle import LIFECYCLES
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.storable import ID_MAX as MAX_ID
from ilert_statuspage_sync.errors import ConfigError

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
# Closed links and audit rows older than this many days are pruned; 0 keeps everything.
DEFAULT_RETENTION_DAYS = 400
MAX_RETENTION_DAYS = 36_500  # a century: far past any need, far from a date overflow
# Far above any vendor limit (60 to 120 a minute), far below what overflows a pacer's float.
MAX_REQUESTS_PER_MINUTE = 100_000
# The vendors' own limits per API key: the budgets run at them (``clients.http.RateBudget``).
DEFAULT_ILERT_RATE = 120  # iLert: 120 a minute
DEFAULT_STATUSPAGE_RATE = 60  # Statuspage: 60 per rolling 60 s
_NO_CONTROL = "remove it (e.g. a NUL, tab or line break)"
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Stands in for a key that was not read (``keys=False``); never sent anywhere.
_UNREAD = ""
T = TypeVar("T")


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
    # "alert": one incident per alert; "action": one open incident shared by the action's alerts.
    group: str = "alert"
    # What the public sees: filters, flap guard, templates, ... (publish_config.py).
    publish: PublishPolicy = field(default_factory=PublishPolicy)
    # Statuspage component ids its incidents affect, and the status by alert priority.
    components: tuple[str, ...] = ()
    component_status: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_COMPONENT_STATUS)
    )

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
    # False when loaded with keys=False: no key was read, so no client may be built.
    keys_loaded: bool = True
    retention_days: int = DEFAULT_RETENTION_DAYS

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
    "retention_days",
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
    "components",
    "component_status",
    "group",
} | PUBLISH_KEYS
MAX_COMPONENTS = 100  # per incident action; a page lists at most a few hundred
_PRIORITIES = ("HIGH", "LOW")
_METRICS_KEYS = {"textfile", "listen"}
_LOG_LEVELS = ("debug", "info", "warning", "error")


def load_config(
    path: Path, environ: Mapping[str, str] | None = None, *, keys: bool = True
) -> Config:
    """Read, parse and validate the config file at ``path``.

    With ``keys=False`` (commands that call no vendor) the key settings are
    checked for shape only; no environment variable or key file is read.
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
        data, environ, origin=str(path), base_dir=path.absolute().parent, keys=keys
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
) -> Config:
    """Validate an already-parsed TOML document; pure except for reading key files.

    Every mistake is collected; one ``ConfigError`` then carries them all.
    """
    reader = _Reader(origin, environ, base_dir, keys=keys)
    reader.no_unknown(data, _TOP_KEYS, "")
    ilert = reader.ilert(data.get("ilert"))
    connectors = reader.connectors(data.get("connectors"))
    actions = reader.actions(data.get("incident_actions"))
    poll_interval = reader.attempt(30.0, reader.poll_interval, data.get("poll_interval", 30))
    database_url = reader.attempt("", reader.database_url, data)
    lifecycle = reader.attempt(
        "classic", reader.choice, data, "lifecycle", "", tuple(LIFECYCLES), "classic"
    )
    log_level = reader.attempt("info", reader.choice, data, "log_level", "", _LOG_LEVELS, "info")
    metrics = reader.attempt(MetricsConfig(), reader.metrics, data.get("metrics"))
    retention_days = reader.attempt(
        DEFAULT_RETENTION_DAYS,
        reader.retention_days,
        data.get("retention_days", DEFAULT_RETENTION_DAYS),
    )
    if reader.errors or ilert is None:
        raise ConfigError(*reader.errors)
    # A starter config (`discover --write`) has its actions commented out: valid, idle.
    idle = () if actions else (f"{origin}: {NOTHING_TO_MIRROR}",)
    return Config(
        ilert=ilert,
        connectors=connectors,
        incident_actions=actions,
        poll_interval=poll_interval,
        database_url=database_url,
        lifecycle=lifecycle,
        log_level=log_level,
        metrics=metrics,
        retention_days=retention_days,
        warnings=(*idle, *reader.warnings),
        keys_loaded=keys,
    )


class _Reader:
    """Validation helpers that know where they are in the file."""

    def __init__(
        self,
        origin: str,
        environ: Mapping[str, str],
        base_dir: Path | None,
        *,
        keys: bool = True,
    ) -> None:
        self.origin = origin
        self.environ = environ
        self.base_dir = base_dir
        self.keys = keys
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # Connector names as written, so an action naming a broken connector is not
        # also reported as naming an unknown one.
        self.connector_names: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(
            f"{self.origin}: {key}: {message}" if key else f"{self.origin}: {message}"
        )

    def report(self, key: str, message: str) -> None:
        """Collect one mistake and go on reading."""
        self.errors.extend(self.fail(key, message).lines)

    def attempt(self, default: T, check: Callable[..., T], *args: Any) -> T:
        """``check(*args)``, or ``default`` with its mistakes collected."""
        try:
            return check(*args)
        except ConfigError as error:
            self.errors.extend(error.lines)
            return default

    def no_unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                known = ", ".join(sorted(allowed))
                self.report(_join(prefix, key), f"unknown key{suggestion}; known keys: {known}")

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

    def database_url(self, data: Mapping[str, Any]) -> str:
        """The URL as the engine needs it: sqlite or postgresql (``postgres://`` normalised)."""
        from ilert_statuspage_sync.config.database_url import check_database_url  # SQLAlchemy

        url = self.string(data, "database_url", "", default="sqlite:///state.db")
        try:
            return check_database_url(url)
        except ConfigError as error:
            raise ConfigError(f"{self.origin}: {error}") from None

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

    def retention_days(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(
                "retention_days",
                f"must be a whole number of days >= 0 (0 keeps everything), got {_kind(value)}",
            )
        if value > MAX_RETENTION_DAYS:
            raise self.fail(
                "retention_days",
                f"must be at most {MAX_RETENTION_DAYS:,} days; use 0 to keep everything",
            )
        return value

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
            # A key pasted here by mistake must not be echoed: name the variable
            # only when it looks like one.
            what = name if _ENV_NAME.fullmatch(name) else "(name not shown: not A-Z, 0-9, _)"
            if not self.keys:
                return Secret(_UNREAD), f"env {what} (not read)"
            if name not in self.environ:
                raise self.fail(dotted, f"environment variable {what} is not set")
            value = self.environ[name].strip()
            if not value:
                raise self.fail(dotted, f"environment variable {what} is set but empty")
            return Secret(self._one_line(value, dotted, "the variable")), f"env {name}"
        path, searched = self._key_path(name)
        # Show the path only when the setting holds a "/": a bare name may be a pasted key.
        shown = str(path) if "/" in name else f"(name not shown) in {path.parent}"
        if not self.keys:
            return Secret(_UNREAD), f"file {shown} (not read)"
        if searched:
            shown = f"{shown} ({searched})"
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

    def _key_path(self, name: str) -> tuple[Path, str]:
        """Where a key file is, and (for a relative name) which folder was searched and why."""
        path = Path(name)
        if path.is_absolute():
            return path, ""
        # systemd's LoadCredential= puts credentials in $CREDENTIALS_DIRECTORY.
        credentials = self.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            return Path(credentials) / path, "a relative name is read from $CREDENTIALS_DIRECTORY"
        return (self.base_dir or Path.cwd()).absolute() / path, (
            "a relative name is read from the config file's folder"
        )

    def ilert(self, value: object) -> IlertConfig | None:
        table = self.attempt(None, self.table, value, "ilert")
        if table is None:
            return None
        url, key, origin, rate = self.service(
            table, "ilert", "https://api.ilert.com", DEFAULT_ILERT_RATE
        )
        return IlertConfig(url, key, origin, rate)

    def service(
        self, table: Mapping[str, Any], prefix: str, default_url: str, default_rate: int
    ) -> tuple[str, Secret, str, int]:
        """URL, key, key origin and rate, as iLert and every connector share them."""
        self.no_unknown(table, _SERVICE_KEYS, prefix)
        key, origin = self.attempt((Secret(_UNREAD), ""), self.secret, table, prefix)
        self.attempt(None, self.header_safe, key, table, prefix)
        url = self.attempt("", self.url, table, prefix, default_url)
        return url, key, origin, self.attempt(default_rate, self.rate, table, prefix, default_rate)

    def connectors(self, value: object) -> dict[str, ConnectorConfig]:
        tables = self.attempt(None, self.table, value, "connectors")
        if tables is None:
            return {}
        if not tables:
            self.report("connectors", "define at least one [connectors.NAME] table")
        self.connector_names = set(tables)
        connectors = {}
        for name, raw in tables.items():
            prefix = f"connectors.{name}"
            table = self.attempt(None, self.table, raw, prefix)
            if table is not None:
                url, key, origin, rate = self.service(
                    table, prefix, "https://api.statuspage.io", DEFAULT_STATUSPAGE_RATE
                )
                connectors[name] = ConnectorConfig(name, url, key, origin, rate)
        return connectors

    def actions(self, value: object) -> tuple[IncidentAction, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.report("incident_actions", "must be [[incident_actions]] tables")
            return ()
        actions: dict[str, IncidentAction] = {}
        for index, raw in enumerate(value):
            prefix = f"incident_actions[{index}]"
            table = self.attempt(None, self.table, raw, prefix)
            if table is None:
                continue
            self.no_unknown(table, _ACTION_KEYS, prefix)
            action = self.action(table, prefix)
            if action is None:
                continue
            if any(existing.name == action.name for existing in actions.values()):
                self.report(_join(prefix, "name"), f"{action.name!r} is used twice")
                continue
            self.overlap(prefix, action, actions)
            actions[prefix] = action
        return tuple(actions.values())

    def overlap(
        self, prefix: str, action: IncidentAction, earlier: Mapping[str, IncidentAction]
    ) -> None:
        """Two actions putting one source's alerts on one page would publish each alert twice.

        When both filter (min_priority, include, exclude) they may split the
        alerts between them, so that is only a warning.
        """
        for where, other in earlier.items():
            shared = sorted(set(action.alert_sources) & set(other.alert_sources))
            if other.page_id != action.page_id or not shared:
                continue
            both = (
                f"{prefix} {action.name!r} and {where} {other.name!r} both mirror alert source "
                f"{', '.join(map(str, shared))} onto page {action.page_id}"
            )
            if _filters(action.publish) and _filters(other.publish):
                self.warnings.append(
                    f"{self.origin}: {both}; make sure their filters never both publish an alert"
                )
            else:
                self.report(
                    "",
                    f"{both}, so every alert would be published twice; "
                    "give each source on a page to one action",
                )

    def action(self, table: Mapping[str, Any], prefix: str) -> IncidentAction | None:
        known = len(self.errors)
        connector = self.attempt("", self.string, table, "connector", prefix)
        if connector and connector not in self.connector_names:
            defined = ", ".join(sorted(self.connector_names)) or "none"
            self.report(
                _join(prefix, "connector"), f"unknown connector {connector!r} (defined: {defined})"
            )
        notify = table.get("notify_subscribers", True)
        if not isinstance(notify, bool):
            self.report(_join(prefix, "notify_subscribers"), "must be true or false")
        action = IncidentAction(
            name=self.attempt("", self.stored_string, table, "name", prefix, 200),
            alert_sources=self.attempt(
                (), self.sources, table.get("alert_sources"), _join(prefix, "alert_sources")
            ),
            connector=connector,
            page_id=self.attempt("", self.page_id, table, prefix),
            trigger_mode=self.attempt(
                "automatic",
                self.choice,
                table,
                "trigger_mode",
                prefix,
                ("automatic", "manual"),
                "automatic",
            ),
            notify_subscribers=notify is not False,
            group=self.attempt(
                "alert", self.choice, table, "group", prefix, ("alert", "action"), "alert"
            ),
            publish=self.attempt(PublishPolicy(), parse_publish_policy, table, prefix, self.origin),
            components=self.attempt((), self.components, table, prefix),
            component_status=self.attempt(
                dict(DEFAULT_COMPONENT_STATUS), self.component_status, table, prefix
            ),
        )
        return action if len(self.errors) == known else None

    def components(self, table: Mapping[str, Any], prefix: str) -> tuple[str, ...]:
        """Statuspage component ids: request path segments, like page ids; no repeats."""
        key = _join(prefix, "components")
        value = table.get("components", [])
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of Statuspage component ids, got {_kind(value)}")
        if len(value) > MAX_COMPONENTS:
            raise self.fail(key, f"must list at most {MAX_COMPONENTS} components")
        for item in value:
            if not isinstance(item, str) or not _PAGE_ID.fullmatch(item):
                raise self.fail(
                    key,
                    "each must be a component id: at most 64 letters, digits, '-' or '_' "
                    "(`discover` lists them)",
                )
        if len(set(value)) != len(value):
            repeated = next(item for item in value if value.count(item) > 1)
            raise self.fail(key, f"{repeated!r} is listed twice")
        if "component_status" in table and not value:
            raise self.fail(
                _join(prefix, "component_status"), "has no effect without components; list them"
            )
        return tuple(value)

    def component_status(self, table: Mapping[str, Any], prefix: str) -> dict[str, str]:
        """Component status by iLert priority; a priority left out keeps its default."""
        key = _join(prefix, "component_status")
        value = table.get("component_status", {})
        if not isinstance(value, Mapping):
            raise self.fail(
                key, 'must be a table such as { HIGH = "major_outage", LOW = "partial_outage" }'
            )
        statuses = dict(DEFAULT_COMPONENT_STATUS)
        for priority, status in value.items():
            if priority not in _PRIORITIES:
                raise self.fail(
                    _join(key, str(priority)[:40]),
                    f"unknown alert priority; iLert priorities are {', '.join(_PRIORITIES)}",
                )
            if status not in SETTABLE_STATUSES:
                raise self.fail(
                    _join(key, priority),
                    f"must be one of {', '.join(SETTABLE_STATUSES)} (operational would hide "
                    "the outage; under_maintenance belongs to scheduled maintenance)",
                )
            statuses[priority] = status
        return statuses

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
        textfile = self.attempt(None, self.textfile, table) if "textfile" in table else None
        address: tuple[str, int] | None = None
        if "listen" in table:
            listen = self.attempt("", self.string, table, "listen", "metrics")
            address = self.attempt(None, self.listen, listen) if listen else None
        host, port = address or (None, None)
        return MetricsConfig(textfile=textfile, listen_host=host, listen_port=port)

    def textfile(self, table: Mapping[str, Any]) -> Path:
        name = self.string(table, "textfile", "metrics")
        textfile = Path(name)
        if not textfile.is_absolute() or textfile.suffix != ".prom" or textfile.stem == "":
            raise self.fail(
                "metrics.textfile",
                f"{name!r} must be an absolute path ending in .prom "
                "(e.g. /var/lib/node_exporter/textfile/ilert_statuspage_sync.prom)",
            )
        return textfile

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


def _filters(policy: PublishPolicy) -> bool:
    """Whether an action publishes only some alerts of its sources."""
    return policy.min_priority != "LOW" or policy.include is not None or policy.exclude is not None


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
