"""Carry out one alert's plan against Statuspage, exactly once in effect.

For every write: (1) record the intent in the link and commit, (2) call
Statuspage, (3) record the outcome, the audit rows and the new mirror in one
commit. A link found with an intent still recorded was interrupted between
(1) and (3); ``reconcile`` asks Statuspage what really happened and adopts it,
so nothing is sent twice and nothing is lost. An update's intent records the
ids of the incident's earlier updates that carry its text, so an identical
body posted earlier is never mistaken for this one (the rest of the history,
which every answer carries again, is never read: a storm's n joins stay linear).

A call Statuspage refuses for good (``core.refusal``: 400, 413, 422) is
attributed to what was refused: a call carrying a status and a body is sent
again with the status alone. A refused body is recorded as failed once and the
events after it are planned again and applied; a maintenance status refused
alone is left out of the page's plans from then on; a status the page still
lacks (a resolve) is raised, so the alert backs off and tries it again.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient, Timeline
from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.human_edits import changed_by_person
from ilert_statuspage_sync.core.intents import IncidentCall, Writer
from ilert_statuspage_sync.core.model import Event, Mirror
from ilert_statuspage_sync.core.page_evidence import written_fields
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Plan, Step
from ilert_statuspage_sync.core.refusal import Refused, after_refusal, attribute, never_succeeds
from ilert_statuspage_sync.core.relink import shared_metadata
from ilert_statuspage_sync.errors import PermanentApiError
from ilert_statuspage_sync.runtime.deadlines import WRITE_DEADLINE
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import AuditRecord
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.page_evidence import ADOPTED_REASON, adopt, listed_incident
from ilert_statuspage_sync.sync.unresolved import person_changed
from ilert_statuspage_sync.sync.writer import (
    CreateIncident,
    RequestRefusedError,
    StatuspageWriter,
    UpdateIncident,
    Write,
    writer_for,
)

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
    # What a create sets on the action's components (sync.components); None: it lists none.
    components: ComponentsOfAction | None = None
    # Called in the commit that settles a write: group = "action" shares the
    # incident's status with the other links of the incident.
    siblings: Callable[[Link], None] = lambda _link: None

    def __post_init__(self) -> None:
        # Chosen once: a dry run's writer sends and stores nothing.
        self._out = writer_for(
            self.dry_run, self.writer, self.guard, _checkpoint_of(self), self.in_flight_s
        )

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
                self._record_done(link, [step], link.statuspage_status)
                continue
            unshown = self._adopted(link, steps[index:]) if step.kind is CallKind.CREATE else None
            if unshown is not None:
                # Adopted, not created: what the incident does not show yet is planned again.
                if not unshown or replan is None:
                    return sent
                return sent + self._apply_steps(link, replan(unshown).steps, replan)
            sent += 1
            try:
                self._send(link, step)
            except _WriteRefusedError as error:
                if replan is None:
                    raise
                rest = self._refused(link, steps, index, error)
                return sent + self._apply_steps(link, replan(rest).steps, replan)
        return sent

    def _adopted(self, link: Link, steps: Sequence[Step]) -> list[Event] | None:
        """Before a create: the page already shows the alert's incident (``sync.page_evidence``).

        The database lost it (an older backup, a lost WAL): the link takes it,
        one audit row per decision it shows, nothing is sent. Returns the events
        it does not show yet; None when there is nothing to adopt.
        """
        if self.dry_run:
            return None
        page, alert = link.page_id, link.alert_id
        found = listed_incident(self.client, page, alert, self.action.name)
        if found is None:
            return None
        decisions = [d for step in steps for d in _decisions_of(step)]
        planned = decisions[-1].event.mirror_after
        events = [decision.event for decision in decisions]
        rest = adopt(link, found, events, planned, shared=self.action.group == "action")
        link.updated_at = self.now
        self.siblings(link)
        for decision in decisions:
            if decision.event not in rest:
                record = self._record(link, _decision_dict(decision), ADOPTED_REASON)
                self._out.audit(self.session, record, self.now)
        self._out.commit(self.session)
        return rest

    def _refused(
        self, link: Link, steps: Sequence[Step], index: int, error: _WriteRefusedError
    ) -> Sequence[Event]:
        """Record a refusal that can never succeed once; return the events still to plan."""
        status = error.refused_status
        refusal = after_refusal(steps, index, status)
        message = scrub(str(error))[:1000]
        self._record_failed(link, refusal.failed, message)
        if refusal.mirror_after is not None:
            repo.set_mirror(link, refusal.mirror_after)
        link.updated_at = self.now
        self.session.commit()
        self._log_refusal(link, status, message)
        return refusal.remaining

    def _record_failed(self, link: Link, decisions: Sequence[Decision], message: str) -> None:
        """One ``failed`` audit row per decision a refused call carried (not committed)."""
        for decision in decisions:
            failed = {
                **_decision_dict(decision),
                "outcome": str(Outcome.FAILED),
                "from_status": link.statuspage_status,
            }
            self._out.audit(self.session, self._record(link, failed, message), self.now)
            self.outcomes.append(str(Outcome.FAILED))

    def _log_refusal(self, link: Link, status: str | None, message: str) -> None:
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

    def in_flight(self, link: Link) -> bool:
        """Whether the link's intent is another process's write that may still land.

        Such an intent waits (the alert is deferred) until its write can no
        longer be in flight, measured on the database's clock.
        """
        intent = link.pending_call
        until = self._out.in_flight_until(self.session, intent)
        if intent is None or until is None:
            return False
        log.info(
            "intent_in_flight",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            writer=intent.get("writer"),
            reconcile_after=until.isoformat(),
        )
        return True

    def reconcile(self, link: Link) -> bool:
        """Resolve an intent left by an interrupted write: adopt it or forget it.

        False when it is not on the page yet but this process's own request of
        it ended without an answer: the server may still apply it, so it is
        kept (not sent again) until its flight time is over.
        """
        assert link.pending_call is not None
        intent = IncidentCall.from_json(link.pending_call)
        incident = self._observed(link, intent)
        if incident is not None and _took_effect(intent, incident):
            self._adopt(link, intent, incident)
        elif incident is not None and link.statuspage_incident_id is not None:
            before, intended = link.statuspage_status, intent.status
            if not link.human_override and changed_by_person(before, intended, incident.status):
                # A person's edit decides: nothing is sent again either way.
                person_changed(self.session, [link], before, incident.status, self.now, self._out)
            elif _still_flying(self._out, self.session, link):
                return False
            link.statuspage_status = incident.status
        elif _still_flying(self._out, self.session, link):
            return False

        def record_answer() -> None:
            if link.statuspage_incident_id is not None:
                self.siblings(link)

        def after() -> None:
            if incident is not None:
                self.client.facts.saw_updates(incident.id, incident.timeline, link.updated_at)

        self._out.reconcile(self.session, link, self.now, "reconciled", record_answer, after)
        return True

    def _adopt(self, link: Link, intent: IncidentCall, incident: Incident) -> None:
        """The interrupted write took effect: record it as if its answer had come."""
        link.statuspage_incident_id = incident.id
        link.statuspage_status = incident.status
        repo.set_mirror(link, repo.mirror_from_dict(dict(intent.mirror_after)))
        self._components_set(link, intent)
        _note_share(link, intent.audit)
        reason = "confirmed on Statuspage after an interrupted call"
        for record in intent.audit:
            # A refused text's row keeps the refusal as its reason.
            why = record.get("reason") if record.get("outcome") == Outcome.FAILED else reason
            self._out.audit(self.session, self._record(link, record, why), self.now)

    def _observed(self, link: Link, intent: IncidentCall) -> Incident | None:
        if intent.kind == CallKind.CREATE:
            return self.client.find_incident(
                link.page_id, link.alert_id, self.action.name, self.action.previous_names
            )
        # A join names the shared incident; the link points at it only once it landed.
        target = intent.incident_id or link.statuspage_incident_id
        assert target is not None
        return self.client.get_incident(link.page_id, target)

    def _send(self, link: Link, call: Call, components: bool = True) -> None:
        write = _IncidentWrite(self, link, call, self._fields(link, call, components))
        try:
            self._out.send(self.session, write.as_write())
        except RequestRefusedError as error:
            if "components" in write.fields and never_succeeds(error.status):
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
            # A storm join is this alert's way onto the page, as a create is: never dropped.
            joins = call.kind is CallKind.UPDATE and link.statuspage_incident_id is None
            refused = attribute(
                call.kind is CallKind.CREATE or joins, call.status, call.has_body, error.status
            )
            if refused is Refused.PROBE:
                self._send_status_alone(link, call, error, components)
                return
            raise self._refusal(link, call, error, refused) from None

    def _send_status_alone(
        self, link: Link, call: Call, error: PermanentApiError, components: bool
    ) -> None:
        """Status and body were refused together: the status alone tells which one it was.

        Refused again, the status is what the page refuses (raised as such);
        accepted, the body was: its events are recorded failed, the status is on the page.
        """
        message = scrub(rejected_status_message(error, call, link, self, status=False))[:1000]
        self._send(link, _status_alone(call, message), components)
        if not any(d.outcome is Outcome.BODY_UPDATED for d in call.decisions):
            # A create's or a join's own text never went out: failed once, as a comment's.
            self._record_failed(link, call.decisions[:1], message)
            self._out.commit(self.session)
        log.warning(
            "write_refused",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            refused="body",
            action=f"status {call.status!r} sent without the body",
            error=message,
        )

    def _refusal(
        self, link: Link, call: Call, error: PermanentApiError, refused: Refused
    ) -> PermanentApiError:
        """What a 4xx raises: a refusal passed over (body, page status), else the error itself.

        A pending one is the plain error: the alert backs off and sends it again.
        """
        status = refused is Refused.STATUS
        message = rejected_status_message(error, call, link, self, status=status)
        if refused is Refused.PENDING:
            return PermanentApiError(error.service, message, error.status)
        return _WriteRefusedError(
            error.service, message, error.status, call.status if status else None
        )

    def _components_set(self, link: Link, intent: IncidentCall) -> None:
        """A create that carried a ``components`` map set them: remember it (not committed)."""
        if self.components is not None and intent.components is not None:
            before = intent.components_before or {}
            self.components.created(link, intent.components, before)

    def _updates_before(self, link: Link, call: Call) -> Timeline:
        """The incident's timeline now: remembered while the link is unchanged, else read."""
        target = _target(link, call)
        seen = self.client.facts.updates_seen(target, link.updated_at)
        if seen is None:
            seen = self.client.get_incident(link.page_id, target).timeline
        return seen

    def _still_seen(self, link: Link, call: Call, before: Timeline | None) -> None:
        """A write that was not applied left the incident's updates as they were."""
        target = call.incident_id or link.statuspage_incident_id
        if before is not None and target is not None:
            self.client.facts.saw_updates(target, before, link.updated_at)

    def _fields(self, link: Link, call: Call, components: bool = True) -> dict[str, Any]:
        notify = self.action.notify_subscribers if call.notify is None else call.notify
        fields: dict[str, Any] = {"deliver_notifications": notify}
        if call.kind is CallKind.CREATE:
            fields["name"] = call.name
            ilert = {"alert_id": str(link.alert_id), "incident_action": self.action.name}
            if self.action.group == "action":
                # The alert that opened a shared incident; the others join by update.
                ilert["group"] = "action"
            fields["metadata"] = {"ilert": {**ilert, **self._evidence(link, call)}}
            if self.components is not None and components:
                priority = call.decisions[-1].event.mirror_after.priority
                fields.update(self.components.create_fields(link, priority))
        elif call.incident_id is not None and call.members:
            fields["metadata"] = {"ilert": shared_metadata(self.action.name, call.members)}
        elif call.incident_id is None and self.action.group != "action":
            ilert = {"alert_id": str(link.alert_id), "incident_action": self.action.name}
            fields["metadata"] = {"ilert": {**ilert, **self._evidence(link, call)}}
        if call.status is not None:
            fields["status"] = call.status
        if call.body is not None:
            fields["body"] = call.body
        return fields

    def _evidence(self, link: Link, call: Call) -> dict[str, str]:
        """What this write leaves on the alert's own incident (``core.page_evidence``)."""
        if self.action.group == "action":
            return {}  # a shared incident's state is no one alert's
        mirror = repo.mirror_to_dict(call.decisions[-1].event.mirror_after)
        status = call.status or link.statuspage_status
        return written_fields(status, mirror, self.now, link.human_override)

    def _record_done(
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
            self._out.audit(self.session, record, self.now)
            self.outcomes.append(str(decision.outcome))
        self._out.commit(self.session)

    def _record(self, link: Link, decision: Mapping[str, Any], reason: str | None) -> AuditRecord:
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

    def filtered_record(self, link: Link, event: str, reason: str) -> AuditRecord:
        """The audit row of an alert kept off the page (``status`` shows it).

        Written once per reason, with the pass's batch (``Bookkeeping``).
        """
        return AuditRecord(
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
            self._out.audit(self.session, record, self.now)


class _WriteRefusedError(PermanentApiError):
    """Statuspage refused the write itself for good: its body, or the page refused a status."""

    def __init__(
        self, service: str, message: str, status: int | None, refused_status: str | None
    ) -> None:
        super().__init__(service, message, status)
        # The maintenance status the page refused (sent alone); None: the body was refused.
        self.refused_status = refused_status


def rejected_status_message(
    error: PermanentApiError, call: Call, link: Link, applier: Applier, *, status: bool
) -> str:
    """A 4xx message; for a refused status (``status``) it names the status and setting."""
    incident = link.statuspage_incident_id or call.incident_id or "(new incident)"
    if status and never_succeeds(error.status):
        return (
            f"Statuspage rejected status {call.status!r} for incident {incident} "
            f"(alert {link.alert_id}, page {link.page_id}): {error.message}. "
            f"Statuspage documents {call.status!r} as a maintenance status; "
            f'set lifecycle = "realtime" in {applier.config_origin} to use realtime statuses only'
        )
    return f"incident {incident} (alert {link.alert_id}, page {link.page_id}): {error.message}"


def _status_alone(call: Call, message: str) -> Call:
    """The call without its body: events that only carried text are recorded failed."""
    alone = f"sent without its body, which Statuspage refused: {message}"
    decisions = [
        replace(d, outcome=Outcome.FAILED, reason=message)
        if d.outcome is Outcome.BODY_UPDATED
        else replace(d, reason=f"{d.reason}; {alone}" if d.reason else alone)
        for d in call.decisions
    ]
    return replace(call, body=None, decisions=decisions)


def _still_flying(out: StatuspageWriter, session: Session, link: Link) -> bool:
    """This process's own request of the link's intent got no answer and may still land."""
    until = out.unanswered_until(session, link.pending_call)
    if until is None:
        return False
    log.info(
        "intent_in_flight",
        alert_id=link.alert_id,
        incident_action=link.incident_action,
        writer=(link.pending_call or {}).get("writer"),
        reconcile_after=until.isoformat(),
    )
    return True


def _took_effect(intent: IncidentCall, incident: Incident) -> bool:
    if intent.kind == CallKind.CREATE:
        return True
    if intent.body is not None:
        # Only an update made after the intent counts: the same text may have been
        # posted before (an intent from before this field existed has no list).
        before = intent.updates_before
        made = [u for u in incident.updates if before is None or u.id not in before]
        return intent.body.strip() in (update.body.strip() for update in made)
    # A status is state, not history: the page showing it is the effect wanted.
    return bool(incident.status == intent.status)


def _same_text(before: Timeline | None, body: str | None) -> tuple[str, ...] | None:
    """An update's ``updates_before``: the earlier updates with its text (none without a text).

    Only those could be taken for it (``_took_effect``), so they are all an
    intent records: not the whole history, which grows with every join.
    """
    if before is None:
        return None
    return tuple(sorted(before.ids_with_body(body))) if body is not None else ()


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


def _decisions_of(step: Step) -> Sequence[Decision]:
    return [step] if isinstance(step, Decision) else step.decisions


def _target(link: Link, call: Call) -> str:
    """The incident an update goes to: a join's shared incident, else the linked one."""
    target = call.incident_id or link.statuspage_incident_id
    assert target is not None
    return target


def _note_share(link: Link, rows: Sequence[Mapping[str, Any]]) -> None:
    """group = "action": keep the alert's own status after the rows (``core.storm``)."""
    shares = [row.get("share_status") for row in rows if row.get("share_status")]
    if shares:
        link.alert_status = shares[-1]


class _IncidentWrite:
    """One incident create or update, as the writer sends it."""

    def __init__(self, applier: Applier, link: Link, call: Call, fields: dict[str, Any]) -> None:
        self.applier = applier
        self.link = link
        self.call = call
        self.fields = fields
        self.before: Timeline | None = None
        self.intent: IncidentCall | None = None

    def as_write(self) -> Write[Incident]:
        """The write: create or update, named by the call's kind."""
        return Write(
            label=str(self.call.kind),
            client=self.applier.client,
            request=self.request(),
            record_answer=self.record_answer,
            dry=self.dry,
            now=self.applier.now,
            holder=self.link,
            intent=self.build_intent,
            unsent=self.unsent,
        )

    def build_intent(self) -> IncidentCall:
        """The intent: what the call does, and what an update's incident showed before it."""
        applier, link, call = self.applier, self.link, self.call
        if call.kind is CallKind.UPDATE:
            self.before = applier._updates_before(link, call)
        components = applier.components if "components" in self.fields else None
        self.intent = IncidentCall(
            kind=str(call.kind),
            incident_id=call.incident_id,
            status=call.status,
            body=call.body,
            updates_before=_same_text(self.before, call.body),
            mirror_after=repo.mirror_to_dict(call.decisions[-1].event.mirror_after),
            audit=tuple(_call_audit(call)),
            sent_at=applier.now.isoformat(),
            components=self.fields["components"] if components is not None else None,
            components_before=components.listed_statuses() if components is not None else None,
        )
        return self.intent

    def request(self) -> CreateIncident | UpdateIncident:
        """The call to Statuspage."""
        link, call = self.link, self.call
        if call.kind is CallKind.CREATE:
            return CreateIncident(link.page_id, self.fields)
        return UpdateIncident(link.page_id, _target(link, call), self.fields)

    def record_answer(self, incident: Incident) -> None:
        """Record the answer: the incident, what the create set on components, the decisions."""
        applier, link, call = self.applier, self.link, self.call
        assert self.intent is not None
        link.statuspage_incident_id = incident.id
        applier._components_set(link, self.intent)
        mirror_after = call.decisions[-1].event.mirror_after
        applier._record_done(
            link, call.decisions, incident.status or call.status, mirror_after, call
        )
        applier.client.facts.saw_updates(incident.id, incident.timeline, link.updated_at)

    def unsent(self) -> None:
        """A write that was not applied left the incident's updates as they were."""
        self.applier._still_seen(self.link, self.call, self.before)

    def dry(self) -> None:
        """A dry run records the decisions as if sent."""
        applier, link, call = self.applier, self.link, self.call
        if call.incident_id is not None:
            link.statuspage_incident_id = call.incident_id
            link.statuspage_status = call.decisions[-1].to_status  # the shared status
        elif call.kind is CallKind.CREATE and applier.action.group == "action":
            # Nothing is created: a stand-in id lets the storm's next alerts join it.
            link.statuspage_incident_id = f"dry-run-{link.alert_id}"
        applier._record_done(link, call.decisions, call.status or link.statuspage_status, call=call)


def _checkpoint_of(applier: Applier) -> Callable[[str], None]:
    """The applier's checkpoint, asked at each call (a test may set it later).

    Through a weak reference: a closure over the applier would make a cycle
    (applier, writer, closure) that keeps the pass's state, every open link's
    row through ``siblings``, alive until a full garbage collection.
    """
    me = weakref.ref(applier)

    def checkpoint(name: str) -> None:
        found = me()
        if found is not None:
            found.checkpoint(name)

    return checkpoint
