"""Which alerts get their timeline read this pass, when the budget is short.

Reading an alert's timeline costs one iLert request, and comments are only
visible there. When there are more open alerts than requests in one pass's
budget, the checks are spread fairly: alerts whose snapshot changed (or that
have unfinished work) are always checked, the rest in order of the oldest
check first. So an unchanged alert waits at most ``ceil(n / per_pass)`` passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Candidate", "checks_per_pass", "choose_checks", "worst_case_passes"]

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """An alert this pass could read the timeline of."""

    alert_id: int
    must: bool
    last_checked_at: datetime | None


def choose_checks(candidates: Sequence[Candidate], per_pass: int) -> list[int]:
    """Alert ids to check now: every ``must``, then the longest-unchecked up to ``per_pass``."""
    must = [c.alert_id for c in candidates if c.must]
    rest = sorted(
        (c for c in candidates if not c.must),
        key=lambda c: (c.last_checked_at or _NEVER, c.alert_id),
    )
    room = max(per_pass - len(must), 0)
    return must + [c.alert_id for c in rest[:room]]


def checks_per_pass(requests_per_minute: int, poll_interval: float, reserved: int) -> int:
    """Timeline reads that fit one pass after ``reserved`` requests for the lists."""
    return max(int(requests_per_minute * poll_interval / 60) - reserved, 1)


def worst_case_passes(open_alerts: int, per_pass: int) -> int:
    """How many passes an unchanged alert may wait for its timeline to be read."""
    return max(math.ceil(open_alerts / max(per_pass, 1)), 1)
