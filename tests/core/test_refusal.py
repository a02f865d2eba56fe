"""The pure refusal rules: which 4xx never succeeds, and planning around a refused status."""

from __future__ import annotations

import pytest

from ilert_statuspage_sync.core.model import EventKind
from ilert_statuspage_sync.core.plan import CallKind, Outcome, plan_calls
from ilert_statuspage_sync.core.refusal import after_refusal, never_succeeds
from tests.support.alerts import alert, ev

REFUSED = frozenset({"in_progress"})


@pytest.mark.parametrize(("status", "final"), [(400, True), (413, True), (422, True)])
def test_payload_refusals_never_succeed(status: int, final: bool):
    """400, 413 and 422 judge the request itself: resending it cannot help."""
    assert never_succeeds(status) is final


@pytest.mark.parametrize("status", [401, 403, 404, 408, 409, 410, 420, 429, 500, 503, None])
def test_refusals_that_may_heal_are_retried(status: int | None):
    """Key, rights, missing resources, conflicts, throttling and outages may heal."""
    assert not never_succeeds(status)


def test_refused_status_change_is_no_change_with_the_reason():
    """An accept on a page that refused in_progress is no change, naming the setting."""
    plan = plan_calls(
        [ev(EventKind.ACCEPTED, 1, status="ACCEPTED")],
        alert(),
        lifecycle="classic",
        current_status="identified",
        refused=REFUSED,
    )
    assert plan.calls == []
    (decision,) = plan.steps
    assert decision.outcome is Outcome.NO_CHANGE  # type: ignore[union-attr]
    assert 'lifecycle = "realtime"' in (decision.reason or "")  # type: ignore[union-attr]


def test_comment_after_a_refused_status_posts_alone():
    """The comment that would carry a refused status is sent without it."""
    events = [ev(EventKind.ACCEPTED, 1), ev(EventKind.COMMENT_ADDED, 2, "rolled back")]
    plan = plan_calls(
        events, alert(), lifecycle="classic", current_status="identified", refused=REFUSED
    )
    assert [(c.status, c.body) for c in plan.calls] == [(None, "rolled back")]


def test_create_in_a_refused_status_uses_the_new_alert_status():
    """An alert first seen accepted is created in the lifecycle's status for a new alert."""
    plan = plan_calls(
        [ev(EventKind.ACCEPTED, 1)],
        alert(),
        lifecycle="classic",
        current_status=None,
        refused=REFUSED,
    )
    (call,) = plan.calls
    assert (call.kind, call.status) == (CallKind.CREATE, "identified")
    assert "'in_progress'" in (call.decisions[0].reason or "")


def test_after_refused_status_the_rest_is_planned_again():
    """Only the decision moving to the refused status fails; the comment and resolve remain."""
    events = [
        ev(EventKind.ACCEPTED, 1),
        ev(EventKind.COMMENT_ADDED, 2, "rolled back"),
        ev(EventKind.RESOLVED, 3),
    ]
    plan = plan_calls(events, alert(), lifecycle="classic", current_status="identified")
    refusal = after_refusal(plan.steps, 0, "in_progress")
    assert [d.event.kind for d in refusal.failed] == [EventKind.ACCEPTED]
    assert [e.kind for e in refusal.remaining] == [EventKind.COMMENT_ADDED, EventKind.RESOLVED]
    assert refusal.mirror_after == events[0].mirror_after


def test_after_refused_payload_the_whole_call_fails():
    """Without a refused status the call's events fail together; later steps remain."""
    events = [ev(EventKind.COMMENT_ADDED, 1, "bad"), ev(EventKind.RESOLVED, 2)]
    plan = plan_calls(events, alert(), lifecycle="classic", current_status="identified")
    refusal = after_refusal(plan.steps, 0, None)
    assert [d.event.kind for d in refusal.failed] == [EventKind.COMMENT_ADDED]
    assert [e.kind for e in refusal.remaining] == [EventKind.RESOLVED]


def test_refused_create_status_keeps_the_creating_event():
    """A create refused for its status fails that status but still creates the incident."""
    plan = plan_calls(
        [ev(EventKind.ACCEPTED, 1)], alert(), lifecycle="classic", current_status=None
    )
    refusal = after_refusal(plan.steps, 0, "in_progress")
    assert [d.outcome for d in refusal.failed] == [Outcome.CREATED]
    assert [e.kind for e in refusal.remaining] == [EventKind.ACCEPTED]
    assert refusal.mirror_after is None


def test_a_refusal_is_attributed_to_what_was_refused():
    """Status with body: find out; alone: a maintenance status is the page's, others stay."""
    from ilert_statuspage_sync.core.refusal import Refused, attribute

    assert attribute(False, "in_progress", True, 422) is Refused.PROBE
    assert attribute(False, "resolved", True, 422) is Refused.PROBE
    assert attribute(False, "in_progress", False, 422) is Refused.STATUS
    assert attribute(False, "resolved", False, 422) is Refused.PENDING
    assert attribute(False, None, True, 422) is Refused.BODY
    assert attribute(False, "resolved", False, 409) is Refused.PENDING


def test_a_refused_create_is_never_passed_over():
    """A create with a body is sent without it first; alone, a maintenance status is the page's."""
    from ilert_statuspage_sync.core.refusal import Refused, attribute

    assert attribute(True, "in_progress", True, 422) is Refused.PROBE
    assert attribute(True, "identified", True, 422) is Refused.PROBE
    assert attribute(True, "in_progress", False, 422) is Refused.STATUS
    assert attribute(True, "identified", False, 422) is Refused.PENDING
    assert attribute(True, None, False, 422) is Refused.PENDING
