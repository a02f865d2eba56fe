"""A value that holds an API key and never shows it, and the mask for key text anywhere.

It lives at the bottom of the layers, not in ``config``: the config reader makes
them, the HTTP layer reveals them into a header, and neither should need the
other's package to carry one.

``scrub`` is the one mask every text leaving the process passes (log lines,
CLI output, stored reasons and errors, vendor error messages): any piece of 8
or more characters of a registered key is masked, found after the text is
normalised the way a reader, ``clean_text`` or a JSON decoder would see it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from ilert_statuspage_sync.runtime.ignorable import BLANKS, INVISIBLE

__all__ = ["MASK", "Secret", "register_secrets", "scrub"]


class Secret:
    """An API key that cannot leak through repr, str, f-strings or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself: only the HTTP layer calls this, to build a header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Known key values, as the pieces ``scrub`` looks for: piece length -> pieces of
# the keys' skeletons (see ``_skeleton``). A key of 8+ characters gives every
# 8-character piece; a shorter one (4 to 7) only itself, whole.
PIECE = 8
MASK = "********"
_pieces: dict[int, set[str]] = {}
# A text's ASCII characters that never count: controls, space and DEL. They may
# sit inside a key (a NUL or a line break a vendor or ``clean_text`` later removes).
_ASCII_GAPS = dict.fromkeys((*range(0x21), 0x7F))
_UNSEEN = INVISIBLE | BLANKS


def register_secrets(values: Iterable[str]) -> None:
    """Remember key values so ``scrub`` masks any piece of them wherever they turn up."""
    global _pieces
    pieces = {length: set(known) for length, known in _pieces.items()}
    for value in values:
        skeleton = _skeleton(value)[0]
        if len(skeleton) < 4:
            continue  # not a key anyone could mean; masking it would garble every line
        length = min(len(skeleton), PIECE)
        found = pieces.setdefault(length, set())
        found.update(skeleton[i : i + length] for i in range(len(skeleton) - length + 1))
    # One assignment: a thread scrubbing a log line meanwhile sees the old pieces or the new.
    _pieces = pieces


def scrub(text: str) -> str:
    """``text`` with every run of a known key of 8+ characters (a short key: whole) masked.

    The runs are found on the text's skeleton (``_skeleton``): a key split by a
    NUL, a zero-width space or a line break, or echoed in another case, is
    still found, and its whole stretch of the original text is masked.
    Linear in the text: one set look-up per position and piece length.
    """
    if not _pieces or not text:
        return text
    skeleton, where = _skeleton(text)
    spans = _merged(_found(skeleton))
    if not spans:
        return text
    out: list[str] = []
    done = 0
    for start, end in spans:  # skeleton positions -> the original text's
        out += [text[done : where[start]], MASK]
        done = where[end - 1] + 1
    out.append(text[done:])
    return "".join(out)


def _found(skeleton: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for length, pieces in list(_pieces.items()):
        spans += [
            (i, i + length)
            for i in range(len(skeleton) - length + 1)
            if skeleton[i : i + length] in pieces
        ]
    return sorted(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:  # overlapping: one run of a key
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _skeleton(text: str) -> tuple[str, Sequence[int]]:
    """What a reader would take ``text`` to say, and where each of its characters came from.

    Dropped: control, format (zero-width, bidi), surrogate, unassigned and
    private-use characters, every other default-ignorable one (variation
    selectors, Hangul fillers: ``runtime.ignorable``), and every kind of space,
    blank and line break. Each
    character is compatibility-normalised (NFKC: a full-width letter is the letter)
    and lower-cased: keys are case-sensitive, but a key echoed in upper case
    still gives most of it away (all of a hexadecimal one).
    """
    if text.isascii():
        if text.isprintable() and " " not in text:
            return text.lower(), range(len(text))
        kept = [i for i, char in enumerate(text) if " " < char < "\x7f"]
        return text.translate(_ASCII_GAPS).lower(), kept
    chars: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        if unicodedata.category(char)[0] in "CZ" or char in _UNSEEN:
            continue
        folded = unicodedata.normalize("NFKC", char).lower()
        if not _UNSEEN.isdisjoint(folded):  # U+FFA0 folds to a filler
            folded = "".join(c for c in folded if c not in _UNSEEN)
        chars.append(folded)
        where += [i] * len(folded)
    return "".join(chars), where
