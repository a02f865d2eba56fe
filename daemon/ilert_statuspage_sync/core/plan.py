"""Turn one alert's events into the fewest Statuspage calls that keep their order.

Events are walked oldest first through the lifecycle table. Status changes
are state, so consecutive ones fold into one call and the public only sees the
latest (an incident created and resolved in one interval is created
``resolved``); text is history, so every body (the alert's details at
creation, each comment) stays its own incident update and shows the status the
incident had when it was written. A status change rides along with the body
that follows it, as Statuspage's docs advise ("send status and message at the
same time to avoid two separate incident updates").

Three rules beyond the table keep the page truthful:
- a status change to the status the incident already has is no change;
- a resolved incident is never re-opened by a later event; comments still post;
- a status the page refused (``refused``, learned from a 422) is never asked
  for again: the change is no change with the reason, and an incident that would
  be created in it is created in the status the lifecycle gives a new alert.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ilert_statuspage_sync.core.lifecycle import RuleKind, rule_for
from ilert_statuspage_sync.core.model import CLOSED_STATUSES, Alert, Event, EventKind
from ilert_statuspage_sync.core.overrides import overridden_rule

__all__ = [
    "MAX_BODY",
    "MAX_NAME",
    "Call",
    "CallKind",
    "Decision",
    "Outcome",
    "Plan",
    "Step",
    "plan_calls",
    "refused_reason",
]

MAX_NAME = 255  # Statuspage: incident name limit
MAX_BODY = 25_000  # Statuspage: incident update body limit
_FINAL_STATUSES = CLOSED_STATUSES
_TABLE_NO_CHANGE = "the lifecycle table makes no change for this event"


class Outcome(enum.StrEnum):
    """The decision taken for one event, as the audit trail names it."""

    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    BODY_UPDATED = "body_updated"
    NO_CHANGE = "no_change"
    FAILED = "failed"
    # group = "action": a further alert added to the action's open shared incident.
    JOINED = "joined"


class CallKind(enum.StrEnum):
    """The two Statuspage writes the daemon makes."""

    CREATE = "create"
    UPDATE = "update"


@dataclass(frozen=True)
class Decision:
    """What the table decided for one event."""

    event: Event
    outcome: Outcome
    from_status: str | None
    to_status: str | None
    reason: str | None = None
    # group = "action": the status the lifecycle gives this alert alone (its share).
    share_status: str | None = None


@dataclass
class Call:
    """One Statuspage write and the events it carries."""

    kind: CallKind
    status: str | None = None
    body: str | None = None
    name: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    # Set by core.publish: deliver_notifications, and which settings produced the text.
    notify: bool | None = None
    provenance: str | None = None
    # group = "action": the shared incident an update goes to (the alert is not linked yet),
    # and every alert on it once this one joined (recorded in its metadata), as runs of
    # consecutive ids (first, last).
    incident_id: str | None = None
    members: tuple[tuple[int, int], ...] = ()

    @property
    def has_body(self) -> bool:
        """A write with a body appends to the timeline, so it is not idempotent."""
        return self.body is not None


Step = Call | Decision


@dataclass(frozen=True)
class Plan:
    """The steps for one alert, in order; a ``Decision`` step makes no call."""

    steps: tuple[Step, ...]
    final_status: str | None

    @property
    def calls(self) -> list[Call]:
        """Only the steps that reach Statuspage."""
        return [step for step in self.steps if isinstance(step, Call)]


def plan_calls(
    events: Sequence[Event],
    alert: Alert,
    *,
    lifecycle: str,
    current_status: str | None,
    refused: Collection[str] = frozenset(),
    statuses: Mapping[str, str] | None = None,
) -> Plan:
    """Plan the calls for ``events``; ``current_status`` is None when no incident exists.

    ``refused`` holds the statuses Statuspage refused on this incident's page;
    ``statuses`` overrides the lifecycle's status per event (``core.overrides``).
    """
    builder = _Builder(alert, current_status, refused, statuses or {})
    for event in events:
        builder.add(event, lifecycle)
    return builder.finish()


class _Builder:
    def __init__(
        self,
        alert: Alert,
        current_status: str | None,
        refused: Collection[str],
        statuses: Mapping[str, str],
    ) -> None:
        self.alert = alert
        self.refused = refused
        self.statuses = statuses
        self.status = current_status
        self.exists = current_status is not None
        self.steps: list[Step] = []
        self.pending: Call | None = None

    def add(self, event: Event, lifecycle: str) -> None:
        if event.withheld:
            self._no_change(event, event.withheld)
            return
        rule, with_status = overridden_rule(
            lifecycle, event.kind, incident_exists=self.exists, statuses=self.statuses
        )
        if rule.kind is RuleKind.CREATE:
            assert rule.status is not None
            self._create(event, rule.status, lifecycle)
        elif rule.kind is RuleKind.SET_STATUS:
            assert rule.status is not None
            self._set_status(event, rule.status)
        elif rule.kind is RuleKind.ADD_BODY:
            self._add_body(event, with_status)
        else:
            self._no_change(event, rule.note or _TABLE_NO_CHANGE)

    def finish(self) -> Plan:
        self._flush()
        return Plan(tuple(self.steps), self.status)

    def _create(self, event: Event, status: str, lifecycle: str) -> None:
        reason = None
        if status in self.refused:
            reason = refused_reason(status)
            status = rule_for(lifecycle, EventKind.CREATED, incident_exists=False).status or status
        body = event.comment if event.kind is EventKind.COMMENT_ADDED else self.alert.details
        self.pending = Call(
            CallKind.CREATE,
            status=status,
            body=_clip(body, MAX_BODY) if body else None,
            name=_clip(self.alert.summary.strip() or f"iLert alert {self.alert.id}", MAX_NAME),
        )
        self.pending.decisions.append(Decision(event, Outcome.CREATED, None, status, reason))
        self.exists = True
        self.status = status

    def _set_status(self, event: Event, status: str) -> None:
        if status in self.refused:
            self._no_change(event, refused_reason(status))
            return
        if self.status == status:
            self._no_change(event, f"the incident is already {status}")
            return
        if self.status in _FINAL_STATUSES:
            self._no_change(event, f"the incident is {self.status}; it is never re-opened")
            return
        if (
            self.pending is not None
            and self.pending.kind is CallKind.UPDATE
            and self.pending.has_body
        ):
            # That text was written before this change: it keeps the status it had.
            self._flush()
        call = self.pending or self._start(CallKind.UPDATE)
        call.status = status
        if call.kind is CallKind.CREATE:
            # Folded into the create: the incident is born in its latest status.
            call.decisions.append(Decision(event, Outcome.CREATED, None, status))
        else:
            call.decisions.append(Decision(event, Outcome.STATUS_CHANGED, self.status, status))
        self.status = status

    def _add_body(self, event: Event, status: str | None = None) -> None:
        text = (event.comment or "").strip()
        if not text:
            self._no_change(event, "the comment has no text")
            return
        if self.pending is None or self.pending.has_body:
            self._flush()
            self._start(CallKind.UPDATE)
        assert self.pending is not None
        self.pending.body = _clip(text, MAX_BODY)
        before = self.status
        if status is not None and status != self.status and self.status not in _FINAL_STATUSES:
            # A status override on comment_added rides along with the comment.
            self.pending.status = self.status = status
        self.pending.decisions.append(Decision(event, Outcome.BODY_UPDATED, before, self.status))

    def _no_change(self, event: Event, reason: str) -> None:
        decision = Decision(event, Outcome.NO_CHANGE, self.status, self.status, reason)
        if self.pending is not None:
            # Keep audit order: the decision is recorded once the call before it landed.
            self.pending.decisions.append(decision)
        else:
            self.steps.append(decision)

    def _start(self, kind: CallKind) -> Call:
        self.pending = Call(kind)
        return self.pending

    def _flush(self) -> None:
        if self.pending is not None:
            self.steps.append(self.pending)
            self.pending = None


def refused_reason(status: str) -> str:
    """Why a status the page refused is left out, and the setting that avoids it."""
    return (
        f"Statuspage refused status {status!r} on this page (a maintenance status); "
        'set lifecycle = "realtime" to use realtime statuses only'
    )


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = " [truncated]"
    return text[: limit - len(marker)] + marker
