"""Step 3 of a pass: the work items (alert by action) and whose timelines are read."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from datetime import datetime
from typing import Final

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.alert_selection import Scope, Tracked, mirrors_read, select_alerts
from ilert_statuspage_sync.core.backoff import read_failure_backs_off, retry_delay
from ilert_statuspage_sync.core.clock import due_at
from ilert_statuspage_sync.core.deletion import Absence, not_found
from ilert_statuspage_sync.core.diff import detect_events
from ilert_statuspage_sync.core.filters import screen_alert
from ilert_statuspage_sync.core.model import Alert
from ilert_statuspage_sync.core.refresh import choose_refreshes, refresh_reads
from ilert_statuspage_sync.core.storable import ERROR_LENGTH, clean_text
from ilert_statuspage_sync.core.timeline_checks import (
    CheckFacts,
    checks_per_pass,
    must_check,
    timelines_to_read,
)
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.held import Held, OpenLink, fingerprint
from ilert_statuspage_sync.store.tables import ActionState, Link
from ilert_statuspage_sync.sync.ilert_read import IlertReader
from ilert_statuspage_sync.sync.missing_alerts import MissingAlerts
from ilert_statuspage_sync.sync.pass_state import Carryover, PassState, Work
from ilert_statuspage_sync.sync.report import describe_error

__all__ = ["WorkItems", "links_in_play", "waiting"]

log = structlog.get_logger(__name__)


def waiting(held: Held, now: datetime, poll_interval: float) -> bool:
    """Whether a failed item still waits; a delay stored before a clock jump is clamped."""
    stored = held.facts.next_attempt_at
    if stored is None:
        return False  # nothing to wait for (every quiet open link): no delay to work out
    due = due_at(stored, now, retry_delay(held.facts.failures, poll_interval))
    if due != stored:
        # Set only when clamped: a link set to its own value would still be flushed.
        with contextlib.suppress(LookupError):  # deleted since read (an untrigger): its step says
            held.link.next_attempt_at = due
    return due is not None and due > now


def links_in_play(session: Session, alerts: Mapping[int, Alert]) -> dict[str, dict[int, Held]]:
    """The links this pass can touch, by action and alert id: never the closed history.

    The open links (light rows, ``store.held``), and those of the alerts in
    hand, looked up by id (a closed link of an alert listed again must be
    found, not duplicated).
    """
    found = repo.open_held(session)
    listed = {held.facts.alert_id for held in found}
    closed = repo.links_of_alerts(session, (a for a in alerts if a not in listed))
    found += [Held.of(link) for link in closed]
    links: dict[str, dict[int, Held]] = {}
    for held in found:
        links.setdefault(held.facts.incident_action, {})[held.facts.alert_id] = held
    return links


class WorkItems:
    """Which alerts each action mirrors this pass, and which timelines are read."""

    def __init__(
        self, config: Config, reader: IlertReader, carry: Carryover, *, settles: bool = True
    ) -> None:
        self.config, self.reader, self.carry = config, reader, carry
        self.missing = MissingAlerts(reader, carry)
        # A dry run stores nothing, so a link's row cannot show that its item moved on.
        self.settles = settles

    def plan_refreshes(
        self, p: PassState, alerts: Mapping[int, Alert], links: Mapping[str, Mapping[int, Held]]
    ) -> None:
        """The mirrored alerts this pass reads by id though the cycle may hold them open.

        Candidates: automatic actions' open links with an incident on the page,
        not in hand, not backed off; their turns by when each was last read
        (``core.refresh``), across actions.
        """
        read_at, mirrored = self.carry.read_at, set[int]()
        candidates: dict[int, datetime | None] = {}
        for action in self.config.incident_actions:
            for alert_id, held in links.get(action.name, {}).items():
                link = held.facts
                if action.manual or not link.is_open or link.statuspage_incident_id is None:
                    continue
                mirrored.add(alert_id)
                if alert_id in alerts:
                    read_at[alert_id] = p.now
                elif self.carry.cycle.may_be_open(alert_id) and not waiting(
                    held, p.now, self.config.poll_interval
                ):
                    candidates[alert_id] = read_at.get(alert_id)
        for gone in read_at.keys() - mirrored:
            del read_at[gone]
        ilert, cycle = self.config.ilert, self.carry.cycle
        per_pass = refresh_reads(
            ilert.requests_per_minute, self.config.poll_interval, len(candidates), cycle.passes
        )
        # The next listing reserves what a pass may read of them, listed or not this time.
        self.carry.refreshing = min(len(mirrored), per_pass)
        # This one reads what its budget still holds (newly mirrored ones were not reserved).
        room = int(self.reader.per_pass()) - p.ilert_calls
        per_pass = 0 if self.reader.one_shot else min(per_pass, max(room, 0))
        p.refresh = set(choose_refreshes(candidates, per_pass))

    def of_action(
        self,
        p: PassState,
        action: IncidentAction,
        state: ActionState,
        alerts: Mapping[int, Alert],
        links: Mapping[int, Held],
    ) -> list[Work]:
        """The action's work items (core.alert_selection); new links are made, not stored."""
        scope = Scope(action.alert_sources, action.manual, state.activated_at)
        tracked = {
            alert_id: _TRACKED[held.facts.is_open, held.facts.triggered_at is not None]
            for alert_id, held in links.items()
        }
        selection = select_alerts(
            scope,
            alerts,
            tracked,
            self.carry.cycle,
            self.carry.snapshots,
            p.refresh,
            self._settled(action, links),
        )
        p.settled.append((action, {alert_id: links[alert_id] for alert_id in selection.settled}))
        chosen = selection.chosen
        noted: list[tuple[Link, Absence]] = []  # 404s for links whose incident is open
        for alert_id in selection.read_by_id:
            found = self._read_by_id(p, action, scope, links[alert_id], noted)
            if alert_id in p.by_id and (found is not None or alert_id in p.read_errors):
                self.carry.read_at[alert_id] = p.now  # answered: its turn is taken
            if found is not None:
                chosen[alert_id] = found
            elif alert_id in selection.fallback and alert_id not in p.read_errors:
                chosen[alert_id] = selection.fallback[alert_id]  # unanswered: as if unread
        # Decided together: many 404s at once are no deletion (core.deletion).
        chosen.update((a.id, a) for a in self.missing.decide(p, action, links, noted))
        work = []
        for alert in chosen.values():
            held = links.get(alert.id)
            if held is None:
                # Added by the books' track, one by one if the database refuses one of them.
                held = Held.of(repo.new_link(action.name, alert.id, action.page_id, p.now))
            work.append(Work(action, held, alert, deleted=alert.id in p.gone))
        return work

    def _settled(self, action: IncidentAction, links: Mapping[int, Held]) -> set[int]:
        """The action's links unchanged since their snapshot was diffed with nothing to do."""
        marks, reading = self.carry.settled.get(action.name, {}), self.carry.timelines
        snapshots, settled = self.carry.snapshots, set()
        for alert_id, held in links.items():
            mark = marks.get(alert_id)
            if (  # the hash last: it runs for nearly every open link, every pass
                mark is not None
                and alert_id not in reading
                and isinstance(held.facts, OpenLink)
                and alert_id in snapshots
                and _mark(held.facts, snapshots[alert_id]) == mark
            ):
                settled.add(alert_id)
        return settled

    def _read_by_id(
        self,
        p: PassState,
        action: IncidentAction,
        scope: Scope,
        held: Held,
        noted: list[tuple[Link, Absence]],
    ) -> Alert | None:
        """A tracked alert that left the open set, read by id to learn how it ended."""
        if waiting(held, p.now, self.config.poll_interval):
            p.report.deferred_items += 1
            return None
        link = held.link  # read by id: few a pass (the budget's), so built
        found = self.reader.by_id(p, link.alert_id)
        if found is not None:
            self.missing.answered(link)
        # A triggered id may belong to a source this action does not cover.
        if mirrors_read(scope, found):
            return found
        error = p.read_errors.get(link.alert_id)
        if error is not None and not_found(error) and link.statuspage_incident_id is not None:
            noted.append((link, self.missing.note(p, link)))
            return None
        if self._unreadable(p, action, link, found):
            p.report.failed_items += 1
        return None

    def _unreadable(
        self, p: PassState, action: IncidentAction, link: Link, found: Alert | None
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
        error = p.read_errors.get(link.alert_id)
        if found is not None:
            message = (
                f"alert {link.alert_id} belongs to alert source {found.source_id}, "
                f"not one of {action.name}'s alert_sources"
            )
        elif error is not None:
            message = describe_error(error)
        else:
            return False  # iLert is down this pass: no one's fault, no back-off
        published = link.statuspage_incident_id is not None
        if not read_failure_backs_off(manual=action.manual, published=published):
            _note_read_failure(action, link, message)
            return False
        self._back_off(p, action, link, message)
        return True

    def _back_off(self, p: PassState, action: IncidentAction, link: Link, message: str) -> None:
        """A manual trigger iLert will not give: a failing item, asked again after a delay."""
        message += f"; `untrigger {action.name} {link.alert_id}` cancels the trigger"
        link.failures += 1
        link.last_error = clean_text(message)[:ERROR_LENGTH]
        link.next_attempt_at = p.now + retry_delay(link.failures, self.config.poll_interval)
        log.warning(
            "alert_read_failed",
            alert_id=link.alert_id,
            incident_action=action.name,
            failures=link.failures,
            next_attempt_at=link.next_attempt_at.isoformat(),
            error=link.last_error,
        )

    def timeline_checks(self, p: PassState, work: list[Work]) -> set[int]:
        """The alerts whose timelines this pass reads (core.timeline_checks).

        The settled snapshots compete too, with their last check; what each
        item's facts showed settles it, or unsettles it, for the next pass.
        """
        facts = [self._check_facts(item, p.now) for item in work]
        self._settle(work, facts)
        settled = (  # one a settled snapshot: made as the choice reads them, not all held
            CheckFacts(held.facts.alert_id, False, False, held.facts.last_checked_at)
            for _, held in p.each_settled()
        )
        # Every request this pass made so far is spent; the rest of its budget reads timelines.
        ilert = self.config.ilert
        per_pass = checks_per_pass(
            ilert.requests_per_minute, self.config.poll_interval, p.ilert_calls
        )
        checks = timelines_to_read(itertools.chain(facts, settled), per_pass)
        self.carry.checkable = len(checks.candidates)
        for gone in self.carry.timelines.keys() - checks.candidates:
            del self.carry.timelines[gone]  # no longer mirrored: forget its unfinished read
        return set(checks.selected)

    def _settle(self, work: list[Work], facts: list[CheckFacts]) -> None:
        """Mark the items with nothing to do on an unchanged, published link; unmark the rest."""
        marks = self.carry.settled
        for item, fact in zip(work, facts, strict=True):
            mine, row = marks.setdefault(item.action.name, {}), item.facts
            quiet = not (fact.must or fact.withheld or item.deleted)
            if self.settles and quiet and isinstance(row, OpenLink) and row.is_open:
                mine[item.alert.id] = _mark(row, item.alert)
            else:
                mine.pop(item.alert.id, None)

    def settled_work(self, p: PassState, selected: set[int]) -> list[Work]:
        """The settled snapshots whose timeline this pass reads, as work items.

        The rest wait for a check, as an unselected work item would.
        """
        work, snapshots = [], self.carry.snapshots
        for action, held in p.each_settled():
            alert_id = held.facts.alert_id
            if alert_id in selected:
                # Another action's reads may have confirmed it deleted (core.deletion).
                work.append(Work(action, held, snapshots[alert_id], deleted=alert_id in p.gone))
            else:
                p.report.waiting_checks += 1
        return work

    def carry_over(self, p: PassState, work: list[Work]) -> None:
        """What the next pass starts from: the open alerts' latest snapshots and the marks.

        The latest snapshot of each open alert stands in for passes that do not
        list it (one on the page, or one still to publish: paced, held, retried,
        which would otherwise wait for the cycle to list its page again). The
        marks of links this pass neither worked on nor held settled are gone.
        """
        # Built from the settled links, not from sets of all of them (a pass's peak).
        old, snapshots = self.carry.snapshots, {}
        for _, held in p.each_settled():
            snapshots[held.facts.alert_id] = old[held.facts.alert_id]
        snapshots.update((item.alert.id, item.alert) for item in work if item.facts.is_open)
        self.carry.snapshots = snapshots
        settled = {action.name: links for action, links in p.settled}
        worked: dict[str, set[int]] = {}
        for item in work:
            worked.setdefault(item.action.name, set()).add(item.alert.id)
        for name, mine in self.carry.settled.items():
            kept, busy = settled.get(name, {}), worked.get(name, set())
            gone = [alert_id for alert_id in mine if alert_id not in kept and alert_id not in busy]
            for alert_id in gone:
                del mine[alert_id]

    def _check_facts(self, item: Work, now: datetime) -> CheckFacts:
        link, alert = item.facts, item.alert
        published = link.statuspage_incident_id is not None
        if (
            link.pending_call is None
            and not screen_alert(alert, item.action.publish, now=now, published=published).publishes
        ):
            # Alerts kept off the page are synced without a timeline read: no budget for them.
            return CheckFacts(alert.id, True, False, None)
        mirror = repo.mirror_of(link)
        must = must_check(
            mirrored=mirror is not None,
            reading=alert.id in self.carry.timelines,  # a long timeline read goes on
            pending=link.pending_call is not None,
            failures=link.failures,
        ) or bool(detect_events(mirror, alert, [], now=now))
        return CheckFacts(alert.id, False, must, link.last_checked_at)


# The four values a link's ``Tracked`` can take, shared: one per open link a pass is not free.
_TRACKED: Final = {(o, t): Tracked(o, t) for o in (False, True) for t in (False, True)}


def _mark(row: OpenLink, snapshot: Alert) -> int:
    """The link's row and the snapshot it was diffed with, hashed: equal while neither changed.

    The snapshot counts too: another action's read (a manual one's, by id) may replace
    the carried snapshot of an alert this action settled while its own row stays the same.
    """
    return hash((fingerprint(row), snapshot))


def _note_read_failure(action: IncidentAction, link: Link, message: str) -> None:
    """Logged once per new reason, kept in ``last_error``; no back-off."""
    message = clean_text(message)[:ERROR_LENGTH]
    if link.last_error != message:
        where = {"alert_id": link.alert_id, "incident_action": action.name}
        log.warning("alert_read_failed", **where, error=message, repeats="not logged")
        link.last_error = message
