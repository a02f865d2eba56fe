"""A refused request never holds back what follows it (classic lifecycle, strict Statuspage).

Statuspage documents ``in_progress`` as a maintenance status; a page that
refuses it on realtime incidents answers 422, also when it is sent alone. The
refusal is recorded as failed once, the events after it still reach the page,
and later ``accepted`` events on that page are no change with the reason.
"""

from __future__ import annotations

from datetime import timedelta

from structlog.testing import capture_logs

from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

NOTE = "Rolled back the deploy."


def _patches_with(harness: Harness, status: str) -> int:
    return sum(
        1
        for write in harness.statuspage.writes()
        if write.method == "PATCH"
        and isinstance(write.json_body, dict)
        and write.json_body.get("incident", {}).get("status") == status
    )


def _strict(harness: Harness) -> int:
    harness.statuspage.set_reject_maintenance_status(True)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    harness.sync()
    return alert_id


def test_comment_and_resolve_reach_the_page_after_refused_in_progress(harness: Harness):
    """The comment riding with a refused in_progress posts, the resolve resolves, one failed row."""
    alert_id = _strict(harness)
    harness.ilert.accept(alert_id)
    harness.ilert.comment(alert_id, NOTE)
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    harness.clock_offset = timedelta(hours=2)  # past any retry delay
    harness.sync()

    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"
    assert [u["body"] for u in incident["incident_updates"]].count(NOTE) == 1
    rows = [(r.event, r.outcome, r.to_status) for r in harness.audit_rows()]
    assert rows == [
        ("created", "created", "identified"),
        ("accepted", "failed", "in_progress"),
        ("comment_added", "body_updated", "identified"),
        ("resolved", "status_changed", "resolved"),
    ]
    (failed,) = [r for r in harness.audit_rows() if r.outcome == "failed"]
    assert 'lifecycle = "realtime"' in (failed.reason or "")
    # Sent with the comment, then alone to tell which part was refused: the status.
    assert _patches_with(harness, "in_progress") == 2


def test_refused_status_alone_is_not_retried(harness: Harness):
    """A lone refused in_progress is failed once; later passes send nothing until the resolve."""
    alert_id = _strict(harness)
    harness.ilert.accept(alert_id)
    harness.sync()
    harness.clock_offset = timedelta(hours=2)
    harness.sync()
    harness.sync()
    assert _patches_with(harness, "in_progress") == 1
    harness.ilert.resolve(alert_id)
    assert harness.sync().ok
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"
    assert [r.outcome for r in harness.audit_rows()].count("failed") == 1


def test_later_accept_on_the_same_page_is_no_change_with_the_reason(harness: Harness):
    """After a page refused in_progress, another accept there is no_change; one warning says so."""
    with capture_logs() as logs:
        first = _strict(harness)
        harness.ilert.accept(first)
        harness.sync()
        second = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "")
        harness.sync()
        harness.ilert.accept(second)
        assert harness.sync().ok
    accepted = [r for r in harness.audit_rows() if r.alert_id == second and r.event == "accepted"]
    assert [(r.outcome, r.to_status) for r in accepted] == [("no_change", "identified")]
    assert "'in_progress'" in (accepted[0].reason or "")
    assert 'lifecycle = "realtime"' in (accepted[0].reason or "")
    assert _patches_with(harness, "in_progress") == 1
    warnings = [line for line in logs if line["event"] == "status_refused"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["status"] == "in_progress"


def test_alert_first_seen_accepted_is_created_in_a_status_the_page_takes(harness: Harness):
    """An alert accepted before first seen is created identified when in_progress is refused."""
    harness.statuspage.set_reject_maintenance_status(True)
    harness.sync()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Queue stuck", "")
    harness.ilert.accept(alert_id)
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["status"] == "identified"
    rows = [(r.event, r.outcome, r.to_status) for r in harness.audit_rows()]
    assert ("accepted", "failed", "in_progress") in rows
    assert rows.count(("created", "created", "identified")) == 1


def test_refused_comment_does_not_hold_back_the_resolve(harness: Harness):
    """A comment refused with a 422 is failed once and never resent; the resolve still lands."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Login errors", "")
    harness.sync()
    harness.statuspage.inject_fault(422, {"error": "Body is invalid"}, times=1, method="PATCH")
    harness.ilert.comment(alert_id, NOTE)
    harness.ilert.resolve(alert_id)
    harness.clock_offset = timedelta(hours=2)
    harness.sync()
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"
    assert NOTE not in [u["body"] for u in incident["incident_updates"]]
    rows = [(r.event, r.outcome) for r in harness.audit_rows()]
    assert rows.count(("comment_added", "failed")) == 1
    assert ("resolved", "status_changed") in rows
