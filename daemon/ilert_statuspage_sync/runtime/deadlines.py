"""How long a Statuspage write can take, end to end: one place for every part that relies on it.

A write's intent is recorded (on the database's clock) right before the request
goes out. The writer sends it only if that was at most ``WRITE_START_WINDOW``
ago; the HTTP client then gives up after ``CONNECT_TIMEOUT`` to connect and
``ANSWER_DEADLINE`` for the complete answer. So ``WRITE_DEADLINE`` after its
intent was recorded a write can no longer be in flight, and only then may
another process reconcile that intent (``core.intents``).

Test seam: ``ILERT_SYNC_TEST_DEADLINE_SCALE=F`` (0 < F < 1) shrinks every part
alike, so the sum still bounds a write's flight time and a process test that
waits a write out runs the same logic in a fraction of the time.
"""

from __future__ import annotations

import os

__all__ = [
    "ANSWER_DEADLINE",
    "CONNECT_TIMEOUT",
    "DEADLINE_SCALE_ENV",
    "WRITE_DEADLINE",
    "WRITE_MARGIN",
    "WRITE_START_WINDOW",
]

DEADLINE_SCALE_ENV = "ILERT_SYNC_TEST_DEADLINE_SCALE"


def _scale() -> float:
    try:
        value = float(os.environ.get(DEADLINE_SCALE_ENV, "1"))
    except ValueError:
        return 1.0
    return value if 0 < value < 1 else 1.0


_SCALE = _scale()
CONNECT_TIMEOUT = 5.0 * _SCALE  # seconds to open the connection
ANSWER_DEADLINE = 30.0 * _SCALE  # seconds for the complete answer, however slowly it trickles
WRITE_START_WINDOW = 5.0 * _SCALE  # a write not sent within this of its intent is not sent at all
WRITE_MARGIN = 5.0 * _SCALE  # slack for scheduling and the database round trips around the write

WRITE_DEADLINE = WRITE_START_WINDOW + CONNECT_TIMEOUT + ANSWER_DEADLINE + WRITE_MARGIN
