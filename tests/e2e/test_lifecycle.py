"""End to end: real daemon code, real HTTP to the simulators, real migrated SQLite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ilert_statuspage_sync.config import IncidentAction
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

Step = Callable[[Harness, dict[str, int]], object]


def create(name: str, source: int = AUTO_SOURCE, priority: str = "HIGH") -> Step:
    return lambda h, ids: ids.__setitem__(
        name, h.ilert.create_alert(source, f"summary {name}", f"details {name}", priority)
    )


def on(name: str, change: Callable[[Harness, int], object]) -> Step:
    return lambda h, ids: change(h, ids[name])


def sync(h: Harness, _ids: dict[str, int]) -> object:
    return h.sync()


def trigger(name: str) -> Step:
    return lambda h, ids: h.trigger("manual-review", ids[name])


@dataclass(frozen=True)
class Row:
    """One row of the lifecycle table and how to reach it through iLert."""

    steps: tuple[Step, ...]
    page: str
    # (last audit event, outcome, Statuspage status) per lifecycle
    classic: tuple[str, str, str]
    realtime: tuple[str, str, str]


def manual(change: Callable[[Harness, int], object], priority: str = "HIGH") -> tuple[Step, ...]:
    return (create("x", MANUAL_SOURCE, priority), on("x", change), trigger("x"), sync)


ROWS = {
    "created/absent": Row(
        (create("x"), sync),
        AUTO_PAGE,
        ("created", "created", "identified"),
        ("created", "created", "investigating"),
    ),
    "reassigned/absent": Row(
        manual(lambda h, a: h.ilert.reassign(a, 5)),
        MANUAL_PAGE,
        ("reassigned", "created", "identified"),
        ("reassigned", "created", "investigating"),
    ),
    "escalated/absent": Row(
        manual(lambda h, a: h.ilert.escalate(a)),
        MANUAL_PAGE,
        ("escalated", "created", "identified"),
        ("escalated", "created", "investigating"),
    ),
    "priority_raised/absent": Row(
        manual(lambda h, a: h.ilert.raise_priority(a), "LOW"),
        MANUAL_PAGE,
        ("priority_raised", "created", "identified"),
        ("priority_raised", "created", "investigating"),
    ),
    "accepted/absent": Row(
        manual(lambda h, a: h.ilert.accept(a)),
        MANUAL_PAGE,
        ("accepted", "created", "in_progress"),
        ("accepted", "created", "identified"),
    ),
    "resolved/absent": Row(
        manual(lambda h, a: h.ilert.resolve(a)),
        MANUAL_PAGE,
        ("resolved", "created", "resolved"),
        ("resolved", "created", "resolved"),
    ),
    "comment/absent": Row(
        manual(lambda h, a: h.ilert.comment(a, "first words")),
        MANUAL_PAGE,
        ("comment_added", "created", "identified"),
        ("comment_added", "created", "identified"),
    ),
    "reassigned/exists": Row(
        (
            create("x"),
            sync,
            on("x", lambda h, a: h.ilert.accept(a)),
            sync,
            on("x", lambda h, a: h.ilert.reassign(a, 5)),
            sync,
        ),
        AUTO_PAGE,
        ("reassigned", "no_change", "in_progress"),
        ("reassigned", "status_changed", "investigating"),
    ),
    "escalated/exists": Row(
        (create("x"), sync, on("x", lambda h, a: h.ilert.escalate(a)), sync),
        AUTO_PAGE,
        ("escalated", "no_change", "identified"),
        ("escalated", "no_change", "investigating"),
    ),
    "priority_raised/exists": Row(
        (create("x", priority="LOW"), sync, on("x", lambda h, a: h.ilert.raise_priority(a)), sync),
        AUTO_PAGE,
        ("priority_raised", "no_change", "identified"),
        ("priority_raised", "no_change", "investigating"),
    ),
    "accepted/exists": Row(
        (create("x"), sync, on("x", lambda h, a: h.ilert.accept(a)), sync),
        AUTO_PAGE,
        ("accepted", "status_changed", "in_progress"),
        ("accepted", "status_changed", "identified"),
    ),
    "resolved/exists": Row(
        (create("x"), sync, on("x", lambda h, a: h.ilert.resolve(a)), sync),
        AUTO_PAGE,
        ("resolved", "status_changed", "resolved"),
        ("resolved", "status_changed", "resolved"),
    ),
    "comment/exists": Row(
        (create("x"), sync, on("x", lambda h, a: h.ilert.comment(a, "an update")), sync),
        AUTO_PAGE,
        ("comment_added", "body_updated", "identified"),
        ("comment_added", "body_updated", "investigating"),
    ),
}


@pytest.mark.parametrize("lifecycle", ["classic", "realtime"])
@pytest.mark.parametrize("row", list(ROWS), ids=list(ROWS))
def test_lifecycle_row(make_harness, lifecycle, row):
    """Each row of the table, for both lifecycles, ends with the promised incident."""
    harness: Harness = make_harness(lifecycle)
    harness.sync()
    case = ROWS[row]
    ids: dict[str, int] = {}
    for step in case.steps:
        step(harness, ids)
    event, outcome, status = case.classic if lifecycle == "classic" else case.realtime
    assert harness.transitions(ids["x"])[-1] == (event, outcome, status)
    (incident,) = harness.incidents(case.page)
    assert incident["status"] == status
    ilert = incident["metadata"]["ilert"]
    assert (ilert["alert_id"], ilert["incident_action"]) == (str(ids["x"]), _action(case.page))
    assert ilert["wrote_status"] == status  # what the daemon last wrote, on the incident
    if row.startswith("comment"):
        bodies = [u["body"] for u in incident["incident_updates"]]
        assert ("first words" if row == "comment/absent" else "an update") in bodies


def _action(page: str) -> str:
    return "public-api" if page == AUTO_PAGE else "manual-review"


def test_requests_carry_documented_auth_and_shapes(harness: Harness):
    """iLert gets Bearer + Accept; Statuspage gets OAuth and a wrapped incident body."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "details")
    harness.sync()
    ilert_request = harness.ilert.requests[-1]
    assert ilert_request.headers["authorization"].startswith("Bearer ")
    assert ilert_request.headers["accept"] == "application/json"
    (write,) = harness.statuspage.writes()
    assert isinstance(write.json_body, dict)
    ilert = write.json_body["incident"]["metadata"]["ilert"]
    assert {key: ilert.pop(key) for key in ("wrote_status", "wrote_at", "wrote_mirror")}
    assert write.method == "POST"
    assert write.path == f"/v1/pages/{AUTO_PAGE}/incidents"
    assert write.headers["authorization"].startswith("OAuth ")
    assert write.json_body == {
        "incident": {
            "name": "API down",
            "status": "identified",
            "body": "details",
            "deliver_notifications": True,
            "metadata": {"ilert": {"alert_id": str(alert_id), "incident_action": "public-api"}},
        }
    }


def test_created_and_resolved_between_polls(harness: Harness):
    """An alert born and resolved between two polls is created resolved, in one write."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "blip", "")
    harness.ilert.resolve(alert_id)
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"
    assert len(harness.statuspage.writes()) == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.is_open is False


def ticking(start: datetime, step: timedelta = timedelta(seconds=1)) -> Callable[[], datetime]:
    moments = iter(range(1_000_000))
    return lambda: start + step * next(moments)


def test_several_events_in_one_interval(harness: Harness):
    """Many events in one interval apply in order with no redundant call."""
    harness.ilert.set_clock(ticking(datetime.now(UTC)))
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db slow", "p99 > 2s")
    harness.ilert.comment(alert_id, "looking")
    harness.ilert.escalate(alert_id)
    harness.ilert.accept(alert_id)
    harness.ilert.comment(alert_id, "found it")
    harness.ilert.resolve(alert_id)
    harness.sync()
    writes = [(w.method, w.json_body["incident"]) for w in harness.statuspage.writes()]  # type: ignore[index]
    assert [(m, body.get("status"), body.get("body")) for m, body in writes] == [
        ("POST", "identified", "p99 > 2s"),
        ("PATCH", None, "looking"),
        ("PATCH", "in_progress", "found it"),
        ("PATCH", "resolved", None),
    ]
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"
    assert [e for e, _, _ in harness.transitions(alert_id)] == [
        "created",
        "comment_added",
        "escalated",
        "accepted",
        "comment_added",
        "resolved",
    ]


def test_sync_twice_without_change_sends_nothing(harness: Harness):
    """A second pass with no iLert change writes nothing to Statuspage."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.ilert.comment(alert_id, "note")
    harness.sync()
    writes = len(harness.statuspage.writes())
    rows = len(harness.transitions())
    harness.sync()
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    assert len(harness.transitions()) == rows
    assert len(harness.incidents()) == 1


def test_restart_changes_nothing(harness: Harness):
    """A fresh syncer on the same database (a restart) repeats nothing."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.ilert.accept(alert_id)
    harness.sync()
    writes = len(harness.statuspage.writes())
    harness.syncer = harness.new_syncer()
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    assert len(harness.incidents()) == 1


def test_two_incident_actions_on_one_source(make_harness):
    """Two actions on one alert source mirror one alert onto two pages."""
    first = make_harness("classic")
    second_action = IncidentAction("second-page", (AUTO_SOURCE,), "main", "secondpage01")
    first.statuspage.add_page("secondpage01")
    harness = make_harness(
        "classic", incident_actions=(*first.config.incident_actions, second_action)
    )
    harness.sync()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "shared", "")
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    for page, action in ((AUTO_PAGE, "public-api"), ("secondpage01", "second-page")):
        (incident,) = harness.incidents(page)
        assert incident["status"] == "resolved"
        assert incident["metadata"]["ilert"]["incident_action"] == action


def test_manual_mode_mirrors_only_triggered_alerts(harness: Harness):
    """A manual action ignores alerts until they are triggered, then follows them."""
    ignored = harness.ilert.create_alert(MANUAL_SOURCE, "not triggered", "")
    chosen = harness.ilert.create_alert(MANUAL_SOURCE, "triggered", "")
    harness.sync()
    assert harness.incidents(MANUAL_PAGE) == []
    harness.trigger("manual-review", chosen)
    harness.sync()
    harness.ilert.accept(chosen)
    harness.ilert.accept(ignored)
    harness.sync()
    (incident,) = harness.incidents(MANUAL_PAGE)
    assert incident["status"] == "in_progress"
    assert incident["metadata"]["ilert"]["alert_id"] == str(chosen)


def test_alerts_reported_before_activation_are_not_mirrored(make_harness):
    """History from before an action was first activated is not flooded onto the page."""
    harness = make_harness("classic")
    old = harness.ilert.create_alert(
        AUTO_SOURCE, "old", "", report_time=datetime.now(UTC) - timedelta(hours=2)
    )
    harness.sync()
    harness.ilert.comment(old, "still ignored")
    harness.sync()
    assert harness.incidents() == []


def test_alerts_reported_while_down_are_caught_up(harness: Harness):
    """Alerts created and resolved while the daemon was stopped are still mirrored."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "while down", "")
    harness.ilert.resolve(alert_id)
    harness.syncer = harness.new_syncer()
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"


def test_dry_run_calls_nothing_and_stores_nothing(harness: Harness):
    """A dry run plans and logs but neither writes to Statuspage nor to the database."""
    harness.ilert.create_alert(AUTO_SOURCE, "dry", "")
    rows = harness.transitions()
    harness.new_syncer(dry_run=True).run_pass()
    assert harness.statuspage.writes() == []
    assert harness.transitions() == rows
    harness.sync()
    assert len(harness.incidents()) == 1


def test_rejected_status_names_status_incident_and_setting(harness: Harness):
    """A refused in_progress is audited failed once, naming status, incident and setting."""
    harness.statuspage.set_reject_maintenance_status(True)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    harness.ilert.accept(alert_id)
    report = harness.sync()
    assert report.failed_items == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.next_attempt_at is None
    (failed,) = [row for row in harness.audit_rows() if row.outcome == "failed"]
    assert (failed.event, failed.to_status) == ("accepted", "in_progress")
    assert "'in_progress'" in (failed.reason or "")
    assert str(link.statuspage_incident_id) in (failed.reason or "")
    assert 'lifecycle = "realtime"' in (failed.reason or "")


def test_one_refused_item_does_not_block_others(harness: Harness):
    """A 422 on one alert's create stays a visible failure, retried later; the others sync."""
    bad = harness.ilert.create_alert(AUTO_SOURCE, "bad", "")
    harness.statuspage.inject_fault(422, {"error": "name is invalid"}, times=1, method="POST")
    harness.ilert.create_alert(AUTO_SOURCE, "good", "")
    report = harness.sync()
    assert report.failed_items == 1
    assert [i["name"] for i in harness.incidents()] == ["good"]
    failed = [row for row in harness.audit_rows() if row.outcome == "failed"]
    assert len(failed) == 1 and "name is invalid" in (failed[0].reason or "")
    link = harness.link("public-api", bad)
    # Without its incident nothing of the alert can reach the page: it must stay visible.
    assert link is not None and link.last_error and link.next_attempt_at is not None
    assert not harness.sync().ok  # still failing (waiting to retry), so sync exits 1
    harness.clock_offset = timedelta(hours=2)  # past any retry delay
    assert harness.sync().ok
    assert sorted(i["name"] for i in harness.incidents()) == ["bad", "good"]
    assert len([w for w in harness.statuspage.writes() if w.method == "POST"]) == 3


@pytest.mark.parametrize("status", [401, 403, 409])
def test_refusal_that_may_heal_is_retried_later(harness: Harness, status: int):
    """A 401, 403 or 409 can heal (a key, a right, a state): the write is retried after a delay."""
    harness.statuspage.inject_fault(status, {"error": "not now"}, times=1, method="POST")
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "later", "")
    assert harness.sync().failed_items == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.next_attempt_at is not None
    harness.clock_offset = timedelta(hours=2)
    harness.sync()
    assert [i["name"] for i in harness.incidents()] == ["later"]


def test_interrupted_create_is_adopted_not_repeated(harness: Harness):
    """An intent left by a crash after Statuspage answered is adopted, not re-sent."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "crash", "")
    calls: list[str] = []

    def crash_after_answer(name: str) -> None:
        calls.append(name)
        if name == "answered_create":
            raise KeyboardInterrupt

    harness.syncer.checkpoint = crash_after_answer
    with pytest.raises(KeyboardInterrupt):
        harness.sync()
    harness.syncer = harness.new_syncer()
    harness.sync()
    assert len(harness.incidents()) == 1
    assert len(harness.statuspage.writes()) == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id == harness.incidents()[0]["id"]
    assert harness.transitions(alert_id)[-1] == ("created", "created", "identified")
