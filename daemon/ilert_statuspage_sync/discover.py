"""``discover``: what the iLert and Statuspage accounts hold, as tables, JSON or a starter config.

It reads the alert sources with the iLert key (``GET /api/alert-sources``, 50 a
page) and, per Statuspage key, the pages (``GET /v1/pages``) and each page's
components (``GET /v1/pages/{page_id}/components``, 100 a page), through the
daemon's own clients, so every call is paced by the same per-key budgets.

Keys come from the config file, or from ``--ilert-key-env`` and
``--statuspage-key-env`` when there is no config yet. Reading is all or
nothing: a rejected key is a config error (exit 2, naming the key's origin,
never its value); an unreachable service, a body we cannot read or an empty
account is one line and exit 1. Rendering (``render_tables``, ``render_json``)
is pure; the starter file's text comes from ``starter_config``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

from ilert_statuspage_sync.config import Config, load_config, parse_config
from ilert_statuspage_sync.errors import ApiError, ConfigError, PayloadError, SyncError
from ilert_statuspage_sync.logs import configure_logging, scrub
from ilert_statuspage_sync.starter_config import starter_config
from ilert_statuspage_sync.wiring import Services, build_services

__all__ = [
    "AlertSource",
    "Component",
    "Inventory",
    "Page",
    "add_arguments",
    "parse_alert_source",
    "parse_component",
    "read_inventory",
    "render_json",
    "render_tables",
    "run_discover",
]

EXIT_OK, EXIT_FAILED = 0, 1
_AUTH_FAILED = (401, 403)
_CELL_WIDTH = 60
T = TypeVar("T")


class DiscoverError(SyncError):
    """A read failed at run time (unreachable, unreadable, empty): one line, exit 1."""


@dataclass(frozen=True)
class AlertSource:
    """An iLert alert source: the ids ``alert_sources`` takes."""

    id: int
    name: str
    escalation_policy_id: int | None
    escalation_policy: str
    status: str


@dataclass(frozen=True)
class Component:
    """A Statuspage component; a group is a component that holds others."""

    id: str
    name: str
    status: str
    is_group: bool = False
    group_id: str | None = None
    group_name: str | None = None


@dataclass(frozen=True)
class Page:
    """A Statuspage page and its components, as one connector (key) sees it."""

    id: str
    name: str
    connector: str
    components: tuple[Component, ...] = ()

    @property
    def members(self) -> tuple[Component, ...]:
        """The components an incident can affect (group containers left out)."""
        return tuple(c for c in self.components if not c.is_group)


@dataclass(frozen=True)
class Inventory:
    """Everything ``discover`` read, with where it was read from (never a key)."""

    ilert_url: str
    ilert_key: str
    alert_sources: tuple[AlertSource, ...]
    connectors: tuple[tuple[str, str, str], ...]  # (name, api_url, key origin)
    pages: tuple[Page, ...]


# -- command line ----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``discover``."""
    parser.add_argument(
        "--write",
        type=Path,
        metavar="PATH",
        help="also write a commented starter config to PATH (never overwrites)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    parser.add_argument(
        "--ilert-key-env",
        metavar="VAR",
        help="read the iLert key from this environment variable instead of the config",
    )
    parser.add_argument(
        "--statuspage-key-env",
        metavar="VAR",
        action="append",
        help="a Statuspage key's environment variable (repeat for more keys) instead of the config",
    )
    parser.add_argument("--ilert-url", metavar="URL", help="iLert scheme and host")
    parser.add_argument("--statuspage-url", metavar="URL", help="Statuspage scheme and host")


def run_discover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``discover`` command; a ConfigError is left to the caller (exit 2)."""
    config, from_file = _config(args)
    configure_logging(config.log_level if from_file else "warning")
    if args.write is not None:  # refuse before any vendor read
        if args.write.exists() or args.write.is_symlink():
            raise ConfigError(_exists(args.write))
        if not args.write.absolute().parent.is_dir():
            raise ConfigError(f"{args.write}: folder {args.write.absolute().parent} does not exist")
    services = build_services(config)
    try:
        inventory = read_inventory(config, services)
    except DiscoverError as error:
        err.write(f"error: {scrub(str(error))}\n")
        return EXIT_FAILED
    finally:
        services.close()
    out.write(render_json(inventory) if args.json else render_tables(inventory))
    if args.write is not None:
        text = starter_config(config, inventory, os.environ.get("CREDENTIALS_DIRECTORY"))
        _create(args.write, text)
        examples = len({page.id for page in inventory.pages})
        err.write(
            f"wrote {args.write}: every key with its default and {examples} commented "
            "[[incident_actions]] example(s); uncomment one, then run `check`\n"
        )
    return EXIT_OK


def _config(args: argparse.Namespace) -> tuple[Config, bool]:
    """The config whose keys to use, and whether it came from the config file."""
    ilert_env, statuspage_envs = args.ilert_key_env, args.statuspage_key_env or []
    if ilert_env or statuspage_envs:
        if not (ilert_env and statuspage_envs):
            raise ConfigError(
                "discover: give both --ilert-key-env and --statuspage-key-env "
                "(or neither, to use the keys of --config PATH)"
            )
        return _config_from_options(args, ilert_env, statuspage_envs), False
    path: Path = args.config
    if not path.exists():
        raise ConfigError(
            f"{path}: config file not found; pass --config PATH, or discover without one: "
            "--ilert-key-env VAR --statuspage-key-env VAR"
        )
    config = load_config(path)
    return _with_urls(config, args.ilert_url, args.statuspage_url), True


def _config_from_options(
    args: argparse.Namespace, ilert_env: str, statuspage_envs: Sequence[str]
) -> Config:
    ilert: dict[str, Any] = {"api_key_env": ilert_env}
    if args.ilert_url:
        ilert["api_url"] = args.ilert_url
    connectors: dict[str, Any] = {}
    for number, env in enumerate(statuspage_envs, start=1):
        connector: dict[str, Any] = {"api_key_env": env}
        if args.statuspage_url:
            connector["api_url"] = args.statuspage_url
        connectors["main" if number == 1 else f"main-{number}"] = connector
    data = {"ilert": ilert, "connectors": connectors}
    return parse_config(data, os.environ, origin="discover options")


def _with_urls(config: Config, ilert_url: str | None, statuspage_url: str | None) -> Config:
    """``config`` pointed at other hosts (``--ilert-url``, ``--statuspage-url``)."""
    if ilert_url:
        ilert = dataclasses.replace(config.ilert, api_url=_base_url("--ilert-url", ilert_url))
        config = dataclasses.replace(config, ilert=ilert)
    if statuspage_url:
        url = _base_url("--statuspage-url", statuspage_url)
        connectors = {
            name: dataclasses.replace(connector, api_url=url)
            for name, connector in config.connectors.items()
        }
        config = dataclasses.replace(config, connectors=connectors)
    return config


def _base_url(option: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{option}: {value!r} is not an http(s) URL")
    if parts.path.strip("/") or parts.query:
        raise ConfigError(f"{option}: give only scheme and host; the client adds /api or /v1")
    return f"{parts.scheme}://{parts.netloc}"


def _exists(path: Path) -> str:
    return f"{path}: already exists; discover --write never overwrites a file (pick a new path)"


def _create(path: Path, text: str) -> None:
    """Write a new file (mode 600); refuse one that appeared since the first look."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(_exists(path)) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


# -- reading -----------------------------------------------------------------------


def read_inventory(config: Config, services: Services) -> Inventory:
    """Read every alert source, page and component the configured keys can see."""
    ilert_label = f"iLert {config.ilert.api_url}"
    ilert_key = f"the iLert key ({config.ilert.key_origin})"
    raw_sources = _read(ilert_label, ilert_key, services.ilert.list_alert_sources)
    sources = _parsed(ilert_label, parse_alert_source, raw_sources)
    if not sources:
        raise DiscoverError(
            f"{ilert_label}: the account of {ilert_key} has no alert sources; "
            "create one in iLert, then run discover again"
        )
    pages: list[Page] = []
    for name, connector in config.connectors.items():
        label = f"Statuspage {connector.api_url}"
        key = f"the key of connector {name} ({connector.key_origin})"
        client = services.statuspage[name]
        found = _parsed(label, _parse_page_head, _read(label, key, client.list_pages))
        if not found:
            raise DiscoverError(
                f"{label}: {key} sees no pages; check that it belongs to the right "
                "Statuspage account (Statuspage > API info)"
            )
        for page_id, page_name in found:
            raw = _read(label, key, functools.partial(client.list_components, page_id))
            components = parse_components(raw, f"{label}: page {page_id}")
            pages.append(Page(page_id, page_name, name, components))
    connectors = tuple(
        (name, connector.api_url, connector.key_origin)
        for name, connector in config.connectors.items()
    )
    return Inventory(
        config.ilert.api_url, config.ilert.key_origin, tuple(sources), connectors, tuple(pages)
    )


def _read(label: str, key: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ApiError as error:
        if error.status in _AUTH_FAILED:
            raise ConfigError(
                f"{label} refused {key}: HTTP {error.status}: {error.message}; "
                "fix the key there (the value is never printed)"
            ) from None
        raise DiscoverError(f"{label}: {error}; check the URL, the network and retry") from None
    except PayloadError as error:
        raise DiscoverError(f"{label}: {error}") from None


def _parsed(label: str, parse: Callable[[object], T], items: Iterable[object]) -> list[T]:
    try:
        return [parse(item) for item in items]
    except PayloadError as error:
        raise DiscoverError(f"{label}: {error}") from None


# -- parsing (pure) -----------------------------------------------------------------


def parse_alert_source(item: object) -> AlertSource:
    """An ``AlertSourceNoIncludes`` object of the iLert API."""
    if not isinstance(item, Mapping):
        raise PayloadError("an alert source was not a JSON object")
    source_id = item.get("id")
    if not isinstance(source_id, int) or isinstance(source_id, bool):
        raise PayloadError("an alert source lacks an integer 'id'")
    policy = item.get("escalationPolicy")
    policy = policy if isinstance(policy, Mapping) else {}
    policy_id = policy.get("id")
    return AlertSource(
        id=source_id,
        name=_text(item.get("name")),
        escalation_policy_id=policy_id if isinstance(policy_id, int) else None,
        escalation_policy=_text(policy.get("name")),
        status=_text(item.get("status")),
    )


def _parse_page_head(item: object) -> tuple[str, str]:
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
        raise PayloadError("a page lacks a string 'id'")
    return item["id"], _text(item.get("name"))


def parse_component(item: object) -> Component:
    """A ``Component`` object of the Statuspage API (its group name is filled in later)."""
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
        raise PayloadError("a component lacks a string 'id'")
    group_id = item.get("group_id")
    return Component(
        id=item["id"],
        name=_text(item.get("name")),
        status=_text(item.get("status")),
        is_group=item.get("group") is True,
        group_id=group_id if isinstance(group_id, str) and group_id else None,
    )


def parse_components(items: Iterable[object], label: str) -> tuple[Component, ...]:
    """A page's components, each member naming its group."""
    try:
        components = [parse_component(item) for item in items]
    except PayloadError as error:
        raise DiscoverError(f"{label}: {error}") from None
    names = {c.id: c.name for c in components if c.is_group}
    return tuple(
        dataclasses.replace(c, group_name=names.get(c.group_id, c.group_id)) if c.group_id else c
        for c in components
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- rendering (pure) --------------------------------------------------------------


def render_tables(inventory: Inventory) -> str:
    """Readable tables: alert sources, pages, then each page's components."""
    lines = [
        f"iLert alert sources ({inventory.ilert_url}, key from {inventory.ilert_key}): "
        f"{len(inventory.alert_sources)}",
        *_table(
            ("ID", "NAME", "ESCALATION POLICY", "STATUS"),
            [(str(s.id), s.name, s.escalation_policy, s.status) for s in inventory.alert_sources],
        ),
        "",
        f"Statuspage pages: {len(inventory.pages)}",
        *_table(
            ("ID", "NAME", "CONNECTOR", "COMPONENTS"),
            [(p.id, p.name, p.connector, str(len(p.members))) for p in inventory.pages],
        ),
    ]
    for page in inventory.pages:
        lines += ["", f"Components of page {page.id} ({_cell(page.name)}): {len(page.members)}"]
        lines += _table(
            ("ID", "NAME", "GROUP", "STATUS"),
            [(c.id, c.name, c.group_name or "", c.status) for c in page.members],
        )
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [list(header)] + [[_cell(value) or "-" for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def _cell(value: str) -> str:
    """One line of printable text: vendor names may hold newlines or terminal escapes."""
    text = "".join(ch if ch.isprintable() else " " for ch in value).strip()
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "\u2026"


def render_json(inventory: Inventory) -> str:
    """One JSON document for tools (names as the vendors sent them)."""
    document = {
        "ilert": {
            "api_url": inventory.ilert_url,
            "key": inventory.ilert_key,
            "alert_sources": [
                {
                    "id": s.id,
                    "name": s.name,
                    "escalation_policy": {
                        "id": s.escalation_policy_id,
                        "name": s.escalation_policy,
                    },
                    "status": s.status,
                }
                for s in inventory.alert_sources
            ],
        },
        "statuspage": {
            "connectors": [
                {"name": name, "api_url": url, "key": key}
                for name, url, key in inventory.connectors
            ],
            "pages": [
                {
                    "id": page.id,
                    "name": page.name,
                    "connector": page.connector,
                    "components": [
                        {
                            "id": c.id,
                            "name": c.name,
                            "status": c.status,
                            "group": c.is_group,
                            "group_id": c.group_id,
                            "group_name": c.group_name,
                        }
                        for c in page.components
                    ],
                }
                for page in inventory.pages
            ],
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
