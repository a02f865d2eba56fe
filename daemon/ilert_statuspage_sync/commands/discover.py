"""``discover``: what the iLert and Statuspage accounts hold, as tables, JSON or a starter config.

It reads the alert sources with the iLert key (``GET /api/alert-sources``, 50 a
page) and, per Statuspage key, the pages (``GET /v1/pages``) and each page's
components (``GET /v1/pages/{page_id}/components``, 100 a page), through the
daemon's own clients, so every call is paced by the same per-key budgets.

Keys come from the config file, or from ``--ilert-key-env`` and
``--statuspage-key-env`` when there is no config yet. Reading is all or
nothing: a rejected key is a config error (exit 2, naming the key's origin,
never its value); an unreachable service, a body we cannot read or an empty
account is one line and exit 1. What was read is parsed and shown by
``inventory``; the starter file's text comes from ``starter_config``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import urlsplit

from ilert_statuspage_sync.commands.inventory import (
    Inventory,
    Page,
    parse_alert_source,
    parse_components,
    parse_page_head,
    render_json,
    render_tables,
)
from ilert_statuspage_sync.commands.output import EXIT_OK, fail
from ilert_statuspage_sync.commands.starter_config import starter_config
from ilert_statuspage_sync.config import Config, ConnectorConfig, load_config, parse_config
from ilert_statuspage_sync.errors import ApiError, ConfigError, PayloadError, SyncError
from ilert_statuspage_sync.runtime.logs import configure_logging, say

if TYPE_CHECKING:  # the clients load only when `discover` runs, not for every command's parser
    from ilert_statuspage_sync.clients.statuspage import StatuspageClient
    from ilert_statuspage_sync.service.wiring import Services

__all__ = ["DiscoverError", "read_inventory", "run_discover"]

_AUTH_FAILED = (401, 403)
T = TypeVar("T")


class DiscoverError(SyncError):
    """A read failed at run time (unreachable, unreadable, empty): one line, exit 1."""


# -- command line ----------------------------------------------------------------


def run_discover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``discover`` command; a ConfigError is left to the caller (exit 2)."""
    config, from_file = _config(args)
    configure_logging(config.log_level if from_file else "warning")
    if args.write is not None:  # refuse before any vendor read
        _writable(args.write)
    from ilert_statuspage_sync.service.wiring import build_services

    services = build_services(config)
    try:
        inventory = read_inventory(config, services)
    except DiscoverError as error:
        return fail(str(error), "command_failed", err)
    finally:
        services.close()
    out.write(render_json(inventory) if args.json else render_tables(inventory))
    if args.write is not None:
        _write_starter(args.write, config, inventory, err)
    return EXIT_OK


def _writable(path: Path) -> None:
    """Refuse a starter config path that exists or whose folder does not."""
    if path.exists() or path.is_symlink():
        raise ConfigError(_exists(path))
    if not path.absolute().parent.is_dir():
        raise ConfigError(f"{path}: folder {path.absolute().parent} does not exist")


def _write_starter(path: Path, config: Config, inventory: Inventory, err: TextIO) -> None:
    text = starter_config(config, inventory, os.environ.get("CREDENTIALS_DIRECTORY"))
    _create(path, text)
    examples = len({page.id for page in inventory.pages})
    say(
        "info",
        "starter_config_written",
        f"wrote {path}: every key with its default and {examples} commented "
        "[[incident_actions]] example(s); uncomment one, then run `check`",
        err,
    )


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
    try:
        port = parts.port  # ValueError for a port outside 0..65535 or not a number
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"{option}: {value!r}: port must be 1 to 65535")
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
    pages = [
        page
        for name, connector in config.connectors.items()
        for page in _pages(name, connector, services.statuspage[name])
    ]
    connectors = tuple(
        (name, connector.api_url, connector.key_origin)
        for name, connector in config.connectors.items()
    )
    return Inventory(
        config.ilert.api_url,
        config.ilert.key_origin,
        tuple(sources),
        connectors,
        tuple(pages),
        _services(services),
    )


def _services(services: Services) -> tuple[tuple[int, str, str], ...]:
    """The iLert services (for status bridges); none when the account cannot list them.

    An account without iLert's status pages answers 403/404 here: alerts still
    work, so that is no failure of ``discover``.
    """
    try:
        listing = services.ilert.list_services()
    except (ApiError, PayloadError):
        return ()
    return tuple((s.id, s.name, s.status) for s in listing.items)


def _pages(name: str, connector: ConnectorConfig, client: StatuspageClient) -> list[Page]:
    """Every page one connector's key sees, with its components."""
    label = f"Statuspage {connector.api_url}"
    key = f"the key of connector {name} ({connector.key_origin})"
    found = _parsed(label, parse_page_head, _read(label, key, client.list_pages))
    if not found:
        raise DiscoverError(
            f"{label}: {key} sees no pages; check that it belongs to the right "
            "Statuspage account (Statuspage > API info)"
        )
    pages = []
    for page_id, page_name in found:
        raw = _read(label, key, functools.partial(client.list_components, page_id))
        try:
            components = parse_components(raw)
        except PayloadError as error:
            raise DiscoverError(f"{label}: page {page_id}: {error}") from None
        pages.append(Page(page_id, page_name, name, components))
    return pages


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
