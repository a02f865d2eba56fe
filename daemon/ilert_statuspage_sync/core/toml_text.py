"""TOML text for the config files this project writes (starter config, demo, bridge block)."""

from __future__ import annotations

import re

__all__ = ["toml_key", "toml_string"]


def toml_key(name: str) -> str:
    """A bare key when TOML allows one, else a quoted one."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_string(name)


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped.

    A lone surrogate has no TOML escape and no UTF-8 encoding: it becomes U+FFFD.
    """
    out = ['"']
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            out.append("\ufffd")
        elif ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\t":
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
