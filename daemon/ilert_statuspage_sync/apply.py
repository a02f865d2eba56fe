"""Carry out one alert's plan against Statuspage, exactly once in effect.

For every write: (1) record the intent in the link and commit, (2) call
Statuspage, (3) record the outcome, the audit rows and the new mirror in one
commit. A link found with an intent still recorded was interrupted between
(1) and (3); ``reconcile`` asks Statuspage what really happened and adopts it,
so nothing is sent twice and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ilert_statuspage_sync.audit import AuditRecord, write_audit
from ilert_statuspage_sync.clients.statuspage import Incident, StatuspageClient
from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.model import Mirror
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Plan
from ilert_statuspage_sync.errors import PermanentApiError, TransientApiError
from ilert_statuspage_sync.leader import LeadershipLostError
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link

__all__ = ["Applier", "rejected_status_message"]

_MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying", "completed"})


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

    def apply(self, link: Link, plan: Plan) -> int:
        """Apply every step in order; return how many writes were sent."""
        sent = 0
        for step in plan.steps:
            if isinstance(step, Decision):
                self._settle(link, [step], link.statuspage_status)
                continue
            self._send(link, step)
            sent += 1
        return sent

    def reconcile(self, link: Link) -> None:
        """Resolve an intent left by an interrupted write: adopt it or forget it."""
        intent = link.pending_call
        assert intent is not None
        incident = self._observed(link, intent)
        if incident is not None and self._took_effect(intent, incident):
            link.statuspage_incident_id = incident.id
            link.statuspage_status = incident.status
            repo.set_mirror(link, repo.mirror_from_dict(intent["mirror_after"]))
            for record in intent["audit"]:
                write_audit(
                    self.session,
                    self._record(link, record, "confirmed on Statuspage after an interrupted call"),
                    at=self.now,
                    dry_run=False,
                )
        elif incident is not None:
            link.statuspage_status = incident.status
        link.pending_call = None
        link.updated_at = self.now
        self.session.commit()
        self.checkpoint("reconciled")

    def _observed(self, link: Link, intent: dict[str, Any]) -> Incident | None:
        if intent["kind"] == CallKind.CREATE:
            return self.client.find_incident(link.page_id, link.alert_id, self.action.name)
        assert link.statuspage_incident_id is not None
        return self.client.get_incident(link.page_id, link.statuspage_incident_id)

    @staticmethod
    def _took_effect(intent: dict[str, Any], incident: Incident) -> bool:
        if intent["kind"] == CallKind.CREATE:
            return True
        body = intent.get("body")
        if body is not None:
            return body.strip() in (text.strip() for text in incident.update_bodies)
        return bool(incident.status == intent.get("status"))

    def _send(self, link: Link, call: Call) -> None:
        fields = self._fields(link, call)
        mirror_after = call.decisions[-1].event.mirror_after
        if self.dry_run:
            self._settle(link, call.decisions, call.status or link.statuspage_status, call=call)
            return
        self.checkpoint(f"before_{call.kind}")
        link.pending_call = {
            "kind": str(call.kind),
            "status": call.status,
            "body": call.body,
            "mirror_after": repo.mirror_to_dict(mirror_after),
            "audit": _call_audit(call),
            "sent_at": self.now.isoformat(),
        }
        link.updated_at = self.now
        self.session.commit()
        self.checkpoint(f"intent_{call.kind}")
        if not self.guard():
            # The intent stays recorded; whoever leads now reconciles it.
            raise LeadershipLostError(
                "the leader lock was lost; no further writes from this process"
            )
        try:
            incident = self._write(link, call, fields)
        except TransientApiError as error:
            if not error.maybe_applied:
                link.pending_call = None
                self.session.commit()
            raise
        except PermanentApiError as error:
            link.pending_call = None
            self.session.commit()
            raise PermanentApiError(
                error.service, rejected_status_message(error, call, link, self), error.status
            ) from None
        self.checkpoint(f"answered_{call.kind}")
        link.statuspage_incident_id = incident.id
        link.pending_call = None
        self._settle(link, call.decisions, incident.status or call.status, mirror_after, call)
        self.checkpoint(f"committed_{call.kind}")

    def _write(self, link: Link, call: Call, fields: dict[str, Any]) -> Incident:
        if call.kind is CallKind.CREATE:
            return self.client.create_incident(link.page_id, fields)
        assert link.statuspage_incident_id is not None
        return self.client.update_incident(link.page_id, link.statuspage_incident_id, fields)

    def _fields(self, link: Link, call: Call) -> dict[str, Any]:
        notify = self.action.notify_subscribers if call.notify is None else call.notify
        fields: dict[str, Any] = {"deliver_notifications": notify}
        if call.kind is CallKind.CREATE:
            fields["name"] = call.name
            fields["metadata"] = {
                "ilert": {"alert_id": str(link.alert_id), "incident_action": self.action.name}
            }
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
        for decision, data in zip(decisions, audit, strict=True):
            record = self._record(link, data, decision.reason)
            write_audit(self.session, record, at=self.now, dry_run=self.dry_run)
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

    def record_filtered(self, link: Link, event: str, reason: str) -> None:
        """Audit an alert kept off the page, once per reason (``status`` shows it)."""
        last = repo.last_transition(self.session, link.incident_action, link.alert_id)
        if last is not None and last.outcome == "filtered" and last.reason == reason:
            return
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


def rejected_status_message(
    error: PermanentApiError, call: Call, link: Link, applier: Applier
) -> str:
    """A 4xx message; for a refused status it names the status, incident and setting."""
    incident = link.statuspage_incident_id or "(new incident)"
    if call.status in _MAINTENANCE_STATUSES and error.status in (400, 422):
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
    }
