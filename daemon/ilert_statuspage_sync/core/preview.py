"""What `check` shows: every write of a sample alert's life, as the public would see it.

The sample alert goes through the same chain as a real one (comment screen,
lifecycle plan with status overrides, templates, redaction, notify), one event
at a time, so each template is rendered once and an operator reads the public
wording before it goes live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from ilert_statuspage_sync.core.model import AlertStatus, Event, EventKind, Mirror
from ilert_statuspage_sync.core.plan import Call, plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments
from ilert_statuspage_sync.core.templates import RenderError, sample_alert

__all__ = ["PreviewLine", "preview_writes"]

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
    status: str | None = None
    lines: list[PreviewLine] = []
    for minute, kind in enumerate(_STORY):
        event = Event(
            kind,
            alert.report_time + timedelta(minutes=minute),
            mirror,
            comment=comment if kind is EventKind.COMMENT_ADDED else None,
        )
        label = f"preview {context.action_name}: {kind}"
        events = screen_comments([event], policy)
        plan = plan_calls(
            events, alert, lifecycle=lifecycle, current_status=status, statuses=policy.statuses
        )
        try:
            plan = publish_plan(plan, alert, policy, context)
        except RenderError as error:
            lines.append(PreviewLine(False, f"{label}: {error}"))
            continue
        if not plan.calls:
            lines.append(PreviewLine(True, f"{label}: no write ({_why(plan.steps)})"))
        lines.extend(PreviewLine(True, f"{label}: {_describe(call)}") for call in plan.calls)
        status = plan.final_status
    return lines


def _why(steps: tuple[object, ...]) -> str:
    reasons = [str(getattr(step, "reason", "") or "") for step in steps]
    return "; ".join(reason for reason in reasons if reason) or "no change"


def _describe(call: Call) -> str:
    parts = [str(call.kind)]
    if call.name is not None:
        parts.append(f"name {json.dumps(call.name, ensure_ascii=False)}")
    if call.status is not None:
        parts.append(f"status {call.status}")
    parts.append(f"body {json.dumps(call.body, ensure_ascii=False)}")
    parts.append(f"notify {'yes' if call.notify else 'no'}")
    return ", ".join(parts)
