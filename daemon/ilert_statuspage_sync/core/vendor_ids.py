"""The one reader of an id from vendor text: page metadata, headers, what a person typed.

Python's ``int()`` refuses a string of more than 4,300 digits with a
``ValueError``; a check like ``isdigit()`` before it does not stop that (and
accepts digits of other scripts). Anyone holding the Statuspage key can write
any metadata on an incident, so every id read from such text goes through
``vendor_id``: ASCII digits only, at most 19 of them, within what the state
database stores (``ID_MAX``). Anything else names no id.
"""

from __future__ import annotations

from ilert_statuspage_sync.core.storable import ID_MAX

__all__ = ["vendor_id"]

_MAX_DIGITS = len(str(ID_MAX))  # 19


def vendor_id(raw: object) -> int | None:
    """A positive id from a JSON int or a decimal string; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= ID_MAX else None
    if not isinstance(raw, str) or not 0 < len(raw) <= _MAX_DIGITS:
        return None
    if not raw.isascii() or not raw.isdigit():
        return None
    number = int(raw)
    return number if 0 < number <= ID_MAX else None
