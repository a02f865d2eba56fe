"""How a line reads on a terminal: the log's events and the command line's own lines alike.

Off a terminal every line is JSON (``logs``); on one a person reads it, so both kinds
show their level the same way: no label for ``info``, ``warning:`` and ``error:`` (and
``debug:``) first, coloured only where ``logs.wants_colour`` allows. A log event reads
``HH:MM:SS [level: ]event[: message] key=value ...`` in the order its fields were
given, leaving out what says nothing (None, False, empty) and clipping long values (a
``message`` is a sentence for a person: whole), so a ``transition`` of ``sync`` fits a
line or two; the JSON keeps every field whole.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["ConsoleLine", "label"]

# ANSI: bold red, bold yellow, dim; reset.
_COLOURS = {"error": "\x1b[1;31m", "critical": "\x1b[1;31m", "warning": "\x1b[1;33m"}
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
# The log's own keys: shown as the line's time, label and name, not as fields.
_OWN = frozenset({"event", "level", "timestamp", "logger", "exception", "message"})
# Longest text shown of one field's value; the JSON log holds it whole.
MAX_VALUE = 40


def label(level: str, *, colour: bool) -> str:
    """``error: `` / ``warning: `` (coloured when ``colour``), nothing for ``info``."""
    level = level.lower()
    if level == "info":
        return ""
    if not colour:
        return f"{level}: "
    return f"{_COLOURS.get(level, _DIM)}{level}:{_RESET} "


class ConsoleLine:
    """structlog renderer: one readable line for a person at a terminal."""

    def __init__(self, *, colour: bool) -> None:
        self.colour = colour

    def __call__(self, _logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> str:
        level = str(event_dict.get("level", "info"))
        clock = _clock(str(event_dict.get("timestamp", "")))
        if clock and self.colour:
            clock = f"{_DIM}{clock}{_RESET}"
        fields = " ".join(
            f"{key}={_value(value)}"
            for key, value in event_dict.items()
            if key not in _OWN and not key.startswith("_") and _says_something(value)
        )
        head = f"{clock} " if clock else ""
        line = f"{head}{label(level, colour=self.colour)}{event_dict.get('event', '')}"
        if _says_something(event_dict.get("message")):  # a sentence for a person: whole
            line = f"{line}: {event_dict['message']}"
        line = f"{line} {fields}" if fields else line
        exception = event_dict.get("exception")
        return f"{line}\n{exception}" if exception else line


def _clock(timestamp: str) -> str:
    """``HH:MM:SS`` of an ISO-8601 timestamp (the date is the terminal's today)."""
    _, _, time = timestamp.partition("T")
    return time[:8]


def _says_something(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != [] and value != {}


def _value(value: Any) -> str:
    """A field's value as a person reads it: bare words, quoted text, clipped."""
    if value is True:
        return "true"
    if isinstance(value, Mapping):
        return ",".join(f"{key}:{_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ",".join(_value(item) for item in value)
    text = str(value)
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 3] + "..."
    return repr(text) if any(c.isspace() for c in text) or text == "" else text
