"""Config documents for tests of the loader: the smallest valid one, and edits of it."""

from __future__ import annotations

import copy
from typing import Any

ILERT_CANARY = "canary-key-7f3a"
STATUSPAGE_CANARY = "canary-sp-key-91c2"
CANARIES = (ILERT_CANARY, STATUSPAGE_CANARY)
ENV = {"ILERT_API_KEY": ILERT_CANARY, "STATUSPAGE_API_KEY": STATUSPAGE_CANARY}
ORIGIN = "test.toml"


def minimal_settings() -> dict[str, Any]:
    """The smallest valid config document: one action, keys from ENV's variables."""
    return {
        "ilert": {"api_key_env": "ILERT_API_KEY"},
        "connectors": {"main": {"api_key_env": "STATUSPAGE_API_KEY"}},
        "incident_actions": [
            {
                "name": "checkout",
                "alert_sources": [101],
                "connector": "main",
                "page_id": "kctbh9vrtdwd",
            }
        ],
    }


def with_value(data: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """A deep copy of ``data`` with the value at ``path`` set (tables are created)."""
    changed = copy.deepcopy(data)
    node: Any = changed
    for step in path[:-1]:
        if isinstance(step, str) and step not in node:
            node[step] = {}
        node = node[step]
    node[path[-1]] = value
    return changed
