"""Step 1 of a pass, and iLert's later reads: listing, iLert's time, reads by id, timelines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.ilert import (
    IlertClient,
    ListingStalledError,
    ListingUnboundedError,
    OpenListing,
)
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.clock import ACTIVATION_MARGIN, PLAUSIBLE_SKEW, ilert_time
from ilert_statuspage_sync.core.listing import (
    UNTIL_SLACK,
    ReportedWindow,
    listing_pages,
    reported_pages,
)
from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.core.timeline_order import (
    MAX_TIMELINE_PASSES,
    combined,
    needs_head,
)
from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import ActionState
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.pass_state import Carryover, IlertRead, PartialTimeline, PassState
from ilert_statuspage_sync.sync.persistence import Books
from ilert_statuspage_sync.sync.relink import RebuildReads, rebuild_links
from ilert_statuspage_sync.sync.renames import Renames

__all__ = ["OVERLAP", "IlertReader"]

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=5)


class _RebuildFailedError(Exception):
    """Rebuilding the links from Statuspage failed: nothing is stored, the next pass tries again."""


# What step 1 read before it is sorted: states, the listing, its alerts, the recent ones.
_Listed = tuple[dict[str, ActionState], OpenListing, list[Alert], list[Any] | None]


class IlertReader:
    """Everything a pass reads from iLert, within one pass's iLert budget."""

    def __init__(
        self,
        config: Config,
        ilert: IlertClient,
        statuspage: Mapping[str, StatuspageClient],
        *,
        books: Books,
        carry: Carryover,
        one_shot: bool,
    ) -> None:
        self.config, self.ilert, self.statuspage = config, ilert, statuspage
        self.books, self.carry = books, carry
        self.renames = Renames(config)
        # What a rebuild cut short by a vendor failure already read: not read again.
        self.rebuild_reads = RebuildReads(ilert)
        # A one-shot ``sync`` has no next pass to resume in (the listing's and a long
        # timeline's resume points live in memory): it reads the whole open set and
        # whole timelines, waiting on the budget as its writes do.
        self.one_shot = one_shot
        self.health = ServiceHealth("ilert")

    def read(self, session: Session, p: PassState) -> IlertRead | None:
        """Step 1: the open alerts and those reported since the last pass; None when unread."""
        if not self.config.incident_actions:
            # No incident action: nothing to read (no sources would mean every alert).
            return IlertRead({}, {}, p.now)
        try:
            read = self._read(session, p)
        except _RebuildFailedError:
            return None
        except TransientApiError as error:
            p.report.ilert_ok = False
            self.health.failed(error, p.now)
            return None
        except (ApiError, PayloadError) as error:
            p.report.ilert_ok = False
            log.error("ilert_read_failed", error=scrub(str(error)))
            return None
        self.health.succeeded(p.now)
        states, listing, opened, recent = read
        self._listed(p, listing, opened)
        alerts = {alert.id: alert for alert in opened}
        alerts.update((a.id, a) for a in map(_parse, recent or []) if a is not None)
        return IlertRead(states, alerts, p.ilert_now or p.now, p.cursor)

    def _read(self, session: Session, p: PassState) -> _Listed:
        # Manual actions read their triggered alerts by id: only automatic ones list.
        auto = [action for action in self.config.incident_actions if not action.manual]
        sources = {s for action in auto for s in action.alert_sources}
        self.renames.carry(session, self.books)  # before anything reads states or links
        known = repo.action_states(session, [], p.now)
        listing = self._list_open(known, auto, sources)
        opened = [alert for alert in map(_parse, listing.items) if alert is not None]
        ilert_now = self._pass_time(p, known, opened)
        states = self._action_states(session, p, known, ilert_now)
        # A whole open set in hand: the newly reported ones still to learn are the resolved.
        whole = listing.ended and self.carry.cycle.start == 0
        p.cursor = ilert_now  # where the poll cursor moves, unless a window is unfinished
        recent = self._list_reported(p, states, sources, whole) if sources else None
        return states, listing, opened, recent

    def _list_reported(
        self, p: PassState, states: Mapping[str, ActionState], sources: set[int], whole: bool
    ) -> list[Any]:
        """The alerts reported since the cursor less the overlap, inside the pass's budget.

        A window a pass cannot finish is resumed by the next (``core.listing``,
        ``ReportedWindow``); the cursor stays until it ends (``p.cursor``).
        """
        ilert_now = p.ilert_now or p.now
        window = self.carry.reported
        if window is None or window.sources != frozenset(sources):
            cursors = [state.last_poll_at or state.activated_at for state in states.values()]
            wanted = ("RESOLVED",) if whole else ()
            window = ReportedWindow(frozenset(sources), wanted, min(cursors) - OVERLAP, ilert_now)
        p.since = window.since
        ilert = self.config.ilert
        pages = None
        if not self.one_shot:
            pages = reported_pages(
                ilert.requests_per_minute,
                self.config.poll_interval,
                self.carry.checkable + self.carry.refreshing,
                resumes=self.carry.reported is not None,
            )
            # A resumed window leaves a page of its share to the head (``_head``).
            pages = max(pages - 1, 1) if self.carry.reported is not None else pages
        try:
            read = self.ilert.list_reported(
                sources=sources,
                states=window.states,
                since=window.since,
                until=window.until,
                start=window.start,
                max_pages=pages,
                bound=window.bound,
            )
        except ListingUnboundedError:
            self.carry.reported = None  # the next pass lists (and counts) anew
            raise
        p.ilert_calls += read.pages
        self.carry.reported = None
        if read.stalled:
            raise ListingStalledError(read.stalled)  # nothing of it is used; listed anew
        if read.ended:
            p.cursor = window.began
            return read.items
        window.start, window.bound = read.next_start, read.bound
        self.carry.reported, p.cursor = window, None
        return read.items + self._head(p, window, ilert_now)

    def _head(self, p: PassState, window: ReportedWindow, ilert_now: datetime) -> list[Any]:
        """While a window catches up: the first page of what was reported after it.

        New alerts are still in hand the pass after they are reported (up to a
        page of them); the next window lists them all the same.
        """
        if ilert_now <= window.began:
            return []
        read = self.ilert.list_reported(
            sources=window.sources,
            states=(),
            since=window.until,
            until=ilert_now + UNTIL_SLACK,
            start=0,
            max_pages=1,
        )
        p.ilert_calls += read.pages
        return [] if read.stalled else read.items

    def _listed(self, p: PassState, listing: OpenListing, opened: list[Alert]) -> None:
        """Record the listing in the cycle; a stalled one fails the pass's iLert read."""
        if listing.stalled:
            p.report.ilert_ok = False  # the pass syncs what it read; the next one lists anew
            log.error("ilert_listing_stalled", error=scrub(listing.stalled))
        ids = (alert.id for alert in opened)
        self.carry.cycle.record(
            ids, next_start=listing.next_start, ended=listing.ended, bound=listing.bound
        )
        p.ilert_calls += listing.pages

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
        cycle = self.carry.cycle
        start = cycle.resume((frozenset(sources), since))
        ilert = self.config.ilert
        pages = (
            None
            if self.one_shot
            else listing_pages(
                ilert.requests_per_minute,
                self.config.poll_interval,
                self.carry.checkable + self.carry.refreshing,
                reported_resumes=self.carry.reported is not None,
            )
        )
        try:
            return self.ilert.list_open_alerts(
                sources=sources, since=since, start=start, max_pages=pages, bound=cycle.bound
            )
        except ListingUnboundedError:
            cycle.restart()  # the next pass lists (and counts) anew
            raise

    def _pass_time(
        self, p: PassState, known: Mapping[str, ActionState], opened: list[Alert]
    ) -> datetime:
        """iLert's time at this pass's first read (core.clock); the local clock is a last resort."""
        polled = [state.last_poll_at for state in known.values() if state.last_poll_at]
        header = p.ilert_date = self.ilert.server_time()
        found = ilert_time(
            header, (a.report_time for a in opened), max(polled, default=None), local=p.now
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
            found = p.now
        p.ilert_now = found
        return found

    def _action_states(
        self, session: Session, p: PassState, known: dict[str, ActionState], ilert_now: datetime
    ) -> dict[str, ActionState]:
        """Every incident action's state row (its first sight is its activation time)."""
        try:
            # Fetched before anything is stored: a rebuild cut short is tried again next pass.
            rebuilt = (
                rebuild_links(self.config, self.ilert, self.statuspage, p.now, self.rebuild_reads)
                if self.books.rebuilds and not known and repo.is_empty(session)
                else []
            )
        except (ApiError, PayloadError) as error:
            _rebuild_failed(session, error, p)
            raise _RebuildFailedError from error
        self.rebuild_reads.clear()  # stored with this pass, or no rebuild is due any more
        names = [a.name for a in self.config.incident_actions]
        states = repo.action_states(session, names, ilert_now - ACTIVATION_MARGIN, known=known)
        session.add_all(rebuilt)
        self.books.activate(states, self.carry.dry_activation)
        if self.books.must_commit_states(session):
            self.books.commit(session)
        return states

    def by_id(self, p: PassState, alert_id: int) -> Alert | None:
        """A tracked alert read on its own (once a pass); None when down or unreadable."""
        if alert_id in p.by_id:
            return p.by_id[alert_id]
        p.by_id[alert_id] = None
        if self.health.name in p.down:
            return None
        try:
            p.ilert_calls += 1
            p.by_id[alert_id] = parse_alert(self.ilert.get_alert(alert_id))
        except TransientApiError as error:
            p.mark_down(self.health, error)
        except (ApiError, PayloadError) as error:
            p.read_errors[alert_id] = error  # logged and backed off per link (work_items)
        return p.by_id[alert_id]

    def source_visible(self, p: PassState, source_id: int) -> bool | None:
        """Whether the key still sees an alert source (once a pass); None when unknown.

        False only for iLert's 404 or 403: the key lost sight of it.
        """
        if source_id in p.sources:
            return p.sources[source_id]
        p.sources[source_id] = None
        if self.health.name in p.down:
            return None
        try:
            p.ilert_calls += 1
            self.ilert.get_alert_source(source_id)
            p.sources[source_id] = True
        except TransientApiError as error:
            p.mark_down(self.health, error)
        except PermanentApiError as error:
            p.sources[source_id] = False if error.status in (403, 404) else None
        except (ApiError, PayloadError):
            pass  # unknown: a deletion waits
        return p.sources[source_id]

    def timeline(self, p: PassState, alert_id: int, after: int | None) -> list[LogEntry] | None:
        """The timeline entries newer than ``after``; None while a long read is unfinished.

        One read takes at most a pass's iLert budget of pages; a longer timeline
        is read on over the next passes from where it stopped (no cap: only the
        client's non-progress guard ends a read).
        """
        if alert_id not in p.entries:
            p.entries[alert_id] = self._read_timeline(p, alert_id, after)
        entries = p.entries[alert_id]
        if entries is None:
            return None
        return [entry for entry in entries if after is None or entry.id > after]

    def _read_timeline(
        self, p: PassState, alert_id: int, after: int | None
    ) -> list[LogEntry] | None:
        partial = self.carry.timelines.pop(alert_id, None)
        if partial is not None and partial.after != after:
            partial = None  # the mirror moved on meanwhile: read afresh
        part = partial or PartialTimeline(after, 0, {}, after)
        resumed = partial is not None
        part.passes += 1
        pages_left = None if self.one_shot else max(int(self.per_pass()), 1)
        while True:
            read = self.ilert.read_timeline(
                alert_id,
                after=part.floor,
                start=part.next_start,
                max_pages=pages_left,
                head=part.head,
            )
            p.ilert_calls += read.pages
            part.entries.update((entry.id, entry) for entry in read.entries)
            part.order = combined(part.order, read.order)
            pages_left = None if pages_left is None else pages_left - read.pages
            if read.next_start is not None:
                part.next_start = read.next_start
                return self._unfinished(alert_id, part)
            if not needs_head(part.order, resumed=resumed):
                return sorted(part.entries.values(), key=lambda entry: entry.id)
            # Read again from the head, down to the newest entry held: what came meanwhile.
            part.floor = max(part.entries, default=part.floor)
            part.next_start, part.head, resumed = 0, True, False
            if pages_left is not None and pages_left <= 0:
                return self._unfinished(alert_id, part)

    def _unfinished(self, alert_id: int, part: PartialTimeline) -> list[LogEntry] | None:
        """Carry a read on to the next pass; past its pass limit, end it with what it holds."""
        if part.passes < MAX_TIMELINE_PASSES:
            self.carry.timelines[alert_id] = part
            return None
        log.warning(
            "ilert_timeline_incomplete",
            alert_id=alert_id,
            passes=part.passes,
            entries=len(part.entries),
            action="publishing the entries read, in time order; any it could not reach are skipped",
        )
        return sorted(part.entries.values(), key=lambda entry: entry.id)

    def per_pass(self) -> float:
        """One pass's iLert budget in requests."""
        return self.config.ilert.requests_per_minute * self.config.poll_interval / 60


def _rebuild_failed(session: Session, error: Exception, p: PassState) -> None:
    session.rollback()
    p.report.failed_items += 1
    log.error(
        "state_rebuild_failed",
        error=scrub(str(error))[:500],
        action="nothing stored; the next pass tries the rebuild again",
    )


def _parse(item: object) -> Alert | None:
    try:
        return parse_alert(item)
    except PayloadError as error:
        alert_id = item.get("id") if isinstance(item, dict) else None
        if alert_id is not None and not isinstance(alert_id, int):
            alert_id = repr(alert_id)[:40]  # whatever it is, one short line
        log.warning("alert_unreadable", alert_id=alert_id, error=str(error)[:500])
        return None
