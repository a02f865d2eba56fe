"""Which alerts get their timeline read this pass, when the budget is short.

Reading an alert's timeline costs one iLert request, and comments are only
visible there. When there are more open alerts than requests in one pass's
budget, the checks are spread fairly: alerts whose snapshot changed (or that
have unfinished work) are always checked, the rest in order of the oldest
check first. So an unchanged alert waits at most ``ceil(n / per_pass)`` passes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Candidate",
    "CheckFacts",
    "Checks",
    "checks_per_pass",
    "choose_checks",
    "must_check",
    "timelines_to_read",
    "worst_case_passes",
]

_NEVER = datetime.min.replace(tzinfo=UTC)


# Slotted: one of each per open alert while a pass chooses (no dict each).
@dataclass(frozen=True, slots=True)
class Candidate:
    """An alert this pass could read the timeline of."""

    alert_id: int
    must: bool
    last_checked_at: datetime | None


def choose_checks(candidates: Sequence[Candidate], per_pass: int) -> list[int]:
    """Alert ids to check now: every ``must``, then the longest-unchecked up to ``per_pass``."""
    checked = {c.alert_id: c.last_checked_at for c in candidates}
    return _choose(checked, {c.alert_id for c in candidates if c.must}, per_pass)


def _choose(checked: Mapping[int, datetime | None], must: Set[int], per_pass: int) -> list[int]:
    """``choose_checks`` over each candidate's last check (in order) and the musts among them."""
    chosen = [alert_id for alert_id in checked if alert_id in must]
    room = max(per_pass - len(chosen), 0)
    # The few oldest of many (every open alert competes): no sort of them all.
    rest = heapq.nsmallest(
        room,
        (alert_id for alert_id in checked if alert_id not in must),
        key=lambda alert_id: (checked[alert_id] or _NEVER, alert_id),
    )
    return chosen + rest


def checks_per_pass(requests_per_minute: int, poll_interval: float, reserved: int) -> int:
    """Timeline reads that fit one pass after ``reserved`` requests for the lists."""
    return max(int(requests_per_minute * poll_interval / 60) - reserved, 1)


def worst_case_passes(open_alerts: int, per_pass: int) -> int:
    """How many passes an unchanged alert may wait for its timeline to be read."""
    return max(math.ceil(open_alerts / max(per_pass, 1)), 1)


@dataclass(frozen=True, slots=True)
class CheckFacts:
    """One work item's facts for the choice (an alert may be mirrored by several actions)."""

    alert_id: int
    withheld: bool  # kept off the page with no write pending: synced without a read
    must: bool
    last_checked_at: datetime | None


@dataclass(frozen=True)
class Checks:
    """The timelines read this pass, and the alerts that competed for a read."""

    selected: list[int]
    candidates: frozenset[int]


def must_check(*, mirrored: bool, reading: bool, pending: bool, failures: int) -> bool:
    """Whether an alert's timeline is read whatever the budget (before its snapshot's diff).

    Never mirrored, a long read under way, a write to settle or a failure to retry.
    """
    return not mirrored or reading or pending or failures > 0


def timelines_to_read(facts: Iterable[CheckFacts], per_pass: int) -> Checks:
    """Merge each alert's facts across actions, then choose within ``per_pass``.

    An alert is a must when any of its items is, and competes with its oldest
    check; an alert every item of which is withheld takes no budget and is
    always in the selection. One another action publishes competes as any
    other: its read is that action's, and would otherwise cost one each pass.
    """
    # Each candidate's oldest check, and the musts: no object per alert (every open one competes).
    checked: dict[int, datetime | None] = {}
    must: set[int] = set()
    withheld: set[int] = set()
    for fact in facts:
        alert_id, last = fact.alert_id, fact.last_checked_at
        if fact.withheld:
            withheld.add(alert_id)
            continue
        if fact.must:
            must.add(alert_id)
        if alert_id in checked:
            previous = checked[alert_id]
            if previous and (last is None or previous < last):
                last = previous
        checked[alert_id] = last
    chosen = _choose(checked, must, per_pass)
    chosen += sorted(withheld - checked.keys())
    return Checks(chosen, frozenset(checked))
