"""Text on its way to a public page: bounded first, then plain, normalised, redacted, clipped.

Every vendor text (an alert's summary and details, a comment) is cut to
``VENDOR_TEXT_LIMIT`` characters where it is read, before anything parses,
converts or renders it: 10 MB of anything then costs what 100,000 characters
cost. The bound is four times the largest field Statuspage takes (a body of
25,000), so a text whose markup or template wrapping shrinks it is still
published whole when it fits.

Two steps, each one function for every field:

- ``vendor_plain``: what a template sees of a vendor text (the alert's summary
  and details, a comment): invisible characters dropped, markup turned into
  plain text (``core.markup``, linear; again until no tag is left, a bounded
  number of times, so ``<scr<b></b>ipt>`` or ``&lt;b&gt;`` leave no tag).
- ``publishable``: the last step of every published name and body (created
  text, comments, status texts, storm lines): invisible characters dropped,
  cleaned, redacted, the daemon's own keys masked, clipped to the field's limit.

Matching (redaction, the comment marker, filters) happens on the text's
normalised view: NFKC without the invisible characters (``runtime.ignorable``:
every default-ignorable and format character: zero-width spaces and joiners,
soft hyphens, bidi controls, variation selectors, Hangul fillers, tag
characters), so a pattern matches what a reader sees, not ``db\u200b-99`` that
looks like ``db-99``. What is published is the original characters, minus the
invisible ones: ``2\u2075 minutes`` stays ``2\u2075``, not ``25``. Each
match on the view is mapped back to the stretch of original characters it came
from, and that stretch is replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ilert_statuspage_sync.core.markup import has_tag, plain_text, strip_tags
from ilert_statuspage_sync.core.storable import clean_text
from ilert_statuspage_sync.runtime.ignorable import BLANKS, INVISIBLE, INVISIBLE_RE
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = [
    "REDACTED",
    "VENDOR_TEXT_LIMIT",
    "bounded",
    "clip",
    "normalised",
    "publishable",
    "redact",
    "replace_matches",
    "vendor_plain",
    "visible",
]

VENDOR_TEXT_LIMIT = 100_000  # 4 x Statuspage's body limit of 25,000
REDACTED = "[redacted]"
TRUNCATED = " [truncated]"
_MARKUP_ROUNDS = 3
_BLANK_SPACES = dict.fromkeys(map(ord, BLANKS), " ")

_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029]")


def bounded(text: str) -> str:
    """``text`` cut to ``VENDOR_TEXT_LIMIT`` characters: no later step sees more."""
    return text if len(text) <= VENDOR_TEXT_LIMIT else text[:VENDOR_TEXT_LIMIT]


def visible(text: str) -> str:
    """``text`` without the characters a reader never sees; a blank-rendering one is a space."""
    if text.isascii():
        return text  # ASCII has none
    return INVISIBLE_RE.sub("", text.translate(_BLANK_SPACES))


def normalised(text: str) -> str:
    """``text`` as matching sees it: NFKC, without invisible characters, bounded.

    NFKC can expand a character (up to 18 for U+FDFA), so the result is bounded again.
    """
    if text.isascii():
        return text  # ASCII is its own NFKC
    return visible(bounded(unicodedata.normalize("NFKC", visible(text))))


def vendor_plain(text: str) -> str:
    """A vendor text as templates and the comment policy see it: bounded, plain, visible.

    Invisible characters go before the markup (``<scr\u200bipt>``) and after it (an
    entity can spell one). The scanner runs again while a tag is left (``<scr<b></b>ipt>``
    reassembles into ``<script>``, ``&lt;b&gt;`` decodes into ``<b>``), a bounded number
    of times, and what is still left after that is stripped.
    """
    text = visible(bounded(text))
    for _ in range(_MARKUP_ROUNDS):
        text = visible(plain_text(text))
        if "<" not in text or not has_tag(text):
            return text
    return strip_tags(text)


def publishable(
    text: str, limit: int, patterns: Sequence[re.Pattern[str]], *, one_line: bool = False
) -> str:
    """``text`` as it may go out: visible, cleaned, redacted, keys masked, clipped to ``limit``.

    ``one_line`` (an incident name) turns every line break into a space and trims the ends.
    The daemon's own keys are masked here (``scrub``), before the clip: an alert
    quoting one must not publish it, the text sent is within its limit, and the
    audit records exactly that text.
    """
    text = clean_text(visible(text))
    if one_line:
        text = _LINE_BREAKS.sub(" ", text).strip()
    return clip(scrub(redact(text, patterns)), limit)


def redact(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """Every match of every pattern, on the normalised view, replaced by ``[redacted]``."""
    view = None
    for pattern in patterns:
        text, found = replace_matches(text, pattern, REDACTED, view)
        view = None if found else view or _view(text)  # a view is rebuilt only after a change
    return text


def replace_matches(
    text: str,
    pattern: re.Pattern[str],
    replacement: str,
    view: _View | None = None,
) -> tuple[str, int]:
    """``text`` with the original stretch of every non-empty match of ``pattern`` on its
    normalised view replaced, and how many stretches were replaced.

    Linear: one NFKC per run of a character and its combining marks, one search.
    """
    seen, starts, ends, covered = view or _view(text)
    text = text[:covered]  # NFKC expanded it past the bound: the rest is not published
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(seen):
        if match.end() > match.start():
            start, end = starts[match.start()], ends[match.end() - 1]
            if spans and start < spans[-1][1]:  # two matches in one run: one stretch
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
    if not spans:
        return text, 0
    out: list[str] = []
    done = 0
    for start, end in spans:
        out += [text[done:start], replacement]
        done = end
    out.append(text[done:])
    return "".join(out), len(spans)


_View = tuple[str, Sequence[int], Sequence[int], int]


def _view(text: str) -> _View:
    """The normalised view of ``text``; per view character, the original stretch
    [start, end) it came from; and how much of ``text`` the view covers.

    NFKC is taken per run of a starter and its combining marks, so a decomposed
    accent still composes. Text already in NFKC with nothing invisible (nearly all
    text) is its own view. NFKC can expand a character 18 times (U+FDFA): the view
    stops at ``VENDOR_TEXT_LIMIT`` characters, and the text past it is not covered.
    """
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text) and not INVISIBLE_RE.search(text)
    ):
        return text, range(len(text)), range(1, len(text) + 1), len(text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    run = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and unicodedata.combining(text[i]):
            continue
        folded = unicodedata.normalize("NFKC", text[run:i])
        chars.append(folded)
        starts += [run] * len(folded)
        ends += [i] * len(folded)
        run = i
        if len(starts) >= VENDOR_TEXT_LIMIT:
            break
    view = "".join(chars)
    if INVISIBLE_RE.search(view) is None:
        return view, starts, ends, run
    kept = [i for i, char in enumerate(view) if char not in INVISIBLE]
    view = "".join(view[i] for i in kept)
    return view, [starts[i] for i in kept], [ends[i] for i in kept], run


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so at the end."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED
