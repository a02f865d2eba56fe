"""The status bridges' writes: create, update, adopt and settle, through the one writer.

Before a create the page is searched for an object our metadata ties to the
iLert object (a lost or replaced database, another replica, an interrupted
create), and one found is adopted instead. Before an update the public object
is read: a person who changed its status, closed or deleted it wins, and the
bridge leaves it alone from then on (``held``). An interrupted write is
adopted when the page shows it, else forgotten and decided again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.core.backoff import retry_delay
from ilert_statuspage_sync.core.bridge import INCIDENT, MAINTENANCE, BridgeWrite, Seen
from ilert_statuspage_sync.core.bridge_model import StatusBridge
from ilert_statuspage_sync.core.intents import BridgeCall
from ilert_statuspage_sync.errors import PermanentApiError
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import bridged as store
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.tables import BridgedRow
from ilert_statuspage_sync.sync.writer import (
    CreateIncident,
    StatuspageWriter,
    UpdateIncident,
    Write,
)

__all__ = ["BridgeWrites", "PassBridges"]

log = structlog.get_logger(__name__)

_CLOSED = frozenset({"resolved", "completed", "postmortem"})


@dataclass
class PassBridges:
    """What the bridges did in one pass (merged into the pass's report)."""

    writes: int = 0
    failed: int = 0
    deferred: int = 0
    outcomes: list[str] = field(default_factory=list)


class BridgeWrites:
    """Sends a bridge's decisions through the writer (``sync.writer``)."""

    def __init__(self, out: StatuspageWriter, poll_interval: float = 30.0) -> None:
        self._out = out
        self._interval = poll_interval
        # (bridge, kind, iLert id) -> (refusals in a row, not tried again before): a write
        # Statuspage refused waits a growing delay (``core.backoff``), kept in memory: a
        # restart tries at once, which is what a fixed config wants.
        self._refused: dict[tuple[str, str, int], tuple[int, datetime]] = {}

    def apply(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        row: BridgedRow | None,
        write: BridgeWrite | None,
        now: datetime,
        result: PassBridges,
    ) -> None:
        if write is None or (row is not None and row.pending_call is not None):
            return  # an interrupted write ``settle`` waits for: nothing is sent on top of it
        key = (bridge.name, write.subject, write.ilert_id)
        if write.op != "record" and key in self._refused and now < self._refused[key][1]:
            result.deferred += 1  # refused before: waits out its back-off
            return
        if write.op == "record":
            assert row is not None
            row.seen = write.seen_after.to_json()
            row.is_open = not write.closes
            row.updated_at = now
            if write.event == "maintenance_ended":
                self._audit(session, bridge, row, write, "completed_by_statuspage", now)
            self._out.commit(session)
            return
        if write.op == "create":
            self._create(session, bridge, client, row, write, now, result)
            return
        assert row is not None
        shown = self._person_acted(session, bridge, client, row, write, now)
        if shown is not None:
            self._send(session, bridge, client, row, write, now, result, shown)

    def close(self, session: Session, row: BridgedRow, now: datetime) -> None:
        """Close a row the bridge no longer follows (a held object that left the listing)."""
        row.is_open = False
        row.updated_at = now
        self._out.commit(session)

    def _create(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        row: BridgedRow | None,
        write: BridgeWrite,
        now: datetime,
        result: PassBridges,
    ) -> None:
        found = self._find(client, bridge, write.subject, write.ilert_id)
        if row is None:
            row = store.add_row(
                session, bridge.name, write.subject, write.ilert_id, bridge.page_id, now
            )
        if found is not None:
            # Published already (a lost database, another process): adopt, never create twice.
            _adopt(row, found, write, now)
            self._audit(session, bridge, row, write, "adopted", now)
            self._out.commit(session)
            result.outcomes.append("adopted")
            return
        self._send(session, bridge, client, row, write, now, result)

    def _send(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        row: BridgedRow,
        write: BridgeWrite,
        now: datetime,
        result: PassBridges,
        shown: Incident | None = None,
    ) -> None:
        """Send ``write``; ``shown``: the public object as read right before an update."""
        request: CreateIncident | UpdateIncident
        if write.op == "create":
            request = CreateIncident(bridge.page_id, write.fields)
        else:
            request = UpdateIncident(bridge.page_id, str(row.statuspage_id), write.fields)

        def record(answer: Incident) -> None:
            _published(row, answer.id, write, now)
            self._audit(session, bridge, row, write, write.op + "d", now)
            session.commit()

        def dry() -> None:
            self._audit(None, bridge, row, write, write.op + "d", now)

        try:
            self._out.send(
                session,
                Write(
                    label=f"bridge_{write.op}",
                    client=client,
                    request=request,
                    record_answer=record,
                    dry=dry,
                    now=now,
                    holder=row,
                    intent=lambda: _intent(row, write, now, shown),
                ),
            )
        except PermanentApiError as error:
            result.failed += 1
            key = (bridge.name, write.subject, write.ilert_id)
            refusals = self._refused.get(key, (0, now))[0] + 1
            wait = retry_delay(refusals, self._interval)
            self._refused[key] = (refusals, now + wait)
            log.error(
                "bridge_write_refused",
                bridge=bridge.name,
                subject=write.subject,
                ilert_id=write.ilert_id,
                error=scrub(str(error))[:500],
                retry_in_s=wait.total_seconds(),
            )
            return
        self._refused.pop((bridge.name, write.subject, write.ilert_id), None)
        result.writes += 1
        result.outcomes.append(write.event)

    def _person_acted(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        row: BridgedRow,
        write: BridgeWrite,
        now: datetime,
    ) -> Incident | None:
        """Read the public object before changing it: None when a person's change or close won."""
        shown = _read(client, bridge.page_id, str(row.statuspage_id))
        seen = Seen.from_json(row.seen)
        if shown is not None and not _changed_by_person(row.kind, shown.status, seen):
            return shown
        row.held = True
        row.is_open = shown is not None and shown.status not in _CLOSED
        row.updated_at = now
        reason = (
            "deleted on Statuspage" if shown is None else f"status {shown.status} set on Statuspage"
        )
        self._audit(session, bridge, row, write, "held_by_person", now, reason=reason)
        self._out.commit(session)
        return None

    def _find(
        self, client: StatuspageClient, bridge: StatusBridge, subject: str, ilert_id: int
    ) -> Incident | None:
        """The page's object our metadata ties to this iLert object, if any."""
        key = "incident_id" if subject == INCIDENT else "maintenance_window_id"
        for incident in client.incidents_to_search(bridge.page_id):
            ilert = (
                incident.metadata.get("ilert") if isinstance(incident.metadata, Mapping) else None
            )
            if (
                isinstance(ilert, Mapping)
                and ilert.get("bridge") == bridge.name
                and str(ilert.get(key)) == str(ilert_id)
            ):
                return incident
        return None

    def settle(
        self,
        session: Session,
        bridge: StatusBridge,
        client: StatuspageClient,
        row: BridgedRow,
        now: datetime,
    ) -> None:
        """An interrupted write: adopt it if it landed, else forget it (decided again)."""
        if self._out.in_flight_until(session, row.pending_call) is not None:
            return  # another process's write may still land: wait
        call = BridgeCall.from_json(row.pending_call or {})
        landed = self._landed(client, bridge, row, call)
        if landed is None and self._out.unanswered_until(session, row.pending_call) is not None:
            return  # our own request got no answer and may still land: wait, never resend
        write = BridgeWrite(
            call.subject, row.ilert_id, call.op, call.event, {},
            Seen.from_json(call.seen_after) or Seen("", "", ""), closes=call.closes,
            to_status=call.status, body=call.body,
        )  # fmt: skip

        def adopt() -> None:
            if landed is not None:
                _published(row, landed.id, write, now)
                self._audit(session, bridge, row, write, "reconciled", now)

        self._out.reconcile(session, row, now, f"reconciled_bridge_{call.op}", adopt)

    def _landed(
        self, client: StatuspageClient, bridge: StatusBridge, row: BridgedRow, call: BridgeCall
    ) -> Incident | None:
        """The public object showing the interrupted write, or None when it did not land."""
        if call.op == "create":
            return self._find(client, bridge, call.subject, row.ilert_id)
        if call.status is None and call.body is None:
            # Nothing the page shows proves it (new times, a name, components): sent again,
            # which is harmless, rather than taken for landed and lost.
            return None
        shown = _read(client, bridge.page_id, str(row.statuspage_id))
        if shown is None:
            return None
        if call.body is not None:
            # Its text among the updates made since (a person may have posted after it).
            before = set(call.updates_before or ())
            made = (u.body.strip() for u in shown.updates if u.id not in before)
            return shown if call.body.strip() in made else None
        if call.status is not None and shown.status != call.status:
            return None
        return shown

    def _audit(
        self,
        session: Session | None,
        bridge: StatusBridge,
        row: BridgedRow,
        write: BridgeWrite,
        outcome: str,
        now: datetime,
        reason: str | None = None,
    ) -> None:
        record = AuditRecord(
            alert_id=row.ilert_id,
            incident_action=bridge.name,
            page_id=bridge.page_id,
            statuspage_incident_id=row.statuspage_id,
            ilert_event=write.event,
            outcome=outcome,
            from_status=write.from_status,
            to_status=write.to_status,
            reason=reason,
            published_name=write.name,
            published_body=write.body,
        )
        self._out.audit(session, record, now)


def _intent(
    row: BridgedRow, write: BridgeWrite, now: datetime, shown: Incident | None
) -> BridgeCall:
    """The intent recorded before ``write`` is sent (``shown``: the page's object before it)."""
    body = write.fields.get("body")
    before = None
    if shown is not None and body is not None:
        before = tuple(sorted(shown.timeline.ids_with_body(body)))
    return BridgeCall(
        op=write.op,
        subject=write.subject,
        statuspage_id=row.statuspage_id,
        status=write.fields.get("status"),
        body=write.fields.get("body"),
        seen_after=write.seen_after.to_json(),
        closes=write.closes,
        event=write.event,
        sent_at=now.isoformat(),
        updates_before=before,
    )


def _read(client: StatuspageClient, page_id: str, incident_id: str) -> Incident | None:
    """One public object; None when Statuspage answers 404 (deleted)."""
    try:
        return client.get_incident(page_id, incident_id)
    except PermanentApiError as error:
        if error.status == 404:
            return None
        raise


def _changed_by_person(kind: str, shown: str, seen: Seen | None) -> bool:
    """Whether the public object's status is one the bridge did not put there."""
    if kind == MAINTENANCE:
        return shown in _CLOSED  # it moves by its schedule; only a close is someone's
    return seen is not None and shown != seen.status.lower()


def _published(row: BridgedRow, statuspage_id: str, write: BridgeWrite, now: datetime) -> None:
    row.statuspage_id = statuspage_id
    row.seen = write.seen_after.to_json()
    row.is_open = not write.closes
    row.updated_at = now


def _adopt(row: BridgedRow, found: Incident, write: BridgeWrite, now: datetime) -> None:
    """Take over a public object found by its metadata; what it lacks is updated next.

    Its status, name or latest text may be behind iLert's (a change made while the
    state was lost): nothing counts as published then, so the next pass sends it all.
    """
    _published(row, found.id, write, now)
    body = write.fields.get("body")
    shows_body = body is None or body.strip() in (text.strip() for text in found.update_bodies)
    if (
        found.status != write.fields.get("status")
        or found.name != write.fields.get("name")
        or not shows_body
    ):
        row.seen = None
    row.is_open = found.status not in _CLOSED
