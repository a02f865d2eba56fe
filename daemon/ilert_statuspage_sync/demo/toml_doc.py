"""The kept folder's config.toml: a TOML document for the config's shape.

Keys and strings are written as the starter config writes them.
"""

from __future__ import annotations

from typing import Any

from ilert_statuspage_sync.config.toml_text import toml_key, toml_string

__all__ = ["render_toml"]


def render_toml(settings: dict[str, Any]) -> str:
    """A TOML document for the config's shape: scalars, tables, arrays of tables.

    Keys and strings as the starter config writes them; nested tables inside
    an array of tables are written inline.
    """
    scalars = {key: value for key, value in settings.items() if not _is_table(value)}
    lines = [f"{toml_key(key)} = {_value(value)}" for key, value in scalars.items()]
    for key, value in settings.items():
        if isinstance(value, dict):
            lines += _table(key, value)
        elif _is_table(value):
            for item in value:
                lines += ["", f"[[{key}]]"]
                lines += [f"{toml_key(k)} = {_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _table(name: str, table: dict[str, Any]) -> list[str]:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    # A table holding only tables needs no header of its own.
    lines = ["", f"[{name}]", *(f"{toml_key(k)} = {_value(v)}" for k, v in scalars.items())]
    lines = lines if scalars else []
    for key, value in table.items():
        if isinstance(value, dict):
            lines += _table(f"{name}.{toml_key(key)}", value)
    return lines


def _is_table(value: object) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
