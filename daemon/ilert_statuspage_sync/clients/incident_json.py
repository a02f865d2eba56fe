"""Decoding an incident answer without decoding again the history it repeats.

Every answer about an incident carries its whole timeline (``incident_updates``,
newest first), so a storm's n joins would decode about n²/2 updates. The
server renders a stored update the same way each time, so the timeline of the
last answer decoded reappears byte for byte at the end of the next one's: where
the rest of the array is exactly that text, its decoded entries are taken
instead of decoding it again. The text is compared, never assumed: any other
answer (another incident, an edited update, other formatting) is decoded in
full, and the result is always what ``json.loads`` returns (the timeline a
``list`` that also finds its updates by text: ``DecodedTimeline``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

__all__ = ["DecodedTimeline", "IncidentDecoder"]

_SPACE = re.compile(r"[ \t\n\r]*")
_TIMELINE = "incident_updates"


class _UnexpectedError(ValueError):
    """Not the shape this decoder reads: the answer is decoded in full instead."""


class _Texts:
    """Update ids by stripped text over one chain of timelines, each the last plus newer ones.

    Append-only: position 0 is the chain's oldest update, so a timeline of
    length L holds exactly the positions below L, and later appends leave it
    as it was.
    """

    __slots__ = ("_ids", "size")

    def __init__(self) -> None:
        self._ids: dict[str, list[tuple[int, str]]] = {}
        self.size = 0

    def append(self, newest_first: list[Any]) -> None:
        for entry in reversed(newest_first):
            update_id = entry.get("id") if isinstance(entry, dict) else None
            if isinstance(update_id, str):
                body = entry.get("body")
                text = body.strip() if isinstance(body, str) else ""
                self._ids.setdefault(text, []).append((self.size, update_id))
            self.size += 1

    def ids(self, text: str, length: int) -> frozenset[str]:
        return frozenset(i for position, i in self._ids.get(text, ()) if position < length)


class DecodedTimeline(list[Any]):
    """A decoded ``incident_updates``: a list, whose updates can be found by text at once."""

    __slots__ = ("_texts",)

    def __init__(self, entries: list[Any], texts: _Texts) -> None:
        super().__init__(entries)
        self._texts = texts

    def ids_with_text(self, text: str) -> frozenset[str]:
        """The ids of the updates (objects with a string id) whose stripped body is ``text``.

        A join's text is looked up, not compared with every earlier update's.
        """
        return self._texts.ids(text, len(self))


class IncidentDecoder:
    """Decodes incident answers of one connector; remembers the last timeline it decoded."""

    def __init__(self, parse_int: Callable[[str], Any]) -> None:
        self._parse_int = parse_int
        self._scan = json.JSONDecoder(parse_int=parse_int).scan_once  # type: ignore[attr-defined]
        # The last timeline: its text from the first entry through the closing bracket,
        # and its entries as decoded (one value: a reference swapped whole, never torn).
        self._last: tuple[str, list[Any]] = ("", [])
        # The texts of the last timeline's updates (and of none newer).
        self._texts = _Texts()
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
        texts = _Texts()
        while True:
            if last_text and text.startswith(last_text, index):
                texts = self._texts  # the last timeline's, extended below by the new entries
                new = len(entries)
                entries += last_entries
                index += len(last_text)
                break
            entry, index = self._scan(text, index)
            self.decoded_updates += 1
            entries.append(entry)
            index = _skip(text, index)
            if text[index] == "]":
                index += 1
                new = len(entries)
                break
            if text[index] != ",":
                raise _UnexpectedError
            index = _skip(text, index + 1)
        texts.append(entries[:new])
        self._last, self._texts = (text[first:index], entries), texts
        return DecodedTimeline(entries, texts), index


def _skip(text: str, index: int) -> int:
    """The index past JSON whitespace at ``index``."""
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()
