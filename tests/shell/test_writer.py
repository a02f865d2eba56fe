"""The exactly-once writer (``sync.writer``) on a real migrated SQLite database, no HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.clients.statuspage import ListedComponent, StatuspageClient
from ilert_statuspage_sync.core.components import ComponentState
from ilert_statuspage_sync.core.intents import ComponentChange, Writer
from ilert_statuspage_sync.errors import PermanentApiError, TransientApiError
from ilert_statuspage_sync.service.leadership import LeadershipLostError
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from ilert_statuspage_sync.store.tables import ComponentRow, Transition
from ilert_statuspage_sync.sync.writer import (
    DryRunWriter,
    RequestRefusedError,
    SetComponent,
    StatuspageWriter,
    Write,
    writer_for,
)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PAGE, COMPONENT = "page1", "comp1"


class FakeStatuspage:
    """An in-memory Statuspage: records what is sent, answers or fails as told."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.sent: list[str] = []
        # What another connection saw stored when the request went out.
        self.stored_at_send: list[dict[str, Any] | None] = []
        self.fail: Exception | None = None

    def set_component_status(
        self, page_id: str, component_id: str, status: str, before_send: Callable[[], None] | None
    ) -> ListedComponent:
        """PATCH one component's status."""
        if before_send is not None:
            before_send()
        with self.sessions() as other:
            row = other.get(ComponentRow, (PAGE, COMPONENT))
            self.stored_at_send.append(row.pending_call if row is not None else None)
        if self.fail is not None:
            raise self.fail
        self.sent.append(status)
        return ListedComponent(id=component_id, name="API", status=status)


@pytest.fixture(name="sessions")
def _sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    yield make_sessions(engine)
    engine.dispose()


def _row(session: Session) -> ComponentRow:
    row = ComponentRow(page_id=PAGE, component_id=COMPONENT, updated_at=NOW)
    session.add(row)
    session.commit()
    return row


def _audit(outcome: str = "component_changed") -> dict[str, Any]:
    return {
        "alert_id": 7,
        "incident_action": "web",
        "page_id": PAGE,
        "statuspage_incident_id": None,
        "outcome": outcome,
        "from_status": "operational",
        "to_status": "major_outage",
        "reason": "test",
    }


def _record(audit: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        alert_id=audit["alert_id"],
        incident_action=audit["incident_action"],
        page_id=audit["page_id"],
        statuspage_incident_id=None,
        ilert_event="component",
        outcome=audit["outcome"],
        from_status=audit["from_status"],
        to_status=audit["to_status"],
        reason=audit["reason"],
    )


def _write(
    session: Session, out: StatuspageWriter, client: FakeStatuspage, row: ComponentRow
) -> Write[ListedComponent]:
    change = ComponentChange("major_outage", ComponentState("major_outage"), _audit(), "t")

    def record_answer(_answer: ListedComponent) -> None:
        out.audit(session, _record(_audit()), NOW)
        session.commit()

    def refused(_error: PermanentApiError) -> None:
        out.audit(session, _record(_audit("failed")), NOW)

    return Write(
        label="component",
        client=cast(StatuspageClient, client),
        request=SetComponent(PAGE, COMPONENT, "major_outage"),
        record_answer=record_answer,
        dry=lambda: out.audit(None, _record(_audit()), NOW),
        now=NOW,
        holder=row,
        intent=lambda: change,
        refused=refused,
    )


def _outcomes(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(sa.select(Transition.outcome).order_by(Transition.id)))


def _stored_intent(sessions: sessionmaker[Session]) -> dict[str, Any] | None:
    with sessions() as session:
        row = session.get(ComponentRow, (PAGE, COMPONENT))
        assert row is not None
        return row.pending_call


def _writer(guard: bool = True, steps: list[str] | None = None) -> StatuspageWriter:
    names = steps if steps is not None else []
    return writer_for(False, Writer("me"), lambda: guard, names.append)


def test_intent_is_committed_before_the_request(sessions: sessionmaker[Session]) -> None:
    """The stamped intent is visible to another connection when the request goes out."""
    steps: list[str] = []
    out, client = _writer(steps=steps), FakeStatuspage(sessions)
    with sessions() as session:
        row = _row(session)
        answer = out.send(session, _write(session, out, client, row))
        assert answer is not None and answer.status == "major_outage"
    seen = client.stored_at_send[0]
    assert seen is not None and seen["kind"] == "component" and seen["writer"]["instance"] == "me"
    assert steps == [
        "before_component",
        "intent_component",
        "answered_component",
        "committed_component",
    ]
    assert _stored_intent(sessions) is None


def test_fence_refusal_sends_nothing(sessions: sessionmaker[Session]) -> None:
    """A lost leadership after the intent: nothing is sent and the intent is dropped."""
    out, client = _writer(guard=False), FakeStatuspage(sessions)
    with sessions() as session:
        row = _row(session)
        with pytest.raises(LeadershipLostError):
            out.send(session, _write(session, out, client, row))
    assert client.sent == []
    assert _stored_intent(sessions) is None
    assert _outcomes(sessions) == []


def test_lost_answer_leaves_the_intent_for_reconcile(sessions: sessionmaker[Session]) -> None:
    """A write whose answer was lost keeps its intent; reconcile settles and clears it."""
    steps: list[str] = []
    out, client = _writer(steps=steps), FakeStatuspage(sessions)
    client.fail = TransientApiError("statuspage", "read timeout", maybe_applied=True)
    with sessions() as session:
        row = _row(session)
        with pytest.raises(TransientApiError):
            out.send(session, _write(session, out, client, row))
    stored = _stored_intent(sessions)
    assert stored is not None
    change = ComponentChange.from_json(stored)
    with sessions() as session:
        found = session.get(ComponentRow, (PAGE, COMPONENT))
        assert found is not None
        # Our own intent cannot be in flight any more: it is reconciled at once.
        assert out.in_flight_until(session, found.pending_call) is None

        def adopt() -> None:
            found.last_set = change.state_after.last_set
            out.audit(session, _record(dict(change.audit)), NOW)

        out.reconcile(session, found, NOW, "reconciled_component", record_answer=adopt)
    assert _stored_intent(sessions) is None
    assert steps[-1] == "reconciled_component"
    assert _outcomes(sessions) == ["component_changed"]


def test_failure_that_did_not_apply_drops_the_intent(sessions: sessionmaker[Session]) -> None:
    """A transient failure known not to have applied clears the intent at once."""
    out, client = _writer(), FakeStatuspage(sessions)
    client.fail = TransientApiError("statuspage", "429", 429)
    with sessions() as session:
        row = _row(session)
        with pytest.raises(TransientApiError):
            out.send(session, _write(session, out, client, row))
    assert _stored_intent(sessions) is None


def test_dry_run_sends_and_stores_nothing(sessions: sessionmaker[Session]) -> None:
    """The dry-run writer runs ``dry`` only: no request, no intent, no audit row."""
    out = writer_for(True, Writer("me"), lambda: True, lambda _name: None)
    assert isinstance(out, DryRunWriter)
    client = FakeStatuspage(sessions)
    with sessions() as session:
        row = _row(session)
        assert out.send(session, _write(session, out, client, row)) is None
        out.commit(session)
        session.rollback()
    assert client.sent == [] and client.stored_at_send == []
    assert _stored_intent(sessions) is None
    assert _outcomes(sessions) == []


def test_one_audit_row_per_outcome(sessions: sessionmaker[Session]) -> None:
    """A landed write leaves its row; a refused one a ``failed`` row and no intent."""
    out, client = _writer(), FakeStatuspage(sessions)
    with sessions() as session:
        row = _row(session)
        out.send(session, _write(session, out, client, row))
        client.fail = PermanentApiError("statuspage", "refused", 422)
        with pytest.raises(PermanentApiError):
            out.send(session, _write(session, out, client, row))
    assert _outcomes(sessions) == ["component_changed", "failed"]
    assert _stored_intent(sessions) is None


def test_unrecorded_write_is_fenced(sessions: sessionmaker[Session]) -> None:
    """A write without a holder records nothing but still asks the guard first."""
    out, client = _writer(guard=False), FakeStatuspage(sessions)
    write: Write[ListedComponent] = Write(
        label="resolve_duplicate",
        client=cast(StatuspageClient, client),
        request=SetComponent(PAGE, COMPONENT, "resolved"),
        record_answer=lambda _answer: None,
        dry=lambda: None,
        now=NOW,
    )
    with sessions() as session, pytest.raises(LeadershipLostError):
        out.send(session, write)
    assert client.sent == []


def test_only_the_requests_refusal_is_the_writes_refusal(sessions: sessionmaker[Session]) -> None:
    """A 422 to the request is raised as ``RequestRefusedError``; a 422 while the intent is
    built (a read before the write) stays a plain ``PermanentApiError``: nothing was sent."""
    out, client = _writer(), FakeStatuspage(sessions)
    client.fail = PermanentApiError("statuspage", "unprocessable", 422)
    with sessions() as session:
        row = _row(session)
        with pytest.raises(RequestRefusedError) as refused:
            out.send(session, _write(session, out, client, row))
        assert refused.value.status == 422
        read = PermanentApiError("statuspage", "unprocessable (GET)", 422)

        def unreadable() -> ComponentChange:
            raise read

        write = dataclasses.replace(_write(session, out, client, row), intent=unreadable)
        with pytest.raises(PermanentApiError) as raised:
            out.send(session, write)
        assert raised.value is read
    assert _stored_intent(sessions) is None
    assert _outcomes(sessions) == ["failed"]
