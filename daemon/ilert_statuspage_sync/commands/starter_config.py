"""The text of the starter config that ``discover --write`` writes (pure).

Every key appears with its default, the services point where ``discover`` read
them, and each page gets one commented ``[[incident_actions]]`` example naming
real alert source and component ids. Nothing is mirrored until a person
uncomments an example. API keys are never written: each service names where its
key comes from (``api_key_env`` or ``api_key_file``), as the config ``discover``
ran with did.
"""

from __future__ import annotations

import re
from pathlib import Path

from ilert_statuspage_sync.commands.inventory import Inventory, Page
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.toml_text import toml_key, toml_string
from ilert_statuspage_sync.core.bridge_discover import bridge_block, propose_service_map

__all__ = [
    "DEFAULT_ILERT_KEY_ENV",
    "DEFAULT_STATUSPAGE_KEY_ENV",
    "starter_config",
    "toml_key",
    "toml_string",
]

DEFAULT_ILERT_KEY_ENV = "ILERT_API_KEY"
DEFAULT_STATUSPAGE_KEY_ENV = "STATUSPAGE_API_KEY"
_MAX_NAME = 40
_KEY_CHOICES = (
    "# The key: exactly one of api_key_env (a variable), api_key_file (a file, chmod 600;\n"
    "# relative paths resolve in $CREDENTIALS_DIRECTORY, else next to this file) or api_key.\n"
)

_HEADER = """\
# ilert-statuspage-sync: starter config written by `ilert-statuspage-sync discover --write`.
#
# Every key is shown with its default. API keys are never written into this file:
# each service names the environment variable (api_key_env) or the key file
# (api_key_file, chmod 600) that holds its key.
#
# Nothing is mirrored yet: every [[incident_actions]] block below is commented out.
# Uncomment the one for your page (remove the leading "# " of its lines), keep the
# alert source ids whose alerts belong on that page, then run
#   ilert-statuspage-sync --config THIS_FILE check
"""

_GLOBALS = """\
# Seconds between two polls of iLert (at least 5).
poll_interval = 30
# The state database: a SQLite file (relative paths start in the working directory;
# under systemd use sqlite:////var/lib/ilert-statuspage-sync/state.db) or a PostgreSQL
# URL such as postgresql+psycopg://user@host/dbname.
database_url = "sqlite:///state.db"
# How iLert events map to incident statuses: "classic" or "realtime".
lifecycle = "classic"
# debug, info, warning or error.
log_level = "info"
# Closed links and audit rows older than this many days are pruned, a small batch
# each pass; 0 keeps everything.
retention_days = 400

# Prometheus metrics (off unless set): a node_exporter textfile and/or a loopback listener.
# [metrics]
# textfile = "/var/lib/node_exporter/textfile/ilert_statuspage_sync.prom"
# listen = "127.0.0.1:9464"
"""


def starter_config(config: Config, inventory: Inventory, credentials_dir: str | None = None) -> str:
    """The whole starter file; ``credentials_dir`` is ``$CREDENTIALS_DIRECTORY`` if set."""
    parts = [_HEADER, _GLOBALS, _ilert(config, credentials_dir)]
    parts += [_connector(config, name, credentials_dir) for name in config.connectors]
    parts.append(_sources(inventory))
    names: set[str] = set()
    seen: set[str] = set()
    for page in inventory.pages:
        if page.id not in seen:  # two keys may see one page: one example is enough
            seen.add(page.id)
            parts.append(_example(page, inventory, _unique(_slug(page), names)))
    if inventory.services:
        parts += [_bridge(page, inventory, names) for page in _first_pages(inventory)]
    return "\n".join(parts)


def _first_pages(inventory: Inventory) -> list[Page]:
    """Each page once (two keys may see one page)."""
    found: dict[str, Page] = {}
    for page in inventory.pages:
        found.setdefault(page.id, page)
    return list(found.values())


def _bridge(page: Page, inventory: Inventory, names: set[str]) -> str:
    """A commented ``[[status_bridges]]`` for the page: services paired with components by name."""
    services = [(sid, name) for sid, name, _ in inventory.services]
    components = [(c.id, c.name) for c in page.members]
    return bridge_block(
        name=_unique(f"{_slug(page)}-status", names),
        connector=page.connector,
        page=(page.id, page.name),
        services=services,
        components=components,
        mapping=propose_service_map(services, components),
    )


def _ilert(config: Config, credentials_dir: str | None) -> str:
    ilert = config.ilert
    return (
        "[ilert]\n"
        f"api_url = {toml_string(ilert.api_url)}\n"
        f"{_KEY_CHOICES}"
        f"{_key_lines(ilert.key_origin, DEFAULT_ILERT_KEY_ENV, credentials_dir)}"
        "# iLert allows 120 requests a minute per key; the budget runs at that limit (lower it\n"
        "# only for a key with a lower limit or one shared with other tools).\n"
        "requests_per_minute = 120\n"
    )


def _connector(config: Config, name: str, credentials_dir: str | None) -> str:
    connector = config.connectors[name]
    return (
        f"# One Statuspage account (API key); add more [connectors.NAME] tables for more keys.\n"
        f"[connectors.{toml_key(name)}]\n"
        f"api_url = {toml_string(connector.api_url)}\n"
        f"{_KEY_CHOICES}"
        f"{_key_lines(connector.key_origin, DEFAULT_STATUSPAGE_KEY_ENV, credentials_dir)}"
        "# Statuspage allows 60 requests per rolling minute per key; the budget runs at it.\n"
        "requests_per_minute = 60\n"
    )


def _key_lines(origin: str, default_env: str, credentials_dir: str | None) -> str:
    """Where the key comes from, as the config discover ran with said (never the key)."""
    kind, _, where = origin.partition(" ")
    if kind == "env" and where:
        return f"api_key_env = {toml_string(where)}\n"
    if kind == "file" and where:
        path = Path(where)
        if credentials_dir and path.is_relative_to(credentials_dir):
            path = path.relative_to(credentials_dir)  # systemd LoadCredential= name
        return f"api_key_file = {toml_string(str(path))}\n"
    return (
        "# The config discover read held this key inline; it is not copied here.\n"
        f"api_key_env = {toml_string(default_env)}\n"
    )


def _sources(inventory: Inventory) -> str:
    lines = ["# iLert alert sources (id: name, escalation policy, status):"]
    lines += [
        f"#   {s.id}: {_comment(s.name)}, {_comment(s.escalation_policy) or '-'}, "
        f"{_comment(s.status) or '-'}"
        for s in inventory.alert_sources
    ]
    return "\n".join(lines) + "\n"


def _example(page: Page, inventory: Inventory, name: str) -> str:
    source = inventory.alert_sources[0]
    members = page.members
    # Every vendor (or config) string in a comment goes through _comment: a raw newline
    # in an id would start a live TOML line.
    lines = [
        f"# ---- page {_comment(page.id)}: {_comment(page.name)} "
        f"(connector {_comment(page.connector)}) ----"
    ]
    if members:
        lines.append("# Components of this page (id: name, group, status):")
        lines += [
            f"#   {_comment(c.id)}: {_comment(c.name)}, {_comment(c.group_name or '') or '-'}, "
            f"{_comment(c.status) or '-'}"
            for c in members
        ]
    lines += [
        "# [[incident_actions]]",
        f"# name = {toml_string(name)}",
        f"# alert_sources = [{source.id}]  # {_comment(source.name)}; ids from the list above",
        f"# connector = {toml_string(page.connector)}",
        f"# page_id = {toml_string(page.id)}",
        '# trigger_mode = "automatic"  # or "manual": only alerts you `trigger` are mirrored',
        "# notify_subscribers = true  # Statuspage deliver_notifications on every write",
    ]
    if members:
        ids = ", ".join(toml_string(c.id) for c in members[:2])
        lines.append(f"# # components = [{ids}]  # optional: shows open alerts on these components")
        lines.append(
            '# # component_status = { HIGH = "major_outage", LOW = "degraded_performance" }'
        )
    return "\n".join(lines) + "\n"


def _slug(page: Page) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", page.name.lower()).strip("-")[:_MAX_NAME].strip("-")
    return slug or page.id


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    taken.add(candidate)
    return candidate


def _comment(text: str) -> str:
    """Text safe inside a one-line comment: no line breaks or control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()
