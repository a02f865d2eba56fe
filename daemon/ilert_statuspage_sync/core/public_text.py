"""Text on its way to a public page: bounded first, then plain, normalised, redacted, clipped.

Every vendor text (an alert's summary and details, a comment) is cut to
``VENDOR_TEXT_LIMIT`` characters where it is read, before anything parses,
converts or renders it: 10 MB of anything then costs what 100,000 characters
cost. The bound is four times the largest field Statuspage takes (a body of
25,000), so a text whose markup or template wrapping shrinks it is still
published whole when it fits.

Two steps, each one function for every field:

- ``vendor_plain``: what a template sees of a vendor text (the alert's summary
  and details, a comment): normalised, markup turned into plain text
  (``core.markup``, linear), normalised again.
- ``publishable``: the last step of every published name and body (created
  text, comments, status texts, storm lines): normalised, cleaned, redacted,
  the daemon's own keys masked, clipped to the field's limit.

Normalised means NFKC with the format characters (Unicode category Cf:
zero-width spaces and joiners, soft hyphens, bidi controls, tag characters)
dropped, so a redaction pattern or the comment marker matches what a reader
sees, not ``db\\u200b-99`` that looks like ``db-99``. The normalised text is
the one published: what was checked is what is shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ilert_statuspage_sync.core.markup import plain_text
from ilert_statuspage_sync.core.storable import clean_text
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = [
    "REDACTED",
    "VENDOR_TEXT_LIMIT",
    "bounded",
    "clip",
    "normalised",
    "publishable",
    "redact",
    "vendor_plain",
]

VENDOR_TEXT_LIMIT = 100_000  # 4 x Statuspage's body limit of 25,000
REDACTED = "[redacted]"
TRUNCATED = " [truncated]"

# Unicode category Cf (Unicode 15; a unit test checks it against the running Python's
# unicodedata). Spelt out: deriving it would walk 1.1 million code points at every start.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029]")


def bounded(text: str) -> str:
    """``text`` cut to ``VENDOR_TEXT_LIMIT`` characters: no later step sees more."""
    return text if len(text) <= VENDOR_TEXT_LIMIT else text[:VENDOR_TEXT_LIMIT]


def normalised(text: str) -> str:
    """``text`` in NFKC without format characters (zero-width, bidi, soft hyphen, tags).

    NFKC can expand a character (up to 18 for U+FDFA), so the result is bounded again.
    """
    if text.isascii():
        return text  # ASCII has no format character and is its own NFKC
    return _FORMAT.sub("", bounded(unicodedata.normalize("NFKC", _FORMAT.sub("", text))))


def vendor_plain(text: str) -> str:
    """A vendor text as templates and the comment policy see it: bounded, plain, normalised.

    Normalised before the markup goes too (fullwidth ``\\uff1cb\\uff1e`` is ``<b>`` in NFKC) and
    again after it (an entity can spell a zero-width space).
    """
    return normalised(plain_text(normalised(bounded(text))))


def publishable(
    text: str, limit: int, patterns: Sequence[re.Pattern[str]], *, one_line: bool = False
) -> str:
    """``text`` as it may go out: normalised, cleaned, redacted, keys masked, clipped to ``limit``.

    ``one_line`` (an incident name) turns every line break into a space and trims the ends.
    The daemon's own keys are masked here (``scrub``), before the clip: an alert
    quoting one must not publish it, the text sent is within its limit, and the
    audit records exactly that text.
    """
    text = clean_text(normalised(text))
    if one_line:
        text = _LINE_BREAKS.sub(" ", text).strip()
    return clip(scrub(redact(text, patterns)), limit)


def redact(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """Every match of every pattern replaced by ``[redacted]``."""
    for pattern in patterns:
        text = pattern.sub(REDACTED, text)
    return text


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so at the end."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED
