"""Steps 2 and 6 of a pass: measure the allowance, then write and read the pages.

Step 2 measures this pass's Statuspage allowance before any request
(``core.pacing``); a process's first pass then reads each page's unresolved
list whole, before anything is written, and no page of it again that pass. Later
passes read the next page of each list (``core.sweep``) for human edits and
duplicates: before the first write to an incident already on that page
(``before_update``: a person's edit there is seen before a write could undo it;
a read that fails holds the write), else in step 6, after the alerts were
written, with what the allowance has left. Creates never wait behind a read:
a burst of new incidents spends the whole allowance on them. Then each page's
components follow the worst of its open alerts. A key with nothing left reads
on the next pass.
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
        # Connectors whose list page this pass has read (``before_update``), and those reads.
        self._swept: set[str] = set()
        self._reads: PageReads = {}

    def read(self, session: Session, p: PassState, *, pace: bool) -> PageReads:
        """Step 2: this pass's allowance, then the whole list of a page no sweep has read yet.

        Measured before any Statuspage request of this pass: a page read on a
        spent budget would wait out the window and stall the pass. A process's
        first pass reads each page's list whole before writing (a restored
        database catches up from it, ``sync.page_evidence``).
        """
        self._pace(p, pace)
        spent = self._spent(p.pacer)
        p.paced |= spent  # their reads wait for the next pass
        whole = self._check(session, p, spent, whole=True)
        # A list read whole this pass is not read again, before an update or after.
        self._swept, self._reads = {connector for connector, _page in whole}, {}
        return whole

    def before_update(self, session: Session, p: PassState, connector: str) -> bool:
        """Read the connector's list page before this pass first updates an incident there.

        Once a pass, with allowance left (a spent key's write waits anyway).
        Returns whether a person's edit was found: the caller plans again.
        """
        if connector in self._swept or connector in p.paced | self.down(p):
            return False
        if not self._room(p, connector):
            return False
        self._swept.add(connector)
        before = p.report.outcomes["human_override"]
        others = set(self.statuspage) - {connector}
        self._reads.update(self._check(session, p, others, whole=False))
        return p.report.outcomes["human_override"] > before

    def write(self, session: Session, p: PassState, first: PageReads) -> None:
        """Step 6: a page of each list with the allowance left, components, duplicates.

        The list first: a person's resolve it shows releases the components this pass.
        """
        if shutdown.stop_requested():
            return
        left = {name for name in self.statuspage if not self._room(p, name)}
        p.paced |= left
        skip = left | self.down(p) | self._swept
        reads = {**first, **self._reads, **self._check(session, p, skip, whole=False)}
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
