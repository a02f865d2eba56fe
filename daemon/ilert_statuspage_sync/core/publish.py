"""What the public sees: the steps between detecting events and sending calls.

Two pure steps wrap the lifecycle's plan, like processors in a chain:

- ``screen_comments`` (before ``plan_calls``): the comment policy first, so
  ``comments = "none"`` never converts a text; then a comment becomes plain,
  visible text (``core.public_text``); with ``comments = "marked"`` only a
  comment carrying the marker as a word of its own stays (the marker removed).
  A withheld comment is still an event, so the audit shows it and the mirror
  moves past it, but the plan makes no call of it (so it never creates an
  incident either), and its text goes no further.
- ``publish_plan`` (after ``plan_calls``): each call's name and body are
  rendered from the templates (which see vendor texts as plain text), then
  made visible, redacted and clipped to Statuspage's limits (``publishable``);
  ``deliver_notifications`` is set per write kind; the call records which
  settings produced it for the audit trail.

Status overrides act inside the plan (``core.overrides``), because they decide
which calls exist at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ilert_statuspage_sync.core.model import Alert, Event, EventKind
from ilert_statuspage_sync.core.plan import (
    MAX_BODY,
    MAX_NAME,
    Call,
    CallKind,
    Decision,
    Outcome,
    Plan,
    Step,
)
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.public_text import (
    normalised,
    publishable,
    replace_matches,
    vendor_plain,
)
from ilert_statuspage_sync.core.templates import alert_vars

__all__ = [
    "PublishContext",
    "publish_plan",
    "screen_comments",
    "write_kind",
]

_RUNS_OF_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class PublishContext:
    """Facts about the incident action the shell passes in."""

    action_name: str
    page_id: str
    ilert_api_url: str
    notify_subscribers: bool = True


def screen_comments(events: Sequence[Event], policy: PublishPolicy) -> list[Event]:
    """Comments as plain text, and withheld where the comment policy says so."""
    screened = []
    for event in events:
        if event.kind is not EventKind.COMMENT_ADDED or event.comment is None:
            screened.append(event)
        elif policy.comments == "none":
            # Decided before any conversion: a withheld text costs nothing and goes no further.
            screened.append(replace(event, comment="", withheld='comments = "none"'))
        else:
            screened.append(_screened(event, event.comment, policy))
    return screened


def _screened(event: Event, comment: str, policy: PublishPolicy) -> Event:
    marker = normalised(policy.comment_marker).strip()
    if policy.comments == "marked" and (not marker or marker not in normalised(comment)):
        # No marker anywhere, not even inside markup: withheld without converting it.
        return replace(event, comment="", withheld=_unmarked(policy))
    text = vendor_plain(comment)
    if policy.comments == "marked":
        text, found = replace_matches(text, _marker_token(marker), "")  # matched on NFKC
        if not found:
            return replace(event, comment="", withheld=_unmarked(policy))
        text = _tidied(text)
    return replace(event, comment=text)


def _unmarked(policy: PublishPolicy) -> str:
    return f'comments = "marked": no {policy.comment_marker!r} in the comment'


def _marker_token(marker: str) -> re.Pattern[str]:
    """The marker as a word of its own: whitespace or the text's edge on both sides.

    ``#publicity``, ``C#public``, ``internal##public`` and ``wiki/runbook#public``
    do not carry ``#public``.
    """
    return re.compile(r"(?<!\S)" + re.escape(marker) + r"(?!\S)")


def _tidied(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(_RUNS_OF_SPACES.sub(" ", line).strip() for line in lines).strip()


def publish_plan(plan: Plan, alert: Alert, policy: PublishPolicy, context: PublishContext) -> Plan:
    """The plan with every call's public text rendered, redacted and clipped.

    A template that fails raises ``RenderError``: the shell fails this alert
    (audited, retried later) and the pass goes on.
    """
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(step)
            continue
        call = _render(step, alert, policy, context)
        if call is None:
            steps.extend(_no_text(step))
        else:
            steps.append(call)
    return Plan(tuple(steps), plan.final_status)


def write_kind(call: Call) -> str:
    """The notify kind of a write: created, resolved, status_changed or body_updated."""
    if call.kind is CallKind.CREATE:
        return "created"
    changed = [d for d in call.decisions if d.from_status != d.to_status]
    if call.status is not None and changed:
        return "resolved" if call.status == "resolved" else "status_changed"
    return "body_updated"


def _render(
    call: Call, alert: Alert, policy: PublishPolicy, context: PublishContext
) -> Call | None:
    status = call.status or (call.decisions[0].from_status if call.decisions else None)
    base: dict[str, Any] = {
        "alert": alert_vars(alert, context.ilert_api_url),
        "status": status,
        "action": {"name": context.action_name, "page_id": context.page_id},
    }
    used: list[str] = []

    def render(key: str, event: Event, extra: Mapping[str, Any] | None = None) -> str:
        template = policy.templates.get(key)
        if template.source:
            used.append(key)
        return template.render({**base, "event": str(event.kind), **(extra or {})})

    name = None
    if call.kind is CallKind.CREATE:
        first = call.decisions[0].event
        name = publishable(render("name", first), MAX_NAME, policy.redact, one_line=True)
        name = name or publishable(f"iLert alert {alert.id}", MAX_NAME, policy.redact)
    parts = _body_parts(call, render)
    body_text = publishable("\n\n".join(part for part in parts if part), MAX_BODY, policy.redact)
    if not body_text and call.incident_id is not None:
        # A join always writes (it links the alert): never an empty update.
        joined = f"Also affected: {base['alert']['summary']}".strip()
        body_text = publishable(joined, MAX_BODY, policy.redact)
    body = body_text or None
    if call.kind is CallKind.UPDATE and body is None and call.status is None:
        return None
    kind = write_kind(call)
    notify = context.notify_subscribers and kind in policy.notify
    provenance = None if policy.is_default else _provenance(used, policy, kind, notify)
    return replace(call, name=name, body=body, notify=notify, provenance=provenance)


def _body_parts(call: Call, render: Any) -> list[str]:
    """The texts of one write, in the order they happened.

    A create starts with the ``created`` text (or the comment that created it);
    an update starts with the text of its status change. The wording of a
    status change is the one of the call's final status only: folded changes
    were never shown, so neither is their text.
    """
    primary: list[str] = []
    comments: list[str] = []
    status_text = ""
    for index, decision in enumerate(call.decisions):
        event = decision.event
        if decision.outcome is Outcome.JOINED and index == 0:
            # group = "action": the update that adds this alert to the shared incident.
            primary.append(render("also_affected", event))
            if event.kind is EventKind.COMMENT_ADDED:
                comments.append(render("comment", event, {"comment": _comment_vars(event)}))
        elif decision.outcome is Outcome.BODY_UPDATED or (
            index == 0 and call.kind is CallKind.CREATE and event.kind is EventKind.COMMENT_ADDED
        ):
            comments.append(render("comment", event, {"comment": _comment_vars(event)}))
        elif index == 0 and call.kind is CallKind.CREATE:
            primary.append(render("created", event))
        elif decision.outcome in (Outcome.CREATED, Outcome.STATUS_CHANGED):
            status_text = render(str(event.kind), event)
    if call.kind is CallKind.CREATE or primary:
        return [*primary, *comments, status_text]
    return [status_text, *comments]


def _comment_vars(event: Event) -> dict[str, str]:
    return {
        "text": (event.comment or "").strip(),
        "created_at": event.at.isoformat().replace("+00:00", "Z"),
    }


def _no_text(call: Call) -> list[Step]:
    """A body-only update whose templates rendered nothing: no call, audited as such."""
    reason = "the templates rendered no text for this update"
    return [
        Decision(d.event, Outcome.NO_CHANGE, d.from_status, d.from_status, d.reason or reason)
        for d in call.decisions
    ]


def _provenance(used: list[str], policy: PublishPolicy, kind: str, notify: bool) -> str:
    parts = [f"templates {'+'.join(dict.fromkeys(used)) or 'none'}"]
    if policy.templates.customised:
        parts[0] += f" (custom: {', '.join(policy.templates.customised)})"
    if policy.filters:
        parts.append(f"filters passed: {', '.join(policy.filters)}")
    if policy.comments != "all":
        parts.append(f"comments={policy.comments}")
    if policy.redact:
        parts.append(f"redact: {len(policy.redact)} pattern(s)")
    if policy.status_overrides:
        parts.append("statuses: " + ", ".join(f"{k}={v}" for k, v in policy.status_overrides))
    parts.append(f"notify {kind}: {'yes' if notify else 'no'}")
    return "; ".join(parts)
