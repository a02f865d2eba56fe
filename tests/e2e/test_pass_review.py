"""The pass as one refactor left it: each promise of the old single-class pass, held end to end.

Real daemon code against the simulators and a migrated database: a replan
after a refused status, a dry run after a real run, a malformed alert and a
refused row in the middle of a pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.runtime import shutdown
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

MANUAL = "manual-review"


def _posts_with(harness: Harness, status: str) -> int:
    return sum(
        1
        for write in harness.statuspage.writes()
        if write.method == "POST"
        and isinstance(write.json_body, dict)
        and write.json_body.get("incident", {}).get("status") == status
    )


def test_a_replan_reads_the_status_the_page_just_refused(harness: Harness) -> None:
    """A trigger of an accepted alert, create in_progress refused: replanned once, identified."""
    harness.statuspage.set_reject_maintenance_status(True)
    alert_id = harness.ilert.create_alert(MANUAL_SOURCE, "Payments down", "card errors")
    harness.ilert.accept(alert_id)
    harness.trigger(MANUAL, alert_id)
    with capture_logs() as logs:
        report = harness.sync()
    (incident,) = harness.incidents(MANUAL_PAGE)
    assert incident["status"] == "identified"
    # The refused create is sent with its body, then without (the status alone is refused
    # too: the page's); the replan leaves the refused status out.
    assert _posts_with(harness, "in_progress") == 2
    assert _posts_with(harness, "identified") == 1
    rows = [(r.event, r.outcome, r.to_status) for r in harness.audit_rows()]
    assert rows == [
        ("accepted", "failed", "in_progress"),
        ("accepted", "created", "identified"),
    ]
    assert [line for line in logs if line["event"] == "alert_sync_crashed"] == []
    assert report.failed_items == 1  # the refused status, recorded once


def _database(harness: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: what a dry run must leave as it was."""
    metadata = sa.MetaData()
    metadata.reflect(harness.engine)
    with harness.engine.connect() as connection:
        return {
            name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
            for name, table in metadata.tables.items()
        }


def _created(harness: Harness, alert_id: int) -> int:
    return [(r.event, r.outcome) for r in harness.audit_rows() if r.alert_id == alert_id].count(
        ("created", "created")
    )


def test_a_dry_run_after_a_real_run_stores_and_sends_nothing(harness: Harness) -> None:
    """Dry passes over a real run's links, a new alert and changes: no row, no write; then once."""
    first = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx")
    harness.sync()
    harness.ilert.accept(first)
    harness.ilert.comment(first, "Rolled back.")
    second = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "")
    rows, writes = _database(harness), len(harness.statuspage.writes())
    dry = harness.new_syncer(dry_run=True)
    dry.clock = harness.syncer.clock
    for _ in range(2):
        report = dry.run_pass()
        assert report.failed_items == 0
    assert _database(harness) == rows
    assert len(harness.statuspage.writes()) == writes
    assert harness.sync().ok
    assert _created(harness, first) == 1
    assert _created(harness, second) == 1
    assert len(harness.incidents()) == 2


def test_a_stop_mid_pass_defers_the_rest_and_the_next_start_syncs_each_once(
    harness: Harness,
) -> None:
    """A stop requested during the first write: the rest waits; the next pass creates each once."""
    alerts = [harness.ilert.create_alert(AUTO_SOURCE, f"alert {n}", "") for n in range(3)]
    harness.syncer.checkpoint = lambda name: shutdown.request_stop()
    report = harness.sync()
    assert not report.ok
    assert report.deferred_items >= 2
    assert len(harness.incidents()) <= 1
    shutdown.reset()
    harness.syncer.checkpoint = lambda name: None
    harness.clock_offset = timedelta(hours=2)  # past any retry delay
    harness.sync()
    assert harness.sync().ok
    assert [_created(harness, alert_id) for alert_id in alerts] == [1, 1, 1]
    assert len(harness.incidents()) == 3


def test_a_malformed_answer_for_one_alert_mid_pass_holds_back_no_other(harness: Harness) -> None:
    """One alert's timeline answers a proxy page: it fails alone; the others sync this pass."""
    alerts = [harness.ilert.create_alert(AUTO_SOURCE, f"alert {n}", "") for n in range(3)]
    harness.ilert.malformed_next(path_contains=f"/alerts/{alerts[1]}/")
    report = harness.sync()
    assert report.failed_items == 1
    assert [_created(harness, alert_id) for alert_id in alerts] == [1, 0, 1]
    link = harness.link("public-api", alerts[1])
    assert link is not None and link.failures == 1 and link.last_error
    harness.clock_offset = timedelta(hours=2)  # past its retry delay
    assert harness.sync().ok
    assert [_created(harness, alert_id) for alert_id in alerts] == [1, 1, 1]


def test_a_local_clock_a_year_ahead_prunes_no_young_history(harness: Harness) -> None:
    """The machine's clock jumps 400 days ahead: a just-closed link and its audit rows stay."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Queue stuck", "")
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    before = harness.transitions(alert_id)
    harness.clock_offset = timedelta(days=400)
    harness.sync()
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and not link.is_open
    assert harness.transitions(alert_id) == before


def test_an_incident_deleted_on_the_page_ends_the_mirror_not_the_pass(harness: Harness) -> None:
    """A 404 on a linked incident closes that link with the reason; the other alert still syncs."""
    gone = harness.ilert.create_alert(AUTO_SOURCE, "Deleted by a person", "")
    harness.sync()
    other = harness.ilert.create_alert(AUTO_SOURCE, "Still mirrored", "")
    harness.statuspage.inject_fault(404, {"error": "not found"}, times=1, method="PATCH")
    harness.ilert.resolve(gone)
    report = harness.sync()
    assert report.failed_items == 1
    link = harness.link("public-api", gone)
    assert link is not None and not link.is_open
    (failed,) = [r for r in harness.audit_rows() if r.alert_id == gone and r.outcome == "failed"]
    assert "deleted on Statuspage" in (failed.reason or "")
    assert _created(harness, other) == 1
    harness.clock_offset = timedelta(hours=2)
    assert harness.sync().ok
    assert [r for r in harness.transitions(gone) if r[1] == "status_changed"] == []


def test_an_incident_deleted_between_the_page_read_and_a_write_is_never_written_again(
    harness: Harness,
) -> None:
    """Deleted after the page read, answered 404 once: later passes send nothing to it."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Deleted mid-pass", "")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    incident_id = link.statuspage_incident_id

    def delete_before_the_write(name: str) -> None:
        if name.startswith("before_") and harness.incidents():
            harness.statuspage.person_deletes_incident(incident_id)

    harness.ilert.accept(alert_id)
    harness.syncer.checkpoint = delete_before_the_write
    assert harness.sync().failed_items == 1
    harness.syncer.checkpoint = lambda name: None
    writes = len(harness.statuspage.writes())
    harness.ilert.comment(alert_id, "Still looking.")
    for hours in (2, 4, 8):
        harness.clock_offset = timedelta(hours=hours)  # past any retry delay
        report = harness.sync()
    assert len(harness.statuspage.writes()) == writes
    assert report.ok
    assert [r.outcome for r in harness.audit_rows() if r.alert_id == alert_id].count("failed") == 1


def test_a_dry_run_over_a_persons_edit_a_deletion_and_a_backed_off_alert_stores_nothing(
    harness: Harness,
) -> None:
    """A dry run seeing a person's edit, a deletion and a failing alert: no row changes."""
    edited = harness.ilert.create_alert(AUTO_SOURCE, "Edited by a person", "")
    deleted = harness.ilert.create_alert(AUTO_SOURCE, "Deleted by a person", "")
    failing = harness.ilert.create_alert(AUTO_SOURCE, "Failing", "")
    harness.sync()
    by_alert = {r.alert_id: r.statuspage_incident_id for r in harness.audit_rows()}
    harness.statuspage.inject_fault(409, {"error": "conflict"}, times=1, method="PATCH")
    harness.ilert.accept(failing)
    harness.sync()
    link = harness.link("public-api", failing)
    assert link is not None and link.failures == 1
    harness.statuspage.person_sets_status(str(by_alert[edited]), "monitoring")
    harness.statuspage.person_deletes_incident(str(by_alert[deleted]))
    for alert_id in (edited, deleted, failing):
        harness.ilert.comment(alert_id, "Looking into it.")
    rows, writes = _database(harness), len(harness.statuspage.writes())
    dry = harness.new_syncer(dry_run=True)
    dry.clock = lambda: harness.syncer.clock() - timedelta(days=3)  # a clock that jumped back
    with capture_logs() as logs:
        dry.run_pass()
        dry.clock = harness.syncer.clock
        dry.run_pass()
    assert [line for line in logs if line["event"] == "human_override"] != []
    assert _database(harness) == rows
    assert len(harness.statuspage.writes()) == writes


def test_a_shared_incident_deleted_mid_pass_is_never_written_again(
    make_harness: Callable[..., Harness],
) -> None:
    """group = "action": the storm's incident deleted before a write; the next alert opens anew."""
    probe = make_harness("classic")
    auto, *rest = probe.config.incident_actions
    storm = make_harness(
        "classic", incident_actions=(dataclasses.replace(auto, group="action"), *rest)
    )
    storm.sync()
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    link = storm.link("public-api", first)
    assert link is not None and link.statuspage_incident_id is not None
    shared = link.statuspage_incident_id

    def delete_before_the_write(name: str) -> None:
        if name.startswith("before_") and storm.incidents():
            storm.statuspage.person_deletes_incident(shared)

    storm.ilert.accept(first)
    storm.ilert.accept(second)
    storm.syncer.checkpoint = delete_before_the_write
    storm.sync()
    storm.syncer.checkpoint = lambda name: None
    for hours in (2, 4, 8):
        storm.clock_offset = timedelta(hours=hours)  # past any retry delay
        storm.sync()
    to_deleted = [w for w in storm.statuspage.writes() if shared in w.path]
    third = storm.ilert.create_alert(AUTO_SOURCE, "queue slow", "")
    storm.ilert.comment(first, "Still looking.")
    storm.clock_offset = timedelta(hours=16)
    storm.sync()
    assert storm.sync().ok
    assert [w for w in storm.statuspage.writes() if shared in w.path] == to_deleted
    assert len(to_deleted) <= 2  # at most one refused write per alert of the incident
    (incident,) = storm.incidents()
    assert incident["id"] != shared
    assert _created(storm, third) == 1
