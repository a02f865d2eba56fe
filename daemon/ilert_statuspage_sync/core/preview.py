"""What `check` shows: every write of a sample alert's life, as the public would see it.

The sample alert goes through the same chain as a real one (comment screen,
lifecycle plan with status overrides, templates, redaction, notify), one event
at a time, so each template is rendered once and an operator reads the public
wording before it goes live. ``replay`` is that chain, shared with ``preview``
(``core.alert_preview``), which runs a real alert's events through it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ilert_statuspage_sync.core.model import Alert, AlertStatus, Event, EventKind, Mirror
from ilert_statuspage_sync.core.plan import Call, Plan, plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments
from ilert_statuspage_sync.core.templates import RenderError, sample_alert

__all__ = ["PreviewLine", "Replayed", "describe_call", "preview_writes", "replay"]

# The sample's life, in order; a comment carries markup and the marker on purpose.
_STORY = (
    EventKind.CREATED,
    EventKind.COMMENT_ADDED,
    EventKind.REASSIGNED,
    EventKind.ESCALATED,
    EventKind.PRIORITY_RAISED,
    EventKind.ACCEPTED,
    EventKind.RESOLVED,
)


@dataclass(frozen=True)
class PreviewLine:
    """One rendered write (ok) or the template error it hit."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Replayed:
    """One event and its rendered plan, or the template error that stopped it."""

    event: Event
    plan: Plan | None
    error: str | None = None

    @property
    def why_nothing(self) -> str:
        """Why the plan makes no write (the decisions' reasons)."""
        steps = self.plan.steps if self.plan is not None else ()
        reasons = [str(getattr(step, "reason", "") or "") for step in steps]
        return "; ".join(reason for reason in reasons if reason) or "no change"


def replay(
    events: Sequence[Event],
    alert: Alert,
    policy: PublishPolicy,
    *,
    lifecycle: str,
    context: PublishContext,
) -> list[Replayed]:
    """Each event planned in a pass of its own, the incident's status carried between them.

    An event whose template fails leaves the status where it was, as the pass would.
    """
    status: str | None = None
    replayed: list[Replayed] = []
    for event in events:
        screened = screen_comments([event], policy)
        plan = plan_calls(
            screened, alert, lifecycle=lifecycle, current_status=status, statuses=policy.statuses
        )
        try:
            plan = publish_plan(plan, alert, policy, context)
        except RenderError as error:
            replayed.append(Replayed(event, None, str(error)))
            continue
        replayed.append(Replayed(event, plan))
        status = plan.final_status
    return replayed


def preview_writes(
    policy: PublishPolicy,
    *,
    lifecycle: str,
    context: PublishContext,
    source_id: int | None,
) -> list[PreviewLine]:
    """Each event of the sample alert's life and the write it would make, if any."""
    alert = sample_alert(source_id)
    mirror = Mirror.of(alert, None).advanced(status=AlertStatus.PENDING)
    comment = (
        "<p>Engineers are rolling back the 09:12 deploy &amp; draining db-7 "
        f"(10.0.3.17). {policy.comment_marker}</p>"
    )
    events = [
        Event(
            kind,
            alert.report_time + timedelta(minutes=minute),
            mirror,
            comment=comment if kind is EventKind.COMMENT_ADDED else None,
        )
        for minute, kind in enumerate(_STORY)
    ]
    lines: list[PreviewLine] = []
    for step in replay(events, alert, policy, lifecycle=lifecycle, context=context):
        label = f"preview {context.action_name}: {step.event.kind}"
        if step.plan is None:
            lines.append(PreviewLine(False, f"{label}: {step.error}"))
        elif not step.plan.calls:
            lines.append(PreviewLine(True, f"{label}: no write ({step.why_nothing})"))
        else:
            lines += [PreviewLine(True, f"{label}: {describe_call(c)}") for c in step.plan.calls]
    return lines


def describe_call(call: Call) -> str:
    """One write on one line: its kind, name, status, body and notify."""
    parts = [str(call.kind)]
    if call.name is not None:
        parts.append(f"name {json.dumps(call.name, ensure_ascii=False)}")
    if call.status is not None:
        parts.append(f"status {call.status}")
    parts.append(f"body {json.dumps(call.body, ensure_ascii=False)}")
    parts.append(f"notify {'yes' if call.notify else 'no'}")
    return ", ".join(parts)
