"""Carry out one alert's plan against Statuspage, exactly once in effect.

For every write: (1) record the intent in the link and commit, (2) call
Statuspage, (3) record the outcome, the audit rows and the new mirror in one
commit. A link found with an intent still recorded was interrupted between
(1) and (3); ``reconcile`` asks Statuspage what really happened and adopts it,
so nothing is sent twice and nothing is lost. An update's intent records the
ids of the incident's updates that existed before it, so an identical body
posted earlier is never mistaken for this one.

A call Statuspage refuses for good (``core.refusal``: 400, 413, 422) is
recorded as failed once and never resent; the events after it are planned
again and applied, without a status the page refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.human_edits import changed_by_person
from ilert_statuspage_sync.core.intents import Writer, in_flight_until, stamp
from ilert_statuspage_sync.core.model import Event, Mirror
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Plan, Step
from ilert_statuspage_sync.core.refusal import (
    MAINTENANCE_STATUSES,
    after_refusal,
    given_up,
    never_succeeds,
    refused_status,
)
from ilert_statuspage_sync.core.relink import shared_metadata
from ilert_statuspage_sync.errors import LeadershipLostError, PermanentApiError, TransientApiError
from ilert_statuspage_sync.runtime.deadlines import WRITE_DEADLINE, WRITE_START_WINDOW
from ilert_statuspage_sync.runtime.logs import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import AuditRecord, write_audit
from ilert_statuspage_sync.store.epoch import database_now
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.pages import person_changed

if TYPE_CHECKING:
    from ilert_statuspage_sync.sync.components import ComponentsOfAction

__all__ = ["Applier", "Replan", "rejected_status_message"]

log = structlog.get_logger(__name__)

# Plans the given events again, from the link's current state and the page's refused statuses.
Replan = Callable[[Sequence[Event]], Plan]


@dataclass
class Applier:
    """Applies plans for one incident action through its connector."""

    session: Session
    action: IncidentAction
    client: StatuspageClient
    now: datetime
    dry_run: bool
    config_origin: str
    # Called after each durable step; crash tests hook it to stop at every boundary.
    checkpoint: Callable[[str], None] = lambda _name: None
    # Fencing: asked right before every write; False means another process leads now.
    guard: Callable[[], bool] = lambda: True
    # The outcomes the last ``apply`` recorded, in order (a refusal replaces planned ones).
    outcomes: list[str] = field(default_factory=list)
    # Who records intents; whether other processes' writes may still be in flight.
    writer: Writer = field(default_factory=lambda: Writer(uuid.uuid4().hex))
    # How long, from its intent, a write of this process can take at most.
    in_flight_s: float = WRITE_DEADLINE
    # What a create sets on the action's components (components_sync); None: it lists none.
    components: ComponentsOfAction | None = None
    # Called in the commit that settles a write: group = "action" shares the
    # incident's status with the other links of the incident.
    siblings: Callable[[Link], None] = lambda _link: None

    def apply(self, link: Link, plan: Plan, replan: Replan | None = None) -> int:
        """Apply every step in order; return how many writes were sent.

        Without ``replan`` a refused call is raised, as any other failure.
        """
        self.outcomes = []
        return self._apply_steps(link, plan.steps, replan)

    def refused_statuses(self, page_id: str) -> frozenset[str]:
        """The statuses this connector's ``page_id`` refused in this process."""
        return self.client.facts.refused(page_id)

    def _apply_steps(self, link: Link, steps: Sequence[Step], replan: Replan | None) -> int:
        sent = 0
        for index, step in enumerate(steps):
            if isinstance(step, Decision):
                self._settle(link, [step], link.statuspage_status)
                continue
            sent += 1
            try:
                self._send(link, step)
            except _WriteRefusedError as error:
                if replan is None:
                    raise
                rest = self._refused(link, steps, index, error)
                return sent + self._apply_steps(link, replan(rest).steps, replan)
        return sent

    def _refused(
        self, link: Link, steps: Sequence[Step], index: int, error: _WriteRefusedError
    ) -> Sequence[Event]:
        """Record a refusal that can never succeed once; return the events still to plan."""
        call = steps[index]
        assert isinstance(call, Call)
        status = refused_status(call.status, error.status)
        refusal = after_refusal(steps, index, status)
        message = scrub(str(error))[:1000]
        for decision in refusal.failed:
            failed = {
                **_decision_dict(decision),
                "outcome": str(Outcome.FAILED),
                "from_status": link.statuspage_status,
            }
            record = self._record(link, failed, message)
            write_audit(self.session, record, at=self.now, dry_run=False)
            self.outcomes.append(str(Outcome.FAILED))
        if refusal.mirror_after is not None:
            repo.set_mirror(link, refusal.mirror_after)
        link.updated_at = self.now
        self.session.commit()
        if status is None:
            log.warning(
                "write_refused",
                alert_id=link.alert_id,
                incident_action=link.incident_action,
                error=message,
            )
        elif self.client.facts.refuse(link.page_id, status):
            # Once per page and process: later events on the page are planned without it.
            log.warning("status_refused", page_id=link.page_id, status=status, error=message)
        return refusal.remaining

    def in_flight(self, link: Link) -> bool:
        """Whether the link's intent is another process's write that may still land.

        Such an intent waits (the alert is deferred) until its write can no
        longer be in flight, measured on the database's clock.
        """
        intent = link.pending_call
        if intent is None or self.dry_run:
            return False
        until = in_flight_until(intent, self.writer, fallback_s=self.in_flight_s)
        if until is None or database_now(self.session) >= until:
            return False
        log.info(
            "intent_in_flight",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            writer=intent.get("writer"),
            reconcile_after=until.isoformat(),
        )
        return True

    def reconcile(self, link: Link) -> None:
        """Resolve an intent left by an interrupted write: adopt it or forget it."""
        intent = link.pending_call
        assert intent is not None
        incident = self._observed(link, intent)
        if incident is not None and self._took_effect(intent, incident):
            link.statuspage_incident_id = incident.id
            link.statuspage_status = incident.status
            repo.set_mirror(link, repo.mirror_from_dict(intent["mirror_after"]))
            self._components_set(link, intent)
            _note_share(link, intent["audit"])
            for record in intent["audit"]:
                write_audit(
                    self.session,
                    self._record(link, record, "confirmed on Statuspage after an interrupted call"),
                    at=self.now,
                    dry_run=False,
                )
        elif incident is not None and link.statuspage_incident_id is not None:
            before, intended = link.statuspage_status, intent.get("status")
            if not link.human_override and changed_by_person(before, intended, incident.status):
                person_changed(self.session, [link], before, incident.status, self.now, False)
            link.statuspage_status = incident.status
        link.pending_call = None
        link.updated_at = self.now
        if link.statuspage_incident_id is not None:
            self.siblings(link)
        self.session.commit()
        if incident is not None:
            self.client.facts.saw_updates(incident.id, incident.update_ids, link.updated_at)
        self.checkpoint("reconciled")

    def _observed(self, link: Link, intent: dict[str, Any]) -> Incident | None:
        if intent["kind"] == CallKind.CREATE:
            return self.client.find_incident(link.page_id, link.alert_id, self.action.name)
        # A join names the shared incident; the link points at it only once it landed.
        target = intent.get("incident_id") or link.statuspage_incident_id
        assert target is not None
        return self.client.get_incident(link.page_id, target)

    @staticmethod
    def _took_effect(intent: dict[str, Any], incident: Incident) -> bool:
        if intent["kind"] == CallKind.CREATE:
            return True
        body = intent.get("body")
        if body is not None:
            # Only an update made after the intent counts: the same text may have been
            # posted before (an intent from before this field existed has no list).
            before = intent.get("updates_before")
            made = [u for u in incident.updates if before is None or u.id not in before]
            return body.strip() in (update.body.strip() for update in made)
        # A status is state, not history: the page showing it is the effect wanted.
        return bool(incident.status == intent.get("status"))

    def _send(self, link: Link, call: Call, components: bool = True) -> None:
        fields = self._fields(link, call, components)
        mirror_after = call.decisions[-1].event.mirror_after
        if self.dry_run:
            if call.incident_id is not None:
                link.statuspage_incident_id = call.incident_id
                link.statuspage_status = call.decisions[-1].to_status  # the shared status
            elif call.kind is CallKind.CREATE and self.action.group == "action":
                # Nothing is created: a stand-in id lets the storm's next alerts join it.
                link.statuspage_incident_id = f"dry-run-{link.alert_id}"
            self._settle(link, call.decisions, call.status or link.statuspage_status, call=call)
            return
        self.checkpoint(f"before_{call.kind}")
        before = self._updates_before(link, call) if call.kind is CallKind.UPDATE else None
        intent = {
            "kind": str(call.kind),
            "incident_id": call.incident_id,
            "status": call.status,
            "body": call.body,
            "updates_before": sorted(before) if before is not None else None,
            "mirror_after": repo.mirror_to_dict(mirror_after),
            "audit": _call_audit(call),
            "sent_at": self.now.isoformat(),
        }
        if "components" in fields and self.components is not None:
            intent["components"] = fields["components"]
            intent["components_before"] = self.components.listed_statuses()
        try:
            incident = self._write(
                link, call, fields, lambda: self._record_intent(link, call, intent)
            )
        except TransientApiError as error:
            if not error.maybe_applied:
                link.pending_call = None
                self.session.commit()
                self._still_seen(link, call, before)
            raise
        except PermanentApiError as error:
            link.pending_call = None
            self.session.commit()
            self._still_seen(link, call, before)
            if "components" in fields and never_succeeds(error.status):
                # The incident matters more than its components: sent again without
                # them; the component step sets those the page accepts by PATCH.
                log.warning(
                    "components_refused",
                    page_id=link.page_id,
                    alert_id=link.alert_id,
                    error=scrub(str(error))[:300],
                    action="incident created without components",
                )
                self._send(link, call, components=False)
                return
            creates = call.kind is CallKind.CREATE
            passed_over = given_up(creates, call.status, error.status)
            refused = _WriteRefusedError if passed_over else PermanentApiError
            raise refused(
                error.service, rejected_status_message(error, call, link, self), error.status
            ) from None
        self.checkpoint(f"answered_{call.kind}")
        link.statuspage_incident_id = incident.id
        self._components_set(link, intent)
        link.pending_call = None
        self._settle(link, call.decisions, incident.status or call.status, mirror_after, call)
        self.client.facts.saw_updates(incident.id, incident.update_ids, link.updated_at)
        self.checkpoint(f"committed_{call.kind}")

    def _components_set(self, link: Link, intent: dict[str, Any]) -> None:
        """A create that carried a ``components`` map set them: remember it (not committed)."""
        components, before = intent.get("components"), intent.get("components_before")
        if self.components is not None and isinstance(components, dict):
            self.components.created(link, components, before if isinstance(before, dict) else {})

    def _updates_before(self, link: Link, call: Call) -> frozenset[str]:
        """The incident's update ids now: remembered while the link is unchanged, else read."""
        target = _target(link, call)
        seen = self.client.facts.updates_seen(target, link.updated_at)
        if seen is None:
            seen = self.client.get_incident(link.page_id, target).update_ids
        return seen

    def _still_seen(self, link: Link, call: Call, before: frozenset[str] | None) -> None:
        """A write that was not applied left the incident's updates as they were."""
        target = call.incident_id or link.statuspage_incident_id
        if before is not None and target is not None:
            self.client.facts.saw_updates(target, before, link.updated_at)

    def _record_intent(self, link: Link, call: Call, intent: dict[str, Any]) -> None:
        """Commit the intent, stamped on the database's clock, right before the request goes out."""
        started = time.monotonic()
        recorded_at = database_now(self.session)
        link.pending_call = {**intent, **stamp(self.writer, recorded_at, self.in_flight_s)}
        link.updated_at = self.now
        self.session.commit()  # fenced: refused once a newer leader took over
        self.checkpoint(f"intent_{call.kind}")
        if not self.guard():
            self._forget_unsent(link)
            raise LeadershipLostError(
                "the leader lock was lost; no further writes from this process"
            )
        if not self.writer.sole and time.monotonic() - started > WRITE_START_WINDOW:
            # Others count this write's flight time from ``recorded_at``: too late to send.
            self._forget_unsent(link)
            raise LeadershipLostError(
                f"could not confirm leadership within {WRITE_START_WINDOW:g}s of the intent; "
                "the write was not sent"
            )

    def _forget_unsent(self, link: Link) -> None:
        """Nothing was sent: drop the intent, unless a newer leader owns the link already."""
        link.pending_call = None
        try:
            self.session.commit()
        except (LeadershipLostError, sa.exc.SQLAlchemyError):
            # The intent stays; whoever leads now waits out its flight time, then reconciles.
            self.session.rollback()

    def _write(
        self, link: Link, call: Call, fields: dict[str, Any], before_send: Callable[[], None]
    ) -> Incident:
        if call.kind is CallKind.CREATE:
            return self.client.create_incident(link.page_id, fields, before_send)
        return self.client.update_incident(link.page_id, _target(link, call), fields, before_send)

    def _fields(self, link: Link, call: Call, components: bool = True) -> dict[str, Any]:
        notify = self.action.notify_subscribers if call.notify is None else call.notify
        fields: dict[str, Any] = {"deliver_notifications": notify}
        if call.kind is CallKind.CREATE:
            fields["name"] = call.name
            ilert = {"alert_id": str(link.alert_id), "incident_action": self.action.name}
            if self.action.group == "action":
                # The alert that opened a shared incident; the others join by update.
                ilert["group"] = "action"
            fields["metadata"] = {"ilert": ilert}
            if self.components is not None and components:
                priority = call.decisions[-1].event.mirror_after.priority
                fields.update(self.components.create_fields(link, priority))
        elif call.incident_id is not None and call.members:
            fields["metadata"] = {"ilert": shared_metadata(self.action.name, call.members)}
        if call.status is not None:
            fields["status"] = call.status
        if call.body is not None:
            fields["body"] = call.body
        return fields

    def _settle(
        self,
        link: Link,
        decisions: list[Decision],
        status: str | None,
        mirror_after: Mirror | None = None,
        call: Call | None = None,
    ) -> None:
        """Record decisions as done: audit rows, the new mirror, one commit."""
        link.statuspage_status = status
        repo.set_mirror(link, mirror_after or decisions[-1].event.mirror_after)
        link.updated_at = self.now
        audit = _call_audit(call) if call is not None else [_decision_dict(d) for d in decisions]
        _note_share(link, audit)
        if link.statuspage_incident_id is not None:
            self.siblings(link)
        for decision, data in zip(decisions, audit, strict=True):
            record = self._record(link, data, decision.reason)
            write_audit(self.session, record, at=self.now, dry_run=self.dry_run)
            self.outcomes.append(str(decision.outcome))
        if not self.dry_run:
            self.session.commit()

    def _record(self, link: Link, decision: dict[str, Any], reason: str | None) -> AuditRecord:
        return AuditRecord(
            alert_id=link.alert_id,
            incident_action=self.action.name,
            page_id=link.page_id,
            statuspage_incident_id=link.statuspage_incident_id,
            ilert_event=decision["event"],
            outcome=decision["outcome"],
            from_status=decision["from_status"],
            to_status=decision["to_status"],
            reason=reason or decision.get("reason") or decision.get("provenance"),
            published_name=decision.get("published_name"),
            published_body=decision.get("published_body"),
        )

    def record_filtered(self, link: Link, event: str, reason: str) -> bool:
        """Audit an alert kept off the page, once per reason (``status`` shows it); True if so."""
        last = repo.last_transition(self.session, link.incident_action, link.alert_id)
        if last is not None and last.outcome == "filtered" and last.reason == reason:
            return False
        record = AuditRecord(
            alert_id=link.alert_id,
            incident_action=self.action.name,
            page_id=link.page_id,
            statuspage_incident_id=None,
            ilert_event=event,
            outcome="filtered",
            from_status=None,
            to_status=None,
            reason=reason,
        )
        write_audit(self.session, record, at=self.now, dry_run=self.dry_run)
        return True

    def record_failure(self, link: Link, events: list[str], message: str) -> None:
        """Audit a failed attempt for the events it carried."""
        for event in events:
            record = AuditRecord(
                alert_id=link.alert_id,
                incident_action=self.action.name,
                page_id=link.page_id,
                statuspage_incident_id=link.statuspage_incident_id,
                ilert_event=event,
                outcome=str(Outcome.FAILED),
                from_status=link.statuspage_status,
                to_status=None,
                reason=message,
            )
            write_audit(self.session, record, at=self.now, dry_run=self.dry_run)


class _WriteRefusedError(PermanentApiError):
    """Statuspage refused the write itself (``core.refusal.never_succeeds``)."""


def rejected_status_message(
    error: PermanentApiError, call: Call, link: Link, applier: Applier
) -> str:
    """A 4xx message; for a refused status it names the status, incident and setting."""
    incident = link.statuspage_incident_id or "(new incident)"
    if call.status in MAINTENANCE_STATUSES and never_succeeds(error.status):
        return (
            f"Statuspage rejected status {call.status!r} for incident {incident} "
            f"(alert {link.alert_id}, page {link.page_id}): {error.message}. "
            f"Statuspage documents {call.status!r} as a maintenance status; "
            f'set lifecycle = "realtime" in {applier.config_origin} to use realtime statuses only'
        )
    return f"incident {incident} (alert {link.alert_id}, page {link.page_id}): {error.message}"


def _call_audit(call: Call) -> list[dict[str, Any]]:
    """The audit of one write: its first row carries the published text, all its provenance."""
    rows = [_decision_dict(decision) for decision in call.decisions]
    for row in rows:
        row["provenance"] = call.provenance
    if rows:
        rows[0]["published_name"] = call.name
        rows[0]["published_body"] = call.body
    return rows


def _decision_dict(decision: Decision) -> dict[str, Any]:
    return {
        "event": str(decision.event.kind),
        "outcome": str(decision.outcome),
        "from_status": decision.from_status,
        "to_status": decision.to_status,
        "reason": decision.reason,
        "share_status": decision.share_status,
    }


def _target(link: Link, call: Call) -> str:
    """The incident an update goes to: a join's shared incident, else the linked one."""
    target = call.incident_id or link.statuspage_incident_id
    assert target is not None
    return target


def _note_share(link: Link, rows: Sequence[dict[str, Any]]) -> None:
    """group = "action": keep the alert's own status after the rows (``core.storm``)."""
    shares = [row.get("share_status") for row in rows if row.get("share_status")]
    if shares:
        link.alert_status = shares[-1]
