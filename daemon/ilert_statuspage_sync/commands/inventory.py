"""What ``discover`` found in the two accounts, and how it is shown (pure).

The vendors' payloads are parsed here into small values (alert sources, pages
with their components) and rendered as readable tables or one JSON document.
Nothing here does I/O; ``discover`` reads, ``starter_config`` writes the file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.errors import PayloadError

__all__ = [
    "AlertSource",
    "Component",
    "Inventory",
    "Page",
    "parse_alert_source",
    "parse_component",
    "parse_components",
    "parse_page_head",
    "render_json",
    "render_tables",
]

_CELL_WIDTH = 60


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
    # iLert services (id, name, status), for status bridges; empty when none can be read.
    services: tuple[tuple[int, str, str], ...] = ()


# -- parsing ----------------------------------------------------------------------


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


def parse_page_head(item: object) -> tuple[str, str]:
    """The id and name of a ``Page`` object of the Statuspage API."""
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


def parse_components(items: Iterable[object]) -> tuple[Component, ...]:
    """A page's components, each member naming its group."""
    components = [parse_component(item) for item in items]
    names = {c.id: c.name for c in components if c.is_group}
    return tuple(
        dataclasses.replace(c, group_name=names.get(c.group_id, c.group_id)) if c.group_id else c
        for c in components
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- rendering --------------------------------------------------------------------


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
    if inventory.services:
        lines += ["", f"iLert services (for [[status_bridges]]): {len(inventory.services)}"]
        lines += _table(
            ("ID", "NAME", "STATUS"), [(str(i), name, st) for i, name, st in inventory.services]
        )
    for page in inventory.pages:
        title = f"Components of page {_cell(page.id)} ({_cell(page.name)})"
        lines += ["", f"{title}: {len(page.members)}"]
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
    """One JSON document for tools (names as the vendors sent them).

    ASCII only: a lone surrogate in a vendor name is written as an escape, so the
    output is always valid UTF-8 (raw, it could not be encoded at all).
    """
    document = {
        "ilert": {
            "api_url": inventory.ilert_url,
            "key": inventory.ilert_key,
            "alert_sources": [_source_json(s) for s in inventory.alert_sources],
            "services": [
                {"id": i, "name": name, "status": status} for i, name, status in inventory.services
            ],
        },
        "statuspage": {
            "connectors": [
                {"name": name, "api_url": url, "key": key}
                for name, url, key in inventory.connectors
            ],
            "pages": [_page_json(page) for page in inventory.pages],
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def _source_json(source: AlertSource) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "escalation_policy": {
            "id": source.escalation_policy_id,
            "name": source.escalation_policy,
        },
        "status": source.status,
    }


def _page_json(page: Page) -> dict[str, Any]:
    return {
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
