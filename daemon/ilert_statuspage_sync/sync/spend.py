"""The Statuspage keys' rolling windows, shared through the state database.

A budget lives in one process's memory; the vendor's window does not. At a
pass's start each key's budget counts what other processes (the service before
a restart, a ``sync`` from cron, a second replica's last pass) sent within the
window, so this process waits for their requests to leave it instead of
overspending; at the pass's end the pass's own requests are stored (a dry run
stores nothing) and rows no window holds any more are dropped. Two processes
running passes at the very same moment can still overlap: the vendor's 420/429
is then a wait (``clients.http``), never an outage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.http import RateBudget
from ilert_statuspage_sync.store.rate_spend import forget_before, record_spend, spent_since

__all__ = ["SharedWindows"]


class SharedWindows:
    """Loads and stores the spend of every key whose budget is named (``key_id``)."""

    def __init__(self, budgets: Iterable[RateBudget], *, store: bool) -> None:
        unique = {id(budget): budget for budget in budgets}
        self.budgets = [budget for budget in unique.values() if budget.key_id is not None]
        self.store = store

    def load(self, session: Session) -> None:
        """Count the other processes' requests still in each key's window."""
        for budget in self.budgets:
            assert budget.key_id is not None
            now = budget.wall_now()
            since = now - budget.window - budget.margin
            # Another host's clock a little ahead counts as now; a window ahead is a jump.
            until = now + budget.window
            budget.absorb(spent_since(session, budget.key_id, since, until, budget.owner))

    def save(self, session: Session, commit: Callable[[Session], None]) -> None:
        """Store this process's requests since the last save, and ``commit``.

        A commit that fails leaves them unsaved: the next pass stores them.
        """
        if self.store:
            self._add(session)
        try:
            commit(session)
        except BaseException:
            for budget in self.budgets:
                budget.not_saved()
            raise

    def _add(self, session: Session) -> None:
        for budget in self.budgets:
            assert budget.key_id is not None
            record_spend(session, budget.key_id, budget.owner, budget.unsaved())
            now = budget.wall_now()
            before = now - 2 * (budget.window + budget.margin)
            forget_before(session, budget.key_id, before, now + budget.window)
