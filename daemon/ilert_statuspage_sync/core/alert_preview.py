"""What ``preview`` prints: one real alert's writes under an incident action, and its comments
as iLert returned them.

The alert's events are those a first sight finds (``core.diff``; a manual action's trigger
mirrors the alert's current state as one event), each planned in a pass of its own
(``core.preview.replay``): the public wording of every write and the status sequence, as
if the daemon had watched the alert from its start. Nothing here writes anything.

iLert does not document where a comment's text sits in a log entry (``vars`` or
``text``), so each comment entry's raw text fields are printed, labelled, with the one
the daemon reads (``core.parse.comment_field``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.core.diff import detect_events
from ilert_statuspage_sync.core.filters import VerdictKind, screen_alert
from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.parse import COMMENT_ENTRY_TYPES, comment_field
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.preview import Replayed, replay
from ilert_statuspage_sync.core.publish import PublishContext
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["ActionView", "action_lines", "alert_lines", "comment_lines", "quoted"]

_RAW_LIMIT = 500  # characters of one raw field shown; the rest is counted


@dataclass(frozen=True)
class ActionView:
    """What a preview needs of one incident action."""

    context: PublishContext
    policy: PublishPolicy
    lifecycle: str
    manual: bool = False
    shared: bool = False  # group = "action"


def quoted(text: str) -> str:
    """``text`` as one safe line: JSON-quoted, every unprintable character escaped.

    Scrubbed first: once a zero-width space or a line break inside a key reads as
    ``\\u200b`` or ``\\n``, the mask on the printed line no longer finds the key.
    """
    return _escaped(json.dumps(scrub(text), ensure_ascii=False))


def _escaped(dumped: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in dumped)


def _scrubbed(value: object) -> object:
    """A JSON value with every string in it (keys too) scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(key)): _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def alert_lines(alert: Alert, entries: Sequence[LogEntry]) -> list[str]:
    """The alert as read: id, summary, source, status, priority, report time, timeline size."""
    comments = sum(1 for entry in entries if entry.comment is not None)
    return [
        f"alert {alert.id} {quoted(alert.summary)}: source {alert.source_id}, {alert.status}, "
        f"priority {alert.priority}, reported {_iso(alert.report_time)}",
        f"timeline: {len(entries)} entries, {comments} comment(s)",
    ]


def comment_lines(raw_entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each comment entry's raw text fields, labelled, and the field the daemon reads."""
    lines: list[str] = []
    for entry in raw_entries:
        kind = entry.get("logEntryType")
        if kind not in COMMENT_ENTRY_TYPES:
            continue
        lines.append(
            f"comment entry {entry.get('id')} ({kind}, {entry.get('timestamp')}), "
            "raw text fields as iLert returned them:"
        )
        fields = [("text", entry.get("text"))]
        variables = entry.get("vars")
        if isinstance(variables, Mapping):
            fields += [(f"vars.{key}", value) for key, value in variables.items()]
        lines += [
            f"  {quoted(label)[1:-1]}: {_raw(value)}"
            for label, value in fields
            if value is not None
        ]
        field = comment_field(entry)
        lines.append(f"  read from: {field or 'no text field (the comment is empty)'}")
    return lines


def action_lines(
    alert: Alert, entries: Sequence[LogEntry], view: ActionView, *, now: datetime
) -> tuple[list[str], bool]:
    """What ``view``'s action would publish of ``alert``, and False when a template failed."""
    context = view.context
    head = (
        f"incident action {context.action_name!r} (page {context.page_id}, "
        f"lifecycle {view.lifecycle})"
    )
    verdict = screen_alert(alert, view.policy, now=now, published=False)
    if verdict.kind is VerdictKind.FILTER:
        return [f"{head}: not published, {verdict.reason} ({verdict.rule})"], True
    lines = [head + ":"]
    if view.manual:
        lines.append(
            f"  trigger_mode manual: published only after "
            f"`trigger {context.action_name} {alert.id}`; the trigger mirrors its current state"
        )
    if verdict.kind is VerdictKind.HOLD:
        lines.append(f"  {verdict.reason}; then, if still open:")
    if view.shared:
        lines.append(
            '  group = "action": shown as its own incident; while another alert of the action '
            "has one open, it joins that shared incident instead"
        )
    events = detect_events(None, alert, entries, now=now, triggered=view.manual)
    steps = replay(events, alert, view.policy, lifecycle=view.lifecycle, context=context)
    for step in steps:
        lines += _step_lines(step)
    lines.append(f"  status sequence: {_sequence(steps)}")
    return lines, all(step.plan is not None for step in steps)


def _step_lines(step: Replayed) -> list[str]:
    label = f"  {step.event.kind} at {_iso(step.event.at)}"
    if step.plan is None:
        return [f"{label}: template error, nothing published: {step.error}"]
    if not step.plan.calls:
        return [f"{label}: no write ({step.why_nothing})"]
    lines: list[str] = []
    for call in step.plan.calls:
        status = f", status {call.status}" if call.status is not None else ""
        lines.append(f"{label}: {call.kind}{status}, notify {'yes' if call.notify else 'no'}")
        if call.name is not None:
            lines.append(f"    name: {quoted(call.name)}")
        if call.body is not None:
            lines.append(f"    body: {quoted(call.body)}")
    return lines


def _sequence(steps: Sequence[Replayed]) -> str:
    statuses: list[str] = []
    for step in steps:
        calls = step.plan.calls if step.plan is not None else []
        for call in calls:
            if call.status is not None and (not statuses or statuses[-1] != call.status):
                statuses.append(call.status)
    return " -> ".join(statuses) or "no incident"


def _raw(value: object) -> str:
    """A raw field, scrubbed whole before it is cut (a key across the cut is still seen)."""
    if not isinstance(value, str):
        dumped = json.dumps(_scrubbed(value), ensure_ascii=False)
        return f"{_escaped(dumped[:_RAW_LIMIT])} (not text)"
    text = scrub(value)
    if len(text) <= _RAW_LIMIT:
        return quoted(text)
    return f"{quoted(text[:_RAW_LIMIT])} (and {len(text) - _RAW_LIMIT} more characters)"


def _iso(moment: datetime) -> str:
    """iLert's own precision: milliseconds, or whole seconds when there are none."""
    precision = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=precision).replace("+00:00", "Z")
