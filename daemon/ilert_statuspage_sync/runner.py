"""One poll-and-apply pass: read iLert, diff, plan, apply, persist.

The pass, step by step:

1. Read the clock once; make sure every incident action has its state row
   (an action's first sight is its activation time).
2. Read iLert once for all actions: the open alerts, plus every alert reported
   since the last pass minus an overlap window (catches alerts created and
   resolved between two polls, and those reported while the daemon was down).
3. Per action, pick the alerts it mirrors: automatic actions take alerts
   reported after activation, manual ones only triggered alerts. Tracked
   alerts that left the open set are read one by one to learn how they ended.
4. Choose whose timelines to read: every alert with a changed snapshot or
   unfinished work, then the longest-unchecked ones, within the iLert budget.
5. Per alert: settle any interrupted write, read new timeline entries, detect
   events, plan calls, apply them. One refused alert is recorded with a
   growing retry delay and never stops the others; a service that is down
   defers the rest of its work to the next pass (one log line per outage).
6. Move each action's poll cursor to this pass's start.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.apply import Applier
from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.diff import detect_events, settled_mirror
from ilert_statuspage_sync.core.filters import Verdict, VerdictKind, screen_alert
from ilert_statuspage_sync.core.model import Alert, AlertStatus, LogEntry
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.core.plan import Call, plan_calls
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments
from ilert_statuspage_sync.core.schedule import Candidate, checks_per_pass, choose_checks
from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    SyncError,
    TransientApiError,
)
from ilert_statuspage_sync.health import ServiceHealth
from ilert_statuspage_sync.leader import LeadershipLostError
from ilert_statuspage_sync.logs import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import ActionState, Link

__all__ = ["OVERLAP", "PassReport", "Syncer", "retry_delay"]

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=1)


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


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
    ) -> None:
        self.config = config
        # Asked before every Statuspage write: is this process still the leader?
        self.guard = guard or (lambda: True)
        self.sessions = sessions
        self.ilert = ilert
        self.statuspage = statuspage
        self.clock = clock
        self.dry_run = dry_run
        self.checkpoint = checkpoint or (lambda _name: None)
        self.ilert_health = ServiceHealth("ilert")
        self.connector_health = {name: ServiceHealth(f"statuspage:{name}") for name in statuspage}
        self._entries: dict[int, list[LogEntry]] = {}
        self._by_id: dict[int, Alert | None] = {}
        self._ilert_calls = 0
        # Names of services found down in this pass: their remaining work waits for the next.
        self._down: set[str] = set()
        # A dry run stores nothing, so it remembers its own activation times.
        self._dry_activation: dict[str, datetime] = {}

    def run_pass(self) -> PassReport:
        """One pass over every incident action."""
        started = time.monotonic()
        now = self.clock()
        report = PassReport(started_at=now)
        self._entries, self._by_id, self._ilert_calls, self._down = {}, {}, 0, set()
        with self.sessions() as session:
            states = self._action_states(session, now)
            alerts = self._read_ilert(states, report, now)
            if alerts is not None:
                report.alerts_seen = len(alerts)
                try:
                    self._sync_all(session, states, alerts, now, report)
                except LeadershipLostError as error:
                    report.lost_leadership = True
                    log.error("leadership_lost_mid_pass", error=str(error))
                else:
                    for state in states.values():
                        state.last_poll_at = now
                    self._commit(session)
        report.duration = time.monotonic() - started
        log.info(
            "pass_finished",
            ok=report.ok,
            alerts_seen=report.alerts_seen,
            writes=report.writes,
            failed_items=report.failed_items,
            deferred_items=report.deferred_items,
            waiting_checks=report.waiting_checks,
            outcomes=dict(report.outcomes),
            duration_s=round(report.duration, 3),
            dry_run=self.dry_run,
        )
        return report

    def _action_states(self, session: Session, now: datetime) -> dict[str, ActionState]:
        states = repo.action_states(session, [a.name for a in self.config.incident_actions], now)
        if self.dry_run:
            for name, state in states.items():
                if state.last_poll_at is None:
                    state.activated_at = self._dry_activation.setdefault(name, state.activated_at)
        self._commit(session)
        return states

    def _commit(self, session: Session) -> None:
        if self.dry_run:
            session.flush()
        else:
            session.commit()

    def _read_ilert(
        self, states: Mapping[str, ActionState], report: PassReport, now: datetime
    ) -> dict[int, Alert] | None:
        if not states:
            return {}  # no incident action: nothing to read (no sources would mean every alert)
        sources = {s for action in self.config.incident_actions for s in action.alert_sources}
        cursors = [state.last_poll_at or state.activated_at for state in states.values()]
        since = min(cursors) - OVERLAP
        try:
            raw = self.ilert.list_alerts(sources=sources, states=("PENDING", "ACCEPTED"))
            raw += self.ilert.list_alerts(sources=sources, since=since)
        except TransientApiError as error:
            report.ilert_ok = False
            self.ilert_health.failed(error, now)
            return None
        except (ApiError, PayloadError) as error:
            report.ilert_ok = False
            log.error("ilert_read_failed", error=scrub(str(error)))
            return None
        self.ilert_health.succeeded(now)
        self._ilert_calls += 2 + len(raw) // 100
        alerts: dict[int, Alert] = {}
        for item in raw:
            alert = self._parse(item)
            if alert is not None:
                alerts[alert.id] = alert
        return alerts

    def _parse(self, item: object) -> Alert | None:
        try:
            return parse_alert(item)
        except PayloadError as error:
            alert_id = item.get("id") if isinstance(item, dict) else None
            log.warning("alert_unreadable", alert_id=alert_id, error=str(error)[:500])
            return None

    def _sync_all(
        self,
        session: Session,
        states: Mapping[str, ActionState],
        alerts: Mapping[int, Alert],
        now: datetime,
        report: PassReport,
    ) -> None:
        work = [
            item
            for action in self.config.incident_actions
            for item in self._work_of(session, action, states[action.name], alerts, now, report)
        ]
        self._commit(session)  # new links are tracked even if this pass cannot finish them
        selected = set(self._timeline_checks(work, now))
        appliers = {
            action.name: self._applier(session, action, now)
            for action in self.config.incident_actions
        }
        for item in sorted(work, key=lambda w: (w.alert.report_time, w.alert.id)):
            link = item.link
            waiting = link.next_attempt_at is not None and link.next_attempt_at > now
            services = {self.ilert_health.name, self.connector_health[item.action.connector].name}
            if waiting or services & self._down:
                report.deferred_items += 1
            elif item.alert.id not in selected:
                report.waiting_checks += 1
            else:
                self._sync_alert(session, appliers[item.action.name], item, report)

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
        )

    def _work_of(
        self,
        session: Session,
        action: IncidentAction,
        state: ActionState,
        alerts: Mapping[int, Alert],
        now: datetime,
        report: PassReport,
    ) -> list[_Work]:
        links = repo.links_of(session, action.name)
        work = []
        for alert in self._chosen(action, state, alerts, links, now, report).values():
            link = links.get(alert.id)
            if link is None:
                link = repo.new_link(action.name, alert.id, action.page_id, now)
                if not self.dry_run:
                    session.add(link)
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
            if link.next_attempt_at and link.next_attempt_at > now:
                report.deferred_items += 1
                continue
            found = self._alert_by_id(alert_id, now)
            # A triggered id may belong to a source this action does not cover.
            if found is not None and found.source_id in action.alert_sources:
                chosen[alert_id] = found
        return chosen

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
            log.warning("alert_read_failed", alert_id=alert_id, error=scrub(str(error)))
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
        per_pass = checks_per_pass(
            self.config.ilert.requests_per_minute, self.config.poll_interval, self._ilert_calls + 1
        )
        return choose_checks(list(candidates.values()), per_pass) + sorted(withheld)

    @staticmethod
    def _publishes(item: _Work, now: datetime) -> bool:
        published = item.link.statuspage_incident_id is not None
        return screen_alert(item.alert, item.action.publish, now=now, published=published).publishes

    def _log_entries(self, alert_id: int, after: int | None) -> list[LogEntry]:
        if alert_id not in self._entries:
            self._entries[alert_id] = self.ilert.log_entries(alert_id, after=after)
        return [entry for entry in self._entries[alert_id] if after is None or entry.id > after]

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
            entries = self._log_entries(alert.id, mirror.last_log_entry_id if mirror else None)
            link.last_checked_at = applier.now
            triggered = link.triggered_at is not None
            found = detect_events(mirror, alert, entries, now=applier.now, triggered=triggered)
            found = screen_comments(found, policy)
            current = link.statuspage_status if link.statuspage_incident_id else None
            plan = plan_calls(
                found,
                alert,
                lifecycle=self.config.lifecycle,
                current_status=current,
                statuses=policy.statuses,
            )
            events = [str(event.kind) for event in found]
            plan = publish_plan(plan, alert, policy, self._publish_context(item.action))
            report.writes += applier.apply(link, plan)
            if plan.calls:
                self.connector_health[item.action.connector].succeeded(applier.now)
            for step in plan.steps:
                decisions = step.decisions if isinstance(step, Call) else [step]
                report.outcomes.update(str(d.outcome) for d in decisions)
            repo.set_mirror(link, settled_mirror(alert, entries, mirror))
            link.alert_summary = alert.summary[:255]
            link.is_open = alert.status != AlertStatus.RESOLVED
            link.failures, link.last_error, link.next_attempt_at = 0, None, None
            self._commit(session)
        except LeadershipLostError:
            raise
        except TransientApiError as error:
            self._unreachable(session, item, error, report, applier.now)
        except (ApiError, SyncError) as error:
            self._failed(session, applier, link, events, error, report)
        except Exception as error:
            # One bad alert must not stop the pass or crash-loop the service.
            log.exception(
                "alert_sync_crashed", alert_id=alert.id, incident_action=link.incident_action
            )
            self._failed(session, applier, link, events, error, report)

    def _publish_context(self, action: IncidentAction) -> PublishContext:
        return PublishContext(
            action.name, action.page_id, self.config.ilert.api_url, action.notify_subscribers
        )

    def _withheld(self, session: Session, applier: Applier, item: _Work, verdict: Verdict) -> None:
        """Not published (yet): a filtered alert is audited once; a held one waits."""
        link, alert = item.link, item.alert
        if verdict.kind is VerdictKind.FILTER:
            event = "resolved" if alert.status == AlertStatus.RESOLVED else "created"
            applier.record_filtered(link, event, f"{verdict.rule}: {verdict.reason}")
        else:
            log.debug("alert_held", alert_id=alert.id, reason=verdict.reason)
        link.alert_summary = alert.summary[:255]
        link.is_open = alert.status != AlertStatus.RESOLVED
        link.failures, link.last_error, link.next_attempt_at = 0, None, None
        self._commit(session)

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
            return
        session.rollback()
        link = session.merge(item.link)
        link.last_error = scrub(str(error))[:1000]
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
        message = scrub(str(error)) or type(error).__name__
        if self.dry_run:
            log.warning("alert_sync_failed", alert_id=link.alert_id, error=message, dry_run=True)
            return
        session.rollback()
        link = session.merge(link)
        link.failures += 1
        link.last_error = message[:1000]
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
