"""Keep each page's components at the worst status its open mirrored alerts hold.

Once per page per pass, after the alerts were synced: read the page's
components (one paged list, cached for the pass, so a create earlier in the
pass that needed it costs nothing more), let ``core.components`` decide, and
PATCH each component that must change. Each write is exactly-once in effect
like an incident write: its intent is committed in the component's row right
before the request, and a row found with an intent is reconciled against the
listing (a status is state: the page showing it is the effect wanted). Writes
go through the connector's paced client, so they share the key's budget.

A page costs no read when nothing is mirrored on it and the daemon has nothing
of its own left to undo there (every status it set is ``operational``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import ListedComponent, StatuspageClient
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.attribution import item_fault
from ilert_statuspage_sync.core.components import (
    OPERATIONAL,
    ComponentState,
    ComponentStep,
    Holder,
    create_map,
    plan_components,
)
from ilert_statuspage_sync.core.intents import ComponentChange, Writer
from ilert_statuspage_sync.core.model import CLOSED_STATUSES
from ilert_statuspage_sync.errors import (
    ApiError,
    LeadershipLostError,
    PayloadError,
    PermanentApiError,
    ThrottledError,
    TransientApiError,
)
from ilert_statuspage_sync.runtime.deadlines import WRITE_DEADLINE
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import components as store
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.tables import ComponentRow, Link
from ilert_statuspage_sync.sync.component_failures import ComponentFailures
from ilert_statuspage_sync.sync.writer import (
    RequestRefusedError,
    SetComponent,
    Write,
    writer_for,
)

__all__ = ["ComponentSync", "ComponentsOfAction", "PassComponents", "holder_of"]

log = structlog.get_logger(__name__)

CHANGED = "component_changed"


@dataclass
class PassComponents:
    """What the component step did in one pass (merged into the pass's report)."""

    writes: int = 0
    failed: int = 0
    deferred: int = 0
    outcomes: list[str] = field(default_factory=list)
    # Connector -> the transient error that took it down in this step.
    down: dict[str, TransientApiError] = field(default_factory=dict)


class ComponentSync:
    """The component side of every page with components configured."""

    def __init__(
        self,
        config: Config,
        statuspage: Mapping[str, StatuspageClient],
        *,
        guard: Callable[[], bool],
        writer: Writer,
        dry_run: bool,
        checkpoint: Callable[[str], None],
    ) -> None:
        self.config = config
        self.statuspage = statuspage
        # Chosen once: a dry run's writer sends and stores nothing.
        self._out = writer_for(dry_run, writer, guard, checkpoint, WRITE_DEADLINE)
        # This pass's listing per page, or the error reading it gave (not read twice).
        self._listed: dict[str, dict[str, ListedComponent] | ApiError | PayloadError] = {}
        self._missing_logged: set[tuple[str, str]] = set()
        # (page, component, status) Statuspage refused for good: not asked again by this process.
        self._refused: set[tuple[str, str, str]] = set()
        self._failures = ComponentFailures(config.poll_interval)
        # The status bridges' holds on a page's components (``sync.bridges``), if any.
        self.bridge_holders: Callable[[Session, str], list[Holder]] = lambda _s, _p: []

    @property
    def writer(self) -> Writer:
        """This process as the author of the intents recorded."""
        return self._out.author

    @writer.setter
    def writer(self, author: Writer) -> None:
        self._out.author = author

    # -- the page model ---------------------------------------------------------

    def begin_pass(self) -> None:
        """Forget last pass's listings: each pass reads a page at most once."""
        self._listed = {}

    def _actions(self, page_id: str) -> list[IncidentAction]:
        return [a for a in self.config.incident_actions if a.page_id == page_id and a.components]

    def _bridged(self, page_id: str) -> list[str]:
        """The components the status bridges on the page map services to."""
        return sorted(
            {
                component
                for bridge in self.config.status_bridges
                if bridge.page_id == page_id and (bridge.service_status or bridge.incidents)
                for component in bridge.services.values()
            }
        )

    def _pages(self, session: Session) -> list[str]:
        """Pages with components configured, and pages where the daemon still owns a status."""
        pages = {a.page_id for a in self.config.incident_actions if a.components}
        bridged = {b.page_id for b in self.config.status_bridges if self._bridged(b.page_id)}
        owned = store.owned_pages(session)
        # A page the daemon still owns a status on is undone while anything configured uses it.
        known = {a.page_id for a in self.config.incident_actions}
        known |= {b.page_id for b in self.config.status_bridges}
        return sorted(pages | bridged | (owned & known))

    def _client(self, page_id: str) -> tuple[str, StatuspageClient]:
        chosen = self._actions(page_id) or [
            a for a in self.config.incident_actions if a.page_id == page_id
        ]
        if chosen:
            connector = chosen[0].connector
        else:
            connector = next(
                b.connector for b in self.config.status_bridges if b.page_id == page_id
            )
        return connector, self.statuspage[connector]

    def listing(self, page_id: str) -> dict[str, ListedComponent]:
        """The page's components, read at most once per pass."""
        if page_id not in self._listed:
            _, client = self._client(page_id)
            try:
                self._listed[page_id] = client.component_statuses(page_id)
            except (ApiError, PayloadError) as error:
                self._listed[page_id] = error
        found = self._listed[page_id]
        if isinstance(found, ApiError | PayloadError):
            raise found
        return found

    def _cache_status(self, page_id: str, component_id: str, status: str) -> None:
        """What a write just set, so the rest of the pass sees it without a read."""
        found = self._listed.get(page_id)
        if isinstance(found, dict) and component_id in found:
            found[component_id] = dataclasses.replace(found[component_id], status=status)

    def _holders(self, session: Session, page_id: str, but: Link | None = None) -> list[Holder]:
        """Every open mirrored alert of the page's actions with components (not ``but``)."""
        actions = {a.name: a for a in self._actions(page_id)}
        holders = self.bridge_holders(session, page_id)
        if not actions:
            return holders
        rows = store.mirrored_on_page(session, page_id, list(actions))
        for link in rows:
            if link is but or (link.statuspage_status or "") in CLOSED_STATUSES:
                continue
            action = actions[link.incident_action]
            holders.append(holder_of(link, action, link.mirror_priority or "HIGH"))
        return holders

    @staticmethod
    def _rows(session: Session, page_id: str) -> dict[str, ComponentRow]:
        return store.component_rows(session, page_id)

    def _warn_missing(self, page_id: str, wanted: Sequence[str], listed: Mapping[str, Any]) -> None:
        for component_id in wanted:
            if component_id not in listed and (page_id, component_id) not in self._missing_logged:
                self._missing_logged.add((page_id, component_id))
                log.warning(
                    "component_missing",
                    page_id=page_id,
                    component_id=component_id,
                    action="left out; `check` lists the page's components",
                )

    # -- creates (called by the Applier) ------------------------------------------

    def of_action(
        self, session: Session, action: IncidentAction, now: datetime
    ) -> ComponentsOfAction | None:
        """The create hook for one action's Applier; None when it lists no components."""
        if not action.components:
            return None
        return ComponentsOfAction(self, session, action, now)

    # -- the per-pass step ----------------------------------------------------------

    def sync(
        self, session: Session, now: datetime, down: set[str], wrote: Collection[str] = ()
    ) -> PassComponents:
        """One step per page with components; a failing page never stops the others.

        ``wrote``: connectors an alert's write succeeded on in this pass.
        """
        result = PassComponents()
        self._failures.begin(set(wrote))
        for page_id in self._pages(session):
            connector, _ = self._client(page_id)
            if connector in down or connector in result.down:
                continue
            try:
                self._sync_page(session, page_id, now, result)
            except LeadershipLostError:
                raise
            except TransientApiError as error:
                session.rollback()
                # Still throttled after the waits: the page waits a pass, no outage.
                result.deferred += not isinstance(error, ThrottledError)
                result.down[connector] = error
            except (PermanentApiError, PayloadError, SQLAlchemyError) as error:
                session.rollback()
                result.failed += 1
                log.error("component_sync_failed", page_id=page_id, error=scrub(str(error))[:500])
        self._failures.settle(lambda connector: connector in down or connector in result.down, now)
        return result

    def _sync_page(
        self, session: Session, page_id: str, now: datetime, result: PassComponents
    ) -> None:
        rows = self._rows(session, page_id)
        holders = self._holders(session, page_id)
        undo = any(row.last_set not in (None, OPERATIONAL) for row in rows.values())
        pending = [row for row in rows.values() if row.pending_call is not None]
        if not holders and not undo and not pending:
            return  # nothing mirrored, nothing of ours to undo: no read
        if any(self._in_flight(session, interrupted) for interrupted in pending):
            result.deferred += 1
            return
        listed = self.listing(page_id)
        for interrupted in pending:
            self._reconcile(session, interrupted, listed, now)
        page = _Page(page_id, rows, listed, {cid: _state(row) for cid, row in rows.items()}, now)
        steps = plan_components(page.statuses(), page.states, holders, self._managed(page))
        # The failing components go behind the others (a stable sort keeps the plan's order).
        for step in sorted(steps, key=lambda s: self._failures.order((page_id, s.component_id))):
            self._step(session, page, step, len(holders), result)

    def _managed(self, page: _Page) -> list[str]:
        """The configured components (missing ones warned of), and those the daemon had set."""
        configured = sorted(
            {c for action in self._actions(page.id) for c in action.components}
            | set(self._bridged(page.id))
        )
        self._warn_missing(page.id, configured, page.listed)
        # A component taken out of the config is still undone if the daemon had set it.
        owned = [cid for cid, row in page.rows.items() if row.last_set not in (None, OPERATIONAL)]
        return sorted({*configured, *owned})

    def _step(
        self,
        session: Session,
        page: _Page,
        step: ComponentStep,
        open_alerts: int,
        result: PassComponents,
    ) -> None:
        """Carry out one component's step: remember its state, or write its status."""
        row = page.row(session, step.component_id)
        name = page.listed[step.component_id].name
        if step.newly_held:
            _log_held(page, step, name)
        if step.write is None:
            if _state(row) != step.state_after:
                _store(row, step.state_after, page.now)
                self._out.commit(session)
            return
        if (page.id, step.component_id, step.write) in self._refused:
            return
        if self._failures.waiting((page.id, step.component_id), page.now):
            result.deferred += 1  # its own back-off: tried again when it runs out
            return
        self._write(session, page, row, step, name, open_alerts, result)

    @staticmethod
    def _with_incident(session: Session, step: ComponentStep) -> ComponentStep:
        """The cause's incident id, from its link when the alert is no longer open."""
        cause = step.cause
        if cause is None or cause.incident_id is not None:
            return step
        link = repo.find_link(session, cause.action, cause.alert_id)
        if link is None or link.statuspage_incident_id is None:
            return step
        found = dataclasses.replace(cause, incident_id=link.statuspage_incident_id)
        return dataclasses.replace(step, cause=found)

    # -- one write, exactly once in effect (``sync.writer``) ------------------------

    def _write(
        self,
        session: Session,
        page: _Page,
        row: ComponentRow,
        step: ComponentStep,
        name: str,
        open_alerts: int,
        result: PassComponents,
    ) -> None:
        change = self._change(session, page, step, name, open_alerts)
        _, client = self._client(page.id)
        write = Write(
            label="component",
            client=client,
            request=SetComponent(page.id, step.component_id, change.status),
            record_answer=lambda answer: self._changed(session, page, row, change, answer, result),
            dry=lambda: self._out.audit(None, _record(change.audit, None), page.now),
            now=page.now,
            holder=row,
            intent=lambda: change,
            refused=lambda error: self._refused_write(session, page, row, change, error),
        )
        connector, key = self._client(page.id)[0], (page.id, step.component_id)
        try:
            self._out.send(session, write)
        except RequestRefusedError:
            result.failed += 1
            result.outcomes.append("failed")
        except TransientApiError as error:
            # One component's write failing is that component's: the others go on, and
            # it backs off (an intent that may have landed is reconciled first).
            if not item_fault(error) or self._failures.failed(connector, key, error):
                raise
            result.deferred += 1
        else:
            self._failures.succeeded(connector, key)

    def _change(
        self, session: Session, page: _Page, step: ComponentStep, name: str, open_alerts: int
    ) -> ComponentChange:
        """The intent of a step's write, with its audit row."""
        status = step.write
        assert status is not None
        step = self._with_incident(session, step)
        owners = [a.name for a in self.config.incident_actions if a.page_id == page.id]
        owners += [b.name for b in self.config.status_bridges if b.page_id == page.id]
        fallback = owners[0]
        audit = _audit(page.id, step, name, open_alerts, fallback)
        return ComponentChange(status, step.state_after, audit, page.now.isoformat())

    def _changed(
        self,
        session: Session,
        page: _Page,
        row: ComponentRow,
        change: ComponentChange,
        answer: ListedComponent,
        result: PassComponents,
    ) -> None:
        """The PATCH landed: remember the state, audit it, one commit."""
        _store(row, change.state_after, page.now)
        self._out.audit(session, _record(change.audit, None), page.now)
        session.commit()
        self._cache_status(page.id, row.component_id, answer.status)
        result.writes += 1
        result.outcomes.append(CHANGED)

    def _refused_write(
        self,
        session: Session,
        page: _Page,
        row: ComponentRow,
        change: ComponentChange,
        error: PermanentApiError,
    ) -> None:
        """Statuspage refused the status: not asked again; a failed row (the writer commits)."""
        self._refused.add((page.id, row.component_id, change.status))
        failed = {**change.audit, "outcome": "failed", "to_status": None}
        self._out.audit(session, _record(failed, scrub(str(error))[:500]), page.now)

    def _in_flight(self, session: Session, row: ComponentRow) -> bool:
        """Another process's component write that may still land: the page waits."""
        return self._out.in_flight_until(session, row.pending_call) is not None

    def _reconcile(
        self,
        session: Session,
        row: ComponentRow,
        listed: Mapping[str, ListedComponent],
        now: datetime,
    ) -> None:
        """An interrupted write: adopt it when the page shows its status, else forget it."""
        assert row.pending_call is not None
        change = ComponentChange.from_json(row.pending_call)
        shown = listed.get(row.component_id)

        def adopt() -> None:
            if shown is None or shown.status != change.status:
                return
            _store(row, change.state_after, now)
            if change.audit:
                reason = "confirmed on Statuspage after an interrupted call"
                self._out.audit(session, _record(change.audit, reason), now)

        self._out.reconcile(session, row, now, "reconciled_component", record_answer=adopt)


def _log_held(page: _Page, step: ComponentStep, name: str) -> None:
    log.warning(
        "component_human_override",
        page_id=page.id,
        component_id=step.component_id,
        component=name,
        status=step.listed,
        daemon_last_set=page.states.get(step.component_id, ComponentState()).baseline,
        action="left alone until it is back at that status or operational",
    )


@dataclass
class _Page:
    """One page in the component step: its rows, listing and remembered states."""

    id: str
    rows: dict[str, ComponentRow]
    listed: Mapping[str, ListedComponent]
    states: dict[str, ComponentState]
    now: datetime

    def statuses(self) -> dict[str, str]:
        """The listed status of every component that is not a group."""
        return {cid: c.status for cid, c in self.listed.items() if not c.is_group}

    def row(self, session: Session, component_id: str) -> ComponentRow:
        """The component's row, added (not committed) when it has none yet."""
        row = self.rows.get(component_id)
        if row is None:
            row = ComponentRow(page_id=self.id, component_id=component_id, updated_at=self.now)
            session.add(row)
            self.rows[component_id] = row
        return row


class ComponentsOfAction:
    """What a new incident of one action sets on its components (the Applier's hook)."""

    def __init__(
        self, sync: ComponentSync, session: Session, action: IncidentAction, now: datetime
    ) -> None:
        self.sync = sync
        self.session = session
        self.action = action
        self.now = now

    def create_fields(self, link: Link, priority: str) -> dict[str, Any]:
        """``component_ids`` and the ``components`` map: worst of what is open, holds left out."""
        page_id = self.action.page_id
        try:
            listed = self.sync.listing(page_id)
        except (PermanentApiError, PayloadError) as error:
            # The incident matters more than its components: created without them,
            # the component step reports the failure and sets them once it can read.
            _log_unreadable(page_id, link, error)
            return {}
        self.sync._warn_missing(page_id, self.action.components, listed)
        usable = [c for c in self.action.components if c in listed and not listed[c].is_group]
        if not usable:
            return {}
        rows = self.sync._rows(self.session, page_id)
        new = holder_of(link, self.action, priority)
        statuses = {cid: listed[cid].status for cid in usable}
        states = {cid: _state(row) for cid, row in rows.items()}
        others = self.sync._holders(self.session, page_id, but=link)
        components = create_map(new, statuses, states, others)
        return {"component_ids": usable, "components": components}

    def created(
        self, link: Link, components: Mapping[str, str], listed_before: Mapping[str, str]
    ) -> None:
        """The create set ``components``: remember them and audit each change (caller commits)."""
        page_id = self.action.page_id
        rows = self.sync._rows(self.session, page_id)
        for component_id, status in components.items():
            row = rows.get(component_id)
            if row is None:
                row = ComponentRow(page_id=page_id, component_id=component_id, updated_at=self.now)
                self.session.add(row)
            before = _state(row)
            holder_id, holder_action = link.alert_id, self.action.name
            if before.last_set == status and before.holder_alert_id is not None:
                holder_id, holder_action = before.holder_alert_id, before.holder_action or ""
            _store(row, ComponentState(status, None, holder_id, holder_action), self.now)
            old = listed_before.get(component_id)
            if old is not None and old != status:
                record = self._created_record(link, component_id, old, status)
                self.sync._out.audit(self.session, record, self.now)
            self.sync._cache_status(page_id, component_id, status)

    def _created_record(self, link: Link, component_id: str, old: str, status: str) -> AuditRecord:
        return AuditRecord(
            alert_id=link.alert_id,
            incident_action=self.action.name,
            page_id=self.action.page_id,
            statuspage_incident_id=link.statuspage_incident_id,
            ilert_event="component",
            outcome=CHANGED,
            from_status=old,
            to_status=status,
            reason=f"component {component_id}: set with the incident's creation",
        )

    def listed_statuses(self) -> dict[str, str]:
        """The statuses the pass's listing shows now (for the audit's from_status)."""
        listed = self.sync.listing(self.action.page_id)
        return {cid: c.status for cid, c in listed.items()}


def _log_unreadable(page_id: str, link: Link, error: Exception) -> None:
    log.warning(
        "components_unreadable",
        page_id=page_id,
        alert_id=link.alert_id,
        error=scrub(str(error))[:300],
        action="incident created without components",
    )


def holder_of(link: Link, action: IncidentAction, priority: str) -> Holder:
    """An open mirrored alert as the page model sees it (its action's components and map)."""
    return Holder(
        alert_id=link.alert_id,
        action=action.name,
        priority=priority,
        components=action.components,
        component_status=action.component_status,
        incident_id=link.statuspage_incident_id,
    )


def _state(row: ComponentRow) -> ComponentState:
    return ComponentState(row.last_set, row.held_since, row.holder_alert_id, row.holder_action)


def _store(row: ComponentRow, state: ComponentState, now: datetime) -> None:
    row.last_set = state.last_set
    row.held_since = state.held_since
    row.holder_alert_id = state.holder_alert_id
    row.holder_action = state.holder_action
    row.updated_at = now


def _audit(
    page_id: str, step: ComponentStep, name: str, open_alerts: int, fallback_action: str
) -> dict[str, Any]:
    cause = step.cause
    shown = f"component {name} ({step.component_id})" if name else f"component {step.component_id}"
    if step.desired == OPERATIONAL:
        why = f"{shown}: nothing open holds it any more"
    else:
        # Holders: open mirrored alerts, and a status bridge's services and open incidents.
        why = f"{shown}: worst status held by {open_alerts} open holder(s) on the page"
    return {
        "alert_id": cause.alert_id if cause else 0,
        "incident_action": cause.action if cause else fallback_action,
        "page_id": page_id,
        "statuspage_incident_id": cause.incident_id if cause else None,
        "outcome": CHANGED,
        "from_status": step.listed,
        "to_status": step.write,
        "reason": why,
    }


def _record(audit: Mapping[str, Any], reason: str | None) -> AuditRecord:
    return AuditRecord(
        alert_id=int(audit["alert_id"]),
        incident_action=str(audit["incident_action"]),
        page_id=str(audit["page_id"]),
        statuspage_incident_id=audit.get("statuspage_incident_id"),
        ilert_event="component",
        outcome=str(audit["outcome"]),
        from_status=audit.get("from_status"),
        to_status=audit.get("to_status"),
        reason=reason or audit.get("reason"),
    )
