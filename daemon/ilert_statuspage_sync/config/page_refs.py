"""What incident actions and status bridges both name: a connector, a page, its components.

Page and component ids become request path segments, so both are held to the
same shape: at most 64 letters, digits, '-' or '_' (no / ? # or dots).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ilert_statuspage_sync.config.reader import Reader, join

__all__ = ["COMPONENT_ID_RULE", "is_component_id", "read_connector", "read_page_id"]

_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
COMPONENT_ID_RULE = "at most 64 letters, digits, '-' or '_' (`discover` lists them)"


def is_component_id(value: object) -> bool:
    """Whether ``value`` is shaped like a Statuspage component id."""
    return isinstance(value, str) and _PAGE_ID.fullmatch(value) is not None


def read_connector(reader: Reader, table: Mapping[str, Any], prefix: str) -> str:
    """The connector's name; one not defined is reported (unless it was a broken one)."""
    connector = reader.attempt("", reader.string, table, "connector", prefix)
    if connector and connector not in reader.connector_names:
        defined = ", ".join(sorted(reader.connector_names)) or "none"
        reader.report(
            join(prefix, "connector"), f"unknown connector {connector!r} (defined: {defined})"
        )
    return connector


def read_page_id(reader: Reader, table: Mapping[str, Any], prefix: str) -> str:
    """A Statuspage page id: it becomes a request path segment, so no / ? # or dots."""
    value = reader.string(table, "page_id", prefix)
    if not _PAGE_ID.fullmatch(value):
        raise reader.fail(
            join(prefix, "page_id"),
            "must be at most 64 printable characters, only letters, digits, '-' or '_' "
            "(the id in the page's API URL)",
        )
    return value
