"""Self-healing: resolve an incident that duplicates the one an alert is linked to.

Once per pass, after the alerts were synced (a burst's writes never wait
behind these reads), for each page with mirrored incidents
(``core.duplicates`` decides which) read the next page of 100 of the page's
unresolved incidents (``read``; ``core.sweep``: a whole sweep takes
``open // 100 + 1`` passes). The same read serves two checks: human edits
(``edits``; from then on the daemon changes no status there) and duplicates:
each is resolved with a short body naming the incident kept, audited
(outcome ``duplicate_resolved``) and logged ``duplicate_resolved``. A read or
write that fails is logged and left for the next pass; it never stops the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.duplicates import (
    Duplicate,
    Seen,
    Tracked,
    find_duplicates,
    pages_to_check,
)
from ilert_statuspage_sync.core.human_edits import HUMAN_REASON, Edit, Written, confirmed, edits
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.core.sweep import PER_PAGE, advance, missing
from ilert_statuspage_sync.core.vendor_ids import vendor_id
from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.held import Held, OpenLink, build, rows_of_alerts
from ilert_statuspage_sync.store.renames import mirrored_before
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.page_evidence import catch_up_links
from ilert_statuspage_sync.sync.writer import StatuspageWriter, UpdateIncident, Write, writer_for

__all__ = [
    "DUPLICATE_OUTCOME",
    "HUMAN_EVENT",
    "RECENT",
    "DuplicateHealer",
    "PageReads",
    "duplicate_body",
    "person_changed",
]

log = structlog.get_logger(__name__)

DUPLICATE_OUTCOME = "duplicate_resolved"
HUMAN_EVENT = "human_edit"
# (connector, page id) -> the page of the page's unresolved incidents read this pass.
PageReads = dict[tuple[str, str], list[Seen]]
# Incidents missing from a page's unresolved list read on their own per pass, at most.
CONFIRM_READS = 10
# Pages are still checked this long after their last mirrored alert closed.
RECENT = timedelta(hours=1)


def duplicate_body(kept_id: str) -> str:
    """The update that closes a duplicate: where the story goes on."""
    return f"Closed as a duplicate: updates for this alert continue on incident {kept_id}."


class DuplicateHealer:
    """Finds and resolves duplicate incidents of one configuration's pages."""

    def __init__(
        self,
        config: Config,
        clients: Mapping[str, StatuspageClient],
        guard: Callable[[], bool],
        dry_run: bool,
    ) -> None:
        self.config = config
        self.clients = clients
        self.guard = guard
        # Chosen once: a dry run's writer sends and stores nothing. Resolving a
        # duplicate records no intent (sending it twice is harmless), so no checkpoints.
        self._out = writer_for(dry_run, Writer("duplicates"), guard, lambda _name: None)
        # Connectors found down by the last ``read``, with the error.
        self.unreachable: dict[str, TransientApiError] = {}
        # Per page read: our incidents that the sweep it just completed never showed.
        self.unseen: dict[tuple[str, str], set[str]] = {}
        # Per page read: the incidents of the page of the list read.
        self._batches: dict[tuple[str, str], list[Incident]] = {}

    def read(
        self, session: Session, now: datetime, skip: Collection[str] = (), *, whole: bool = False
    ) -> PageReads:
        """One page of 100 of the unresolved list per page worth a look (none for the others).

        ``whole``: instead, the whole list of each page worth a look that no
        sweep of this process has completed yet (its first pass: a restored
        database catches up from it before anything is written).
        The pages are picked from the open and recently closed links only: never
        the whole closed history. ``skip``: connectors whose budget has no room
        this pass (paced): a read would wait for the window, stalling the pass.
        """
        self.unreachable, self.unseen, self._batches = {}, {}, {}
        wanted = [
            (connector, page_id)
            for connector, page_id in self._readers()
            if connector not in skip
            # read whole in step 2 / swept in step 6
            and whole == (self.clients[connector].facts.listing(page_id) is None)
        ]
        if not wanted:
            return {}  # nothing to read: the links need not be looked at
        recent = [
            *(held.facts for held in repo.open_held(session)),
            *repo.recently_closed(session, now - RECENT),
        ]
        pages: set[str] = set()
        ours: dict[str, set[str]] = {}
        for link in recent:
            if link.page_id not in pages:  # a page already worth a look needs no more links
                pages |= pages_to_check([_tracked(link)], now, RECENT)
            if link.statuspage_incident_id is not None:
                ours.setdefault(link.page_id, set()).add(link.statuspage_incident_id)
        reads: PageReads = {}
        for connector, page_id in wanted:
            if page_id not in pages or connector in self.unreachable:
                continue
            read = self._read_whole if whole else self._read_page
            found = read(connector, page_id, ours.get(page_id, set()))
            if found is not None:
                reads[(connector, page_id)] = found
        return reads

    def _read_page(self, connector: str, page_id: str, ours: set[str]) -> list[Seen] | None:
        """The sweep's next page of the list (``core.sweep``); None when it cannot be read."""
        facts = self.clients[connector].facts
        sweep = facts.sweep(page_id)
        batch = self._fetch(connector, page_id, sweep.next_page)
        if batch is None:
            return None
        sweep = advance(sweep, {i.id: i for i in batch}, ours, full=len(batch) >= PER_PAGE)
        facts.swept(page_id, sweep)
        return self._took(connector, page_id, batch, missing(sweep, ours))

    def _read_whole(self, connector: str, page_id: str, ours: set[str]) -> list[Seen] | None:
        """The whole list (up to its 1,000): a complete sweep; None when it cannot be read."""
        batch = self._fetch(connector, page_id, None)
        if batch is None:
            return None
        self.clients[connector].facts.listed(page_id, batch)
        shown = {incident.id for incident in batch}
        # A list cut at its 1,000 proves nothing of the incidents past it.
        unseen = ours - shown if len(batch) < 10 * PER_PAGE else set()
        return self._took(connector, page_id, batch, unseen)

    def _fetch(self, connector: str, page_id: str, number: int | None) -> list[Incident] | None:
        """Page ``number`` of the list, or the whole of it (None); None when it cannot be read."""
        client = self.clients[connector]
        try:
            if number is None:
                return client.unresolved_incidents(page_id)
            return client.unresolved_page(page_id, number)
        except TransientApiError as error:
            # The connector is down: the caller defers its work (logged once per outage).
            self.unreachable[connector] = error
        except (ApiError, PayloadError) as error:
            log.warning("duplicate_check_failed", page_id=page_id, error=scrub(str(error)))
        return None

    def _took(
        self, connector: str, page_id: str, batch: list[Incident], unseen: set[str]
    ) -> list[Seen]:
        self.unseen[(connector, page_id)] = unseen
        self._batches[(connector, page_id)] = batch
        previous = {o: a.name for a in self.config.incident_actions for o in a.previous_names}
        return [_seen(incident, previous) for incident in batch]

    def heal(
        self,
        session: Session,
        now: datetime,
        connectors_down: Collection[str] = (),
        reads: PageReads | None = None,
    ) -> int:
        """Resolve every duplicate found on the pages read; return how many."""
        if reads is None:
            reads = self.read(session, now)
        resolved = 0
        # An incident naming none of these is its alert's one linking action's (core.duplicates).
        configured = {action.name for action in self.config.incident_actions}
        for (connector, page_id), actions in self._readers().items():
            seen = reads.get((connector, page_id))
            if seen is None or connector in connectors_down:
                continue
            client = self.clients[connector]
            mine = _mine(session, page_id, actions, seen)
            strays = {
                (i.action, i.alert_id)
                for i in seen
                if i.action is not None and i.alert_id is not None and i.action not in configured
            }
            proven = mirrored_before(session, strays) if strays else set()
            for duplicate in find_duplicates(seen, mine, configured, proven):
                resolved += self._resolve(session, client, page_id, duplicate, now)
        return resolved

    def edits(self, session: Session, now: datetime, reads: PageReads) -> int:
        """Mark the incidents a person changed on the pages read (``core.human_edits``).

        From then on the daemon changes their status no more; one audit row per
        alert of the incident and one ``human_override`` log line. Returns how many.
        """
        found = 0
        for (connector, page_id), actions in self._readers().items():
            seen = reads.get((connector, page_id))
            if seen is None:
                continue
            names = [action.name for action in actions]
            links = HeldLinks(session, repo.held_on_page(session, page_id, names))
            client = self.clients[connector]
            # Writes of ours the database lost (a restored backup) are not a person's.
            batch = self._batches.get((connector, page_id), ())
            if catch_up_links(links.naming(incident.id for incident in batch), batch):
                self._out.commit(session)
            unseen = self.unseen.get((connector, page_id), set())
            for edit in self._page_edits(client, page_id, links, seen, unseen):
                found += edit.first
                self._respect(session, edit, page_id, links, now)
            if session.dirty:
                self._out.commit(session)  # caught up from an incident read on its own
        return found

    def _page_edits(
        self,
        client: StatuspageClient,
        page_id: str,
        links: HeldLinks,
        seen: list[Seen],
        unseen: Collection[str],
    ) -> Iterator[Edit]:
        """The page's edits, each confirmed by reading the incident, up to ``CONFIRM_READS``.

        Judged: ours on the page of the list read now, and ours a whole sweep
        never showed (``unseen``); the others wait for their page's turn. One
        list is not a fact: it can shift between two reads, or serve a status
        that is already stale. A person is believed only when the incident
        itself shows the edit.
        """
        shown = {incident.incident_id: incident.status for incident in seen}
        judged = [
            w
            for w in _written(h.facts for h in links.naming({*shown, *unseen}))
            if w.incident_id in shown or w.incident_id in unseen
        ]
        budget = CONFIRM_READS
        for edit in edits(judged, shown):
            if budget == 0:
                continue  # judged on a later pass
            budget -= 1
            checked = self._confirm(client, page_id, edit, links.held_of(edit.incident_id))
            if checked is not None:
                yield checked

    @staticmethod
    def _confirm(
        client: StatuspageClient, page_id: str, edit: Edit, mine: Sequence[Held]
    ) -> Edit | None:
        """The incident read on its own: a person's edit, the list's, or a write of ours.

        A write the database lost (say, our resolve, after an older backup was
        restored) is recorded on the incident: the links catch up, and only a
        status other than the one recorded is a person's.
        """
        try:
            incident = client.get_incident(page_id, edit.incident_id)
        except PermanentApiError as error:
            if error.status != 404:
                return None
            return confirmed(edit, None)  # deleted
        except (ApiError, PayloadError):
            return None  # not judged this pass
        if catch_up_links(mine, [incident]):
            edit = replace(edit, from_status=mine[0].facts.statuspage_status or edit.from_status)
        return confirmed(edit, incident.status)

    def _respect(
        self, session: Session, edit: Edit, page_id: str, links: HeldLinks, now: datetime
    ) -> None:
        mine = links.of(edit.incident_id)
        if edit.first:
            person_changed(session, mine, edit.from_status, edit.to_status, now, self._out)
        for link in mine:
            link.statuspage_status = edit.to_status
        self._out.commit(session)
        if not edit.first:
            log.debug("human_override_again", incident=edit.incident_id, status=edit.to_status)

    def _readers(self) -> dict[tuple[str, str], list[IncidentAction]]:
        """Actions grouped by (connector, page): each page is read once per key."""
        groups: dict[tuple[str, str], list[IncidentAction]] = {}
        for action in self.config.incident_actions:
            groups.setdefault((action.connector, action.page_id), []).append(action)
        return groups

    def _resolve(
        self,
        session: Session,
        client: StatuspageClient,
        page_id: str,
        duplicate: Duplicate,
        now: datetime,
    ) -> int:
        """Resolve one duplicate (fenced, not recorded: a second resolve is harmless)."""
        record = _duplicate_record(page_id, duplicate)

        def record_answer(_incident: Incident) -> None:
            self._out.audit(session, record, now)
            session.commit()  # fenced like every commit of a leader
            _log_resolved(page_id, duplicate)

        write = Write(
            label="resolve_duplicate",
            client=client,
            request=UpdateIncident(page_id, duplicate.incident_id, _resolve_fields(duplicate)),
            record_answer=record_answer,
            dry=lambda: self._out.audit(None, record, now),
            now=now,
        )
        try:
            return 1 if self._out.send(session, write) is not None else 0
        except (ApiError, PayloadError) as error:
            # Still unresolved on the next pass's read, if this did not take effect.
            _log_resolve_failed(page_id, duplicate, error)
            return 0


def _duplicate_record(page_id: str, duplicate: Duplicate) -> AuditRecord:
    return AuditRecord(
        alert_id=duplicate.alert_id,
        incident_action=duplicate.action,
        page_id=page_id,
        statuspage_incident_id=duplicate.incident_id,
        ilert_event="duplicate_found",
        outcome=DUPLICATE_OUTCOME,
        from_status=duplicate.status,
        to_status="resolved",
        reason=f"duplicate of incident {duplicate.kept_id}, which is kept",
    )


def _resolve_fields(duplicate: Duplicate) -> dict[str, Any]:
    return {
        "status": "resolved",
        "body": duplicate_body(duplicate.kept_id),
        # Subscribers follow the kept incident; "resolved" here must not read as "over".
        "deliver_notifications": False,
    }


def _log_resolve_failed(page_id: str, duplicate: Duplicate, error: Exception) -> None:
    log.warning(
        "duplicate_resolve_failed",
        page_id=page_id,
        incident=duplicate.incident_id,
        error=scrub(str(error)),
    )


def _log_resolved(page_id: str, duplicate: Duplicate) -> None:
    log.warning(
        DUPLICATE_OUTCOME,
        alert_id=duplicate.alert_id,
        incident_action=duplicate.action,
        page_id=page_id,
        incident=duplicate.incident_id,
        kept=duplicate.kept_id,
    )


def _mine(
    session: Session, page_id: str, actions: Sequence[IncidentAction], seen: Sequence[Seen]
) -> list[Tracked]:
    """The links of the page's actions that the incidents seen name."""
    names = {action.name for action in actions}
    # Light rows: a page's read names up to 100 alerts, every pass.
    named = rows_of_alerts(session, {s.alert_id for s in seen if s.alert_id})
    return [
        _tracked(link)
        for link in named
        if link.page_id == page_id and link.incident_action in names
    ]


def _tracked(link: Link | OpenLink) -> Tracked:
    return Tracked(
        action=link.incident_action,
        alert_id=link.alert_id,
        page_id=link.page_id,
        incident_id=link.statuspage_incident_id,
        pending=link.pending_call is not None,
        is_open=link.is_open,
        updated_at=link.updated_at,
    )


def _seen(incident: Incident, previous: Mapping[str, str]) -> Seen:
    """The incident as the checks see it; opened under a previous name: its action's."""
    ilert = incident.metadata.get("ilert")
    alert_id, action = None, None
    if isinstance(ilert, Mapping):
        raw, name = ilert.get("alert_id"), ilert.get("incident_action")
        alert_id = vendor_id(raw) if isinstance(raw, str) else None
        action = previous.get(name, name) if isinstance(name, str) else None
    return Seen(incident.id, incident.status, alert_id, action)


class HeldLinks:
    """The links held on a page, indexed by the incident each names (its own, or a join's).

    An edit takes its incident's links at once, and the judged incidents' links
    are found without walking every held link again. Indexed on the light rows:
    objects are built only for the links handed out.
    """

    def __init__(self, session: Session, links: Iterable[Held]) -> None:
        self._session, self._held = session, list(links)
        # Positions by the incident each names, its own (``at``) or a join's (``~at``): one
        # int, a list only when several name it (nearly every open link is held: no list each).
        self._named: dict[str, int | list[int]] = {}
        for at, held in enumerate(self._held):
            link = held.facts
            own = link.statuspage_incident_id
            if own is not None:
                self._add(own, at)
            joining = (link.pending_call or {}).get("incident_id")
            if isinstance(joining, str) and joining != own:
                self._add(joining, ~at)

    def _add(self, incident_id: str, at: int) -> None:
        found = self._named.get(incident_id)
        if found is None:
            self._named[incident_id] = at
        elif isinstance(found, int):
            self._named[incident_id] = [found, at]
        else:
            found.append(at)

    def _at(self, incident_id: str) -> Sequence[int]:
        found = self._named.get(incident_id)
        if found is None:
            return ()
        return (found,) if isinstance(found, int) else found

    def of(self, incident_id: str) -> list[Link]:
        """The links whose incident is ``incident_id``, in the page's order (built)."""
        return build(self._session, self.held_of(incident_id))

    def held_of(self, incident_id: str) -> list[Held]:
        """The links whose incident is ``incident_id``, as held (not built)."""
        return [self._held[i] for i in self._at(incident_id) if i >= 0]

    def naming(self, incident_ids: Iterable[str]) -> list[Held]:
        """The links naming any of ``incident_ids`` (their own or a join's), in order."""
        at = sorted({i if i >= 0 else ~i for named in incident_ids for i in self._at(named)})
        return [self._held[i] for i in at]


def _written(links: Iterable[Link | OpenLink]) -> list[Written]:
    """What the daemon last wrote to each incident, and which incidents have a write pending."""
    written = []
    for link in links:
        pending = link.pending_call or {}
        joining = pending.get("incident_id")
        if isinstance(joining, str):
            # A join may have landed unrecorded: its incident proves nothing this pass.
            written.append(Written(joining, "", settled=False))
        if link.statuspage_incident_id is not None and link.statuspage_status is not None:
            written.append(
                Written(
                    link.statuspage_incident_id,
                    link.statuspage_status,
                    settled=not pending,
                    overridden=link.human_override,
                )
            )
    return written


def person_changed(
    session: Session,
    links: Sequence[Link],
    before: str | None,
    shown: str,
    now: datetime,
    out: StatuspageWriter,
) -> None:
    """A person changed these links' incident: flag them, one audit row each, one log line.

    The caller commits. Seen by the page read (``DuplicateHealer.edits``) or by
    reconciling an interrupted write (``Applier.reconcile``).
    """
    for link in links:
        link.human_override = True
        out.audit(session, _human_record(link, before, shown), now)
    first = links[0]
    log.warning(
        "human_override",
        page_id=first.page_id,
        incident=first.statuspage_incident_id,
        from_status=before,
        to_status=shown,
        alerts=sorted(link.alert_id for link in links),
        reason=HUMAN_REASON,
    )


def _human_record(link: Link, before: str | None, shown: str) -> AuditRecord:
    return AuditRecord(
        alert_id=link.alert_id,
        incident_action=link.incident_action,
        page_id=link.page_id,
        statuspage_incident_id=link.statuspage_incident_id,
        ilert_event=HUMAN_EVENT,
        outcome="no_change",
        from_status=before,
        to_status=shown,
        reason=HUMAN_REASON,
    )
