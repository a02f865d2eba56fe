"""One poll-and-apply pass: read iLert, diff, plan, apply, persist.

The pass, step by step:

1. Read iLert's open alerts reported since the automatic actions' activation,
   as many pages as the budget allows, resuming next pass (``core.listing``);
   iLert's time (its ``Date`` header, see ``core.clock``) is this pass's time
   for cursors and activation, never the local clock. Make sure every
   incident action has its state row (an action's first sight is its
   activation time); on an empty database first rebuild the links from
   Statuspage (``relink``).
2. Read every alert reported since the last pass minus an overlap window
   (catches alerts created and resolved between two polls, and those reported
   while the daemon was down); only the resolved ones when step 1 read all.
3. Per action, pick the alerts it mirrors: automatic actions take alerts
   reported after activation, manual ones only triggered alerts (read by id).
   Tracked alerts that left the open set (a whole listing cycle did not see
   them) are read one by one to learn how they ended.
4. Choose whose timelines to read: every alert with a changed snapshot or
   unfinished work, then the longest-unchecked ones, within what is left of
   the iLert budget (an alert listed earlier in a cycle that spans passes
   competes with its latest snapshot).
5. Per alert: settle any interrupted write, read new timeline entries (a
   timeline longer than a pass's budget is read on next pass), detect
   events, plan calls, apply them. The daemon's passes pace Statuspage work
   (``core.pacing``): past what a key's budget frees within one interval, the
   remaining alerts wait for the next pass, which reads iLert anew. One
   refused alert is recorded with a growing retry delay and never stops the
   others; a service that is down defers the rest of its work to the next
   pass (one log line per outage).
   Before step 5, each page with mirrored incidents is read once (its
   unresolved incidents): an incident whose status a person changed is no
   longer changed by the daemon (``core.human_edits``). With ``group =
   "action"`` an alert opens, joins or updates its action's shared incident
   (``core.storm``). Then each page's components follow the worst of its open
   alerts (``components_sync``).
6. Resolve incidents that duplicate an alert's linked one (``heal``), from the
   same read.
7. Store the bookkeeping of the alerts that changed nothing in one batch, and
   move each action's poll cursor to iLert's time at this pass's first read.
8. Prune a small batch of expired history (``core.retention``).

Only the links a pass can act on are read: the open ones and those of the
alerts in hand, by id; the closed history costs a pass nothing.

An interrupted write of another replica is settled only once it can no
longer land (``core.intents``); until then its alert waits, deferred.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from ilert_statuspage_sync.clients.ilert import PAGE_SIZE, IlertClient, OpenListing
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.clock import ACTIVATION_MARGIN, PLAUSIBLE_SKEW, due_at, ilert_time
from ilert_statuspage_sync.core.diff import detect_events, settled_mirror
from ilert_statuspage_sync.core.filters import Verdict, VerdictKind, screen_alert
from ilert_statuspage_sync.core.human_edits import respect
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.core.listing import OpenSetCycle, listing_pages
from ilert_statuspage_sync.core.model import Alert, AlertStatus, Event, LogEntry
from ilert_statuspage_sync.core.pacing import WritePacer, interval_share
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.core.plan import Plan, plan_calls
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments
from ilert_statuspage_sync.core.retention import PRUNE_BATCH, prune_cutoff
from ilert_statuspage_sync.core.storable import ERROR_LENGTH, clean_text
from ilert_statuspage_sync.core.storm import Target, TargetKind, share_plan, target_for
from ilert_statuspage_sync.core.timeline_checks import Candidate, checks_per_pass, choose_checks
from ilert_statuspage_sync.errors import (
    ApiError,
    DatabaseReplacedError,
    LeadershipLostError,
    PayloadError,
    PermanentApiError,
    SyncError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.runtime.logs import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import ActionState, Link
from ilert_statuspage_sync.sync.apply import Applier
from ilert_statuspage_sync.sync.components import ComponentSync
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.pages import DuplicateHealer
from ilert_statuspage_sync.sync.relink import rebuild_links
from ilert_statuspage_sync.sync.storm import PassShares

__all__ = ["OVERLAP", "PassReport", "Syncer", "describe_error", "retry_delay"]

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=1)


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


def describe_error(error: BaseException) -> str:
    """One clean line for a log and a column: no secrets, no SQL, no control characters."""
    if isinstance(error, SyncError):
        text = str(error)
    else:
        # Database errors append the statement and its parameters on later lines.
        lines = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return clean_text(scrub(text))[:ERROR_LENGTH] or type(error).__name__


def _rollback(session: Session, *, only_failed: bool = False) -> None:
    """Roll back (when ``only_failed``, only a transaction a failed flush broke); never raise."""
    if only_failed and session.is_active:
        return
    try:
        session.rollback()
    except SQLAlchemyError as error:
        log.error("rollback_failed", error=describe_error(error))


def retry_delay(failures: int, poll_interval: float) -> timedelta:
    """How long a refused item waits: one interval, doubling, at most an hour."""
    doublings = min(max(failures - 1, 0), 32)  # past the cap anyway; keeps the number small
    return min(timedelta(seconds=poll_interval * 2**doublings), MAX_RETRY_DELAY)


@dataclass
class PassReport:
    """What one pass did, for the exit code, the canonical log line and metrics."""

    started_at: datetime
    ilert_ok: bool = True
    alerts_seen: int = 0
    writes: int = 0
    failed_items: int = 0
    deferred_items: int = 0
    waiting_checks: int = 0
    # Alerts left for the next pass because this one spent its Statuspage allowance (pacing).
    paced_items: int = 0
    lost_leadership: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when iLert was read and every item synced (none failing or waiting to retry)."""
        return (
            self.ilert_ok
            and self.failed_items == 0
            and self.deferred_items == 0
            and not self.lost_leadership
        )


@dataclass
class _PartialTimeline:
    """A timeline read cut short by its page budget: resumed next pass (in memory)."""

    after: int | None  # the mirror's last entry id it was read against
    next_start: int
    entries: dict[int, LogEntry]


@dataclass
class _Work:
    """One alert as one incident action mirrors it, in this pass."""

    action: IncidentAction
    link: Link
    alert: Alert


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
        self.config = config
        # A one-shot ``sync`` has no next pass to resume in (the listing's and a long
        # timeline's resume points live in memory): it reads the whole open set and
        # whole timelines, waiting on the budget as its writes do.
        self.one_shot = one_shot
        # Spread a burst of Statuspage writes over passes (core.pacing); the daemon does.
        self.pace_writes = pace_writes
        # Asked before every Statuspage write: is this process still the leader?
        self.guard = guard or (lambda: True)
        self.writer = writer or Writer(uuid.uuid4().hex)
        self.sessions = sessions
        self.ilert = ilert
        self.statuspage = statuspage
        self.clock = clock
        self.dry_run = dry_run
        self.checkpoint = checkpoint or (lambda _name: None)
        self.ilert_health = ServiceHealth("ilert")
        self.connector_health = {name: ServiceHealth(f"statuspage:{name}") for name in statuspage}
        self._entries: dict[int, list[LogEntry] | None] = {}
        # Timelines too long for one pass's budget, resumed where they stopped.
        self._timelines: dict[int, _PartialTimeline] = {}
        self._by_id: dict[int, Alert | None] = {}
        self._read_errors: dict[int, Exception] = {}
        self._ilert_calls = 0
        # Names of services found down in this pass: their remaining work waits for the next.
        self._down: set[str] = set()
        # A dry run stores nothing, so it remembers its own activation times.
        self._dry_activation: dict[str, datetime] = {}
        self.healer = DuplicateHealer(config, statuspage, self.guard, dry_run)
        self.components = ComponentSync(
            config,
            statuspage,
            guard=self.guard,
            writer=self.writer,
            dry_run=dry_run,
            checkpoint=lambda name: self.checkpoint(name),
        )
        # iLert's time at this pass's first read (see core.clock).
        self._ilert_now: datetime | None = None
        # Where the open-set listing resumes; in memory, a restart lists from the start.
        self._cycle = OpenSetCycle()
        # This pass's links per action (a dry run's new ones live only here).
        self._pass_links: dict[str, list[Link]] = {}
        # Where this pass's "reported since" listing starts, and iLert's Date at its first read.
        self._since: datetime | None = None
        self._ilert_date: datetime | None = None
        # Bookkeeping of alerts that changed nothing, by link id: written in one batch.
        self._batched: dict[int, tuple[_Work, dict[str, object]]] = {}
        # The filter reason audited per (action, alert) still tracked: not looked up again.
        self._filtered: dict[tuple[str, int], str] = {}
        # group = "action": each action's shares, read at first use in a pass (storm_shares).
        self._shares: dict[str, PassShares] = {}
        # Mirrored alerts whose timelines the last pass could read (the listing leaves room).
        self._checkable = 0
        # Open mirrored alerts as last listed (a listing cycle longer than a pass).
        self._snapshots: dict[int, Alert] = {}

    def run_pass(self) -> PassReport:
        """One pass over every incident action."""
        started = time.monotonic()
        now = self.clock()
        report = PassReport(started_at=now)
        self._entries, self._by_id, self._ilert_calls, self._down = {}, {}, 0, set()
        self._read_errors = {}
        self.components.begin_pass()
        self._since, self._ilert_date, self._batched = None, None, {}
        self._paced: set[str] = set()
        self._pacing: tuple[WritePacer | None, dict[int, int]] = (None, {})
        with self.sessions() as session:
            try:
                read = self._read_ilert(session, report, now)
                if read is not None:
                    states, alerts, ilert_now = read
                    report.alerts_seen = len(alerts)
                    # Measured before any Statuspage request of this pass: a page read
                    # on a spent budget would wait out the window and stall the pass.
                    self._pacing = self._pacer()
                    spent = self._spent(self._pacing[0])
                    self._paced |= spent  # their duplicate check waits for the next pass
                    # One unresolved list per page with mirrored incidents, for both checks.
                    reads = self.healer.read(session, now, skip=spent)
                    for connector, error in self.healer.unreachable.items():
                        self._mark_down(self.connector_health[connector], error, now)
                    for connector, _page in reads:
                        self.connector_health[connector].succeeded(now)
                    edited = self.healer.edits(session, now, reads)
                    if edited:
                        report.outcomes["human_override"] += edited
                    appliers = self._sync_all(session, states, alerts, now, report)
                    for state in states.values():
                        state.last_poll_at = ilert_now
                    # Committed with the cursor before the components: they follow which
                    # alerts are open, which a quiet alert's bookkeeping may just have
                    # changed, and a page's error there rolls the session back.
                    self._save_batched(session, appliers, report)
                    self._sync_components(session, now, report)
                    down = {c for c, h in self.connector_health.items() if h.name in self._down}
                    down |= self._paced  # their budget is spent: the next pass heals
                    healed = self.healer.heal(session, now, down, reads)
                    if healed:
                        report.writes += healed
                        report.outcomes["duplicate_resolved"] += healed
                    # A rollback after the batch took the cursor: store it again.
                    moved = [s for s in states.values() if s.last_poll_at != ilert_now]
                    for state in moved:
                        state.last_poll_at = ilert_now
                    if moved or session.new or session.dirty or session.deleted:
                        self._commit(session)
                    self._prune(session, now)
            except LeadershipLostError as error:
                report.lost_leadership = True
                log.error("leadership_lost_mid_pass", error=str(error))
        report.duration = time.monotonic() - started
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
        return report

    def _sync_components(self, session: Session, now: datetime, report: PassReport) -> None:
        """Each page's components to the worst of its open alerts (components_sync)."""
        if shutdown.stop_requested():
            return
        down = {c for c, h in self.connector_health.items() if h.name in self._down}
        done = self.components.sync(session, now, down)
        report.writes += done.writes
        report.failed_items += done.failed
        report.deferred_items += done.deferred
        report.outcomes.update(done.outcomes)
        for connector, error in done.down.items():
            self._mark_down(self.connector_health[connector], error, now)

    def _action_states(
        self, session: Session, known: dict[str, ActionState], ilert_now: datetime, now: datetime
    ) -> dict[str, ActionState]:
        # Fetched before anything is stored: a rebuild cut short is tried again next pass.
        rebuilt = (
            rebuild_links(self.config, self.ilert, self.statuspage, now)
            if not self.dry_run and not known and repo.is_empty(session)
            else []
        )
        names = [a.name for a in self.config.incident_actions]
        states = repo.action_states(session, names, ilert_now - ACTIVATION_MARGIN, known=known)
        session.add_all(rebuilt)
        if self.dry_run:
            for name, state in states.items():
                if state.last_poll_at is None:
                    state.activated_at = self._dry_activation.setdefault(name, state.activated_at)
        if session.new or self.dry_run:  # a known action's state is stored at the pass's end
            self._commit(session)
        return states

    def _commit(self, session: Session) -> None:
        if self.dry_run:
            session.flush()
        else:
            session.commit()

    def _read_ilert(
        self, session: Session, report: PassReport, now: datetime
    ) -> tuple[dict[str, ActionState], dict[int, Alert], datetime] | None:
        if not self.config.incident_actions:
            # No incident action: nothing to read (no sources would mean every alert).
            return {}, {}, now
        # Manual actions read their triggered alerts by id: only automatic ones list.
        auto = [action for action in self.config.incident_actions if not action.manual]
        sources = {s for action in auto for s in action.alert_sources}
        try:
            known = repo.action_states(session, [], now)
            listing = self._list_open(known, auto, sources)
            opened = [alert for alert in map(self._parse, listing.items) if alert is not None]
            ilert_now = self._pass_time(known, opened, now)
            try:
                states = self._action_states(session, known, ilert_now, now)
            except (ApiError, PayloadError) as error:
                self._rebuild_failed(session, error, report)
                return None
            cursors = [state.last_poll_at or state.activated_at for state in states.values()]
            since = self._since = min(cursors) - OVERLAP
            # A whole open set in hand: the newly reported ones still to learn are the resolved.
            whole = listing.ended and self._cycle.start == 0
            recent = (
                self.ilert.list_alerts(
                    sources=sources, states=("RESOLVED",) if whole else (), since=since
                )
                if sources
                else []
            )
        except TransientApiError as error:
            report.ilert_ok = False
            self.ilert_health.failed(error, now)
            return None
        except (ApiError, PayloadError) as error:
            report.ilert_ok = False
            log.error("ilert_read_failed", error=scrub(str(error)))
            return None
        self.ilert_health.succeeded(now)
        if listing.stalled:
            report.ilert_ok = False  # the pass syncs what it read; the next one lists anew
            log.error("ilert_listing_stalled", error=scrub(listing.stalled))
        ids = (alert.id for alert in opened)
        self._cycle.record(ids, next_start=listing.next_start, ended=listing.ended)
        self._ilert_calls += listing.pages + (1 + len(recent) // PAGE_SIZE if sources else 0)
        alerts = {alert.id: alert for alert in opened}
        for item in recent:
            alert = self._parse(item)
            if alert is not None:
                alerts[alert.id] = alert
        return states, alerts, ilert_now

    def _list_open(
        self, known: Mapping[str, ActionState], auto: Sequence[IncidentAction], sources: set[int]
    ) -> OpenListing:
        """This pass's share of the open set, from the cycle's resume point (core.listing).

        Listed from the earliest activation less a margin, so alerts reported
        before it are never fetched; an action seen for the first time lists all.
        """
        if not sources:
            return OpenListing(ended=True)
        activations = [known[a.name].activated_at if a.name in known else None for a in auto]
        floor = None if None in activations else min(filter(None, activations))
        since = floor - ACTIVATION_MARGIN if floor else None
        start = self._cycle.resume((frozenset(sources), since))
        pages = (
            None
            if self.one_shot
            else listing_pages(
                self.config.ilert.requests_per_minute, self.config.poll_interval, self._checkable
            )
        )
        return self.ilert.list_open_alerts(
            sources=sources, since=since, start=start, max_pages=pages
        )

    def _pass_time(
        self, known: Mapping[str, ActionState], opened: list[Alert], now: datetime
    ) -> datetime:
        """iLert's time at this pass's first read (core.clock); the local clock is a last resort."""
        polled = [state.last_poll_at for state in known.values() if state.last_poll_at]
        header = self._ilert_date = self.ilert.server_time()
        found = ilert_time(
            header, (a.report_time for a in opened), max(polled, default=None), local=now
        )
        if header is not None and found != header:
            log.warning(
                "ilert_date_implausible",
                date=header.isoformat(),
                reason=f"more than {PLAUSIBLE_SKEW} from this machine's clock; not used",
            )
        if found is None:
            log.warning(
                "ilert_time_unknown",
                reason="iLert sent no Date header and no timestamp is known yet",
                using="the local clock for this pass",
            )
            found = now
        self._ilert_now = found
        return found

    def _rebuild_failed(self, session: Session, error: Exception, report: PassReport) -> None:
        session.rollback()
        report.failed_items += 1
        log.error(
            "state_rebuild_failed",
            error=scrub(str(error))[:500],
            action="nothing stored; the next pass tries the rebuild again",
        )

    def _parse(self, item: object) -> Alert | None:
        try:
            return parse_alert(item)
        except PayloadError as error:
            alert_id = item.get("id") if isinstance(item, dict) else None
            if alert_id is not None and not isinstance(alert_id, int):
                alert_id = repr(alert_id)[:40]  # whatever it is, one short line
            log.warning("alert_unreadable", alert_id=alert_id, error=str(error)[:500])
            return None

    def _sync_all(
        self,
        session: Session,
        states: Mapping[str, ActionState],
        alerts: Mapping[int, Alert],
        now: datetime,
        report: PassReport,
    ) -> dict[str, Applier]:
        links = self._links_in_play(session, alerts)
        work = [
            item
            for action in self.config.incident_actions
            for item in self._work_of(
                action, states[action.name], alerts, links.get(action.name, {}), now, report
            )
        ]
        work = self._track(session, work)  # new links are tracked even if this pass stops
        self._pass_links = {}
        for item in work:
            self._pass_links.setdefault(item.action.name, []).append(item.link)
        tracked = {(item.action.name, item.alert.id) for item in work}
        self._filtered = {k: v for k, v in self._filtered.items() if k in tracked}
        # Every action gets a view (read only at first use): an alert that joined a shared
        # incident keeps its share after its action switched back to group = "alert".
        self._shares = {
            action.name: PassShares(session, action.name) for action in self.config.incident_actions
        }
        # The latest snapshot of each open alert, for passes that do not list it: one on
        # the page, or one still to publish (paced, held, retried) that would otherwise
        # wait for the cycle to list its page again.
        self._snapshots = {item.alert.id: item.alert for item in work if item.link.is_open}
        selected = set(self._timeline_checks(work, now))
        appliers = {
            action.name: self._applier(session, action, now)
            for action in self.config.incident_actions
        }
        pacer, started = self._pacing
        for item in sorted(work, key=lambda w: (w.alert.report_time, w.alert.id)):
            link = item.link
            waiting = self._waiting(link, now)
            connector = item.action.connector
            services = {self.ilert_health.name, self.connector_health[connector].name}
            budget = self.statuspage[connector].http.budget
            # After SIGTERM the remaining alerts wait for the next start, as in an outage.
            if waiting or services & self._down or shutdown.stop_requested():
                report.deferred_items += 1
            elif item.alert.id not in selected:
                report.waiting_checks += 1
            elif pacer and not pacer.may_start(id(budget), budget.granted - started[id(budget)]):
                report.paced_items += 1  # the next pass, with iLert read anew
                self._paced.add(connector)
            elif appliers[item.action.name].in_flight(link):
                report.deferred_items += 1  # another process's write may still land
            else:
                self._sync_alert(session, appliers[item.action.name], item, report)
                if item.action.name in self._shares:
                    self._shares[item.action.name].settled(link)
        return appliers

    @staticmethod
    def _links_in_play(session: Session, alerts: Mapping[int, Alert]) -> dict[str, dict[int, Link]]:
        """The links this pass can touch, by action and alert id: never the closed history.

        The open links, and those of the alerts in hand, looked up by id (a
        closed link of an alert listed again must be found, not duplicated).
        """
        found = repo.open_links(session)
        listed = {link.alert_id for link in found}
        found += repo.links_of_alerts(session, (a for a in alerts if a not in listed))
        links: dict[str, dict[int, Link]] = {}
        for link in found:
            links.setdefault(link.incident_action, {})[link.alert_id] = link
        return links

    def _pacer(self) -> tuple[WritePacer | None, dict[int, int]]:
        """This pass's Statuspage allowance per budget, and each budget's count at its start."""
        budgets = {id(c.http.budget): c.http.budget for c in self.statuspage.values()}
        started = {key: budget.granted for key, budget in budgets.items()}
        if not self.pace_writes or self.dry_run:
            return None, started
        share = interval_share(self.config.poll_interval)
        allowance = {key: budget.free_within(share) for key, budget in budgets.items()}
        return WritePacer(allowance), started

    def _spent(self, pacer: WritePacer | None) -> set[str]:
        """Connectors whose budget has no room this pass (pacing only)."""
        if pacer is None:
            return set()
        return {name for name, c in self.statuspage.items() if pacer.spent(id(c.http.budget))}

    def _track(self, session: Session, work: list[_Work]) -> list[_Work]:
        """Commit the new links; if the database refuses, keep each one it accepts."""
        if self.dry_run:
            self._commit(session)
            return work
        session.add_all(item.link for item in work if sa.inspect(item.link).transient)
        try:
            session.commit()
            return work
        except SQLAlchemyError as error:
            session.rollback()
            log.warning("links_store_failed", error=describe_error(error))
        kept = []
        for item in work:
            if sa.inspect(item.link).transient:
                session.add(item.link)
                try:
                    session.commit()
                except SQLAlchemyError as error:
                    session.rollback()
                    where = {"alert_id": item.alert.id, "incident_action": item.action.name}
                    log.error("alert_unstorable", **where, error=describe_error(error))
                    continue
            kept.append(item)
        return kept

    def _applier(self, session: Session, action: IncidentAction, now: datetime) -> Applier:
        return Applier(
            session,
            action,
            self.statuspage[action.connector],
            now,
            self.dry_run,
            str(self.config.path or "the config file"),
            self.checkpoint,
            self.guard,
            writer=self.writer,
            components=self.components.of_action(session, action, now),
            siblings=self._siblings(session, action),
        )

    def _siblings(self, session: Session, action: IncidentAction) -> Callable[[Link], None]:
        def share(link: Link) -> None:
            if not _grouped(action, link):
                return
            view = self._shares[action.name]
            if not self.dry_run and view.holds(link):
                return  # every link of the incident holds it already: no statement
            repo.share_incident(session, link, self._unstored(action))
            view.shared(link)

        return share

    def _storm_target(self, item: _Work) -> Target | None:
        """group = "action": where the alert goes (``core.storm``); None for one per alert."""
        if not _grouped(item.action, item.link):
            return None
        shares = self._shares[item.action.name].of(item.link, self._unstored(item.action))
        return target_for(item.alert.id, shares)

    def _unstored(self, action: IncidentAction) -> list[Link]:
        """A dry run's new links of this pass: never added to the session, seen all the same."""
        if not self.dry_run:
            return []
        return [
            link for link in self._pass_links.get(action.name, ()) if sa.inspect(link).transient
        ]

    def _work_of(
        self,
        action: IncidentAction,
        state: ActionState,
        alerts: Mapping[int, Alert],
        links: Mapping[int, Link],
        now: datetime,
        report: PassReport,
    ) -> list[_Work]:
        work = []
        for alert in self._chosen(action, state, alerts, links, now, report).values():
            link = links.get(alert.id)
            if link is None:
                # Added by _track, one by one if the database refuses one of them.
                link = repo.new_link(action.name, alert.id, action.page_id, now)
            work.append(_Work(action, link, alert))
        return work

    def _chosen(
        self,
        action: IncidentAction,
        state: ActionState,
        alerts: Mapping[int, Alert],
        links: Mapping[int, Link],
        now: datetime,
        report: PassReport,
    ) -> dict[int, Alert]:
        chosen: dict[int, Alert] = {}
        for alert in alerts.values():
            if alert.source_id not in action.alert_sources:
                continue
            link = links.get(alert.id)
            if action.manual:
                if link is not None and link.triggered_at is not None:
                    chosen[alert.id] = alert
            elif link is not None or alert.report_time >= state.activated_at:
                chosen[alert.id] = alert
        for alert_id, link in links.items():
            wanted = link.is_open and (not action.manual or link.triggered_at is not None)
            if not wanted or alert_id in chosen:
                continue
            if not action.manual and self._cycle.may_be_open(alert_id):
                # Unread this cycle, or listed open earlier in it: not closed. Listed
                # earlier, its latest snapshot stays a candidate for a timeline read,
                # so reads are spread over all open alerts, not this pass's pages only.
                if alert_id in self._snapshots:
                    chosen[alert_id] = self._snapshots[alert_id]
                continue
            if self._waiting(link, now):
                report.deferred_items += 1
                continue
            found = self._alert_by_id(alert_id, now)
            # A triggered id may belong to a source this action does not cover.
            if found is not None and found.source_id in action.alert_sources:
                chosen[alert_id] = found
            elif self._unreadable(action, link, found, now):
                report.failed_items += 1
        return chosen

    def _unreadable(
        self, action: IncidentAction, link: Link, found: Alert | None, now: datetime
    ) -> bool:
        """A tracked id iLert will not give this action (404, or another source's alert).

        A manual trigger nothing was published for yet is a failing item: it is
        asked again after a doubling delay (at most an hour), ``status`` shows
        why, and ``untrigger`` ends it. A link whose incident is on the page (or
        any automatic one) has no such way out, so it does not fail the passes
        for good: it is read each pass as before, but ``alert_read_failed`` is
        logged once per new reason (kept in ``last_error``, which ``status``
        shows). True when the item failed (not when iLert was merely down).
        """
        error = self._read_errors.get(link.alert_id)
        if found is not None:
            message = (
                f"alert {link.alert_id} belongs to alert source {found.source_id}, "
                f"not one of {action.name}'s alert_sources"
            )
        elif error is not None:
            message = describe_error(error)
        else:
            return False  # iLert is down this pass: no one's fault, no back-off
        where = {"alert_id": link.alert_id, "incident_action": action.name}
        if not action.manual or link.statuspage_incident_id is not None:
            message = clean_text(message)[:ERROR_LENGTH]
            if link.last_error != message:
                log.warning("alert_read_failed", **where, error=message, repeats="not logged")
                link.last_error = message
            return False
        message += f"; `untrigger {action.name} {link.alert_id}` cancels the trigger"
        link.failures += 1
        link.last_error = clean_text(message)[:ERROR_LENGTH]
        link.next_attempt_at = now + retry_delay(link.failures, self.config.poll_interval)
        log.warning(
            "alert_read_failed",
            **where,
            failures=link.failures,
            next_attempt_at=link.next_attempt_at.isoformat(),
            error=link.last_error,
        )
        return True

    def _waiting(self, link: Link, now: datetime) -> bool:
        """Whether a failed item still waits; a delay stored before a clock jump is clamped."""
        delay = retry_delay(link.failures, self.config.poll_interval)
        link.next_attempt_at = due_at(link.next_attempt_at, now, delay)
        return link.next_attempt_at is not None and link.next_attempt_at > now

    def _alert_by_id(self, alert_id: int, now: datetime) -> Alert | None:
        if alert_id in self._by_id:
            return self._by_id[alert_id]
        self._by_id[alert_id] = None
        if self.ilert_health.name in self._down:
            return None
        try:
            self._ilert_calls += 1
            self._by_id[alert_id] = parse_alert(self.ilert.get_alert(alert_id))
        except TransientApiError as error:
            self._mark_down(self.ilert_health, error, now)
        except (ApiError, PayloadError) as error:
            self._read_errors[alert_id] = error  # logged and backed off per link (_unreadable)
        return self._by_id[alert_id]

    def _timeline_checks(self, work: list[_Work], now: datetime) -> list[int]:
        candidates: dict[int, Candidate] = {}
        # Alerts kept off the page are synced without a timeline read: no budget for them.
        withheld: set[int] = set()
        for item in work:
            link, alert = item.link, item.alert
            if link.pending_call is None and not self._publishes(item, now):
                withheld.add(alert.id)
                continue
            mirror = repo.mirror_of(link)
            must = (
                mirror is None
                or alert.id in self._timelines  # a long timeline read goes on
                or link.pending_call is not None
                or link.failures > 0
                or bool(detect_events(mirror, alert, [], now=now))
            )
            previous = candidates.get(alert.id)
            checked = link.last_checked_at
            if previous is not None:
                must = must or previous.must
                if previous.last_checked_at and (
                    checked is None or previous.last_checked_at < checked
                ):
                    checked = previous.last_checked_at
            candidates[alert.id] = Candidate(alert.id, must, checked)
        # Every request this pass made so far is spent; the rest of its budget reads timelines.
        per_pass = checks_per_pass(
            self.config.ilert.requests_per_minute, self.config.poll_interval, self._ilert_calls
        )
        self._checkable = len(candidates)
        for gone in self._timelines.keys() - candidates.keys():
            del self._timelines[gone]  # no longer mirrored: forget its unfinished read
        return choose_checks(list(candidates.values()), per_pass) + sorted(withheld)

    @staticmethod
    def _publishes(item: _Work, now: datetime) -> bool:
        published = item.link.statuspage_incident_id is not None
        return screen_alert(item.alert, item.action.publish, now=now, published=published).publishes

    def _log_entries(self, alert_id: int, after: int | None) -> list[LogEntry] | None:
        """The timeline entries newer than ``after``; None while a long read is unfinished.

        One read takes at most a pass's iLert budget of pages; a longer timeline
        is read on over the next passes from where it stopped (no cap: only the
        client's non-progress guard ends a read).
        """
        if alert_id not in self._entries:
            partial = self._timelines.pop(alert_id, None)
            if partial is not None and partial.after != after:
                partial = None  # the mirror moved on meanwhile: read afresh
            read = self.ilert.read_timeline(
                alert_id,
                after=after,
                start=partial.next_start if partial else 0,
                max_pages=None if self.one_shot else max(int(self._per_pass()), 1),
            )
            self._ilert_calls += read.pages
            found = partial.entries if partial else {}
            found.update((entry.id, entry) for entry in read.entries)
            if read.next_start is not None:
                self._timelines[alert_id] = _PartialTimeline(after, read.next_start, found)
                self._entries[alert_id] = None
            else:
                self._entries[alert_id] = sorted(found.values(), key=lambda entry: entry.id)
        entries = self._entries[alert_id]
        if entries is None:
            return None
        return [entry for entry in entries if after is None or entry.id > after]

    def _per_pass(self) -> float:
        """One pass's iLert budget in requests."""
        return self.config.ilert.requests_per_minute * self.config.poll_interval / 60

    def _sync_alert(
        self, session: Session, applier: Applier, item: _Work, report: PassReport
    ) -> None:
        link, alert = item.link, item.alert
        events: list[str] = []
        try:
            if link.pending_call is not None and not self.dry_run:
                applier.reconcile(link)
            mirror = repo.mirror_of(link)
            policy = item.action.publish
            published = link.statuspage_incident_id is not None
            verdict = screen_alert(alert, policy, now=applier.now, published=published)
            if not verdict.publishes:
                self._withheld(session, applier, item, verdict)
                return
            if (target := self._storm_target(item)) and target.kind is TargetKind.WAIT:
                # Another alert's create may still land: opening a second incident would split it.
                report.deferred_items += 1
                log.info("storm_waits_for_incident", alert_id=alert.id, action=item.action.name)
                return
            # Audited otherwise from here: a later filter verdict is audited again.
            self._filtered.pop((item.action.name, alert.id), None)
            read = self._log_entries(alert.id, mirror.last_log_entry_id if mirror else None)
            if read is None and alert.status == AlertStatus.RESOLVED:
                # A resolve would close the link, and a closed link is not read again:
                # the rest of the timeline (its comments) would never reach the page.
                report.waiting_checks += 1
                return
            # Unfinished (a long timeline): the alert's state syncs now, its entries when read.
            entries = read or []
            # Only compared with other links' checks: iLert's time, immune to local jumps.
            checked_at = self._ilert_now or applier.now
            triggered = link.triggered_at is not None
            # iLert's time: an event with no timestamp of its own sorts among iLert's stamps.
            at = self._ilert_now or applier.now
            found = detect_events(mirror, alert, entries, now=at, triggered=triggered)
            found = screen_comments(found, policy)
            context = self._publish_context(item.action)

            first = [target]

            def planned(events: Sequence[Event]) -> Plan:
                # The target read above serves the first plan; a replan reads it again.
                target = first.pop() if first else self._storm_target(item)
                current = link.statuspage_status if link.statuspage_incident_id else None
                if target is not None and current is not None:
                    current = link.alert_status or current  # the alert's own share
                plan = plan_calls(
                    events,
                    alert,
                    lifecycle=self.config.lifecycle,
                    current_status=current,
                    refused=applier.refused_statuses(link.page_id),
                    statuses=policy.statuses,
                )
                page_status = link.statuspage_status
                if target is not None:
                    plan = share_plan(plan, target, current)
                    if target.human_override:
                        page_status = target.status
                if link.human_override or (target is not None and target.human_override):
                    plan = respect(plan, page_status)  # core.human_edits
                return publish_plan(plan, alert, policy, context)

            events = [str(event.kind) for event in found]  # audited even if rendering fails
            plan = planned(found)
            report.writes += applier.apply(link, plan, planned)
            if plan.calls:
                self.connector_health[item.action.connector].succeeded(applier.now)
            report.outcomes.update(applier.outcomes)
            # A refused request was recorded as failed once; it is not retried.
            report.failed_items += "failed" in applier.outcomes
            settled = repo.mirror_columns(settled_mirror(alert, entries, mirror))
            settled["last_checked_at"] = checked_at
            # The writes and audit rows are committed (apply, reconcile): the rest can wait.
            self._settle(session, item, settled, changed=bool(session.new or session.deleted))
        except (LeadershipLostError, DatabaseReplacedError, OperationalError):
            # OperationalError: the database as a whole failed (locked, full, read-only,
            # gone); the pass stops and its caller reports it in one line, no SQL shown.
            raise
        except Exception as error:  # noqa: BLE001 - one bad alert must not stop the pass
            self._record_error(session, applier, item, events, error, report)

    def _record_error(
        self,
        session: Session,
        applier: Applier,
        item: _Work,
        events: list[str],
        error: Exception,
        report: PassReport,
    ) -> None:
        """Roll back this alert's work and record why; even a refused record ends here.

        Names come from ``item``, never from the link: after a failed flush the
        link's attributes cannot be read until the session is rolled back.
        """
        where = {"alert_id": item.alert.id, "incident_action": item.action.name}
        self._filtered.pop((item.action.name, item.alert.id), None)
        try:
            if isinstance(error, TransientApiError):
                self._unreachable(session, item, error, report, applier.now)
                return
            if isinstance(error, PayloadError):
                log.warning("alert_unreadable", **where, error=describe_error(error))
            elif isinstance(error, SQLAlchemyError):
                log.error("alert_store_failed", **where, error=describe_error(error))
            elif not isinstance(error, ApiError | SyncError):
                log.error("alert_sync_crashed", **where, error=describe_error(error))
                log.debug("alert_sync_crashed_detail", **where, exc_info=error)
            self._failed(session, applier, item.link, events, error, report)
        except Exception as again:  # noqa: BLE001 - not even a refused record may stop it
            _rollback(session)
            log.error(
                "alert_failure_unrecorded",
                **where,
                error=describe_error(error),
                record_error=describe_error(again),
            )

    def _publish_context(self, action: IncidentAction) -> PublishContext:
        return PublishContext(
            action.name, action.page_id, self.config.ilert.api_url, action.notify_subscribers
        )

    def _withheld(self, session: Session, applier: Applier, item: _Work, verdict: Verdict) -> None:
        """Not published (yet): a filtered alert is audited once; a held one waits."""
        link, alert = item.link, item.alert
        key, reason = (item.action.name, alert.id), f"{verdict.rule}: {verdict.reason}"
        audited = False
        if verdict.kind is VerdictKind.FILTER and self._filtered.get(key) != reason:
            event = "resolved" if alert.status == AlertStatus.RESOLVED else "created"
            audited = applier.record_filtered(link, event, reason)
        elif verdict.kind is not VerdictKind.FILTER:
            log.debug("alert_held", alert_id=alert.id, reason=verdict.reason)
        self._settle(session, item, {}, changed=audited)
        if verdict.kind is VerdictKind.FILTER:
            self._filtered[key] = reason

    def _settle(
        self, session: Session, item: _Work, values: dict[str, object], *, changed: bool
    ) -> None:
        """Store what this pass learnt of an alert: in the pass's batch, unless rows are pending.

        Every write, its outcome and its audit rows are committed already (the
        applier commits an intent before each request and the outcome after
        it). What is left is bookkeeping (when the timeline was read, its
        cursor, the summary, open or not, the failure count reset): losing it
        to a crash costs one more read, never a duplicate, so it waits for one
        statement and commit at the end of the pass. It is kept off the
        session's changes, so no other alert's commit or rollback carries it.
        """
        link, alert = item.link, item.alert
        values = {
            **values,
            "alert_summary": alert.summary[:255],
            "is_open": alert.status != AlertStatus.RESOLVED,
            "failures": 0,
            "last_error": None,
            "next_attempt_at": None,
        }
        if changed or link.id is None:
            for name, value in values.items():
                setattr(link, name, value)
            self._commit(session)
            return
        for name, value in values.items():
            set_committed_value(link, name, value)
        self._batched[link.id] = (item, values)

    def _save_batched(
        self, session: Session, appliers: Mapping[str, Applier], report: PassReport
    ) -> None:
        """Write the batched bookkeeping in one statement; if refused, alert by alert."""
        batched, self._batched = self._batched, {}
        try:
            repo.save_columns(session, [{"id": key, **row} for key, (_, row) in batched.items()])
            self._commit(session)
            return
        except (LeadershipLostError, DatabaseReplacedError, OperationalError):
            raise
        except SQLAlchemyError as error:
            _rollback(session)
            log.warning("bookkeeping_batch_refused", error=describe_error(error))
        for key, (item, values) in batched.items():
            try:
                repo.save_columns(session, [{"id": key, **values}])
                self._commit(session)
            except (LeadershipLostError, DatabaseReplacedError, OperationalError):
                raise
            except SQLAlchemyError as error:
                self._record_error(session, appliers[item.action.name], item, [], error, report)

    def _prune(self, session: Session, now: datetime) -> None:
        """Delete one batch of expired history (``core.retention``); never stops the pass."""
        if self.dry_run or self._since is None or shutdown.stop_requested():
            return
        cutoff = prune_cutoff((now, self._ilert_date), self.config.retention_days, self._since)
        if cutoff is None:
            return
        try:
            links = repo.expired_links(session, cutoff, PRUNE_BATCH)
            audit = repo.expired_transitions(session, cutoff, PRUNE_BATCH)
            if not links and not audit:
                return
            repo.delete_links(session, links)
            repo.delete_transitions(session, audit)
            session.commit()
        except (LeadershipLostError, DatabaseReplacedError):
            raise
        except SQLAlchemyError as error:
            _rollback(session)
            log.warning("history_prune_failed", error=describe_error(error))
            return
        log.info(
            "history_pruned", links=len(links), audit_rows=len(audit), before=cutoff.isoformat()
        )

    def _unreachable(
        self,
        session: Session,
        item: _Work,
        error: TransientApiError,
        report: PassReport,
        now: datetime,
    ) -> None:
        """A service is down: not this item's fault, so no audit row and no back-off."""
        report.deferred_items += 1
        down = (
            self.ilert_health
            if error.service == "ilert"
            else self.connector_health[item.action.connector]
        )
        self._mark_down(down, error, now)
        log.debug("alert_deferred", alert_id=item.alert.id, error=scrub(str(error)))
        if self.dry_run:
            _rollback(session, only_failed=True)
            return
        session.rollback()
        link = session.merge(item.link)
        link.last_error = describe_error(error)[:ERROR_LENGTH]
        session.commit()

    def _mark_down(self, health: ServiceHealth, error: Exception, now: datetime) -> None:
        """The service is down for the rest of this pass (logged once per outage)."""
        self._down.add(health.name)
        health.failed(error, now)

    def _failed(
        self,
        session: Session,
        applier: Applier,
        link: Link,
        events: list[str],
        error: Exception,
        report: PassReport,
    ) -> None:
        report.failed_items += 1
        message = describe_error(error)
        if self.dry_run:
            _rollback(session, only_failed=True)
            log.warning("alert_sync_failed", alert_id=link.alert_id, error=message, dry_run=True)
            return
        session.rollback()
        link = session.merge(link)
        link.failures += 1
        link.last_error = message[:ERROR_LENGTH]
        link.next_attempt_at = applier.now + retry_delay(link.failures, self.config.poll_interval)
        if (
            isinstance(error, PermanentApiError)
            and error.status == 404
            and link.statuspage_incident_id
        ):
            # Someone deleted the incident on Statuspage: a human decision wins.
            link.is_open = False
            message = (
                f"the incident was deleted on Statuspage; alert no longer mirrored ({message})"
            )
        applier.record_failure(link, events or ["sync"], message)
        session.commit()
        log.warning(
            "alert_sync_failed",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            failures=link.failures,
            next_attempt_at=link.next_attempt_at.isoformat() if link.next_attempt_at else None,
            error=message,
        )


def _grouped(action: IncidentAction, link: Link) -> bool:
    """Whether the alert takes part in a shared incident: its action groups, or it joined one.

    An alert linked while ``group = "action"`` keeps its share after the config
    switched back to ``"alert"``: its incident resolves with its last alert, not its first.
    """
    return action.group == "action" or link.alert_status is not None
