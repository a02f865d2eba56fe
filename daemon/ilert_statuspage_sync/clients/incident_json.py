"""Decoding an incident answer without decoding again the history it repeats.

Every answer about an incident carries its whole timeline (``incident_updates``,
newest first), so a storm's n joins would decode about n²/2 updates. The
server renders a stored update the same way each time, so the timeline of the
last answer decoded reappears byte for byte at the end of the next one's: where
the rest of the array is exactly that text, its decoded entries are taken
instead of decoding it again. The text is compared, never assumed: any other
answer (another incident, an edited update, other formatting) is decoded in
full, and the result is always what ``json.loads`` returns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

__all__ = ["IncidentDecoder"]

_SPACE = re.compile(r"[ \t\n\r]*")
_TIMELINE = "incident_updates"


class _UnexpectedError(ValueError):
    """Not the shape this decoder reads: the answer is decoded in full instead."""


class IncidentDecoder:
    """Decodes incident answers of one connector; remembers the last timeline it decoded."""

    def __init__(self, parse_int: Callable[[str], Any]) -> None:
        self._parse_int = parse_int
        self._scan = json.JSONDecoder(parse_int=parse_int).scan_once  # type: ignore[attr-defined]
        # The last timeline: its text from the first entry through the closing bracket,
        # and its entries as decoded (one value: a reference swapped whole, never torn).
        self._last: tuple[str, list[Any]] = ("", [])
        # Entries decoded one by one (the rest were taken from the last timeline).
        self.decoded_updates = 0

    def __call__(self, raw: bytes) -> Any:
        """The decoded answer, as ``json.loads`` gives it."""
        try:
            return self._object(raw.decode("utf-8"))
        except (_UnexpectedError, ValueError, IndexError, StopIteration):
            return json.loads(raw, parse_int=self._parse_int)

    def _object(self, text: str) -> dict[str, Any]:
        index = _skip(text, 0)
        if text[index] != "{":
            raise _UnexpectedError
        found: dict[str, Any] = {}
        index = _skip(text, index + 1)
        if text[index] == "}":
            return self._end(text, index, found)
        while True:
            if text[index] != '"':
                raise _UnexpectedError
            key, index = scanstring(text, index + 1)
            index = _skip(text, index)
            if text[index] != ":":
                raise _UnexpectedError
            index = _skip(text, index + 1)
            if key == _TIMELINE and text[index] == "[":
                found[key], index = self._timeline(text, index)
            else:
                found[key], index = self._scan(text, index)
            index = _skip(text, index)
            if text[index] == "}":
                return self._end(text, index, found)
            if text[index] != ",":
                raise _UnexpectedError
            index = _skip(text, index + 1)

    @staticmethod
    def _end(text: str, index: int, found: dict[str, Any]) -> dict[str, Any]:
        if _skip(text, index + 1) != len(text):
            raise _UnexpectedError  # something after the object: json.loads says what
        return found

    def _timeline(self, text: str, index: int) -> tuple[list[Any], int]:
        """The array at ``index``: new entries decoded, the repeated rest taken as it was."""
        entries: list[Any] = []
        last_text, last_entries = self._last
        index = _skip(text, index + 1)
        first = index
        if text[index] == "]":
            return entries, index + 1
        while True:
            if last_text and text.startswith(last_text, index):
                entries += last_entries
                index += len(last_text)
                break
            entry, index = self._scan(text, index)
            self.decoded_updates += 1
            entries.append(entry)
            index = _skip(text, index)
            if text[index] == "]":
                index += 1
                break
            if text[index] != ",":
                raise _UnexpectedError
            index = _skip(text, index + 1)
        self._last = (text[first:index], entries)
        return list(entries), index


def _skip(text: str, index: int) -> int:
    """The index past JSON whitespace at ``index``."""
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()
