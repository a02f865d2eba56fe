"""Comment markup to plain text: tags stripped, entities decoded, whitespace tidied.

iLert's log-entry ``text`` may carry markup (public dashboards request an
undocumented ``include=textPlain``, which is not in the OpenAPI spec, so the
daemon does not build on it). Statuspage shows bodies as text, so a tag would
be published literally. The standard library's ``html.parser`` does the work:
block elements and ``<br>`` become line breaks, everything else its text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["plain_text"]

_BREAKS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
)
_HIDDEN = frozenset({"script", "style"})
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BREAKS and tag not in ("br", "li"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def plain_text(text: str) -> str:
    """``text`` without markup; text that has none comes back with tidied whitespace only."""
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    joined = "".join(parser.parts).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in joined.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
