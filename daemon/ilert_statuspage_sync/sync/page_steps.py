"""Steps 2 and 6 of a pass: measure the allowance, then write and read the pages.

Step 2 measures this pass's Statuspage allowance before any request
(``core.pacing``); a process's first pass then reads each page's unresolved
list whole, before anything is written. Step 6, after the alerts were written:
each page with mirrored incidents has the next page of its unresolved list read
(``core.sweep``) with what the allowance has left, for human edits and
duplicates; then each page's components follow the worst of its open alerts.
A key whose allowance the last pass spent (a burst) reads after the writes, so
the burst's writes never wait behind them; any other reads its page in step 2,
before writing, so a person's edit there is seen before a write could undo it.
A key with nothing left reads on the next pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.core.pacing import WritePacer, interval_share
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.sync.components import ComponentSync
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.pass_state import PassState
from ilert_statuspage_sync.sync.unresolved import DuplicateHealer, PageReads

__all__ = ["PageSteps"]


class PageSteps:
    """What a pass reads from and writes to the pages besides each alert's incident."""

    def __init__(
        self,
        config: Config,
        statuspage: Mapping[str, StatuspageClient],
        *,
        healer: DuplicateHealer,
        components: ComponentSync,
        connector_health: Mapping[str, ServiceHealth],
    ) -> None:
        self.config, self.statuspage = config, statuspage
        self.healer, self.components = healer, components
        self.connector_health = connector_health
        # Connectors whose allowance the last pass spent (a burst): their page reads
        # come after the writes. The others read before writing, so a person's edit
        # on that page is seen before a write could overwrite it.
        self.pressed: set[str] = set()
        self._early: set[str] = set()

    def read(self, session: Session, p: PassState, *, pace: bool) -> PageReads:
        """Step 2: this pass's allowance, then the whole list of a page no sweep has read yet.

        Measured before any Statuspage request of this pass: a page read on a
        spent budget would wait out the window and stall the pass. A process's
        first pass reads each page's list whole before writing (a restored
        database catches up from it, ``sync.page_evidence``); later passes
        read the sweep's next page here, before the writes, unless the last pass
        spent the key (then after them, in ``write``).
        """
        self._pace(p, pace)
        spent = self._spent(p.pacer)
        p.paced |= spent  # their reads wait for the next pass
        late = spent | self.pressed
        early = self._check(session, p, late, whole=False)
        self._early = set(self.statuspage) - late - self.down(p)
        return {**early, **self._check(session, p, spent, whole=True)}

    def write(self, session: Session, p: PassState, first: PageReads) -> None:
        """Step 6: a page of each list with the allowance left, components, duplicates.

        The list first: a person's resolve it shows releases the components this pass.
        """
        if shutdown.stop_requested():
            return
        left = {name for name in self.statuspage if not self._room(p, name)}
        p.paced |= left
        skip = left | self.down(p) | self._early
        reads = {**first, **self._check(session, p, skip, whole=False)}
        self.pressed = set(p.paced)
        self._sync_components(session, p)
        healed = self.healer.heal(session, p.now, self.down(p), reads)
        if healed:
            p.report.writes += healed
            p.report.outcomes["duplicate_resolved"] += healed

    def _check(self, session: Session, p: PassState, skip: set[str], *, whole: bool) -> PageReads:
        """Read the lists (whole, or a page of each), then mark what a person changed."""
        reads = self.healer.read(session, p.now, skip=skip, whole=whole)
        for connector, error in self.healer.unreachable.items():
            p.mark_down(self.connector_health[connector], error)
        for connector, _page in reads:
            self.connector_health[connector].succeeded(p.now)
            p.answered.add(connector)
        edited = self.healer.edits(session, p.now, reads)
        if edited:
            p.report.outcomes["human_override"] += edited
        return reads

    def _room(self, p: PassState, connector: str) -> bool:
        """Whether the connector's key has allowance left for a read (always, unpaced)."""
        if p.pacer is None:
            return True
        budget = self.statuspage[connector].http.budget
        return p.pacer.may_start(id(budget), budget.granted - p.started.get(id(budget), 0))

    def down(self, p: PassState) -> set[str]:
        """The connectors found down in this pass."""
        return {c for c, h in self.connector_health.items() if h.name in p.down}

    def _sync_components(self, session: Session, p: PassState) -> None:
        """Each page's components to the worst of its open alerts (sync.components)."""
        if shutdown.stop_requested():
            return
        done = self.components.sync(session, p.now, self.down(p), p.wrote)
        p.report.writes += done.writes
        p.report.failed_items += done.failed
        p.report.deferred_items += done.deferred
        p.report.outcomes.update(done.outcomes)
        for connector, error in done.down.items():
            p.mark_down(self.connector_health[connector], error)

    def _pace(self, p: PassState, pace: bool) -> None:
        """This pass's Statuspage allowance per budget, and each budget's count at its start."""
        budgets = {id(c.http.budget): c.http.budget for c in self.statuspage.values()}
        p.started = {key: budget.granted for key, budget in budgets.items()}
        if not pace:
            return
        share = interval_share(self.config.poll_interval)
        p.pacer = WritePacer({key: budget.free_within(share) for key, budget in budgets.items()})

    def _spent(self, pacer: WritePacer | None) -> set[str]:
        """Connectors whose budget has no room this pass (pacing only)."""
        if pacer is None:
            return set()
        return {name for name, c in self.statuspage.items() if pacer.spent(id(c.http.budget))}
