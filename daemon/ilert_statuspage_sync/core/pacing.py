"""How much Statuspage work one pass starts, so a long burst spans passes.

A pass that sent every write of a burst would run as long as the burst (550
writes at 1 a second: over nine minutes), and iLert would not be read again
until it ended: a change made meanwhile would wait for the whole burst. So a
pass starts no more Statuspage requests per API key than the key's budget can
send within one poll interval (its *allowance*); the alerts after that wait
for the next pass, which lists iLert anew and starts at once when this one
overran its slot. The allowance is what the window frees, so the burst still
runs at the vendor's limit: pacing moves writes between passes, it never
lowers their rate.

The shell measures both numbers on the budget (``RateBudget.free_within`` and
``granted``); this module decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["WritePacer", "interval_share"]

# The vendors' windows are a minute; a budget's window stands for one (compressed in benches).
MINUTE = 60.0


def interval_share(poll_interval: float) -> float:
    """One poll interval as a share of the vendors' one-minute window."""
    return max(poll_interval, 0.0) / MINUTE


@dataclass
class WritePacer:
    """Per budget (API key, by its id): the requests this pass may start.

    Connectors sharing a key share its budget and so its allowance. An alert
    starts only while its budget's count is below the allowance; an alert
    already started finishes (its writes are one story, and they wait on the
    budget, never go over the vendor's limit). ``paced``: the budgets spent.
    """

    allowance: Mapping[int, int]
    paced: set[int] = field(default_factory=set)

    def spent(self, budget: int) -> bool:
        """Whether ``budget`` has no room at all this pass (not even for a read)."""
        if self.allowance.get(budget, 0) > 0:
            return False
        self.paced.add(budget)
        return True

    def may_start(self, budget: int, started: int) -> bool:
        """Whether an alert using ``budget`` starts now, ``started`` requests into the pass."""
        if started < self.allowance.get(budget, 0):
            return True
        self.paced.add(budget)
        return False
