"""Whose a recorded write intent is, and whether that write may still be on its way.

Every intent carries a stamp: the process (instance, leadership epoch) that
recorded it, when (the database's clock, shared by every replica), and how long
its write can take at most. An intent of another process is only reconciled
once that time has passed: before, its request may still land, and acting on it
(a second create, say) would duplicate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Writer", "in_flight_until", "stamp"]


@dataclass(frozen=True)
class Writer:
    """This process as the author of intents."""

    instance: str
    epoch: int | None = None
    # True where the database admits one process at a time (SQLite's flock): an
    # intent of another process means that process is gone, so is its request.
    sole: bool = True


def stamp(writer: Writer, recorded_at: datetime, in_flight_s: float) -> dict[str, Any]:
    """The intent fields saying who recorded it, when, and for how long its write may fly."""
    return {
        "writer": {"instance": writer.instance, "epoch": writer.epoch},
        "recorded_at": recorded_at.isoformat(),
        "in_flight_s": in_flight_s,
    }


def in_flight_until(intent: Mapping[str, Any], me: Writer, *, fallback_s: float) -> datetime | None:
    """Until when (database clock) another process's write of ``intent`` may still land.

    None when it cannot be in flight: our own intent (this process waited for
    its write's answer), or any intent on a single-process database. An intent
    without a stamp (an older version) counts from its ``sent_at`` with
    ``fallback_s``.
    """
    if me.sole:
        return None
    writer = intent.get("writer")
    if isinstance(writer, Mapping) and writer.get("instance") == me.instance:
        return None
    recorded = intent.get("recorded_at") or intent.get("sent_at")
    if not isinstance(recorded, str):
        return None
    try:
        start = datetime.fromisoformat(recorded)
    except ValueError:
        return None
    seconds = intent.get("in_flight_s")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        seconds = fallback_s
    return start + timedelta(seconds=float(seconds))
