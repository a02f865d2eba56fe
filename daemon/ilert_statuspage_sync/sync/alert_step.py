"""One alert's step in a pass: settle, read its timeline, detect, plan, apply, record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.core.alert_plan import LinkView, PlanInputs, plan_alert
from ilert_statuspage_sync.core.attribution import item_fault, service_down
from ilert_statuspage_sync.core.backoff import Failure, failure_kind
from ilert_statuspage_sync.core.deletion import deleted_event
from ilert_statuspage_sync.core.diff import detect_events, settled_mirror
from ilert_statuspage_sync.core.filters import Verdict, VerdictKind, screen_alert
from ilert_statuspage_sync.core.model import AlertStatus, Event, LogEntry, Mirror
from ilert_statuspage_sync.core.plan import Plan
from ilert_statuspage_sync.core.publish import PublishContext, screen_comments
from ilert_statuspage_sync.core.storm import Target, TargetKind
from ilert_statuspage_sync.core.sweep import updates_incident
from ilert_statuspage_sync.errors import (
    DatabaseReplacedError,
    LeadershipLostError,
    SyncError,
    ThrottledError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.apply import Applier
from ilert_statuspage_sync.sync.bookkeeping import Bookkeeping
from ilert_statuspage_sync.sync.grouping import Grouping
from ilert_statuspage_sync.sync.ilert_read import IlertReader
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.page_steps import PageSteps
from ilert_statuspage_sync.sync.pass_state import Carryover, Filtered, PassState, Work
from ilert_statuspage_sync.sync.persistence import Books
from ilert_statuspage_sync.sync.report import describe_error, rollback

__all__ = ["AlertStep"]

log = structlog.get_logger(__name__)


class AlertStep:
    """Syncs one work item; one refused alert is recorded and never stops the others."""

    def __init__(
        self,
        config: Config,
        *,
        reader: IlertReader,
        books: Books,
        bookkeeping: Bookkeeping,
        grouping: Grouping,
        carry: Carryover,
        connector_health: Mapping[str, ServiceHealth],
        pages: PageSteps,
    ) -> None:
        self.config, self.reader, self.books = config, reader, books
        self.bookkeeping, self.grouping, self.carry = bookkeeping, grouping, carry
        self.connector_health, self.pages = connector_health, pages

    def run(self, session: Session, p: PassState, applier: Applier, item: Work) -> None:
        """The alert's step; a failure is recorded (rolled back, backed off) here."""
        events: list[str] = []
        try:
            self._step(session, p, applier, item, events)
        except (LeadershipLostError, DatabaseReplacedError, OperationalError):
            # OperationalError: the database as a whole failed (locked, full, read-only,
            # gone); the pass stops and its caller reports it in one line, no SQL shown.
            raise
        except Exception as error:  # noqa: BLE001 - one bad alert must not stop the pass
            self.record_error(session, p, applier, item, events, error)

    def _step(
        self, session: Session, p: PassState, applier: Applier, item: Work, events: list[str]
    ) -> None:
        link, alert = item.link, item.alert
        if link.pending_call is not None and self.books.reconciles and not applier.reconcile(link):
            p.report.deferred_items += 1  # its own unanswered write may still land
            return
        mirror = repo.mirror_of(link)
        published = link.statuspage_incident_id is not None
        verdict = screen_alert(alert, item.action.publish, now=p.now, published=published)
        if not verdict.publishes:
            self._withheld(session, p, applier, item, verdict)
            return
        target = self.grouping.target(p, item)
        if target and target.kind is TargetKind.WAIT:
            target = self._settle_openers(p, applier, item)
        if target and target.kind is TargetKind.WAIT:
            # Another alert's create may still land: opening a second incident would split it.
            p.report.deferred_items += 1
            log.info("storm_waits_for_incident", alert_id=alert.id, action=item.action.name)
            return
        # Audited otherwise from here: a later filter verdict is audited again.
        self.carry.filtered.pop((item.action.name, alert.id), None)
        # A deleted alert has no timeline left to read: its one event ends the incident.
        cursor = mirror.last_log_entry_id if mirror else None
        read = [] if item.deleted else self.reader.timeline(p, alert.id, cursor)
        if read is None and (mirror is not None or alert.status == AlertStatus.RESOLVED):
            # Events go out in iLert's time order: a change of a mirrored alert waits
            # for the older entries still unread (a resolve would close the link, and
            # a closed link is not read again: its comments would never reach the page).
            p.report.waiting_checks += 1
            return
        # Unfinished (a long timeline) at first sight: the incident is created now,
        # the entries follow once read.
        self._apply(session, p, applier, item, (target, mirror), read or [], events)

    def _settle_openers(self, p: PassState, applier: Applier, item: Work) -> Target | None:
        """Reconcile the create the storm waits for, whatever its opener's back-off.

        It is a read: found, it is adopted and the storm joins; known not to
        have landed (its request answered), it is forgotten and this alert
        opens the shared incident, the opener joining it later. One incident
        per storm holds: a create is forgotten only when the page shows none.
        """
        if self.books.reconciles:
            for opener in self.grouping.openers(p, item):
                if opener.alert_id in p.openers_checked:
                    continue  # once a pass: a storm of n alerts reads it once, not n times
                p.openers_checked.add(opener.alert_id)
                if opener.pending_call is None or applier.in_flight(opener):
                    continue
                if applier.reconcile(opener):
                    p.shares[item.action.name].settled(opener)
        return self.grouping.target(p, item)

    def _apply(
        self,
        session: Session,
        p: PassState,
        applier: Applier,
        item: Work,
        known: tuple[Target | None, Mirror | None],
        entries: list[LogEntry],
        events: list[str],
    ) -> None:
        """Detect the alert's events, plan and apply them, and settle what it learnt."""
        link, alert = item.link, item.alert
        target, mirror = known
        # iLert's time: compared with other links' checks, immune to local jumps; and an
        # event with no timestamp of its own sorts among iLert's stamps.
        at = p.ilert_now or p.now
        found = (
            [deleted_event(mirror, alert, at)]
            if item.deleted
            else detect_events(
                mirror, alert, entries, now=at, triggered=link.triggered_at is not None
            )
        )
        found = screen_comments(found, item.action.publish)
        events.extend(str(event.kind) for event in found)  # audited even if rendering fails
        if found and updates_incident(link.statuspage_incident_id, target):
            read, target = self._read_page_first(session, p, item, target)
            if not read:
                return
        self._write(p, applier, item, target, found)
        settled = repo.mirror_columns(settled_mirror(alert, entries, mirror))
        settled["last_checked_at"] = at
        # The writes and audit rows are committed (apply, reconcile): the rest can wait.
        changed = bool(session.new or session.deleted)
        self.bookkeeping.settle(session, p, item, settled, changed=changed)

    def _read_page_first(
        self, session: Session, p: PassState, item: Work, target: Target | None
    ) -> tuple[bool, Target | None]:
        """A person's edit on the page is seen before this update could undo it.

        False when the page's list could not be read (the connector down or
        throttled): the update waits for a pass that can see such an edit.
        """
        connector = item.action.connector
        if self.pages.before_update(session, p, connector):
            target = self.grouping.edited(p, item)
        if connector in p.paced:
            p.report.paced_items += 1
            return False, target
        if connector in self.pages.down(p):
            p.report.deferred_items += 1
            return False, target
        return True, target

    def _write(
        self, p: PassState, applier: Applier, item: Work, target: Target | None, found: list[Event]
    ) -> None:
        """Plan the events (``core.alert_plan``) and apply the plan."""
        link, alert = item.link, item.alert

        def replan(events: Sequence[Event]) -> Plan:
            # A replan reads the storm target and the refused statuses again: another
            # alert may have moved the one, a refusal just grew the other.
            target = self.grouping.target(p, item)
            return plan_alert(events, alert, _view(link), target, self._plan_inputs(item, applier))

        plan = plan_alert(found, alert, _view(link), target, self._plan_inputs(item, applier))
        p.report.writes += applier.apply(link, plan, replan)
        if plan.calls:
            self.connector_health[item.action.connector].succeeded(p.now, writes=True)
            p.item_failures.pop(item.action.connector, None)
            p.wrote.add(item.action.connector)
            # Failures before a success were those items' own, whatever follows.
            p.item_faults += p.suspects.pop(item.action.connector, [])
            p.answered.add(item.action.connector)  # no page read needed to know it answers
        p.report.outcomes.update(applier.outcomes)
        # A refused request was recorded as failed once; it is not retried.
        p.report.failed_items += "failed" in applier.outcomes

    def _plan_inputs(self, item: Work, applier: Applier) -> PlanInputs:
        """The settings of one plan; the refused statuses as they are now."""
        action = item.action
        context = PublishContext(
            action.name, action.page_id, self.config.ilert.api_url, action.notify_subscribers
        )
        refused = applier.refused_statuses(item.link.page_id)
        return PlanInputs(self.config.lifecycle, refused, action.publish, context)

    def _withheld(
        self, session: Session, p: PassState, applier: Applier, item: Work, verdict: Verdict
    ) -> None:
        """Not published (yet): a filtered alert is audited once; a held one waits."""
        link, alert = item.link, item.alert
        key, reason = (item.action.name, alert.id), f"{verdict.rule}: {verdict.reason}"
        if verdict.kind is VerdictKind.FILTER and self.carry.filtered.get(key) != reason:
            # Audited with the pass's batch: a record only, so a kill before it loses
            # nothing the next process does not write again (its newest row decides).
            event = "resolved" if alert.status == AlertStatus.RESOLVED else "created"
            p.filtered.append(Filtered(item, applier.filtered_record(link, event, reason)))
        elif verdict.kind is not VerdictKind.FILTER:
            log.debug("alert_held", alert_id=alert.id, reason=verdict.reason)
        self.bookkeeping.settle(session, p, item, {}, changed=False)

    def record_error(
        self,
        session: Session,
        p: PassState,
        applier: Applier,
        item: Work,
        events: list[str],
        error: Exception,
    ) -> None:
        """Roll back this alert's work and record why; even a refused record ends here.

        Names come from ``item``, never from the link: after a failed flush the
        link's attributes cannot be read until the session is rolled back.
        """
        where = {"alert_id": item.alert.id, "incident_action": item.action.name}
        self.carry.filtered.pop((item.action.name, item.alert.id), None)
        try:
            kind = failure_kind(error, database=isinstance(error, SQLAlchemyError))
            if kind is Failure.DEFERRED:
                assert isinstance(error, TransientApiError)
                self._transient(session, p, applier, item, error)
                return
            _log_failure(kind, where, error)
            p.report.failed_items += 1
            self.books.fail(session, applier, item.link, events, error)
        except Exception as again:  # noqa: BLE001 - not even a refused record may stop it
            rollback(session)
            log.error(
                "alert_failure_unrecorded",
                **where,
                error=describe_error(error),
                record_error=describe_error(again),
            )

    def _transient(
        self, session: Session, p: PassState, applier: Applier, item: Work, error: TransientApiError
    ) -> None:
        """The item's own failure (back-off), or its service's (deferred, no back-off)."""
        if isinstance(error, ThrottledError):
            # Still throttled after waiting as told: paced, never an outage (``p.throttled``).
            p.report.paced_items += 1
            p.throttled.add(item.action.connector)
            log.debug("alert_deferred", alert_id=item.alert.id, error=scrub(str(error)))
            self.books.defer(session, item.link, error)
            return
        if not item_fault(error) or not self._answers(p, applier, item):
            self._unreachable(session, p, item, error)
        elif not self._item_failed(session, p, item, error):
            self._unreachable(session, p, item, error, writes=True)

    def _item_failed(
        self, session: Session, p: PassState, item: Work, error: TransientApiError
    ) -> bool:
        """A call only this item saw fail is its own: back-off, no outage (core.attribution).

        False when it is the latest of enough distinct items failing in a row.
        """
        connector = item.action.connector
        # Backed off at the pass's end (``settle_suspects``) unless the connector is
        # judged down by then: an outage must not leave its first items waiting.
        p.suspects.setdefault(connector, []).append((item, error))
        if connector not in p.wrote:  # after a success in the pass, failures are the items'
            failed = p.item_failures.setdefault(connector, set())
            failed.add(item.alert.id)
            if service_down(len(failed)):
                return False
        p.report.deferred_items += 1  # waiting to retry: the pass is not ok
        self.books.defer(session, item.link, error)
        return True

    def settle_suspects(self, session: Session, p: PassState) -> None:
        """The pass's item failures: backed off if the connector stayed up, else only behind.

        A connector judged down in the pass failed them: they get no delay and
        no warning, only their place behind the others (three poisoned items
        must not keep holding the good ones back, outage or not).
        """
        down = {c for c in p.suspects if self.connector_health[c].name in p.down}
        faults = p.item_faults + [f for c, fs in p.suspects.items() if c not in down for f in fs]
        behind = [item for c in down for item, _error in p.suspects[c]]
        p.item_faults, p.suspects = [], {}
        for item, error in faults:
            self.books.back_off(session, item.link, error, p.now)
        for item in behind:
            self.books.put_behind(session, item.link)

    @staticmethod
    def _answers(p: PassState, applier: Applier, item: Work) -> bool:
        """Whether the connector answers reads in this pass: asked once, by reading the page."""
        connector = item.action.connector
        if connector not in p.answered:
            try:
                applier.client.get_page(item.link.page_id)
            except TransientApiError:
                return False
            except SyncError:
                pass  # it answered, if only to refuse (or with a page it cannot read)
            p.answered.add(connector)
        return True

    def _unreachable(
        self,
        session: Session,
        p: PassState,
        item: Work,
        error: TransientApiError,
        *,
        writes: bool = False,
    ) -> None:
        """A service is down: not this item's fault, so no audit row and no back-off."""
        p.report.deferred_items += 1
        down = (
            self.reader.health
            if error.service == "ilert"
            else self.connector_health[item.action.connector]
        )
        p.mark_down(down, error, writes=writes)
        log.debug("alert_deferred", alert_id=item.alert.id, error=scrub(str(error)))
        self.books.defer(session, item.link, error)


def _view(link: Link) -> LinkView:
    """The link as a plan sees it, read when the plan is made."""
    return LinkView(
        published=bool(link.statuspage_incident_id),
        page_status=link.statuspage_status,
        alert_status=link.alert_status,
        human_override=bool(link.human_override),
    )


def _log_failure(kind: Failure, where: Mapping[str, object], error: Exception) -> None:
    if kind is Failure.UNREADABLE:
        log.warning("alert_unreadable", **where, error=describe_error(error))
    elif kind is Failure.STORE:
        log.error("alert_store_failed", **where, error=describe_error(error))
    elif kind is Failure.CRASHED:
        log.error("alert_sync_crashed", **where, error=describe_error(error))
        log.debug("alert_sync_crashed_detail", **where, exc_info=error)
