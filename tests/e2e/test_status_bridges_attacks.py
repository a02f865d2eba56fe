"""Status bridges under attack: lying servers, lost answers, config changes, odd data.

Real ``Syncer``, real HTTP to both simulators, a migrated SQLite or PostgreSQL
database, as ``test_status_bridges.py``; each case is one way a bridge could
publish twice, publish the wrong thing, or hold a component it no longer owns.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config import IncidentAction, StatusBridge
from ilert_statuspage_sync.store.tables import BridgedRow, Transition
from tests.support.bridges import BridgeWorld as World
from tests.support.bridges import updates
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, ILERT_KEY, STATUSPAGE_KEY


def test_an_update_whose_answer_was_lost_is_not_taken_for_a_persons_change(
    world: World,
) -> None:
    """An update applied but unanswered: the next pass neither holds the incident nor resends."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.statuspage.drop_next(1, method="PATCH", after_apply=True)
    world.sync()
    world.sync()
    world.ilert.update_incident(incident, status="MONITORING", message="Fixed.")
    world.sync()
    (public,) = world.public()
    assert ("bridge_status", "held_by_person") not in world.events()
    assert updates(public) == [
        ("investigating", ""),
        ("identified", "Found it."),
        ("monitoring", "Fixed."),
    ]


def test_a_create_whose_answer_was_lost_is_created_once(world: World) -> None:
    """A create applied but unanswered: later passes adopt it, never create a second."""
    world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.statuspage.drop_next(1, method="POST", after_apply=True)
    world.sync()
    world.sync()
    world.sync()
    assert len(world.public()) == 1
    (row,) = world.rows()
    assert row.statuspage_id == world.public()[0]["id"] and row.pending_call is None


def test_a_renamed_bridge_leaves_no_hold_on_its_components(world: World) -> None:
    """After a rename, the old name's open rows hold no component (they are never updated)."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "MAJOR_OUTAGE"})
    world.sync()
    assert world.component("api") == "major_outage"
    renamed = dataclasses.replace(world.bridge, name="platform-2")
    world.reconfigure(status_bridges=(renamed,))
    world.ilert.resolve_incident(incident, message="All good.")
    world.sync()
    world.sync()
    assert world.component("api") == "operational"


def test_a_removed_bridge_leaves_no_hold_on_its_components(world: World) -> None:
    """A bridge taken out of the config stops holding its components."""
    world.ilert.add_incident("API errors", affected={world.api: "MAJOR_OUTAGE"})
    world.sync()
    assert world.component("api") == "major_outage"
    world.reconfigure(status_bridges=())
    world.sync()
    world.sync()
    assert world.component("api") == "operational"


def test_an_incident_a_person_resolved_leaves_the_bridge_working(world: World) -> None:
    """A person resolved the public incident while iLert's stays open: later passes stay ok."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], "resolved", "Fixed by hand.")
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.sync()  # held
    world.ilert.add_incident("Website down", affected={world.web: "MAJOR_OUTAGE"})
    report = world.sync()
    assert report.ok
    assert [i["name"] for i in world.public()] == ["Website down", "API errors"]
    assert world.public()[1]["status"] == "resolved"


def test_a_maintenance_a_person_completed_early_leaves_the_bridge_working(
    world: World,
) -> None:
    """A person completed the maintenance while iLert's window is still open: passes stay ok."""
    now = datetime.now(UTC)
    window = world.ilert.add_window(
        "Database upgrade", now + timedelta(hours=1), now + timedelta(hours=2),
        service_ids=[world.web],
    )  # fmt: skip
    world.sync()
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], "completed", "Not needed.")
    world.ilert.edit_window(window, description="Moved.")
    world.sync()  # held
    report = world.sync()
    assert report.ok
    assert len(world.public()) == 1


def test_a_held_incident_that_ended_in_ilert_costs_no_read_per_pass(world: World) -> None:
    """A person changed the public incident, then iLert resolved it: no read by id each pass."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], "identified", "We know.")
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.sync()  # held
    world.ilert.resolve_incident(incident, message="All good.")
    world.sync()
    world.ilert.clear_requests()
    for _ in range(3):
        world.sync()
    assert world.ilert_reads(f"/api/incidents/{incident}") == 0


def test_a_read_by_id_answering_another_incident_publishes_nothing_of_it(
    world: World,
) -> None:
    """GET /api/incidents/{id} answering another id: its text never reaches this incident."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.resolve_incident(incident, message="All good.")
    other = world.ilert.incident(incident) | {
        "id": incident + 1000,
        "status": "MONITORING",
        "summary": "Someone else's incident",
        "message": "Private words.",
    }
    world.ilert.inject_fault(200, other, path_contains=f"/api/incidents/{incident}")
    world.sync()
    (public,) = world.public()
    assert "Private words." not in [body for _, body in updates(public)]
    assert public["name"] == "API errors"


class Crash(BaseException):
    """Stands in for a kill: nothing in the daemon catches it."""


def _crash_at(world: World, step: str) -> None:
    """The next pass is killed at ``step`` (once)."""

    def crash(name: str) -> None:
        if name == step:
            world.harness.syncer.checkpoint = lambda _name: None
            raise Crash(name)

    world.harness.syncer = world.harness.new_syncer()
    world.harness.syncer.checkpoint = crash
    with pytest.raises(Crash):
        world.sync()
    world.harness.syncer = world.harness.new_syncer()  # a restart


@pytest.mark.parametrize("status", ["INVESTIGATING", "IDENTIFIED"])
def test_an_update_that_landed_before_a_persons_note_is_not_sent_again(
    world: World, status: str
) -> None:
    """Killed after an update landed, then a person posted a note: no resend, no hold."""
    incident = world.ilert.add_incident(
        "API errors", message="Looking.", affected={world.api: "PARTIAL_OUTAGE"}
    )
    world.sync()
    world.ilert.update_incident(incident, status=status, message="Found it.")
    _crash_at(world, "answered_bridge_update")
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], status.lower(), "A note by hand.")
    world.sync()
    world.sync()
    (public,) = world.public()
    assert [body for _, body in updates(public)] == ["Looking.", "Found it.", "A note by hand."]
    assert ("bridge_status", "held_by_person") not in world.events()


def test_an_update_repeating_an_earlier_text_that_did_not_land_is_sent(world: World) -> None:
    """A status change repeating the message, killed before it was sent: sent after restart."""
    incident = world.ilert.add_incident(
        "API errors", message="Looking.", affected={world.api: "PARTIAL_OUTAGE"}
    )
    world.sync()
    world.ilert.update_incident(incident, status="IDENTIFIED")
    _crash_at(world, "intent_bridge_update")
    world.sync()
    (public,) = world.public()
    assert updates(public) == [("investigating", "Looking."), ("identified", "Looking.")]


def test_the_daemons_keys_in_ilert_text_are_never_published_stored_or_logged(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    """Keys quoted in a summary, message or window text: masked on the page, audit and logs."""
    quoted = f"key {STATUSPAGE_KEY} and\x00{ILERT_KEY.upper()}"
    incident = world.ilert.add_incident(
        "x" * 240 + ILERT_KEY, message=quoted, affected={world.api: "MAJOR_OUTAGE"}
    )
    now = datetime.now(UTC)
    world.ilert.add_window(
        quoted, now + timedelta(hours=1), now + timedelta(hours=2),
        description=quoted, service_ids=[world.web],
    )  # fmt: skip
    world.sync()
    world.ilert.update_incident(incident, status="IDENTIFIED", message="\u200b".join(ILERT_KEY))
    world.sync()
    assert len(world.public()) == 2
    seen = [repr(world.public()), capfd.readouterr().out]
    with world.harness.sessions() as session:
        seen += [repr(r.__dict__) for r in session.scalars(sa.select(Transition))]
        seen += [repr(r.__dict__) for r in session.scalars(sa.select(BridgedRow))]
    for text in seen:
        for key in (STATUSPAGE_KEY, ILERT_KEY):
            assert key[:8] not in text and key[:8].upper() not in text


def test_a_window_ending_before_it_starts_is_not_sent_each_pass(world: World) -> None:
    """A window whose end is before its start: not published, and no request each pass."""
    now = datetime.now(UTC)
    window = world.ilert.add_window(
        "Backwards", now + timedelta(hours=1), now + timedelta(hours=2), service_ids=[world.web]
    )
    raw = world.ilert.window(window)
    world.ilert.set_raw_window(window, raw | {"start": raw["end"], "end": raw["start"]})
    world.sync()
    world.statuspage.clear_requests()
    world.sync()
    world.sync()
    assert world.public() == []
    assert [r for r in world.statuspage.requests if "incidents" in r.path] == []


def test_a_tracked_incident_ilert_serves_malformed_does_not_stop_the_bridge(
    world: World,
) -> None:
    """One published incident iLert now serves malformed: the bridge's others still publish."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    raw = world.ilert.incident(incident)
    world.ilert.set_raw_incident(incident, raw | {"summary": 12345})
    world.ilert.add_incident("Website down", affected={world.web: "MAJOR_OUTAGE"})
    world.sync()
    assert [i["name"] for i in world.public()] == ["Website down", "API errors"]
    assert world.component("web") == "major_outage"


def test_a_refused_create_then_resolved_costs_no_read_per_pass(world: World) -> None:
    """A create Statuspage refused, then the incident resolved: no read by id each pass."""
    world.statuspage.refuse_bodies_containing("Refuse me")
    incident = world.ilert.add_incident(
        "API errors", message="Refuse me", affected={world.api: "PARTIAL_OUTAGE"}
    )
    world.sync()
    world.ilert.resolve_incident(incident, message="All good.")
    world.sync()
    world.ilert.clear_requests()
    world.sync()
    world.sync()
    assert world.ilert_reads(f"/api/incidents/{incident}") == 0
    assert world.public() == []


def test_a_second_replica_waits_for_the_firsts_create_in_flight(world: World) -> None:
    """Replica B passes while A's create is between intent and answer: one public incident."""
    world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    first, second = world.harness.new_syncer(), world.harness.new_syncer()
    for replica in (first, second):
        # PostgreSQL with replicas: another process's intent may still be flying.
        author = dataclasses.replace(replica.writer, sole=False)
        replica.writer = replica.bridges.writer = replica.components.writer = author

    def meanwhile(name: str) -> None:
        if name == "intent_bridge_create":
            first.checkpoint = lambda _name: None
            second.run_pass()

    first.checkpoint = meanwhile
    first.run_pass()
    second.run_pass()
    assert len(world.public()) == 1
    (row,) = world.rows()
    assert row.statuspage_id == world.public()[0]["id"]


def test_an_unknown_ilert_status_does_not_move_the_public_incident_back(world: World) -> None:
    """A status iLert added later (unknown here) leaves the public status where it was."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.update_incident(incident, status="MONITORING", message="Fixed, watching.")
    world.sync()
    raw = world.ilert.incident(incident)
    world.ilert.set_raw_incident(incident, raw | {"status": "POSTMORTEM", "message": "Notes."})
    world.sync()
    (public,) = world.public()
    assert public["status"] == "monitoring"
    assert all(status != "investigating" for status, _ in updates(public)[1:])


def test_a_dry_run_closes_no_row(world: World) -> None:
    """A dry run that would close a row (a held incident ended in iLert) stores nothing."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], "identified", "We know.")
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.sync()  # held
    world.ilert.resolve_incident(incident, message="All good.")
    world.harness.syncer = world.harness.new_syncer(dry_run=True)
    world.sync()
    (row,) = world.rows()
    assert row.is_open and row.held


def test_odd_ids_are_read_or_refused_never_confused(world: World) -> None:
    """An id as a decimal string is read; a boolean or oversized id is refused, others go on."""
    for key, odd_id in ((900, "9223372036854775807"), (901, True), (902, 2**63)):
        world.ilert.set_raw_incident(
            key,
            {
                "id": odd_id,
                "summary": f"Odd {key}",
                "status": "INVESTIGATING",
                "affectedServices": [{"service": {"id": world.api}, "impact": "DEGRADED"}],
            },
        )
    report = world.sync()
    assert report.ok
    (public,) = world.public()
    assert public["name"] == "Odd 900"
    assert public["metadata"]["ilert"]["incident_id"] == "9223372036854775807"
    assert [row.ilert_id for row in world.rows()] == [2**63 - 1]


def test_a_window_edit_killed_before_it_was_sent_is_sent_after_restart(world: World) -> None:
    """A new end, killed between intent and request: the restart sends it, never adopts it."""
    now = datetime.now(UTC)
    window = world.ilert.add_window(
        "Database upgrade", now + timedelta(hours=1), now + timedelta(hours=2),
        service_ids=[world.web],
    )  # fmt: skip
    world.sync()
    later = now + timedelta(hours=5)
    world.ilert.edit_window(window, end=later)
    _crash_at(world, "intent_bridge_update")
    world.sync()
    world.sync()
    (public,) = world.public()
    until = datetime.fromisoformat(public["scheduled_until"].replace("Z", "+00:00"))
    assert abs(until - later) < timedelta(seconds=1)


def test_a_failing_services_read_does_not_stop_incidents(world: World) -> None:
    """GET /api/services failing (a key without that right): incidents are still published."""
    world.harness.syncer.bridges._services_at = None  # the minute has passed
    world.ilert.fail_next(10, status=403, path_contains="/api/services")
    world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    assert [i["name"] for i in world.public()] == ["API errors"]
    assert world.component("api") == "partial_outage"


def test_a_message_changed_while_the_state_was_lost_is_still_posted(world: World) -> None:
    """Rows lost, then iLert's message changed: the adopted incident gets the new message."""
    incident = world.ilert.add_incident(
        "API errors", message="Looking.", affected={world.api: "PARTIAL_OUTAGE"}
    )
    world.sync()
    with world.harness.sessions() as session:
        session.execute(sa.delete(BridgedRow))
        session.commit()
    world.ilert.update_incident(incident, message="Found the cause.")
    world.sync()
    world.sync()
    (public,) = world.public()
    assert updates(public)[-1] == ("investigating", "Found the cause.")
    assert len(public["incident_updates"]) == 2


def test_a_rebuild_with_nothing_changed_posts_nothing(world: World) -> None:
    """Rows lost while iLert stayed the same: adopted, and no update is posted."""
    world.ilert.add_incident(
        "API errors", message="Looking.", affected={world.api: "PARTIAL_OUTAGE"}
    )
    world.sync()
    with world.harness.sessions() as session:
        session.execute(sa.delete(BridgedRow))
        session.commit()
    world.sync()
    world.sync()
    (public,) = world.public()
    assert len(public["incident_updates"]) == 1
    assert world.events()[-1] == ("bridge_created", "adopted")


def test_a_window_on_an_alert_source_is_scheduled_once_with_two_bridges_on_the_page(
    world: World,
) -> None:
    """Two bridges on a page, a window on an action's alert source: one maintenance."""
    action = IncidentAction(
        name="public-api", alert_sources=(AUTO_SOURCE,), connector="main", page_id=AUTO_PAGE,
        components=(world.components["api"],),
    )  # fmt: skip
    edge = StatusBridge(
        "edge", "main", AUTO_PAGE, {world.ilert.add_service("Edge"): "edgecomp0001"}
    )
    world.reconfigure(incident_actions=(action,), status_bridges=(world.bridge, edge))
    now = datetime.now(UTC)
    world.ilert.add_window(
        "Checkout upgrade", now + timedelta(hours=1), now + timedelta(hours=2),
        source_ids=[AUTO_SOURCE],
    )  # fmt: skip
    world.sync()
    world.sync()
    assert [i["name"] for i in world.public()] == ["Checkout upgrade"]


def test_huge_and_control_character_text_is_clipped_and_cleaned(world: World) -> None:
    """A 10,000-character summary and a 100,000-character message with controls: within limits."""
    world.ilert.add_incident(
        "Big\x07 " + "s" * 10_000,
        message="line\x00one\x1b[31m " + "m" * 100_000,
        affected={world.api: "MAJOR_OUTAGE"},
    )
    report = world.sync()
    assert report.ok
    (public,) = world.public()
    assert len(public["name"]) <= 255 and "\x07" not in public["name"]
    body = updates(public)[0][1]
    assert len(body) <= 25_000 and "\x00" not in body and "\x1b" not in body


def test_a_listing_naming_one_incident_twice_publishes_it_once(world: World) -> None:
    """iLert listing the same incident twice in one answer: one public incident."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    raw = world.ilert.incident(incident)
    world.ilert.inject_fault(200, [raw, raw], path_contains="/api/incidents")
    world.sync()
    world.sync()
    assert len(world.public()) == 1


def test_a_window_with_an_offset_and_a_bare_time_is_scheduled_in_utc(world: World) -> None:
    """Times with a +05:30 offset or none (read as UTC) reach the page as the same instants."""
    now = datetime.now(UTC).replace(microsecond=0)
    window = world.ilert.add_window(
        "Upgrade", now + timedelta(hours=1), now + timedelta(hours=2), service_ids=[world.web]
    )
    start = (now + timedelta(hours=1)).astimezone(timezone(timedelta(hours=5, minutes=30)))
    end = (now + timedelta(hours=2)).replace(tzinfo=None)
    raw = world.ilert.window(window)
    world.ilert.set_raw_window(
        window,
        raw | {"start": start.isoformat(), "end": end.isoformat(), "timezone": "Asia/Kolkata"},
    )
    world.sync()
    (public,) = world.public()
    shown = [
        datetime.fromisoformat(public[key].replace("Z", "+00:00"))
        for key in ("scheduled_for", "scheduled_until")
    ]
    assert shown == [now + timedelta(hours=1), now + timedelta(hours=2)]
