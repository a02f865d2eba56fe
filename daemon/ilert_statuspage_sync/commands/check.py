"""``check``: the config, the database, the templates and (unless --offline) every API.

Each line is marked ok, WARN (works, but needs a step first; exit stays 0) or
FAIL (exit 1).
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.commands.bridge_check import bridge_lines
from ilert_statuspage_sync.commands.component_check import check_lines
from ilert_statuspage_sync.commands.engines import engine
from ilert_statuspage_sync.commands.output import EXIT_FAILED, EXIT_OK, reader_may_leave
from ilert_statuspage_sync.commands.stray_check import stray_lines
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.config.toml_text import toml_string
from ilert_statuspage_sync.core.preview import preview_writes
from ilert_statuspage_sync.core.publish import PublishContext
from ilert_statuspage_sync.errors import ApiError, PayloadError, SyncError
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.service.metrics import check_textfile
from ilert_statuspage_sync.service.wiring import Services, build_services
from ilert_statuspage_sync.store.database import (
    current_revision,
    head_revision,
    newer_schema,
    revisions,
)
from ilert_statuspage_sync.store.diagnose import explain, sqlite_path
from ilert_statuspage_sync.store.renames import orphan_links

__all__ = ["check"]

Line = tuple[bool | None, str]
# check's line marks: ok, WARN (works, but needs a step first; exit stays 0), FAIL (exit 1)
_MARKS = {True: "ok  ", None: "WARN", False: "FAIL"}


def check(config: Config, args: argparse.Namespace) -> int:
    """Print one marked line per thing checked; exit 1 when any failed."""
    lines: list[Line] = [(True, f"config {config.path}: valid")]
    lines.append(_check_database(config))
    if lines[-1][0] is True:  # migrated and up to date: its links can be read
        lines += _orphan_lines(config)
    if config.metrics.textfile is not None:
        lines.append(check_textfile(config.metrics.textfile))
    lines += _previews(config)
    if args.offline:  # no vendor is called
        return _verdict(lines)
    services = build_services(config)
    try:
        lines += _vendor_lines(config, services)
    finally:
        services.close()
    return _verdict(lines)


def _vendor_lines(config: Config, services: Services) -> list[Line]:
    """iLert with its key, every action's page with its connector's key, the components, and
    the unresolved incidents naming an action the config names nowhere."""
    sources = sorted({s for a in config.incident_actions for s in a.alert_sources})
    lines: list[Line] = [
        _probe(
            f"iLert {config.ilert.api_url} ({config.ilert.key_origin})",
            lambda: services.ilert.http.get("/api/alerts", {"sources": sources, "max-results": 1}),
        )
    ]
    for action in config.incident_actions:
        connector = config.connectors[action.connector]
        client = services.statuspage[action.connector]
        label = (
            f"Statuspage page {action.page_id} for {action.name} "
            f"via connector {connector.name} ({connector.key_origin})"
        )
        lines.append(_probe(label, functools.partial(client.get_page, action.page_id)))
    lines += check_lines(config, services.statuspage)
    lines += bridge_lines(config, services.ilert, services.statuspage, _probe)
    return lines + stray_lines(config, services.ilert, services.statuspage)


def _previews(config: Config) -> list[Line]:
    """Every template of every customised action rendered against a sample alert.

    An action without any "what the public sees" key publishes today's wording
    (the alert's own text), so it adds no lines and `check` reads as before.
    """
    lines: list[Line] = []
    for action in config.incident_actions:
        if action.publish.is_default:
            continue
        context = PublishContext(
            action.name, action.page_id, config.ilert.api_url, action.notify_subscribers
        )
        source = action.alert_sources[0] if action.alert_sources else None
        previews = preview_writes(
            action.publish, lifecycle=config.lifecycle, context=context, source_id=source
        )
        lines += [(line.ok, line.text) for line in previews]
    return lines


def _verdict(lines: list[Line]) -> int:
    with reader_may_leave():
        for ok, line in lines:
            print(f"{_MARKS[ok]} {line}")
    return EXIT_OK if all(ok is not False for ok, _ in lines) else EXIT_FAILED


def _check_database(config: Config) -> Line:
    """The database line of ``check``; never creates the database."""
    label = f"database {safe_url(config.database_url)}"
    path = sqlite_path(config.database_url)
    if path is not None and not path.exists():
        return _new_sqlite_file(label, path)
    try:
        opened = engine(config)
        try:
            revision, head = current_revision(opened), head_revision()
        finally:
            opened.dispose()
    except (SyncError, sa.exc.SQLAlchemyError, OSError) as error:
        return False, f"{label}: {explain(error, config.database_url) or scrub(str(error))}"
    if revision == head:
        return True, f"{label}: up to date"
    if revision is not None and revision not in revisions():
        return False, newer_schema(revision, config.database_url)
    return None, (
        f"{label}: at {revision or 'no revision (empty)'}, migrations up to {head} pending; "
        "run `db upgrade` (the daemon also applies them when it starts)"
    )


def _new_sqlite_file(label: str, path: Path) -> Line:
    """WARN only when the first start can create the file: its folder exists and this
    user may create files in it (``db upgrade``, ``sync`` and ``run`` refuse otherwise)."""
    folder = path.parent
    if not folder.is_dir():
        return False, (
            f"{label}: folder {folder} does not exist; create it (writable by the service's "
            "user) or fix database_url"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return False, (
            f"{label}: folder {folder} is not writable by this user, so {path.name} cannot be "
            "created there; make it writable by the service's user or fix database_url"
        )
    return None, (
        f"{label}: no database yet at {path}; `db upgrade` or the daemon's first start creates it"
    )


def _orphan_lines(config: Config) -> list[Line]:
    """A WARN per action name the database holds links of but the config no longer has.

    A rename without ``previous_names`` leaves the old name's incidents open for
    ever (no action syncs them) while the new name opens a second one per alert.
    """
    previous = {old: a.name for a in config.incident_actions for old in a.previous_names}
    opened = engine(config)
    try:
        with Session(opened) as session:
            stored = orphan_links(session, {a.name for a in config.incident_actions})
    except (sa.exc.SQLAlchemyError, OSError) as error:
        return [(False, f"database links: {scrub(str(error))[:300]}")]
    finally:
        opened.dispose()
    return [_orphan(name, *counts, previous.get(name)) for name, counts in stored.items()]


def _orphan(name: str, opened: int, total: int, new: str | None) -> Line:
    held = f"the database holds {total} link(s) ({opened} open) of incident action {name!r}"
    if new is not None:
        return None, (
            f"{held}, a previous name of {new!r}: the next pass moves them to {new!r}; any left "
            f"after it are alerts {new!r} already tracks (resolve their older incident by hand)"
        )
    return None, (
        f"{held}, which the config does not name: if the action was renamed, add "
        f"previous_names = [{toml_string(name)}] to it (its open incidents are not synced "
        "until then, and the new name opens a second incident per alert); if it was removed, "
        "resolve its open incidents on the page"
    )


def _probe(label: str, call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except (ApiError, PayloadError) as error:
        return False, f"{label}: {scrub(str(error))}"
    return True, f"{label}: reachable, key accepted"
