"""Characters a reader never sees: one table for the public text and for the key mask.

Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties, Unicode 15.1: the
combining grapheme joiner, variation selectors, Hangul fillers, the tag block and
its reserved neighbours) together with every format character (category Cf, which
adds the Arabic number signs and the Egyptian hieroglyph controls). A text with one
of them inside a word renders as the word without it, so a redaction pattern, the
comment marker or a key piece must be looked for with them dropped. U+2800 BRAILLE
PATTERN BLANK is neither, but it renders as a blank: it counts as a space.

Spelt out: deriving the set would walk 1.1 million code points at every start.
"""

from __future__ import annotations

import re

__all__ = ["BLANKS", "INVISIBLE", "INVISIBLE_RE"]

_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

INVISIBLE = frozenset(chr(code) for low, high in _RANGES for code in range(low, high + 1))
INVISIBLE_RE = re.compile(
    "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _RANGES) + "]"
)
# Characters that render as a blank without being a Unicode space.
BLANKS = frozenset({"\u2800"})
