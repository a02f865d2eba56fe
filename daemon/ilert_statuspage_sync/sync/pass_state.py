"""The state of one pass (made fresh each pass) and what outlives a pass."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.listing import OpenSetCycle, ReportedWindow
from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.pacing import WritePacer
from ilert_statuspage_sync.core.timeline_order import Order
from ilert_statuspage_sync.errors import ThrottledError, TransientApiError
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.held import Held, OpenLink
from ilert_statuspage_sync.store.tables import ActionState, Link
from ilert_statuspage_sync.sync.outages import ServiceHealth
from ilert_statuspage_sync.sync.report import PassReport
from ilert_statuspage_sync.sync.storm import PassShares

__all__ = ["Carryover", "Filtered", "IlertRead", "PartialTimeline", "PassState", "Work"]


@dataclass
class PartialTimeline:
    """A timeline read cut short by its page budget: resumed next pass (in memory)."""

    after: int | None  # the mirror's last entry id it was read against
    next_start: int
    entries: dict[int, LogEntry]
    # The cursor the pages are read against: ``after``, or the newest entry held
    # once the head is read again (core.timeline_order); and the order proven so far.
    floor: int | None = None
    order: Order = Order.UNKNOWN
    head: bool = False  # reading the head again, down to ``floor``
    passes: int = 0  # passes the read has spanned (core.timeline_order.MAX_TIMELINE_PASSES)


@dataclass
class Work:
    """One alert as one incident action mirrors it, in this pass."""

    action: IncidentAction
    held: Held  # the link: its light row, its object built once the item is worked on
    alert: Alert
    deleted: bool = False  # iLert confirmed the alert gone (core.deletion): resolve its incident

    @property
    def link(self) -> Link:
        """The link's object (built on first use: only the items a pass works on)."""
        return self.held.link

    @property
    def facts(self) -> Link | OpenLink:
        """What the pass's decisions read of the link, without building it."""
        return self.held.facts


@dataclass(frozen=True)
class Filtered:
    """An alert kept off the page whose reason this process has not audited yet.

    Audited with the pass's batched bookkeeping (``Bookkeeping``), unless its
    newest audit row already says so.
    """

    item: Work
    record: AuditRecord


@dataclass
class Carryover:
    """What a pass hands to the next one, in memory (a restart begins afresh).

    A listing cycle and a long timeline read span passes, so their resume
    points must outlive one; the filter reason audited per (action, alert) is
    not audited again while the alert is tracked; the count of mirrored
    alerts sizes the next listing; the latest snapshots of open alerts stand
    in for those the next pass does not list; a dry run stores nothing, so it
    remembers its own activation times.
    """

    cycle: OpenSetCycle = field(default_factory=OpenSetCycle)
    timelines: dict[int, PartialTimeline] = field(default_factory=dict)
    filtered: dict[tuple[str, int], str] = field(default_factory=dict)
    checkable: int = 0
    snapshots: dict[int, Alert] = field(default_factory=dict)
    # Links whose snapshot was diffed with nothing to do, by action and alert id: the
    # hash of the link's fingerprint (store.held) and that snapshot. While both match,
    # the unlisted snapshot is no work item, only a candidate for a timeline read
    # (core.alert_selection).
    settled: dict[str, dict[int, int]] = field(default_factory=dict)
    dry_activation: dict[str, datetime] = field(default_factory=dict)
    # This machine's time of each missing alert's first 404 (core.deletion), by action and id.
    missing_local: dict[tuple[str, int], datetime] = field(default_factory=dict)
    # When each mirrored open alert was last read (listed or by id), and how many reads
    # by id a pass may spend on them: the next pass's turns and reservation (core.refresh).
    read_at: dict[int, datetime] = field(default_factory=dict)
    refreshing: int = 0
    # The "reported since" window a pass could not finish (core.listing.ReportedWindow).
    reported: ReportedWindow | None = None


@dataclass
class IlertRead:
    """What step 1 read: the actions' states, the alerts in hand, iLert's time."""

    states: dict[str, ActionState]
    alerts: dict[int, Alert]
    ilert_now: datetime
    # Where the actions' poll cursors move (None: they stay, a "reported since" window
    # is unfinished); iLert's time unless a resumed window ended.
    cursor: datetime | None = None


@dataclass
class PassState:
    """Everything one pass learns and uses; made fresh at the start of each pass."""

    now: datetime
    report: PassReport
    # Timelines read this pass (None: a long read unfinished), alerts read by id, and why not.
    entries: dict[int, list[LogEntry] | None] = field(default_factory=dict)
    by_id: dict[int, Alert | None] = field(default_factory=dict)
    # Mirrored alerts read by id this pass although the listing cycle may hold them open.
    refresh: set[int] = field(default_factory=set)
    read_errors: dict[int, Exception] = field(default_factory=dict)
    # Alert sources read this pass: visible to the key, not (404/403), or unknown (None).
    sources: dict[int, bool | None] = field(default_factory=dict)
    # Alerts confirmed deleted in iLert this pass (core.deletion), by id.
    gone: set[int] = field(default_factory=set)
    ilert_calls: int = 0
    # Names of services found down in this pass: their remaining work waits for the next.
    down: set[str] = field(default_factory=set)
    # Per connector: the items whose calls failed since its last success (core.attribution),
    # and the connectors that answered in this pass (a page read or a write).
    item_failures: dict[str, set[int]] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)
    # Storm openers whose create intent a waiting alert checked in this pass (by alert id).
    openers_checked: set[int] = field(default_factory=set)
    # Connectors a write succeeded on in this pass: up for the rest of it.
    wrote: set[str] = field(default_factory=set)
    # Item failures not yet backed off: per connector, those after its last success
    # (withdrawn if it is judged down), and those a success since proved the items'.
    suspects: dict[str, list[tuple[Work, TransientApiError]]] = field(default_factory=dict)
    item_faults: list[tuple[Work, TransientApiError]] = field(default_factory=list)
    # iLert's time at this pass's first read (see core.clock), and its Date header.
    ilert_now: datetime | None = None
    ilert_date: datetime | None = None
    # Where this pass's "reported since" listing starts, and where the poll cursor moves.
    since: datetime | None = None
    cursor: datetime | None = None
    # Bookkeeping of alerts that changed nothing, by link id: written in one batch.
    batched: dict[int, tuple[Work, dict[str, object]]] = field(default_factory=dict)
    # Alerts kept off the page to audit "filtered" with that batch.
    filtered: list[Filtered] = field(default_factory=list)
    # Connectors whose Statuspage allowance this pass is spent (pacing).
    paced: set[str] = field(default_factory=set)
    # Connectors still throttled (420/429) after waiting as told: nothing more starts there.
    throttled: set[str] = field(default_factory=set)
    pacer: WritePacer | None = None
    # Each budget's granted count at the pass's start, by the budget's id.
    started: dict[int, int] = field(default_factory=dict)
    # The settled snapshots of this pass (core.alert_selection): timeline-read candidates,
    # per action by alert id (nearly every open link: no pair object each).
    settled: list[tuple[IncidentAction, dict[int, Held]]] = field(default_factory=list)
    # This pass's links per action (a dry run's new ones live only here).
    links: dict[str, list[Held]] = field(default_factory=dict)
    # group = "action": each action's shares, read at first use in a pass.
    shares: dict[str, PassShares] = field(default_factory=dict)

    def each_settled(self) -> Iterator[tuple[IncidentAction, Held]]:
        """The settled snapshots' links with their action, in the order they were settled."""
        for action, links in self.settled:
            for held in links.values():
                yield action, held

    def mark_down(self, health: ServiceHealth, error: Exception, *, writes: bool = False) -> None:
        """The service is down for the rest of this pass (logged once per outage).

        A throttle is no outage (``ThrottledError``): the rest waits a pass, unlogged.
        """
        if isinstance(error, ThrottledError):
            self.paced.add(health.name.removeprefix("statuspage:"))
            return
        self.down.add(health.name)
        health.failed(error, self.now, writes=writes)
