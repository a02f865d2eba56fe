"""What the state database can hold, and text cleaned so that it can be held.

Every vendor value that reaches a column is checked against these limits when
it is parsed, so a write is never sent for an alert whose outcome cannot then
be committed. The numbers mirror ``store/tables.py`` (a unit test keeps them
equal): ``BigInteger`` is a signed 64-bit integer, a plain ``Integer`` is 32-bit
on PostgreSQL, ``String(n)`` holds n characters.

Text is user input. PostgreSQL refuses NUL in text, a lone surrogate (what
``"\\udcff"`` in JSON decodes to) cannot be encoded as UTF-8 at all, and other
control characters garble a public page. ``clean_text`` keeps what a reader
sees and drops what would break a write: it is applied to everything that is
stored or published.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = [
    "EARLIEST_TIME",
    "ERROR_LENGTH",
    "ID_MAX",
    "INCIDENT_ID_LENGTH",
    "INDEX_MAX",
    "LATEST_TIME",
    "SUMMARY_LENGTH",
    "TOKEN_LENGTH",
    "USER_ID_LENGTH",
    "clean_text",
]

ID_MAX = 2**63 - 1  # BigInteger ids: alert, escalation policy, log entry
INDEX_MAX = 2**31 - 1  # Integer on PostgreSQL: nextEscalationRuleIndex
TOKEN_LENGTH = 32  # String(32): alert status and priority
SUMMARY_LENGTH = 255  # String(255): links.alert_summary
ERROR_LENGTH = 1000  # String(1000): links.last_error, transitions.reason
INCIDENT_ID_LENGTH = 64  # String(64): a Statuspage incident id
USER_ID_LENGTH = 64  # a responder id kept as text in a JSON list; iLert's are numbers
# One day inside datetime's range: a value at the edge overflows when a
# database session in another time zone reads it back.
EARLIEST_TIME = datetime(1, 1, 2, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 30, tzinfo=UTC)

# C0 controls but tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as valid UTF-8 without NUL or control characters (tab and newlines stay).

    A lone surrogate becomes U+FFFD, the replacement character, so the reader
    still sees that something was there; control characters are dropped.
    """
    if text.isprintable():
        return text  # the common case, without building a new string
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))
