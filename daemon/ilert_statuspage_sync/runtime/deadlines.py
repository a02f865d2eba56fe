"""How long a Statuspage write can take, end to end: one place for every part that relies on it.

A write's intent is recorded (on the database's clock) right before the request
goes out. The writer sends it only if that was at most ``WRITE_START_WINDOW``
ago; the HTTP client then gives up after ``CONNECT_TIMEOUT`` to connect and
``ANSWER_DEADLINE`` for the complete answer. So ``WRITE_DEADLINE`` after its
intent was recorded a write can no longer be in flight, and only then may
another process reconcile that intent (``core.intents``).
"""

from __future__ import annotations

__all__ = [
    "ANSWER_DEADLINE",
    "CONNECT_TIMEOUT",
    "WRITE_DEADLINE",
    "WRITE_MARGIN",
    "WRITE_START_WINDOW",
]

CONNECT_TIMEOUT = 5.0  # seconds to open the connection
ANSWER_DEADLINE = 30.0  # seconds for the complete answer, however slowly it trickles
WRITE_START_WINDOW = 5.0  # a write not sent within this of its intent is not sent at all
WRITE_MARGIN = 5.0  # slack for scheduling and the database round trips around the write

WRITE_DEADLINE = WRITE_START_WINDOW + CONNECT_TIMEOUT + ANSWER_DEADLINE + WRITE_MARGIN
