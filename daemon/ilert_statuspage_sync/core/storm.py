"""Alert storms (``group = "action"``): one open incident shared by an action's alerts.

Between ``plan_calls`` and publishing, for an action that groups:

- ``target_for`` decides where an alert goes: the first alert opens the
  incident (``OPEN``); while that incident is open, a further alert joins it
  (``JOIN``); a linked alert is a ``MEMBER``; while another alert's create may
  still be landing (an intent not yet settled), the alert ``WAIT``s, so a crash
  or a replica never opens a second incident for the same storm.
- ``share_plan`` rewrites the alert's own plan (planned as if the alert had the
  incident to itself, from its own status, its *share*) into writes to the
  shared incident. A join's create becomes one update ("Also affected: ...").
  The incident shows the least advanced status of its open alerts under the
  lifecycle (investigating < identified < in_progress/monitoring), so one
  accepted alert does not announce progress while others are untouched; it
  resolves when its last open alert resolves. A status change that does not
  move the shared status is no change (audited with the alert's share); text
  (comments) still posts. Once the incident is resolved the next alert opens a
  new one.

Every decision carries ``share_status``, the alert's own status after it, which
the shell stores per link: the open alerts' shares are the input of the next
decision.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ilert_statuspage_sync.core.model import CLOSED_STATUSES
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Plan, Step

__all__ = [
    "FINAL",
    "Share",
    "Target",
    "TargetKind",
    "least_advanced",
    "share_plan",
    "target_for",
]

FINAL = CLOSED_STATUSES
# How far along the lifecycle a status is; equal ranks are equally advanced.
_RANK = {
    "scheduled": 0,
    "investigating": 0,
    "identified": 1,
    "in_progress": 2,
    "verifying": 2,
    "monitoring": 2,
    "resolved": 3,
    "completed": 3,
    "postmortem": 3,
}


def _rank(status: str) -> int:
    return _RANK.get(status, 1)


def least_advanced(statuses: Iterable[str]) -> str | None:
    """The status least far along the lifecycle (the first of equals); None for none.

    A storm's incident has as many open shares as alerts, mostly of a few
    statuses: the ranks are compared per distinct status, the first of equals
    found by ``index`` (not one key call per share).
    """
    listed = list(statuses)
    distinct = set(listed)
    if not distinct:
        return None
    lowest = min(_rank(status) for status in distinct)
    return min((s for s in distinct if _rank(s) == lowest), key=listed.index)


@dataclass(frozen=True)
class Share:
    """One alert of a grouping action, as the store holds it."""

    alert_id: int
    incident_id: str | None
    # The status the lifecycle gives this alert alone; None before its first write.
    alert_status: str | None
    # What the daemon last wrote to (or, after a person's edit, saw on) the incident.
    incident_status: str | None
    is_open: bool
    # A create's intent is recorded and not yet settled: the incident may exist already.
    creating: bool = False
    human_override: bool = False


class TargetKind(enum.StrEnum):
    """Where an alert of a grouping action goes."""

    OPEN = "open"
    JOIN = "join"
    MEMBER = "member"
    WAIT = "wait"


@dataclass(frozen=True)
class Target:
    """The decision of ``target_for``."""

    kind: TargetKind
    incident_id: str | None = None
    status: str | None = None
    # The shares of the incident's other open alerts.
    others: tuple[str, ...] = ()
    human_override: bool = False
    # Every alert on the incident, this one included, by id.
    members: tuple[int, ...] = ()

    @property
    def alerts(self) -> int:
        """Open alerts on the incident, this one included."""
        return len(self.others) + 1


def target_for(alert_id: int, shares: Sequence[Share]) -> Target:
    """Where ``alert_id`` goes, given every share of its action (oldest link first).

    One look at each share (a storm's every alert sees all the others).
    """
    mine: Share | None = None
    waits = False
    joined: str | None = None  # the oldest share's incident that is open
    for share in shares:
        if share.alert_id == alert_id:
            mine = mine or share
        elif share.creating:
            waits = True
        status = share.incident_status
        if joined is None and share.incident_id is not None and status is not None:
            joined = share.incident_id if status not in FINAL else None
    if mine is not None and mine.incident_id is not None:
        return _on(TargetKind.MEMBER, mine.incident_id, alert_id, shares)
    if waits:
        return Target(TargetKind.WAIT)
    if joined is not None:
        return _on(TargetKind.JOIN, joined, alert_id, shares)
    return Target(TargetKind.OPEN)


def _on(kind: TargetKind, incident_id: str, alert_id: int, shares: Sequence[Share]) -> Target:
    others: list[str] = []
    status: str | None = None
    human = False
    ids = {alert_id}
    for share in shares:
        if share.incident_id != incident_id:
            continue
        ids.add(share.alert_id)
        status = share.incident_status if status is None else status
        human = human or share.human_override
        own = share.alert_status
        if share.alert_id != alert_id and share.is_open and own is not None and own not in FINAL:
            others.append(own)
    return Target(kind, incident_id, status, tuple(others), human, tuple(sorted(ids)))


def shown_status(others: Sequence[str], own: str | None) -> str | None:
    """The shared incident's status: the least advanced open share, else this alert's."""
    open_shares = [*others, *([own] if own is not None and own not in FINAL else [])]
    return least_advanced(open_shares) or own


def share_plan(plan: Plan, target: Target, own: str | None) -> Plan:
    """``plan`` (planned from the alert's own status ``own``) as writes to ``target``."""
    if target.kind is TargetKind.OPEN:
        return _annotated(plan)
    assert target.kind in (TargetKind.JOIN, TargetKind.MEMBER), target.kind
    shown = target.status
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(replace(step, from_status=shown, to_status=shown, share_status=own))
            continue
        new_own = step.status if step.status is not None else own
        new_shown = shown_status(target.others, new_own)
        moves = new_shown != shown and shown not in FINAL
        status = new_shown if moves else None
        joins = step.kind is CallKind.CREATE
        decisions = [
            _shared(d, shown, new_shown if moves else shown, target, joins=joins)
            for d in step.decisions
        ]
        if joins:
            steps.append(
                Call(
                    CallKind.UPDATE,
                    status=status,
                    decisions=decisions,
                    incident_id=target.incident_id,
                    members=target.members,
                )
            )
        elif status is None and not step.has_body:
            steps.extend(decisions)  # the shared status holds: nothing to send
        else:
            steps.append(replace(step, status=status, decisions=decisions))
        if moves:
            shown = new_shown
        own = new_own
    return Plan(tuple(steps), shown)


def _shared(
    decision: Decision, before: str | None, after: str | None, target: Target, *, joins: bool
) -> Decision:
    """One decision of the alert, restated for the shared incident."""
    own = decision.to_status
    count = target.alerts
    if decision.outcome is Outcome.CREATED and joins:
        reason = f"joined shared incident {target.incident_id} ({count} open alerts)"
        return Decision(decision.event, Outcome.JOINED, before, after, reason, own)
    if decision.outcome is Outcome.STATUS_CHANGED and before == after:
        reason = _holds(before, own, count)
        return Decision(decision.event, Outcome.NO_CHANGE, before, after, reason, own)
    if decision.outcome is Outcome.NO_CHANGE:
        return replace(decision, from_status=before, to_status=before, share_status=own)
    return replace(decision, from_status=before, to_status=after, share_status=own)


def _holds(status: str | None, own: str | None, alerts: int) -> str:
    if own in FINAL:
        return (
            f"shared incident stays {status} until its last alert resolves "
            f"({alerts - 1} still open); this alert's share: {own}"
        )
    return (
        f"shared incident stays {status}: the least advanced of its {alerts} open alerts; "
        f"this alert's share: {own}"
    )


def _annotated(plan: Plan) -> Plan:
    """The opener's plan as it is, each decision noting the alert's own status."""
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(replace(step, share_status=step.to_status))
        else:
            shares = [replace(d, share_status=d.to_status) for d in step.decisions]
            steps.append(replace(step, decisions=shares))
    return Plan(tuple(steps), plan.final_status)
