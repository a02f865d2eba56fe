"""The status bridges' step: iLert incidents and windows onto their pages, exactly once.

Per bridge, each pass: settle an interrupted write, read iLert's open
incidents on the mapped services (one request) and the OPEN maintenance
windows (one request, shared by every bridge), read by id only the tracked
objects those lists no longer hold (they ended or were deleted), let
``core.bridge`` decide, and send each write through the one writer (intent,
fence, send, outcome and audit row in one commit). A quiet pass costs no
Statuspage request. Services are read at most once a minute; their statuses,
with the open bridged objects' impacts, are holds ``sync.components`` weighs
with the alerts' on the same components (the worst wins).
The writes themselves are ``sync.bridge_writes``'.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Literal, TypeVar

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.ilert_status_model import Unreadable
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.core.bridge import (
    COMPONENT_STATUS,
    INCIDENT,
    MAINTENANCE,
    BridgeWrite,
    Seen,
    Stored,
    plan_incident,
    plan_window,
    window_components,
)
from ilert_statuspage_sync.core.bridge_model import (
    IlertIncident,
    IlertService,
    MaintenanceWindow,
    StatusBridge,
)
from ilert_statuspage_sync.core.components import OPERATIONAL, UNDER_MAINTENANCE, Holder
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.core.templates import RenderError
from ilert_statuspage_sync.errors import (
    ApiError,
    LeadershipLostError,
    PayloadError,
    PermanentApiError,
    StopRequestedError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.deadlines import WRITE_DEADLINE
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import bridged as store
from ilert_statuspage_sync.store.tables import BridgedRow
from ilert_statuspage_sync.sync.bridge_writes import BridgeWrites, PassBridges
from ilert_statuspage_sync.sync.writer import writer_for

__all__ = ["BridgeSync", "PassBridges", "components_by_source"]

log = structlog.get_logger(__name__)

T = TypeVar("T", IlertIncident, MaintenanceWindow)

SERVICES_EVERY_S = 60.0
_OPEN_STATES = ("INVESTIGATING", "IDENTIFIED", "MONITORING")
_CLOSED = frozenset({"resolved", "completed", "postmortem"})


class BridgeSync:
    """Every ``[[status_bridges]]`` of the config."""

    def __init__(
        self,
        config: Config,
        ilert: IlertClient,
        statuspage: Mapping[str, StatuspageClient],
        *,
        guard: Callable[[], bool],
        writer: Writer,
        dry_run: bool,
        checkpoint: Callable[[str], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.ilert = ilert
        self.statuspage = statuspage
        self._out = writer_for(dry_run, writer, guard, checkpoint, WRITE_DEADLINE)
        self.writes = BridgeWrites(self._out, config.poll_interval)
        self._monotonic = monotonic
        # The services' statuses as last read, and when (monotonic): read once a minute.
        self.services: dict[int, IlertService] = {}
        self._services_at: float | None = None
        self._windows: list[MaintenanceWindow] | None = None
        self._windows_unreadable: set[int | None] = set()

    @property
    def writer(self) -> Writer:
        """This process as the author of the intents recorded."""
        return self._out.author

    @writer.setter
    def writer(self, author: Writer) -> None:
        self._out.author = author

    # -- the step --------------------------------------------------------------------

    def sync(self, session: Session, now: datetime, down: set[str]) -> PassBridges:
        """One step per bridge; a failing bridge never stops the others."""
        result = PassBridges()
        self._windows = None
        for bridge in self.config.status_bridges:
            if bridge.connector in down:
                result.deferred += 1
                continue
            try:
                self._bridge(session, bridge, now, result)
            except LeadershipLostError:
                raise
            except TransientApiError as error:
                session.rollback()
                result.deferred += 1
                log.warning("bridge_deferred", bridge=bridge.name, error=scrub(str(error))[:300])
            except (PermanentApiError, PayloadError, SQLAlchemyError) as error:
                session.rollback()
                result.failed += 1
                log.error("bridge_sync_failed", bridge=bridge.name, error=scrub(str(error))[:500])
        return result

    def _bridge(
        self, session: Session, bridge: StatusBridge, now: datetime, result: PassBridges
    ) -> None:
        client = self.statuspage[bridge.connector]
        for pending in store.pending_rows(session, bridge.name):
            self.writes.settle(session, bridge, client, pending, now)
        changed = False
        if bridge.incidents:
            for ilert_id, incident, row in self._incidents(session, bridge, now):
                write = _decided(
                    bridge,
                    INCIDENT,
                    ilert_id,
                    result,
                    functools.partial(plan_incident, bridge, ilert_id, incident, _stored(row)),
                )
                changed = changed or write is not None
                self.writes.apply(session, bridge, client, row, write, now, result)
        if bridge.service_status:
            # iLert derives a service's status from its open incidents: one that changed
            # makes the statuses read earlier stale, so they are read again at once.
            self._read_services(force=changed)
        if bridge.maintenance_windows:
            self._sync_windows(session, bridge, client, now, result)

    def _incidents(
        self, session: Session, bridge: StatusBridge, now: datetime
    ) -> list[tuple[int, IlertIncident | None, BridgedRow | None]]:
        """Each listed incident and each tracked one the list no longer holds (read by id)."""
        rows = store.open_rows(session, bridge.name, INCIDENT)
        listing = self.ilert.list_incidents(states=_OPEN_STATES, services=sorted(bridge.services))
        _log_unreadable(bridge, listing.unreadable)
        unreadable = {item.id for item in listing.unreadable}
        listed = {item.id: item for item in listing.items}
        # One closed already (a person closed it) stays closed: never created again.
        rows_listed = rows | store.closed_rows(session, bridge.name, INCIDENT, listed.keys() - rows)
        # A row whose write is still unsettled waits: deciding on it would send again.
        waiting = {ilert_id for ilert_id, row in rows.items() if row.pending_call is not None}
        found: list[tuple[int, IlertIncident | None, BridgedRow | None]] = [
            (ilert_id, item, rows_listed.get(ilert_id))
            for ilert_id, item in sorted(listed.items())
            if ilert_id not in waiting
        ]
        for ilert_id, row in sorted(rows.items()):
            if ilert_id in listed or ilert_id in waiting:
                continue
            if row.held or row.statuspage_id is None:
                # Written to no more, or never published: how it ended needs no read, each pass.
                self.writes.close(session, row, now)
                continue
            if ilert_id in unreadable:
                continue  # listed, but unreadable (logged): not gone
            incident = _read_by_id(bridge, "incident", ilert_id, self.ilert.get_incident)
            if incident is not False:
                found.append((ilert_id, incident, row))
        return found

    def _sync_windows(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        now: datetime,
        result: PassBridges,
    ) -> None:
        if self._windows is None:
            listing = self.ilert.list_maintenance_windows(state="OPEN")
            _log_unreadable(bridge, listing.unreadable)
            self._windows = list(listing.items)
            self._windows_unreadable = {item.id for item in listing.unreadable}
        by_source = components_by_source(self.config, bridge)
        rows = store.open_rows(session, bridge.name, MAINTENANCE)
        listed = {item.id: item for item in self._windows}
        parts_of = {i: window_components(bridge, w, by_source) for i, w in listed.items()}
        # One closed already (a person completed it) stays closed: never created again.
        ours = {i for i, parts in parts_of.items() if parts and i not in rows}
        closed = store.closed_rows(session, bridge.name, MAINTENANCE, ours)
        for window_id, window in sorted(listed.items()):
            parts = parts_of[window_id]
            row = rows.get(window_id) or closed.get(window_id)
            if row is not None and row.pending_call is not None:
                continue  # its write is still unsettled: deciding on it would send again
            decide = functools.partial(
                plan_window, bridge, window_id, window, _stored(row), now, parts
            )
            write = _decided(bridge, MAINTENANCE, window_id, result, decide)
            self.writes.apply(session, bridge, client, row, write, now, result)
        for window_id, row in sorted(rows.items()):
            if window_id in listed or window_id in self._windows_unreadable:
                continue  # listed (an unreadable one is logged, not gone)
            if row.pending_call is not None:
                continue
            if row.statuspage_id is None:
                self.writes.close(session, row, now)  # never published: nothing to end
                continue
            gone = _read_by_id(
                bridge, "maintenance window", window_id, self.ilert.get_maintenance_window
            )
            if gone is False:
                continue
            decide = functools.partial(
                plan_window, bridge, window_id, gone, _stored(row), now, listed_open=False
            )
            write = _decided(bridge, MAINTENANCE, window_id, result, decide)
            self.writes.apply(session, bridge, client, row, write, now, result)

    def _read_services(self, *, force: bool = False) -> None:
        """The services' statuses, read at most once a minute (a failed read keeps the last).

        ``force``: read now (an incident on them changed this pass).
        """
        at = self._monotonic()
        recent = self._services_at is not None and at - self._services_at < SERVICES_EVERY_S
        if recent and not force:
            return
        self._services_at = at
        try:
            listing = self.ilert.list_services()
        except StopRequestedError:
            raise
        except (ApiError, PayloadError) as error:
            # The incidents and windows do not need them: they go on with the last statuses.
            log.warning("bridge_services_unread", error=scrub(str(error))[:300])
            return
        self.services = {service.id: service for service in listing.items}

    # -- the holds on components (``sync.components``) -------------------------------

    def holders(self, session: Session, page_id: str) -> list[Holder]:
        """The statuses the bridges hold on the page's components: services and open objects."""
        holders: list[Holder] = []
        # Only a configured bridge holds: a renamed or removed one's rows are never updated.
        bridges = {b.name for b in self.config.status_bridges if b.page_id == page_id}
        for bridge in self.config.status_bridges:
            if bridge.page_id != page_id:
                continue
            if bridge.service_status:
                for service_id, component in sorted(bridge.services.items()):
                    service = self.services.get(service_id)
                    status = COMPONENT_STATUS.get(service.status) if service else None
                    if status not in (None, OPERATIONAL, UNDER_MAINTENANCE):
                        holders.append(_holder(bridge.name, service_id, component, str(status)))
        for row in store.open_rows_on_page(session, page_id):
            seen = Seen.from_json(row.seen)
            if row.kind != INCIDENT or seen is None or row.held or row.statuspage_id is None:
                continue
            if row.bridge not in bridges:
                continue
            for component, status in sorted(seen.impacts.items()):
                if status not in (OPERATIONAL, UNDER_MAINTENANCE):
                    holders.append(_holder(row.bridge, row.ilert_id, component, status))
        return holders


def components_by_source(config: Config, bridge: StatusBridge) -> dict[int, tuple[str, ...]]:
    """Alert source -> the components of the incident actions on the bridge's page using it.

    Only the page's first bridge with windows takes them: each bridge would schedule
    such a window otherwise.
    """
    first = next(
        b for b in config.status_bridges if b.page_id == bridge.page_id and b.maintenance_windows
    )
    if first.name != bridge.name:
        return {}
    found: dict[int, set[str]] = {}
    for action in config.incident_actions:
        if action.page_id != bridge.page_id or not action.components:
            continue
        for source in action.alert_sources:
            found.setdefault(source, set()).update(action.components)
    return {source: tuple(sorted(parts)) for source, parts in found.items()}


def _decided(
    bridge: StatusBridge,
    subject: str,
    ilert_id: int,
    result: PassBridges,
    decide: Callable[[], BridgeWrite | None],
) -> BridgeWrite | None:
    """The decision, or None when the bridge's template failed to render (that object fails)."""
    try:
        return decide()
    except RenderError as error:
        result.failed += 1
        log.error(
            "bridge_template_failed",
            bridge=bridge.name,
            subject=subject,
            ilert_id=ilert_id,
            error=scrub(str(error))[:500],
        )
        return None


def _log_unreadable(bridge: StatusBridge, unreadable: Iterable[Unreadable]) -> None:
    """One line per object iLert listed that cannot be read: the others go on."""
    for item in unreadable:
        log.warning(
            "bridge_object_unreadable",
            bridge=bridge.name,
            kind=item.kind,
            ilert_id=item.id,
            error=item.reason,
        )


def _read_by_id(
    bridge: StatusBridge, kind: str, asked: int, read: Callable[[int], T | None]
) -> T | Literal[False] | None:
    """A tracked object read by id (None: deleted); False when unreadable (logged)."""
    try:
        item = read(asked)
    except PayloadError as error:
        _log_unreadable(bridge, [Unreadable(kind, asked, scrub(str(error))[:300])])
        return False
    if item is not None and not _answers_for(bridge, kind, asked, item.id):
        return False
    return item


def _answers_for(bridge: StatusBridge, kind: str, asked: int, answered: int) -> bool:
    """Whether a read by id answered the object asked for; another one is never published."""
    if asked == answered:
        return True
    reason = f"GET by id {asked} answered {kind} {answered}"
    _log_unreadable(bridge, [Unreadable(kind, asked, reason)])
    return False


def _stored(row: BridgedRow | None) -> Stored | None:
    """The decisions' view of a row; a row never published counts as none."""
    if row is None or row.statuspage_id is None:
        return None
    return Stored(row.statuspage_id, Seen.from_json(row.seen), row.is_open, row.held)


def _holder(bridge: str, ilert_id: int, component: str, status: str) -> Holder:
    """A hold of ``status`` on one component, by a service or an open bridged incident."""
    return Holder(ilert_id, bridge, "", (component,), fixed=status)
