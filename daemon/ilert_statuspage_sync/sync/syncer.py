"""One poll-and-apply pass: read iLert, read the pages, decide, write, keep the books.

The pass, step by step (``Syncer.run_pass`` makes one call per step):

1. Read iLert (``sync.ilert_read``). Its open alerts reported since the
   automatic actions' activation, as many pages as the budget allows, resuming
   next pass (``core.listing``); iLert's time (its ``Date`` header, see
   ``core.clock``) is this pass's time for cursors and activation, never the
   local clock. Every incident action gets its state row (an action's first
   sight is its activation time); on an empty database the links are first
   rebuilt from Statuspage (``sync.relink``). Then every alert reported since the
   last pass minus an overlap window (catches alerts created and resolved
   between two polls, and those reported while the daemon was down); only the
   resolved ones when the listing read all. A window longer than its share of
   the budget is resumed next pass (``core.listing.ReportedWindow``), the poll
   cursor waiting for it to end.
2. Measure this pass's Statuspage allowance (``sync.page_steps``,
   ``core.pacing``) before any Statuspage request. A process's first pass
   reads each page's unresolved list whole here, before any write: a restored
   database catches up from it, a person's edits are respected at once.
3. Decide (``sync.work_items``). Per action, the alerts it mirrors
   (``core.alert_selection``): automatic actions take alerts reported after
   activation, manual ones only triggered alerts; tracked alerts that left the
   open set are read by id to learn how they ended, and, while the listing
   cycle spans passes, mirrored alerts this pass did not list, within a
   quarter of the budget, the longest unread first (``core.refresh``). New
   links are stored.
   Then whose timelines are read (``core.timeline_checks``): every alert with
   a changed snapshot or unfinished work, then the longest-unchecked ones,
   within what is left of the iLert budget. An unlisted alert whose snapshot
   was decided on with nothing to do, its link unchanged since, is no work
   item: it only competes for a read (a quiet pass decides on what it listed).
4. Write, alert by alert, oldest first (``sync.alert_step``). Each item is
   admitted or waits (``core.admission``): backed off, a service down, no
   timeline check, paced past the allowance, another process's write in
   flight. An admitted alert settles any interrupted write, reads new
   timeline entries (a timeline longer than a pass's budget is read on next
   pass), detects events and applies its plan (``core.alert_plan``; with
   ``group = "action"`` its action's shared incident, ``core.storm``). One
   refused alert is recorded with a growing retry delay (``core.backoff``)
   and never stops the others; a service that is down defers the rest of its
   work to the next pass (one log line per outage).
5. Bookkeeping (``sync.bookkeeping``): move each action's poll cursor to
   iLert's time at the first read of the pass whose "reported since" window
   just ended (kept while one is unfinished), and store what the pass learnt of
   the alerts that changed nothing in one batch.
6. The status bridges (``sync.bridges``): iLert's open incidents on the
   mapped services and its OPEN maintenance windows (one read each), the
   services at most once a minute; ``core.bridge`` decides, the one writer
   sends. Their statuses are holds on the components of step 7.
7. The pages (``sync.page_steps``): with what the allowance has left, the
   next page of 100 of each page's unresolved list is read (``core.sweep``: a
   quiet pass costs one list request at any number of open incidents): an
   incident whose status a person changed is no longer changed by the daemon
   (``core.human_edits``); each page's components follow the worst of its open
   alerts (``sync.components``); incidents that duplicate an alert's linked
   one are resolved (``sync.unresolved``). The cursor is stored again if a
   rollback took it.
8. Retention: prune a small batch of expired history (``core.retention``).

Only the links a pass can act on are read: the open ones and those of the
alerts in hand, by id; the closed history costs a pass nothing.

An interrupted write of another replica is settled only once it can no
longer land (``core.intents``); until then its alert waits, deferred.

The pass's state is a ``PassState`` made fresh each pass; what outlives a
pass is the ``Carryover``; a dry run's differences live in its ``Books``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.admission import Admission, Gate, admit
from ilert_statuspage_sync.core.attribution import attempt_order
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.errors import LeadershipLostError
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.store.held import build
from ilert_statuspage_sync.sync.alert_step import AlertStep
from ilert_statuspage_sync.sync.apply import Applier
from ilert_statuspage_sync.sync.bookkeeping import Bookkeeping
from ilert_statuspage_sync.sync.bridges import BridgeSync
from ilert_statuspage_sync.sync.components import ComponentSync
from ilert_statuspage_sync.sync.grouping import Grouping
from ilert_statuspage_sync.sync.ilert_read import IlertReader
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.page_steps import PageSteps
from ilert_statuspage_sync.sync.pass_state import Carryover, IlertRead, PassState, Work
from ilert_statuspage_sync.sync.persistence import books_for
from ilert_statuspage_sync.sync.report import PassReport
from ilert_statuspage_sync.sync.spend import SharedWindows
from ilert_statuspage_sync.sync.storm import PassShares
from ilert_statuspage_sync.sync.unresolved import DuplicateHealer
from ilert_statuspage_sync.sync.work_items import WorkItems, links_in_play, waiting

__all__ = ["PassReport", "Syncer", "utc_now"]

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


class Syncer:
    """Runs passes for one configuration."""

    def __init__(
        self,
        config: Config,
        sessions: sessionmaker[Session],
        ilert: IlertClient,
        statuspage: Mapping[str, StatuspageClient],
        *,
        clock: Callable[[], datetime] = utc_now,
        dry_run: bool = False,
        checkpoint: Callable[[str], None] | None = None,
        guard: Callable[[], bool] | None = None,
        writer: Writer | None = None,
        pace_writes: bool = False,
        one_shot: bool = False,
    ) -> None:
        self.config, self.sessions, self.ilert, self.statuspage = (
            config,
            sessions,
            ilert,
            statuspage,
        )
        self.clock, self.dry_run = clock, dry_run
        # Spread a burst of Statuspage writes over passes (core.pacing); the daemon does.
        self.pace_writes = pace_writes
        # Asked before every Statuspage write: is this process still the leader?
        self.guard = guard or (lambda: True)
        self.writer = writer or Writer(uuid.uuid4().hex)
        self.checkpoint = checkpoint or (lambda _name: None)
        self.connector_health = {name: ServiceHealth(f"statuspage:{name}") for name in statuspage}
        self.healer = DuplicateHealer(config, statuspage, self.guard, dry_run)
        self.components = ComponentSync(
            config,
            statuspage,
            guard=self.guard,
            writer=self.writer,
            dry_run=dry_run,
            checkpoint=lambda name: self.checkpoint(name),
        )
        self.bridges = BridgeSync(
            config,
            ilert,
            statuspage,
            guard=self.guard,
            writer=self.writer,
            dry_run=dry_run,
            checkpoint=lambda name: self.checkpoint(name),
        )
        self.components.bridge_holders = self.bridges.holders
        self._assemble(one_shot)

    @property
    def one_shot(self) -> bool:
        """A one-shot ``sync`` has no next pass to resume in (``IlertReader.one_shot``)."""
        return self.reader.one_shot

    @one_shot.setter
    def one_shot(self, value: bool) -> None:
        self.reader.one_shot = value

    def _assemble(self, one_shot: bool) -> None:
        """The pass's parts, sharing one ``Carryover`` and one ``Books``."""
        self.carry = Carryover()
        self.books = books_for(self.dry_run, self.config.poll_interval)
        self.reader = IlertReader(
            self.config,
            self.ilert,
            self.statuspage,
            books=self.books,
            carry=self.carry,
            one_shot=one_shot,
        )
        self.ilert_health = self.reader.health
        self.work_items = WorkItems(self.config, self.reader, self.carry, settles=not self.dry_run)
        self.bookkeeping = Bookkeeping(self.config, self.books, self.carry)
        self.grouping = Grouping(self.books)
        self.pages = PageSteps(
            self.config,
            self.statuspage,
            healer=self.healer,
            components=self.components,
            connector_health=self.connector_health,
        )
        self.step = AlertStep(
            self.config,
            reader=self.reader,
            books=self.books,
            bookkeeping=self.bookkeeping,
            grouping=self.grouping,
            carry=self.carry,
            connector_health=self.connector_health,
            pages=self.pages,
        )

    def run_pass(self) -> PassReport:
        """One pass over every incident action (the steps of the module docstring)."""
        started = time.monotonic()
        now = self.clock()
        p = PassState(now, PassReport(started_at=now))
        self.components.begin_pass()
        windows = SharedWindows(
            (client.http.budget for client in self.statuspage.values()), store=not self.dry_run
        )
        with self.sessions() as session:
            try:
                windows.load(session)  # what other processes sent in the keys' windows
                self._steps(session, p)
                windows.save(session, self.books.commit)  # kept for the next pass if it fails
            except LeadershipLostError as error:
                p.report.lost_leadership = True
                log.error("leadership_lost_mid_pass", error=str(error))
        p.report.duration = time.monotonic() - started
        self._log_finished(p.report)
        return p.report

    def _steps(self, session: Session, p: PassState) -> None:
        """The pass's steps, one call each."""
        read = self.reader.read(session, p)  # 1. read iLert
        if read is None:
            return
        p.report.alerts_seen = len(read.alerts)
        # 2. measure the allowance (a dry run paces nothing); a first pass reads lists whole
        first = self.pages.read(session, p, pace=self.pace_writes and self.books.paces)
        work, selected = self._decide(session, p, read)  # 3. decide
        appliers = self._write_alerts(session, p, work, selected)  # 4. write
        self._keep_books(session, p, read, appliers)  # 5. bookkeeping
        self._bridge(session, p)  # 6. the status bridges
        self.pages.write(session, p, first)  # 7. a page of each list, components, duplicates
        self._store_cursors(session, read)
        self.bookkeeping.prune(session, p)  # 8. retention

    def _decide(
        self, session: Session, p: PassState, read: IlertRead
    ) -> tuple[list[Work], set[int]]:
        """Step 3: the work items (new links stored) and the timelines read this pass."""
        links = links_in_play(session, read.alerts)
        self.work_items.plan_refreshes(p, read.alerts, links)
        work = [
            item
            for action in self.config.incident_actions
            for item in self.work_items.of_action(
                p, action, read.states[action.name], read.alerts, links.get(action.name, {})
            )
        ]
        work = self.books.track(session, work)  # new links are tracked even if this pass stops
        selected = self.work_items.timeline_checks(p, work)
        work += self.work_items.settled_work(p, selected)
        for item in work:
            p.links.setdefault(item.action.name, []).append(item.held)
        carry = self.carry
        # Kept for the items still tracked; looked up one by one, not a set of all of them.
        tracked = itertools.chain(
            ((item.action.name, item.alert.id) for item in work),
            ((action.name, held.facts.alert_id) for action, held in p.each_settled()),
        )
        filtered = carry.filtered
        carry.filtered = {k: filtered[k] for k in tracked if k in filtered} if filtered else {}
        # Every action gets a view (read only at first use): an alert that joined a shared
        # incident keeps its share after its action switched back to group = "alert".
        p.shares = {a.name: PassShares(session, a.name) for a in self.config.incident_actions}
        self.work_items.carry_over(p, work)
        return _built(session, work, selected), selected

    def _write_alerts(
        self, session: Session, p: PassState, work: list[Work], selected: set[int]
    ) -> dict[str, Applier]:
        """Step 4: each admitted alert's step (``core.admission``); failing ones go last."""
        actions = self.config.incident_actions
        appliers = {action.name: self._applier(session, p, action) for action in actions}
        for item in sorted(work, key=_attempt_order):
            applier = appliers[item.action.name]
            admission = admit(self._gate(p, item, applier, selected))
            if admission is Admission.SYNC:
                self.step.run(session, p, applier, item)
                if item.action.name in p.shares:
                    p.shares[item.action.name].settled(item.link)
            elif admission is Admission.WAITING_CHECK:
                p.report.waiting_checks += 1
            elif admission is Admission.PACED:
                p.report.paced_items += 1  # the next pass, with iLert read anew
                p.paced.add(item.action.connector)
            else:  # deferred, or another process's write may still land
                p.report.deferred_items += 1
        self.step.settle_suspects(session, p)
        return appliers

    def _gate(self, p: PassState, item: Work, applier: Applier, selected: set[int]) -> Gate:
        """The facts one item's admission is decided on."""
        connector = item.action.connector
        services = {self.ilert_health.name, self.connector_health[connector].name}
        budget = self.statuspage[connector].http.budget
        pacer = p.pacer
        return Gate(
            waiting=waiting(item.held, p.now, self.config.poll_interval),
            service_down=bool(services & p.down),
            # After SIGTERM the remaining alerts wait for the next start, as in an outage.
            stopping=shutdown.stop_requested(),
            selected=item.alert.id in selected,
            may_start=lambda: (
                connector not in p.throttled
                and (
                    pacer is None
                    or pacer.may_start(id(budget), budget.granted - p.started[id(budget)])
                )
            ),
            in_flight=lambda: applier.in_flight(item.link),
        )

    def _keep_books(
        self, session: Session, p: PassState, read: IlertRead, appliers: Mapping[str, Applier]
    ) -> None:
        """Step 5: the cursors and the batched bookkeeping, in one commit.

        Committed with the cursor before the components: they follow which
        alerts are open, which a quiet alert's bookkeeping may just have
        changed, and a page's error there rolls the session back.
        """
        for state in read.states.values():
            state.last_poll_at = read.cursor or state.last_poll_at

        def record(session: Session, item: Work, error: Exception) -> None:
            self.step.record_error(session, p, appliers[item.action.name], item, [], error)

        self.bookkeeping.save_batched(session, p, record)

    def _bridge(self, session: Session, p: PassState) -> None:
        """Step 6: each status bridge's incidents and windows (``sync.bridges``)."""
        if not self.config.status_bridges:
            return
        down = {c for c, health in self.connector_health.items() if health.name in p.down}
        done = self.bridges.sync(session, p.now, down)
        p.report.writes += done.writes
        p.report.failed_items += done.failed
        p.report.deferred_items += done.deferred
        p.report.outcomes.update(done.outcomes)

    def _store_cursors(self, session: Session, read: IlertRead) -> None:
        """A rollback after the batch took the cursor: store it again."""
        cursor = read.cursor
        moved = [s for s in read.states.values() if cursor and s.last_poll_at != cursor]
        for state in moved:
            state.last_poll_at = cursor
        if moved or session.new or session.dirty or session.deleted:
            self.books.commit(session)

    def _applier(self, session: Session, p: PassState, action: IncidentAction) -> Applier:
        return Applier(
            session,
            action,
            self.statuspage[action.connector],
            p.now,
            self.dry_run,
            str(self.config.path or "the config file"),
            self.checkpoint,
            self.guard,
            writer=self.writer,
            components=self.components.of_action(session, action, p.now),
            siblings=self.grouping.siblings(p, session, action),
        )

    def _log_finished(self, report: PassReport) -> None:
        log.info(
            "pass_finished",
            ok=report.ok,
            alerts_seen=report.alerts_seen,
            writes=report.writes,
            failed_items=report.failed_items,
            deferred_items=report.deferred_items,
            waiting_checks=report.waiting_checks,
            paced_items=report.paced_items,
            outcomes=dict(report.outcomes),
            duration_s=round(report.duration, 3),
            dry_run=self.dry_run,
        )


def _built(session: Session, work: list[Work], selected: set[int]) -> list[Work]:
    """The items that may sync get their link objects, in one read; the rest none.

    A link deleted since its row was read (an untrigger) has nothing left to sync.
    """
    build(session, (item.held for item in work if item.alert.id in selected))
    return [item for item in work if item.held.built or item.alert.id not in selected]


def _attempt_order(item: Work) -> tuple[bool, datetime, int]:
    link = item.facts
    creating = (link.pending_call or {}).get("kind") == "create"
    return attempt_order(link.failures > 0, creating, item.alert.report_time, item.alert.id)
