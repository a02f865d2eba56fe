"""The pure core: event detection, the lifecycle tables and call planning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ilert_statuspage_sync.core.diff import detect_events, settled_mirror
from ilert_statuspage_sync.core.lifecycle import LIFECYCLES, RuleKind, rule_for
from ilert_statuspage_sync.core.model import Event, EventKind, LogEntry
from ilert_statuspage_sync.core.plan import (
    MAX_BODY,
    MAX_NAME,
    CallKind,
    Decision,
    Outcome,
    plan_calls,
)
from tests.support.alerts import T0, alert, ev, mirrored

NOW = T0 + timedelta(minutes=10)


def comment(entry_id: int, minute: int, text: str = "note") -> LogEntry:
    return LogEntry(entry_id, T0 + timedelta(minutes=minute), "AlertCommentAddedLogEntry", text)


def kinds(events: list[Event]) -> list[str]:
    return [str(event.kind) for event in events]


class TestDetectEvents:
    def test_first_sight_is_created(self):
        """An alert never mirrored yields one created event at its report time."""
        events = detect_events(None, alert(), [], now=NOW)
        assert kinds(events) == ["created"]
        assert events[0].at == T0

    def test_first_sight_of_accepted_then_resolved_alert_keeps_order(self):
        """An alert created, accepted and resolved between polls yields all three, in order."""
        current = alert(
            status="RESOLVED",
            accepted_at=T0 + timedelta(minutes=1),
            resolved_on=T0 + timedelta(minutes=2),
        )
        events = detect_events(None, current, [], now=NOW)
        assert kinds(events) == ["created", "accepted", "resolved"]
        assert events[-1].mirror_after.status == "RESOLVED"

    def test_no_change_no_events(self):
        """The same snapshot and no new log entries yield nothing."""
        assert detect_events(mirrored(), alert(), [], now=NOW) == []

    @pytest.mark.parametrize(
        ("before", "after", "expected"),
        [
            ({}, {"status": "ACCEPTED"}, ["accepted"]),
            ({}, {"status": "RESOLVED"}, ["resolved"]),
            ({"status": "ACCEPTED"}, {"status": "RESOLVED"}, ["resolved"]),
            ({"priority": "LOW"}, {"priority": "HIGH"}, ["priority_raised"]),
            ({"priority": "HIGH"}, {"priority": "LOW"}, []),
            ({}, {"responder_ids": ("2",)}, ["reassigned"]),
            ({}, {"escalation_policy_id": 10}, ["reassigned"]),
            ({}, {"escalation_rule_index": 1, "responder_ids": ("1", "3")}, ["escalated"]),
            ({}, {"next_escalation": T0 + timedelta(minutes=15)}, ["escalated"]),
        ],
        ids=[
            "accepted",
            "resolved",
            "accepted-to-resolved",
            "priority-raised",
            "priority-lowered",
            "responders-changed",
            "policy-changed",
            "rule-index-moved",
            "next-escalation-later",
        ],
    )
    def test_snapshot_diff(self, before, after, expected):
        """Each snapshot difference maps to its lifecycle event."""
        current = alert(**{"status": "PENDING", **after})
        events = detect_events(mirrored(**before), current, [], now=NOW)
        assert kinds(events) == expected

    def test_escalation_after_accept_is_not_an_escalation(self):
        """Accepting clears nextEscalation; that alone is not an escalation event."""
        current = alert(status="ACCEPTED", next_escalation=None, accepted_at=T0)
        assert kinds(detect_events(mirrored(), current, [], now=NOW)) == ["accepted"]

    def test_unknown_status_is_no_event(self):
        """An unknown status enum value is ignored and the last known one kept."""
        current = alert(status="SNOOZED")
        assert detect_events(mirrored(), current, [], now=NOW) == []
        assert settled_mirror(current, [], mirrored()).status == "PENDING"

    def test_only_new_comments_count(self):
        """Comments at or below the stored cursor are not events again."""
        entries = [comment(99, 1, "old"), comment(101, 2, "new")]
        events = detect_events(mirrored(), alert(), entries, now=NOW)
        assert [(e.kind, e.comment) for e in events] == [(EventKind.COMMENT_ADDED, "new")]
        assert events[0].mirror_after.last_log_entry_id == 101

    def test_events_sorted_by_time(self):
        """A comment before the accept is applied before it."""
        current = alert(status="ACCEPTED", accepted_at=T0 + timedelta(minutes=3))
        entries = [comment(101, 2, "before"), comment(102, 4, "after")]
        events = detect_events(mirrored(), current, entries, now=NOW)
        assert kinds(events) == ["comment_added", "accepted", "comment_added"]
        assert [e.mirror_after.status for e in events] == ["PENDING", "ACCEPTED", "ACCEPTED"]

    def test_log_marker_confirms_missed_raise(self):
        """A raise entry the snapshot cannot show (LOW->HIGH->LOW) still counts."""
        marker = LogEntry(101, T0 + timedelta(minutes=1), "AlertRaisedByUserLogEntry")
        events = detect_events(mirrored(priority="LOW"), alert(priority="LOW"), [marker], now=NOW)
        assert kinds(events) == ["priority_raised"]

    @pytest.mark.parametrize(
        ("current", "entries", "expected"),
        [
            ({"status": "RESOLVED"}, [], "resolved"),
            ({"status": "ACCEPTED"}, [], "accepted"),
            ({}, [comment(5, 1, "hello")], "comment_added"),
            ({}, [LogEntry(5, T0, "AlertEscalatedToLevelLogEntry")], "escalated"),
            ({}, [], "created"),
        ],
        ids=["resolved", "accepted", "comment", "escalated", "plain"],
    )
    def test_triggered_first_sight_is_one_event(self, current, entries, expected):
        """A manual trigger mirrors the alert's current state as one event."""
        events = detect_events(None, alert(**current), entries, now=NOW, triggered=True)
        assert kinds(events) == [expected]


class TestLifecycleTables:
    @pytest.mark.parametrize("lifecycle", sorted(LIFECYCLES))
    def test_every_event_creates_when_absent(self, lifecycle):
        """Every event of a live alert creates the incident when none exists yet; a deleted
        alert's does not (there is nothing to end)."""
        for event in EventKind:
            kind = rule_for(lifecycle, event, incident_exists=False).kind
            assert kind is (RuleKind.NO_CHANGE if event is EventKind.DELETED else RuleKind.CREATE)

    @pytest.mark.parametrize("lifecycle", sorted(LIFECYCLES))
    def test_a_deleted_alert_resolves_its_incident(self, lifecycle):
        """An alert deleted in iLert resolves the incident it has."""
        rule = rule_for(lifecycle, EventKind.DELETED, incident_exists=True)
        assert (rule.kind, rule.status) == (RuleKind.SET_STATUS, "resolved")

    def test_realtime_uses_realtime_statuses_only(self):
        """The realtime table never names a maintenance status."""
        statuses = {rule.status for pair in LIFECYCLES["realtime"].values() for rule in pair}
        assert statuses - {None} <= {"investigating", "identified", "monitoring", "resolved"}


class TestPlan:
    def test_create_uses_summary_and_details(self):
        """A create carries the alert summary as name and details as body."""
        plan = plan_calls(
            [ev(EventKind.CREATED)], alert(), lifecycle="classic", current_status=None
        )
        (call,) = plan.calls
        assert (call.kind, call.name, call.body, call.status) == (
            CallKind.CREATE,
            "API errors",
            "5xx above 2%",
            "identified",
        )

    def test_created_and_resolved_is_one_create(self):
        """Created then resolved before the first poll becomes one create with status resolved."""
        events = [ev(EventKind.CREATED), ev(EventKind.RESOLVED, 1)]
        plan = plan_calls(events, alert(), lifecycle="classic", current_status=None)
        assert [(c.kind, c.status) for c in plan.calls] == [(CallKind.CREATE, "resolved")]
        assert [d.outcome for d in plan.calls[0].decisions] == [Outcome.CREATED, Outcome.CREATED]

    def test_several_events_keep_order_with_fewest_calls(self):
        """Comments stay separate updates; a status change rides with the comment after it."""
        events = [
            ev(EventKind.COMMENT_ADDED, 1, "first"),
            ev(EventKind.ACCEPTED, 2),
            ev(EventKind.COMMENT_ADDED, 3, "second"),
            ev(EventKind.RESOLVED, 4),
        ]
        plan = plan_calls(events, alert(), lifecycle="classic", current_status="identified")
        assert [(c.kind, c.status, c.body) for c in plan.calls] == [
            (CallKind.UPDATE, None, "first"),
            (CallKind.UPDATE, "in_progress", "second"),
            (CallKind.UPDATE, "resolved", None),
        ]
        assert plan.final_status == "resolved"

    def test_same_status_is_no_change(self):
        """Setting the status the incident already has makes no call."""
        events = [ev(EventKind.REASSIGNED)]
        plan = plan_calls(events, alert(), lifecycle="realtime", current_status="investigating")
        assert plan.calls == []
        (decision,) = plan.steps
        assert isinstance(decision, Decision)
        assert decision.outcome is Outcome.NO_CHANGE

    def test_resolved_incident_is_never_reopened(self):
        """An event after resolve does not move a resolved incident back."""
        plan = plan_calls(
            [ev(EventKind.ESCALATED)], alert(), lifecycle="realtime", current_status="resolved"
        )
        assert plan.calls == []
        assert "never re-opened" in (plan.steps[0].reason or "")  # type: ignore[union-attr]

    def test_comment_after_resolve_still_posts(self):
        """A comment on a resolved incident still becomes an update."""
        plan = plan_calls(
            [ev(EventKind.COMMENT_ADDED, 1, "postmortem soon")],
            alert(),
            lifecycle="classic",
            current_status="resolved",
        )
        assert [(c.status, c.body) for c in plan.calls] == [(None, "postmortem soon")]

    def test_long_texts_are_clipped_to_statuspage_limits(self):
        """Name and body never exceed Statuspage's limits."""
        big = alert(summary="s" * 1000, details="d" * 100_000)
        (call,) = plan_calls(
            [ev(EventKind.CREATED)], big, lifecycle="classic", current_status=None
        ).calls
        assert len(call.name or "") == MAX_NAME
        assert len(call.body or "") == MAX_BODY
        assert (call.body or "").endswith("[truncated]")

    def test_comment_without_incident_creates_with_comment_body(self):
        """A comment as first event creates the incident with the comment as body."""
        plan = plan_calls(
            [ev(EventKind.COMMENT_ADDED, 1, "public note")],
            alert(),
            lifecycle="classic",
            current_status=None,
        )
        assert [(c.kind, c.status, c.body) for c in plan.calls] == [
            (CallKind.CREATE, "identified", "public note")
        ]
