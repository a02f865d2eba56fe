"""Markup to plain text: tags stripped, entities decoded, whitespace tidied; linear time.

iLert's texts may carry markup (public dashboards request an undocumented
``include=textPlain``, which is not in the OpenAPI spec, so the daemon does not
build on it). Statuspage shows names and bodies as text, so a tag would be
published literally. Block elements and ``<br>`` become line breaks, list
items "- ", ``<script>``/``<style>`` content and ``<!-- comments -->`` vanish,
everything else keeps its text.

The standard library's ``html.parser`` is quadratic on unclosed tags (200 KB of
``<a`` took 80 s on CPython 3.11), so this is a small scanner instead: every
match attempt starts at a ``<`` and stops at the next one (possessive patterns,
no backtracking), and every end-of-block search runs at most once, so each
character is looked at a bounded number of times whatever the input.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["has_tag", "plain_text", "strip_tags"]

_BREAKS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
)
_HIDDEN = frozenset({"script", "style"})
# A tag: name, then attributes up to ">"; a quoted value may hold ">" but never "<".
_TAG = re.compile(
    r"""<(/?)([A-Za-z][A-Za-z0-9:-]*+)(?=[\s/>])(?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>"""
)
_DECLARATION = re.compile(r"<[!?][^<>]*+>")  # <!DOCTYPE ...>, <?xml ...?>
_LEFT_OVER = re.compile(f"{_TAG.pattern}|{_DECLARATION.pattern}|<!--")
_HIDDEN_END = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _HIDDEN}
# A long decimal character reference: html.unescape parses it with int(), which refuses more
# than 4,300 digits (a ValueError, not text). Past 7 digits (zeros dropped) it is beyond U+10FFFF.
_LONG_DECIMAL = re.compile(r"&#([0-9]{8,})")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class _Tag:
    name: str
    closing: bool
    self_closing: bool


def plain_text(text: str) -> str:
    """``text`` without markup; text that has none comes back with tidied whitespace only."""
    parts: list[str] = []
    for piece in _pieces(text):
        if isinstance(piece, str):
            parts.append(html.unescape(_LONG_DECIMAL.sub(_short_reference, piece)))
        elif piece.name in _BREAKS and not (piece.closing and piece.name in ("br", "li")):
            parts.append("\n- " if piece.name == "li" and not piece.closing else "\n")
    joined = "".join(parts).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in joined.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _short_reference(reference: re.Match[str]) -> str:
    digits = reference.group(1).lstrip("0") or "0"
    return "&#1114112" if len(digits) > 7 else f"&#{digits}"  # 0x110000: U+FFFD, as unescape does


def _pieces(text: str) -> Iterator[str | _Tag]:
    """Runs of text and the tags between them; hidden content and comments left out."""
    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            yield text[position:]
            return
        yield text[position:start]
        if text.startswith("<!--", start):
            end = text.find("-->", start + 4)
            if end < 0:
                return  # an unclosed comment hides the rest, as in a browser
            position = end + 3
            continue
        tag = _TAG.match(text, start)
        if tag is None:
            declaration = _DECLARATION.match(text, start)
            if declaration is None:
                yield "<"  # "a < b" is text
                position = start + 1
            else:
                position = declaration.end()
            continue
        found = _Tag(tag.group(2).lower(), tag.group(1) == "/", tag.group(0).endswith("/>"))
        yield found
        position = tag.end()
        if found.name in _HIDDEN and not found.closing and not found.self_closing:
            end_tag = _HIDDEN_END[found.name].search(text, position)
            if end_tag is None:
                return  # never closed: the rest is script, not text
            position = end_tag.end()


def has_tag(text: str) -> bool:
    """Whether ``text`` still holds a tag, a declaration or a comment opening."""
    return _LEFT_OVER.search(text) is not None


def strip_tags(text: str) -> str:
    """``text`` with every tag, declaration and comment opening removed, in one pass."""
    return _LEFT_OVER.sub("", text)
