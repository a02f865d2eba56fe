"""The one place Statuspage writes go out, exactly once in effect.

Every write follows the same protocol: (1) record its intent in the row it
changes and commit, stamped on the database's clock; (2) fence: ask the
leadership guard (a newer leader refuses the commit too) and, with replicas,
give up when the intent took too long to record; (3) send; (4) record the
outcome in one commit with its audit rows. A row found with an intent was
interrupted between (1) and (4): its caller asks Statuspage what happened and
``reconcile`` settles it. ``checkpoint`` is called after each durable step,
named ``<step>_<label>``; the crash tests stop the process there.

An unrecorded write (resolving a duplicate: sending it twice is harmless) is
fenced and sent, nothing more. ``DryRunWriter``, chosen once at construction,
runs each write's ``dry`` instead and stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import Incident, ListedComponent, StatuspageClient
from ilert_statuspage_sync.core.intents import Intent, Writer, in_flight_until, stamp
from ilert_statuspage_sync.errors import LeadershipLostError, PermanentApiError, TransientApiError
from ilert_statuspage_sync.runtime.deadlines import WRITE_DEADLINE, WRITE_START_WINDOW
from ilert_statuspage_sync.store.audit import AuditRecord, write_audit
from ilert_statuspage_sync.store.epoch import database_now
from ilert_statuspage_sync.store.tables import BridgedRow, ComponentRow, Link

__all__ = [
    "CreateIncident",
    "DryRunWriter",
    "Holder",
    "RequestRefusedError",
    "SetComponent",
    "StatuspageWriter",
    "UpdateIncident",
    "Write",
    "writer_for",
]

T = TypeVar("T")

# The row a write records its intent in.
Holder = Link | ComponentRow | BridgedRow
Hook = Callable[[], None] | None

LOST = "the leader lock was lost; no further writes from this process"


def _nothing(*_args: object) -> None:
    return None


class RequestRefusedError(PermanentApiError):
    """Statuspage refused the write's own request (its intent is dropped already).

    Only ``send`` raises it: a refusal of anything else (a read while the
    intent is built) stays a plain ``PermanentApiError``, never taken for the
    write's refusal.
    """

    def __init__(self, error: PermanentApiError) -> None:
        super().__init__(error.service, error.message, error.status)


@dataclass(frozen=True)
class CreateIncident:
    """POST a new incident."""

    page_id: str
    fields: Mapping[str, Any]

    def __call__(self, client: StatuspageClient, before_send: Hook) -> Incident:
        """Send it through ``client``."""
        return client.create_incident(self.page_id, self.fields, before_send)


@dataclass(frozen=True)
class UpdateIncident:
    """PATCH an incident (a status, a body: a timeline entry)."""

    page_id: str
    incident_id: str
    fields: Mapping[str, Any]

    def __call__(self, client: StatuspageClient, before_send: Hook) -> Incident:
        """Send it through ``client``."""
        return client.update_incident(self.page_id, self.incident_id, self.fields, before_send)


@dataclass(frozen=True)
class SetComponent:
    """PATCH one component's status."""

    page_id: str
    component_id: str
    status: str

    def __call__(self, client: StatuspageClient, before_send: Hook) -> ListedComponent:
        """Send it through ``client``."""
        return client.set_component_status(
            self.page_id, self.component_id, self.status, before_send
        )


@dataclass(frozen=True)
class Write(Generic[T]):
    """One Statuspage write, as its caller describes it to the writer."""

    # Names the checkpoints: before_, intent_, answered_, committed_<label>.
    label: str
    client: StatuspageClient
    # The request (above); it calls the hook it is given right before sending.
    request: Callable[[StatuspageClient, Hook], T]
    # Records the answer: the new state and audit rows, committed (the intent is cleared already).
    record_answer: Callable[[T], None]
    # What a dry run records instead of sending.
    dry: Callable[[], None]
    now: datetime
    # Where the intent is recorded, and the intent (built after ``before_<label>``).
    # None: an unrecorded write, fenced but neither recorded nor checkpointed.
    holder: Holder | None = None
    intent: Callable[[], Intent] | None = None
    # Called after a failure that surely did not apply dropped the intent (committed).
    unsent: Callable[[], None] = _nothing
    # Called with a refusal before the commit that drops the intent.
    refused: Callable[[PermanentApiError], None] = _nothing


class StatuspageWriter:
    """Sends writes exactly once in effect; see the module docstring."""

    def __init__(
        self,
        author: Writer,
        guard: Callable[[], bool],
        checkpoint: Callable[[str], None],
        in_flight_s: float = WRITE_DEADLINE,
    ) -> None:
        self.author = author
        self.guard = guard
        self.checkpoint = checkpoint
        self.in_flight_s = in_flight_s

    def send(self, session: Session, write: Write[T]) -> T | None:
        """Send ``write``; its answer once settled (a dry run: None)."""
        if write.holder is None or write.intent is None:
            return self._send_unrecorded(write)
        holder = write.holder
        self.checkpoint(f"before_{write.label}")
        intent = write.intent()
        try:
            hook = partial(self._record, session, holder, intent, write)
            answer = write.request(write.client, hook)
        except TransientApiError as error:
            if not error.maybe_applied:
                self._drop(session, holder, write.unsent)
            elif error.status is None and isinstance(holder.pending_call, Mapping):
                # No answer at all (a 5xx is one: that request is over): it may land later.
                self.author.unanswered.add(str(holder.pending_call.get("recorded_at")))
            raise
        except PermanentApiError as error:
            write.refused(error)
            self._drop(session, holder, write.unsent)
            raise RequestRefusedError(error) from None
        self.checkpoint(f"answered_{write.label}")
        holder.pending_call = None
        write.record_answer(answer)
        self.checkpoint(f"committed_{write.label}")
        return answer

    def _send_unrecorded(self, write: Write[T]) -> T:
        if not self.guard():
            raise LeadershipLostError(LOST)
        answer = write.request(write.client, None)
        write.record_answer(answer)
        return answer

    def _record(self, session: Session, holder: Holder, intent: Intent, write: Write[Any]) -> None:
        """Commit the intent, stamped on the database's clock, right before the request goes out."""
        started = time.monotonic()
        recorded_at = database_now(session)
        holder.pending_call = intent.stamped(
            stamp(self.author, recorded_at, self.in_flight_s)
        ).to_json()
        holder.updated_at = write.now
        session.commit()  # fenced: refused once a newer leader took over
        self.checkpoint(f"intent_{write.label}")
        if not self.guard():
            self._forget_unsent(session, holder)
            raise LeadershipLostError(LOST)
        if not self.author.sole and time.monotonic() - started > WRITE_START_WINDOW:
            # Others count this write's flight time from ``recorded_at``: too late to send.
            self._forget_unsent(session, holder)
            raise LeadershipLostError(
                f"could not confirm leadership within {WRITE_START_WINDOW:g}s of the intent; "
                "the write was not sent"
            )

    @staticmethod
    def _drop(session: Session, holder: Holder, unsent: Callable[[], None]) -> None:
        holder.pending_call = None
        session.commit()
        unsent()

    @staticmethod
    def _forget_unsent(session: Session, holder: Holder) -> None:
        """Nothing was sent: drop the intent, unless a newer leader owns the row already."""
        holder.pending_call = None
        try:
            session.commit()
        except (LeadershipLostError, SQLAlchemyError):
            # The intent stays; whoever leads now waits out its flight time, then reconciles.
            session.rollback()

    def in_flight_until(
        self, session: Session, intent: Mapping[str, Any] | None
    ) -> datetime | None:
        """Until when another process's write of ``intent`` may still land; None: it cannot."""
        if intent is None:
            return None
        until = in_flight_until(intent, self.author, fallback_s=self.in_flight_s)
        if until is None or database_now(session) >= until:
            return None
        return until

    def unanswered_until(
        self, session: Session, intent: Mapping[str, Any] | None
    ) -> datetime | None:
        """Until when this process's own write of ``intent``, which got no answer, may land.

        None: it got an answer, or its flight time is over. Finding it applied
        (adopting it) is safe at any time; only sending it again must wait.
        """
        key = str((intent or {}).get("recorded_at"))
        if intent is None or key not in self.author.unanswered:
            return None
        until = in_flight_until(intent, self.author, fallback_s=self.in_flight_s, unanswered=True)
        if until is None or database_now(session) >= until:
            self.author.unanswered.discard(key)
            return None
        return until

    def reconcile(
        self,
        session: Session,
        holder: Holder,
        now: datetime,
        checkpoint: str,
        record_answer: Callable[[], None] = _nothing,
        after: Callable[[], None] = _nothing,
    ) -> None:
        """The interrupted intent was adopted or forgotten: clear it, record_answer, commit."""
        if isinstance(holder.pending_call, Mapping):
            self.author.unanswered.discard(str(holder.pending_call.get("recorded_at")))
        holder.pending_call = None
        holder.updated_at = now
        record_answer()
        session.commit()
        after()
        self.checkpoint(checkpoint)

    def audit(self, session: Session | None, record: AuditRecord, at: datetime) -> None:
        """Add an audit row (logged once it commits)."""
        write_audit(session, record, at=at, dry_run=False)

    def commit(self, session: Session) -> None:
        """Commit what was recorded."""
        session.commit()


class DryRunWriter(StatuspageWriter):
    """Logs what would be sent and sends nothing; stores nothing (its changes are only flushed)."""

    def send(self, session: Session, write: Write[T]) -> T | None:
        """Record what ``write`` would do; nothing goes out."""
        write.dry()
        return None

    def in_flight_until(
        self, session: Session, intent: Mapping[str, Any] | None
    ) -> datetime | None:
        """A dry run waits for no write."""
        return None

    def unanswered_until(
        self, session: Session, intent: Mapping[str, Any] | None
    ) -> datetime | None:
        """A dry run waits for no write."""
        return None

    def reconcile(
        self,
        session: Session,
        holder: Holder,
        now: datetime,
        checkpoint: str,
        record_answer: Callable[[], None] = _nothing,
        after: Callable[[], None] = _nothing,
    ) -> None:
        """A dry run leaves an interrupted intent for the real run."""
        return

    def audit(self, session: Session | None, record: AuditRecord, at: datetime) -> None:
        """Log the audit line, marked ``dry_run``; no row."""
        write_audit(session, record, at=at, dry_run=True)

    def commit(self, session: Session) -> None:
        """Nothing is stored: changes are flushed for the rest of the pass to read."""
        session.flush()


def writer_for(
    dry_run: bool,
    author: Writer,
    guard: Callable[[], bool],
    checkpoint: Callable[[str], None],
    in_flight_s: float = WRITE_DEADLINE,
) -> StatuspageWriter:
    """The writer of a run: a real one, or a dry run's."""
    kind = DryRunWriter if dry_run else StatuspageWriter
    return kind(author, guard, checkpoint, in_flight_s)
