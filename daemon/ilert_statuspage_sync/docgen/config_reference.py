"""Every config key, its type, default and allowed values: the reference in docs/configuration.md.

``SETTINGS`` describes each key the config loader accepts; the allowed values
and limits come from the loader's own constants, and each default carries a
``read`` that fetches the parsed value from a minimal config, so
``tests/docs/test_config_reference.py`` can hold the table to the code: a key
the loader accepts but this list lacks (or the other way round), a default
that differs, or a docs table that differs from ``markdown_table()`` fails.

``python -m ilert_statuspage_sync.docgen.config_reference docs/configuration.md`` rewrites
the table between that page's markers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ilert_statuspage_sync.config import (
    DEFAULT_ILERT_RATE,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_STATUSPAGE_RATE,
    MAX_COMPONENTS,
    MAX_POLL_INTERVAL,
    MAX_REQUESTS_PER_MINUTE,
    MAX_RETENTION_DAYS,
    MIN_POLL_INTERVAL,
    Config,
    ConnectorConfig,
    IlertConfig,
)
from ilert_statuspage_sync.config.bridges import NOTIFY_POLICIES
from ilert_statuspage_sync.config.publish import MAX_DELAY_SECONDS
from ilert_statuspage_sync.core.bridge_templates import BRIDGE_TEMPLATE_KEYS
from ilert_statuspage_sync.core.components import DEFAULT_COMPONENT_STATUS, SETTABLE_STATUSES
from ilert_statuspage_sync.core.lifecycle import LIFECYCLES
from ilert_statuspage_sync.core.policy import (
    COMMENT_MODES,
    NOTIFY_KINDS,
    OVERRIDE_STATUSES,
    PRIORITIES,
    STATUS_EVENTS,
)
from ilert_statuspage_sync.core.retention import PRUNE_BATCH
from ilert_statuspage_sync.core.storable import ID_MAX
from ilert_statuspage_sync.core.templates import TEMPLATE_KEYS

__all__ = ["BEGIN", "END", "SETTINGS", "Setting", "markdown_table", "update_page"]

BEGIN = "<!-- config-reference:begin -->"
END = "<!-- config-reference:end -->"
LOG_LEVELS = ("debug", "info", "warning", "error")
TRIGGER_MODES = ("automatic", "manual")
REQUIRED = "required"

Read = Callable[[Config], object]


@dataclass(frozen=True)
class Setting:
    """One key: dotted name, TOML type, default (TOML text), allowed values, meaning.

    ``read`` returns the parsed value of the key from a config that leaves it
    out, to be compared with ``value`` (the default as Python sees it); None
    when the key has no default or is not kept as a value.
    """

    key: str
    kind: str
    default: str
    allowed: str
    meaning: str
    value: object = None
    read: Read | None = None


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f'`"{value}"`' for value in values)


def _policy(name: str) -> Read:
    return lambda config: getattr(config.incident_actions[0].publish, name)


def _service(prefix: str, url: str, rate: int, limit: str, path: str) -> list[Setting]:
    """The keys ``[ilert]`` and every ``[connectors.NAME]`` share."""

    def service(config: Config) -> IlertConfig | ConnectorConfig:
        if prefix == "ilert":
            return config.ilert
        return next(iter(config.connectors.values()))

    return [
        Setting(
            f"{prefix}.api_url",
            "string",
            f'`"{url}"`',
            "`https://HOST[:PORT]`, no path; `http://` only to loopback or with "
            "`allow_insecure_http`",
            f"where the API is; the client adds `{path}`",
            url,
            lambda config: service(config).api_url,
        ),
        *_key_sources(prefix),
        Setting(
            f"{prefix}.requests_per_minute",
            "integer",
            f"`{rate}`",
            f"1 to {MAX_REQUESTS_PER_MINUTE:,}",
            f"this key's request budget ({limit})",
            rate,
            lambda config: service(config).requests_per_minute,
        ),
        Setting(
            f"{prefix}.allow_insecure_http",
            "boolean",
            "`false`",
            "`true`, `false`",
            "allow plain `http://` to a host other than loopback",
        ),
    ]


def _key_sources(prefix: str) -> list[Setting]:
    """The three ways to give a service's API key; exactly one is required."""
    return [
        Setting(
            f"{prefix}.api_key_env",
            "string",
            "one key source required",
            "an environment variable name",
            "the API key is read from this variable",
        ),
        Setting(
            f"{prefix}.api_key_file",
            "string",
            "one key source required",
            "a path; relative: in `$CREDENTIALS_DIRECTORY`, else next to the config",
            "the API key is read from this file (one line)",
        ),
        Setting(
            f"{prefix}.api_key",
            "string",
            "one key source required",
            "the key itself (warned about if the file is readable by others)",
            "the API key, inline",
        ),
    ]


ACTION = "incident_actions[]"
BRIDGE = "status_bridges[]"


def _bridge(name: str) -> Read:
    return lambda config: getattr(config.status_bridges[0], name)


def _feature(name: str, meaning: str) -> Setting:
    """One of the three booleans saying what a bridge publishes."""
    return Setting(
        f"{BRIDGE}.{name}",
        "boolean",
        "`true`",
        "`true`, `false`; at least one of the three `true`",
        meaning,
        True,
        _bridge(name),
    )


BRIDGE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        f"{BRIDGE}.name",
        "string",
        REQUIRED,
        "unique among bridges and incident actions (and their `previous_names`), "
        "at most 200 printable characters",
        "names the bridge in logs, `status`, `history`",
    ),
    Setting(
        f"{BRIDGE}.connector",
        "string",
        REQUIRED,
        "a `[connectors.NAME]` defined in the file",
        "which Statuspage key writes to the page",
    ),
    Setting(
        f"{BRIDGE}.page_id",
        "string",
        REQUIRED,
        "1 to 64 letters, digits, `-`, `_`",
        "the Statuspage page (the id in its API URL)",
    ),
    Setting(
        f"{BRIDGE}.services",
        "table",
        REQUIRED,
        f'1 to {MAX_COMPONENTS} entries; keys iLert service ids in quotes (`"101"`, '
        f"1 to {ID_MAX}), values component ids on the page, no component twice",
        "which iLert services the bridge publishes, and the component each one shows on "
        "(see [Status bridges](status-bridges.md))",
    ),
    _feature("incidents", "iLert incidents on mapped services become Statuspage incidents"),
    _feature("service_status", "a mapped service's status sets its component"),
    _feature(
        "maintenance_windows",
        "open iLert maintenance windows on mapped services become scheduled maintenances",
    ),
    Setting(
        f"{BRIDGE}.notify",
        "string",
        '`"ilert"`',
        _quoted(NOTIFY_POLICIES),
        "who sets `deliver_notifications`: the iLert incident's `sendNotification` "
        '(`"ilert"`), or always, or never',
        "ilert",
        _bridge("notify"),
    ),
    Setting(
        f"{BRIDGE}.redact",
        "list of strings",
        "`[]`",
        "regular expressions (none empty)",
        'matches are replaced by "[redacted]" in everything the bridge publishes, '
        "as an action's `redact`",
        (),
        _bridge("redact"),
    ),
    Setting(
        f"{BRIDGE}.templates",
        "table",
        "the iLert object's own words",
        f"keys {_quoted(BRIDGE_TEMPLATE_KEYS)}; Jinja2 strings (an incident's know `incident` "
        "and `bridge`, a maintenance's `window` and `bridge`)",
        "the name and body of each bridged incident and maintenance (sandboxed, strict; see "
        "[Status bridges](status-bridges.md#wording))",
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "poll_interval",
        "number",
        "`30`",
        f"{MIN_POLL_INTERVAL:g} to {MAX_POLL_INTERVAL:g} seconds",
        "seconds between two passes",
        30.0,
        lambda config: config.poll_interval,
    ),
    Setting(
        "database_url",
        "string",
        '`"sqlite:///state.db"`',
        "`sqlite:///PATH[?timeout=S]`, `postgresql+psycopg://…` (`postgres://` accepted)",
        "the state database; a relative SQLite path is relative to the working directory",
        "sqlite:///state.db",
        lambda config: config.database_url,
    ),
    Setting(
        "lifecycle",
        "string",
        '`"classic"`',
        _quoted(list(LIFECYCLES)),
        "which lifecycle table maps alert events to incident statuses",
        "classic",
        lambda config: config.lifecycle,
    ),
    Setting(
        "log_level",
        "string",
        '`"info"`',
        _quoted(LOG_LEVELS),
        "the lowest level logged",
        "info",
        lambda config: config.log_level,
    ),
    *_service(
        "ilert",
        "https://api.ilert.com",
        DEFAULT_ILERT_RATE,
        "iLert's limit: 120 a minute; lower it to leave room for other tools on the key",
        "/api",
    ),
    *_service(
        "connectors.NAME",
        "https://api.statuspage.io",
        DEFAULT_STATUSPAGE_RATE,
        "Statuspage's limit: 60 per rolling 60 s",
        "/v1",
    ),
    Setting(
        f"{ACTION}.name",
        "string",
        REQUIRED,
        "unique, at most 200 printable characters",
        "names the action in logs, `status`, `history`, `trigger`",
    ),
    Setting(
        f"{ACTION}.alert_sources",
        "list of integers",
        REQUIRED,
        f"non-empty; ids 1 to 2^63-1 ({ID_MAX})",
        "the iLert alert sources whose alerts this action mirrors",
    ),
    Setting(
        f"{ACTION}.connector",
        "string",
        REQUIRED,
        "a `[connectors.NAME]` defined in the file",
        "which Statuspage key writes to the page",
    ),
    Setting(
        f"{ACTION}.page_id",
        "string",
        REQUIRED,
        "1 to 64 letters, digits, `-`, `_`",
        "the Statuspage page (the id in its API URL)",
    ),
    Setting(
        f"{ACTION}.trigger_mode",
        "string",
        '`"automatic"`',
        _quoted(TRIGGER_MODES),
        "`manual`: only alerts named with `trigger` are mirrored",
        "automatic",
        lambda config: config.incident_actions[0].trigger_mode,
    ),
    Setting(
        f"{ACTION}.notify_subscribers",
        "boolean",
        "`true`",
        "`true`, `false`",
        "`false`: no write of this action notifies subscribers",
        True,
        lambda config: config.incident_actions[0].notify_subscribers,
    ),
    Setting(
        f"{ACTION}.min_priority",
        "string",
        '`"LOW"`',
        _quoted(PRIORITIES),
        '`"HIGH"`: LOW alerts stay off the page (until raised to HIGH)',
        "LOW",
        _policy("min_priority"),
    ),
    Setting(
        f"{ACTION}.include",
        "string",
        '`""`',
        "a regular expression",
        "only alerts whose summary matches are published",
        None,
        _policy("include"),
    ),
    Setting(
        f"{ACTION}.exclude",
        "string",
        '`""`',
        "a regular expression",
        "alerts whose summary matches are never published",
        None,
        _policy("exclude"),
    ),
    Setting(
        f"{ACTION}.publish_after",
        "number",
        "`0`",
        f"0 to {MAX_DELAY_SECONDS} seconds",
        "publish an alert only once it has been open this long (flap guard)",
        0.0,
        _policy("publish_after"),
    ),
    Setting(
        f"{ACTION}.notify",
        "list of strings",
        "all four",
        _quoted(NOTIFY_KINDS),
        "which writes notify subscribers (`[]`: none)",
        frozenset(NOTIFY_KINDS),
        _policy("notify"),
    ),
    Setting(
        f"{ACTION}.comments",
        "string",
        '`"all"`',
        _quoted(COMMENT_MODES),
        "which iLert comments become public updates",
        "all",
        _policy("comments"),
    ),
    Setting(
        f"{ACTION}.comment_marker",
        "string",
        '`"#public"`',
        "non-empty",
        'with `comments = "marked"`: only comments holding it as a word of its own are published',
        "#public",
        _policy("comment_marker"),
    ),
    Setting(
        f"{ACTION}.redact",
        "list of strings",
        "`[]`",
        "regular expressions (none empty)",
        'matches are replaced by "[redacted]" in everything published '
        "(matched after NFKC, without zero-width characters)",
        (),
        _policy("redact"),
    ),
    Setting(
        f"{ACTION}.statuses",
        "table",
        "`{}`",
        f"keys {_quoted(STATUS_EVENTS)}; values {_quoted(OVERRIDE_STATUSES)}",
        "per event, the incident status to set instead of the lifecycle table's",
        {},
        _policy("statuses"),
    ),
    Setting(
        f"{ACTION}.templates",
        "table",
        "today's wording",
        f"keys {_quoted(TEMPLATE_KEYS)}; Jinja2 strings",
        "the incident name and the text of each write (sandboxed, strict)",
    ),
    Setting(
        f"{ACTION}.group",
        "string",
        '`"alert"`',
        _quoted(("alert", "action")),
        '`"action"`: one open incident shared by the action\'s alerts '
        "(see [Alert storms](page-model.md#alert-storms-group--action))",
        "alert",
        lambda config: config.incident_actions[0].group,
    ),
    Setting(
        f"{ACTION}.previous_names",
        "list of strings",
        "`[]`",
        "names no configured action has, each claimed by one action; as `name`",
        "names the action had before a rename: any pass that finds links (open incidents) "
        "under them moves them to `name` "
        "(see [Renaming an incident action](#renaming-an-incident-action)); `check` warns "
        "about links of names in neither",
        (),
        lambda config: config.incident_actions[0].previous_names,
    ),
    Setting(
        f"{ACTION}.components",
        "list of strings",
        "`[]`",
        f"component ids on the action's page (not groups), at most {MAX_COMPONENTS}, no repeats",
        "the components its incidents affect (worst status of what is open)",
        (),
        lambda config: config.incident_actions[0].components,
    ),
    Setting(
        f"{ACTION}.component_status",
        "table",
        "`{ HIGH = "
        + f'"{DEFAULT_COMPONENT_STATUS["HIGH"]}"'
        + ", LOW = "
        + f'"{DEFAULT_COMPONENT_STATUS["LOW"]}"'
        + " }`",
        f'keys `"HIGH"`, `"LOW"`; values {_quoted(SETTABLE_STATUSES)}',
        "what an open alert of each priority puts on the components (needs `components`)",
        dict(DEFAULT_COMPONENT_STATUS),
        lambda config: dict(config.incident_actions[0].component_status),
    ),
    *BRIDGE_SETTINGS,
    Setting(
        "retention_days",
        "integer",
        f"`{DEFAULT_RETENTION_DAYS}`",
        f"0 (keep everything) to {MAX_RETENTION_DAYS:,}",
        "closed links and audit rows older than this many days are pruned, "
        f"{PRUNE_BATCH} of each per pass",
        DEFAULT_RETENTION_DAYS,
        lambda config: config.retention_days,
    ),
    Setting(
        "metrics.textfile",
        "string",
        "none",
        "an absolute path ending in `.prom`",
        "write Prometheus metrics there for node_exporter's textfile collector",
        None,
        lambda config: config.metrics.textfile,
    ),
    Setting(
        "metrics.listen",
        "string",
        "none",
        '`"HOST:PORT"` on a loopback address (`"[::1]:PORT"` for IPv6)',
        "serve `/metrics` and `/healthz` there",
        None,
        lambda config: config.metrics.listen_port,
    ),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The reference as docs/configuration.md holds it between the markers."""
    lines = [
        "Every key (generated from `docgen/config_reference.py`; a test holds it to the loader):",
        "",
        "| Key | Type | Default | Allowed values | Meaning |",
        "|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        cells = (
            f"`{setting.key}`",
            setting.kind,
            setting.default,
            setting.allowed,
            setting.meaning,
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def update_page(text: str) -> str:
    """``text`` with the table between the markers replaced by ``markdown_table()``."""
    head, begin, rest = text.partition(BEGIN)
    _old, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page lacks the markers {BEGIN} ... {END}")
    return f"{head}{BEGIN}\n{markdown_table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the reference table in the page given as the only argument."""
    if len(argv) != 1:
        sys.stderr.write(
            "usage: python -m ilert_statuspage_sync.docgen.config_reference docs/configuration.md\n"
        )
        return 2
    path = Path(argv[0])
    path.write_text(update_page(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
