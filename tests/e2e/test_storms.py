"""Alert storms (group = "action") and human edits end to end: real Syncer, simulators, DB."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.core.human_edits import HUMAN_REASON
from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.core.relink import decode_runs
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition
from tests.support.harness import Harness
from tests.support.proc import run_cli, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


@pytest.fixture(name="storm")
def _storm(make_harness: Any) -> Harness:
    """A classic-lifecycle harness whose automatic action groups its alerts, activated."""
    probe: Harness = make_harness("classic")
    auto, *rest = probe.config.incident_actions
    actions = (dataclasses.replace(auto, group="action"), *rest)
    harness: Harness = make_harness("classic", incident_actions=actions)
    harness.sync()
    return harness


def _one_incident(harness: Harness) -> dict[str, Any]:
    (incident,) = harness.incidents(AUTO_PAGE)
    return incident


def _incident_of(harness: Harness, alert_id: int) -> str:
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    return link.statuspage_incident_id


def _bodies(incident: dict[str, Any]) -> list[str]:
    return [update["body"] for update in reversed(incident["incident_updates"])]


def test_a_storm_of_twenty_alerts_is_one_incident_resolved_by_its_last_alert(storm: Harness):
    """20 alerts: one incident, 19 "Also affected" updates; resolved only when the last one
    resolves; the next alert opens a new incident."""
    ids = [storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "") for n in range(20)]
    storm.sync()
    incident = _one_incident(storm)
    assert incident["status"] == "identified"
    also = [body for body in _bodies(incident) if body.startswith("Also affected: ")]
    assert also == [f"Also affected: node-{n} down" for n in range(1, 20)]
    assert len(incident["incident_updates"]) == 20
    assert {_incident_of(storm, a) for a in ids} == {incident["id"]}
    writes = len(storm.statuspage.writes())
    assert writes == 20

    for alert_id in ids[:-1]:
        storm.ilert.resolve(alert_id)
    storm.sync()
    assert _one_incident(storm)["status"] == "identified"
    assert len(storm.statuspage.writes()) == writes  # 19 resolves, no write
    storm.ilert.resolve(ids[-1])
    storm.sync()
    assert _one_incident(storm)["status"] == "resolved"

    storm.ilert.create_alert(AUTO_SOURCE, "after the storm", "")
    storm.sync()
    newest, old = storm.incidents(AUTO_PAGE)
    assert newest["id"] != old["id"] and newest["status"] == "identified"
    assert newest["name"] == "after the storm"

    shares = storm.transitions(ids[5])
    assert ("created", "joined", "identified") in shares
    assert shares[-1][1] == "no_change"
    row = [r for r in storm.audit_rows() if r.alert_id == ids[5]][-1]
    assert "stays identified until its last alert resolves" in (row.reason or "")


def test_the_shared_status_is_the_least_advanced_of_the_open_alerts(make_harness: Any):
    """Realtime: one accepted alert does not announce progress while another is untouched;
    once the untouched one resolves, the incident shows the accepted one's status."""
    probe: Harness = make_harness("realtime")
    auto, *rest = probe.config.incident_actions
    storm: Harness = make_harness(
        "realtime", incident_actions=(dataclasses.replace(auto, group="action"), *rest)
    )
    storm.sync()
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    assert _one_incident(storm)["status"] == "investigating"
    storm.ilert.accept(first)
    storm.sync()
    assert _one_incident(storm)["status"] == "investigating"
    link = storm.link("public-api", first)
    assert link is not None and link.alert_status == "identified"
    storm.ilert.resolve(second)
    storm.sync()
    assert _one_incident(storm)["status"] == "identified"
    storm.ilert.resolve(first)
    storm.sync()
    assert _one_incident(storm)["status"] == "resolved"


def test_comments_of_a_joined_alert_post_to_the_shared_incident(storm: Harness):
    """A comment on the second alert of a storm becomes an update of the shared incident."""
    storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    storm.ilert.comment(second, "Failing over the API nodes.")
    storm.sync()
    assert _bodies(_one_incident(storm))[-1] == "Failing over the API nodes."


def test_a_person_status_change_is_not_fought(harness: Harness):
    """A person sets monitoring: the daemon changes the status no more, comments still post,
    one audit row and one log line say why."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    harness.statuspage.person_sets_status(incident_id, "monitoring", "We are watching.")
    with capture_logs() as logs:
        harness.sync()
        harness.sync()
    assert [e["event"] for e in logs].count("human_override") == 1
    row = harness.audit_rows()[-1]
    assert (row.outcome, row.from_status, row.to_status, row.reason) == (
        "no_change",
        "identified",
        "monitoring",
        HUMAN_REASON,
    )
    harness.ilert.accept(alert_id)
    harness.ilert.comment(alert_id, "Rolled back the deploy.")
    harness.sync()
    incident = harness.statuspage.incident(incident_id)
    assert incident["status"] == "monitoring"
    assert incident["incident_updates"][0]["body"] == "Rolled back the deploy."
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "monitoring"
    assert harness.transitions(alert_id)[-1] == ("resolved", "no_change", "monitoring")


def test_a_person_resolve_is_final(harness: Harness):
    """A person resolves the incident: nothing more is written to it, not even comments."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    harness.statuspage.person_sets_status(incident_id, "resolved")
    harness.sync()
    writes = len(harness.statuspage.writes())
    harness.ilert.comment(alert_id, "Still looking.")
    harness.ilert.accept(alert_id)
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    assert harness.statuspage.incident(incident_id)["status"] == "resolved"
    assert harness.transitions(alert_id)[-1][1] == "no_change"


def test_a_person_edit_of_a_shared_incident_holds_for_every_alert(storm: Harness):
    """A person sets a storm's incident to monitoring: later joins and resolves of its alerts
    post text but change no status; once a pass's read saw a person resolve it, the next alert
    opens anew."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    incident_id = _incident_of(storm, first)
    storm.statuspage.person_sets_status(incident_id, "monitoring")
    storm.sync()
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    incident = storm.statuspage.incident(incident_id)
    assert incident["status"] == "monitoring"
    assert incident["incident_updates"][0]["body"] == "Also affected: api slow"
    storm.ilert.resolve(first)
    storm.ilert.resolve(second)
    storm.sync()
    assert storm.statuspage.incident(incident_id)["status"] == "monitoring"
    storm.statuspage.person_sets_status(incident_id, "resolved")
    storm.sync()  # the page's read (after the writes) sees the resolve: one sweep of one page
    storm.ilert.create_alert(AUTO_SOURCE, "cache slow", "")
    storm.sync()
    assert len(storm.incidents(AUTO_PAGE)) == 2


def _cli(config: Path, *args: str) -> str:
    return run_cli(config, *args).stdout


def test_status_and_history_show_the_shared_incident(storm: Harness, tmp_path: Path):
    """`status` shows the shared incident with its alert count and a person's status;
    `history --alert ID` shows the alert's share (joined, then its no-change resolve)."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    third = storm.ilert.create_alert(AUTO_SOURCE, "cache slow", "")
    storm.sync()
    storm.ilert.resolve(third)
    storm.sync()
    incident_id = _incident_of(storm, first)
    storm.statuspage.person_sets_status(incident_id, "monitoring")
    storm.sync()
    config = write_config(
        tmp_path, storm.ilert.url, storm.statuspage.url, storm.config.database_url
    )
    status = _cli(config, "status")
    rows = [
        line for line in status.splitlines() if f" {second} " in f" {line} " and incident_id in line
    ]
    assert f"{incident_id} (3 alerts)" in rows[0]
    assert "monitoring (set by a person)" in rows[0]
    history = [line.split() for line in _cli(config, "history", "--alert", str(third)).splitlines()]
    shares = [row[4:8] for row in history if row[:1] and row[0][:2] == "20" and len(row) > 7]
    assert shares == [
        ["created", "joined", "identified", "identified"],
        ["resolved", "no_change", "identified", "identified"],
        ["human_edit", "no_change", "identified", "monitoring"],
    ]
    assert ["body:", "Also", "affected:", "cache", "slow"] in history


def test_a_dry_run_previews_a_storm_as_one_incident(storm: Harness):
    """A dry run of a storm plans one create and joins, writes nothing and stores nothing."""
    for n in range(5):
        storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "")
    report = storm.new_syncer(dry_run=True).run_pass()
    assert (report.outcomes["created"], report.outcomes["joined"]) == (1, 4)
    assert storm.statuspage.writes() == []
    assert storm.transitions() == []
    storm.sync()
    assert len(_one_incident(storm)["incident_updates"]) == 5


def test_a_storm_waits_while_another_replicas_create_may_land(storm: Harness):
    """The opener's create is another replica's write still in flight: the next alert waits
    instead of opening a second incident, then joins the one that landed."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.statuspage.drop_next(1, method="POST", after_apply=True)
    assert storm.sync().deferred_items == 1  # the answer was lost: the intent stays
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.syncer = storm.new_syncer()
    storm.syncer.writer = Writer("another-replica", sole=False)
    report = storm.sync()
    assert report.deferred_items == 2 and len(storm.statuspage.writes()) == 1
    with storm.sessions() as session:
        link = session.scalars(sa.select(Link).where(Link.alert_id == first)).one()
        intent = dict(link.pending_call or {})
        recorded = datetime.fromisoformat(intent["recorded_at"])
        earlier = recorded - timedelta(seconds=intent["in_flight_s"] + 1)
        link.pending_call = {**intent, "recorded_at": earlier.isoformat()}
        session.commit()
    storm.sync()
    incident = _one_incident(storm)
    assert _incident_of(storm, first) == _incident_of(storm, second) == incident["id"]
    assert _bodies(incident)[-1] == "Also affected: api slow"
    assert len(storm.statuspage.writes()) == 2


def test_a_human_edit_costs_no_extra_read(harness: Harness):
    """The human-edit check reuses the one unresolved read per page and pass."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    harness.statuspage.person_sets_status(_incident_of(harness, alert_id), "monitoring")
    harness.statuspage.clear_requests()
    harness.sync()
    harness.sync()
    reads = [r for r in harness.statuspage.requests if "/incidents/unresolved" in r.path]
    assert len(reads) == 2


def test_a_lost_database_rebuilds_every_alert_of_a_shared_incident(storm: Harness):
    """The join writes every alert into metadata.ilert: after the database is emptied, all the
    storm's alerts are linked again, none joins twice, and the last resolve still resolves."""
    ids = [storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "") for n in range(3)]
    storm.sync()
    metadata = _one_incident(storm)["metadata"]["ilert"]
    assert decode_runs(metadata["alert_id_runs"]) == ids
    with storm.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    storm.syncer = storm.new_syncer()  # a restart on the emptied database
    storm.sync()
    writes = len(storm.statuspage.writes())
    assert {_incident_of(storm, alert_id) for alert_id in ids} == {_one_incident(storm)["id"]}
    for alert_id in ids[:2]:
        storm.ilert.resolve(alert_id)
    storm.sync()
    assert len(storm.statuspage.writes()) == writes  # two of three resolved: no write
    storm.ilert.resolve(ids[2])
    storm.sync()
    incident = _one_incident(storm)
    assert incident["status"] == "resolved"
    assert len(incident["incident_updates"]) == 4  # create, 2 joins, the resolve


def test_statuspage_down_at_the_page_read_defers_the_pass_once_logged(harness: Harness):
    """Statuspage down: its alerts wait (one write tried a pass, before the page read that
    comes after the writes), one `service_unreachable` line, and the next pass after the
    outage catches up."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    harness.ilert.accept(alert_id)
    harness.statuspage.set_down("error")
    harness.statuspage.clear_requests()
    with capture_logs() as logs:
        first = harness.sync()
        second = harness.sync()
    assert first.deferred_items >= 1 and second.deferred_items >= 1
    assert [e["event"] for e in logs].count("service_unreachable") == 1
    assert sum(r.method != "GET" for r in harness.statuspage.requests) <= 2
    harness.statuspage.set_down(None)
    harness.sync()
    assert harness.statuspage.incident(_incident_of(harness, alert_id))["status"] == "in_progress"


def test_a_comment_on_a_closed_storm_stays_on_its_incident(storm: Harness):
    """After a storm resolved and a new one opened, a comment on an alert of the old storm
    posts to the old incident, never to the new one."""
    old = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    storm.ilert.resolve(old)
    storm.sync()
    storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    storm.ilert.comment(old, "Root cause: a full disk.")
    storm.sync()
    newest, first = storm.incidents(AUTO_PAGE)
    assert _bodies(first)[-1] == "Root cause: a full disk."
    assert "Root cause: a full disk." not in _bodies(newest)
    assert (first["status"], newest["status"]) == ("resolved", "identified")
    assert storm.transitions(old)[-1] == ("comment_added", "body_updated", "resolved")


def test_a_person_edit_during_an_interrupted_write_is_respected(harness: Harness):
    """A status write is lost unanswered, then a person sets monitoring: reconciliation sees
    neither our old nor our new status, takes it as the person's and does not resend."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    harness.ilert.accept(alert_id)
    harness.statuspage.drop_next(1, method="PATCH", after_apply=False)
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.pending_call is not None  # may have landed: kept
    harness.statuspage.person_sets_status(incident_id, "monitoring")
    with capture_logs() as logs:
        harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "monitoring"
    assert [e["event"] for e in logs].count("human_override") == 1
    assert ("human_edit", "no_change", "monitoring") in harness.transitions(alert_id)
    assert harness.transitions(alert_id)[-1] == ("accepted", "no_change", "monitoring")


def test_switching_group_to_alert_keeps_the_open_shared_incident_honest(storm: Harness):
    """group "action" -> "alert" with a shared incident open: one alert's resolve does not
    resolve it while another of its alerts is open; a new alert opens its own incident."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    shared = _one_incident(storm)["id"]
    auto, *rest = storm.config.incident_actions
    storm.config = dataclasses.replace(
        storm.config, incident_actions=(dataclasses.replace(auto, group="alert"), *rest)
    )
    storm.syncer = storm.new_syncer()  # restarted with the edited config
    storm.ilert.resolve(first)
    storm.sync()
    assert storm.statuspage.incident(shared)["status"] == "identified"
    third = storm.ilert.create_alert(AUTO_SOURCE, "cache slow", "")
    storm.sync()
    assert _incident_of(storm, third) != shared
    storm.ilert.resolve(second)
    storm.sync()
    assert storm.statuspage.incident(shared)["status"] == "resolved"
    assert storm.statuspage.incident(_incident_of(storm, third))["status"] == "identified"


def test_an_incident_missing_from_a_lying_unresolved_list_is_not_taken_for_a_person(
    harness: Harness,
):
    """The unresolved list once answers empty: the incident is read on its own before it is
    taken as resolved by a person, so the alert's resolve still reaches the page."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    incident_id = _incident_of(harness, alert_id)
    harness.statuspage.inject_fault(200, [], path_contains="/incidents/unresolved", method="GET")
    with capture_logs() as logs:
        harness.sync()
    assert "human_override" not in [e["event"] for e in logs]
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert harness.statuspage.incident(incident_id)["status"] == "resolved"
    assert [t[1] for t in harness.transitions(alert_id)][-1] == "status_changed"


def test_a_deleted_incident_is_gone_for_good(harness: Harness):
    """A person deletes the incident: nothing more is written for its alert, no new incident."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    harness.statuspage.person_deletes_incident(_incident_of(harness, alert_id))
    harness.sync()
    writes = len(harness.statuspage.writes())
    harness.ilert.comment(alert_id, "Still looking.")
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    assert harness.incidents(AUTO_PAGE) == []


def test_a_person_postmortem_closes_a_shared_incident(storm: Harness):
    """A person moves the storm's incident to postmortem (closed, off the unresolved list):
    nothing more posts to it and the next alert opens a new incident."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    incident_id = _incident_of(storm, first)
    storm.statuspage.person_sets_status(incident_id, "postmortem")
    storm.sync()
    updates = len(storm.statuspage.incident(incident_id)["incident_updates"])
    storm.ilert.comment(first, "Still looking.")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    storm.sync()
    assert len(storm.statuspage.incident(incident_id)["incident_updates"]) == updates
    assert _incident_of(storm, second) != incident_id


def test_a_join_whose_body_is_refused_still_links_the_alert(storm: Harness):
    """The page refuses the join's "Also affected" text (422): the join is sent again without
    it, the alert is linked, and the shared incident stays open while it is."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    storm.statuspage.refuse_bodies_containing("FORBIDDEN")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api FORBIDDEN slow", "")
    storm.sync()
    storm.statuspage.refuse_bodies_containing(None)
    assert _incident_of(storm, second) == _incident_of(storm, first)
    storm.ilert.resolve(first)
    storm.sync()
    assert _one_incident(storm)["status"] != "resolved"
    storm.ilert.resolve(second)
    storm.sync()
    assert _one_incident(storm)["status"] == "resolved"


def test_a_failing_opener_does_not_hold_back_its_storm(storm: Harness):
    """The storm's first creates are answered 500 and the opener backs off: the others
    reconcile its create (not on the page), one of them opens the shared incident within
    the first passes, and the opener joins it later: one incident for the storm."""
    storm.statuspage.fail_next(2, 500, method="POST")
    opener = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    others = [storm.ilert.create_alert(AUTO_SOURCE, f"api slow {i}", "") for i in range(3)]
    for _ in range(3):
        storm.sync()  # the clock stands still: the opener's back-off does not run out
    (incident,) = storm.incidents(AUTO_PAGE)
    assert all(_incident_of(storm, alert_id) == incident["id"] for alert_id in others[1:])
    storm.clock_offset += timedelta(hours=2)
    storm.sync()
    storm.sync()
    assert len(storm.incidents(AUTO_PAGE)) == 1
    assert _incident_of(storm, opener) == incident["id"]


def test_a_join_in_the_pass_that_sees_a_persons_resolve_opens_anew(storm: Harness):
    """A person resolved the storm's incident; the next alert's join reads the page first
    (a pass whose storm view was already read): it opens a new incident, none goes to the
    resolved one."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    storm.sync()  # a sweeping pass: the page is read before an update, not whole
    incident_id = _incident_of(storm, first)
    storm.statuspage.person_sets_status(incident_id, "resolved")
    storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")
    updates = len(storm.statuspage.incident(incident_id)["incident_updates"])

    assert storm.sync().outcomes["human_override"] == 1

    assert len(storm.statuspage.incident(incident_id)["incident_updates"]) == updates
    assert len(storm.incidents(AUTO_PAGE)) == 2


def test_a_join_in_the_pass_that_sees_a_persons_status_keeps_it(storm: Harness):
    """A person set the storm's incident to monitoring; a join in the pass that reads it
    first keeps every link flagged as theirs, so a later accept changes no status."""
    first = storm.ilert.create_alert(AUTO_SOURCE, "db slow", "")
    storm.sync()
    storm.sync()  # a sweeping pass: the page is read before an update, not whole
    incident_id = _incident_of(storm, first)
    storm.statuspage.person_sets_status(incident_id, "monitoring")
    second = storm.ilert.create_alert(AUTO_SOURCE, "api slow", "")

    storm.sync()

    for alert_id in (first, second):
        link = storm.link("public-api", alert_id)
        assert link is not None and link.human_override, alert_id
    storm.ilert.accept(first)
    storm.ilert.accept(second)
    storm.sync()
    assert storm.statuspage.incident(incident_id)["status"] == "monitoring"
