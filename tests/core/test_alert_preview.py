"""core.alert_preview: a real alert's writes per action, and its comments' raw fields."""

from __future__ import annotations

from datetime import timedelta

from ilert_statuspage_sync.core.alert_preview import ActionView, action_lines, comment_lines
from ilert_statuspage_sync.core.model import LogEntry
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext
from tests.support.alerts import T0, an_alert

VIEW = ActionView(
    PublishContext("public-api", "page1", "https://api.ilert.com"), PublishPolicy(), "classic"
)


def test_a_text_only_comment_entry_is_read_from_text_and_shown_escaped():
    """An entry without vars text is read from ``text``; control characters print escaped."""
    entry = {
        "id": 7,
        "logEntryType": "AlertCommentAddedLogEntry",
        "timestamp": "2026-11-27T10:00:00Z",
        "text": "rollback\x1b[2J done",
        "vars": {"author": "Ada"},
    }

    lines = comment_lines([entry, {"id": 8, "logEntryType": "AlertReceivedLogEntry"}])

    assert lines[1:] == [
        '  text: "rollback\\u001b[2J done"',
        '  vars.author: "Ada"',
        "  read from: text",
    ]


def test_a_filtered_alert_shows_the_rule_and_no_write():
    """An alert an action's filter keeps off the page names the rule and plans nothing."""
    strict = ActionView(VIEW.context, PublishPolicy(min_priority="HIGH"), "classic")

    lines, ok = action_lines(an_alert(priority="LOW"), [], strict, now=T0)

    assert ok
    assert lines == [
        "incident action 'public-api' (page page1, lifecycle classic): not published, "
        "priority LOW below min_priority HIGH (min_priority)"
    ]


def test_each_comment_is_its_own_write_in_time_order():
    """Two comments are two bodies after the created one, and the sequence has one status."""
    entries = [
        LogEntry(3, T0 + timedelta(minutes=2), "AlertCommentAddedLogEntry", "second"),
        LogEntry(2, T0 + timedelta(minutes=1), "AlertCommentAddedLogEntry", "first"),
    ]

    lines, ok = action_lines(an_alert(details="down"), entries, VIEW, now=T0)

    bodies = [line.strip() for line in lines if line.strip().startswith("body:")]
    assert ok
    assert bodies == ['body: "down"', 'body: "first"', 'body: "second"']
    assert lines[-1] == "  status sequence: identified"
