"""Status bridges end to end: iLert incidents, services and windows on a page, over HTTP.

Real ``Syncer``, real HTTP to both simulators, a migrated SQLite or PostgreSQL
database. One iLert object is one public object; each change of status or
message is one incident update; impacts and service statuses hold components
with the alerts' holds (the worst wins); a person's edit on the page wins.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config import IncidentAction, StatusBridge
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.tables import BridgedRow
from tests.support.bridges import BridgeWorld as World
from tests.support.bridges import updates
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


class Crash(BaseException):
    """Stands in for a kill: nothing in the daemon catches it."""


def test_an_incident_lifecycle_is_one_incident_with_one_update_per_change(
    world: World,
) -> None:
    """investigating -> identified -> monitoring -> resolved: one incident, four updates."""
    ilert = world.ilert
    incident = ilert.add_incident(
        "API errors",
        message="We are looking into errors.",
        affected={world.api: "PARTIAL_OUTAGE"},
        send_notification=True,
    )
    world.sync()
    (public,) = world.public()
    assert public["status"] == "investigating" and public["name"] == "API errors"
    assert world.component("api") == "partial_outage"
    assert world.component("web") == "operational"
    for status, message in (
        ("IDENTIFIED", "A bad deploy."),
        ("MONITORING", "Rolled back."),
    ):
        ilert.update_incident(incident, status=status, message=message)
        world.sync()
    ilert.resolve_incident(incident, message="All good.")
    world.sync()
    world.sync()  # a quiet pass changes nothing
    (public,) = world.public()
    assert updates(public) == [
        ("investigating", "We are looking into errors."),
        ("identified", "A bad deploy."),
        ("monitoring", "Rolled back."),
        ("resolved", "All good."),
    ]
    assert world.component("api") == "operational"
    assert [e for e, _ in world.events()] == [
        "bridge_created",
        "bridge_status",
        "bridge_status",
        "bridge_resolved",
    ]
    (row,) = world.rows()
    assert not row.is_open and row.statuspage_id == public["id"]


def test_a_message_change_is_one_update_and_an_unmapped_incident_is_not_published(
    world: World,
) -> None:
    """A new message alone is one update; an incident on no mapped service stays off the page."""
    other = world.ilert.add_service("Internal tool")
    world.ilert.add_incident("Internal", affected={other: "MAJOR_OUTAGE"})
    incident = world.ilert.add_incident("API slow", affected={world.api: "DEGRADED"})
    world.sync()
    world.ilert.update_incident(incident, message="Still slow, working on it.")
    world.sync()
    (public,) = world.public()
    assert updates(public)[-1] == ("investigating", "Still slow, working on it.")
    assert len(public["incident_updates"]) == 2
    assert world.component("api") == "degraded_performance"


def test_a_quiet_pass_costs_one_incidents_read_one_windows_read_and_no_statuspage_write(
    world: World,
) -> None:
    """Quiet: one incidents read, one windows read per pass, services at most once a minute."""
    world.ilert.add_incident("API errors", affected={world.api: "MAJOR_OUTAGE"})
    world.sync()
    world.ilert.clear_requests()
    writes = world.statuspage_writes()
    for _ in range(3):
        world.sync()
    assert world.ilert_reads("/api/incidents") == 3
    assert world.ilert_reads("/api/maintenance-windows") == 3
    assert world.ilert_reads("/api/services") == 0  # read in the first pass, within a minute
    assert world.statuspage_writes() == writes


def test_service_statuses_hold_components_with_the_alerts_the_worst_winning(
    world: World, statuspage: StatuspageSimulator
) -> None:
    """A degraded service and a HIGH alert on one component: the alert's major outage wins."""
    harness = world.harness
    action = IncidentAction(
        name="public-api",
        alert_sources=(AUTO_SOURCE,),
        connector="main",
        page_id=AUTO_PAGE,
        components=(world.components["api"],),
    )
    harness.config = dataclasses.replace(harness.config, incident_actions=(action,))
    harness.syncer = harness.new_syncer()
    world.ilert.set_service_status(world.api, "DEGRADED")
    world.sync()
    assert world.component("api") == "degraded_performance"
    alert = world.ilert.create_alert(AUTO_SOURCE, "Checkout down", priority="HIGH")
    world.sync()
    assert world.component("api") == "major_outage"
    world.ilert.resolve(alert)
    world.sync()
    assert world.component("api") == "degraded_performance"
    world.ilert.set_service_status(world.api, "OPERATIONAL")
    harness.syncer.bridges._services_at = None  # the minute has passed
    world.sync()
    assert world.component("api") == "operational"


def test_a_persons_status_change_on_the_page_wins(world: World) -> None:
    """A person resolved the public incident: the bridge writes to it no more."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    (public,) = world.public()
    world.statuspage.person_sets_status(public["id"], "resolved", "Fixed by hand.")
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.sync()
    world.sync()
    (public,) = world.public()
    assert public["status"] == "resolved"
    assert len(public["incident_updates"]) == 2
    assert ("bridge_status", "held_by_person") in world.events()


def test_a_rebuild_after_state_loss_adopts_the_public_incident(world: World) -> None:
    """The bridged rows lost: the next change finds the incident by metadata, no duplicate."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    with world.harness.sessions() as session:
        session.execute(sa.delete(BridgedRow))
        session.commit()
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.sync()
    world.sync()
    (public,) = world.public()
    assert public["status"] == "identified"
    assert updates(public)[-1] == ("identified", "Found it.")
    assert ("bridge_created", "adopted") in world.events()


def test_a_deleted_incident_is_resolved_on_the_page(world: World) -> None:
    """iLert answers 404 for a published incident: it is resolved with the deleted text."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.delete_incident(incident)
    world.sync()
    (public,) = world.public()
    assert public["status"] == "resolved"
    assert ("bridge_deleted", "updated") in world.events()


def _window(world: World, start: timedelta, end: timedelta, **kw: Any) -> int:
    now = datetime.now(UTC)
    return world.ilert.add_window(
        "Database upgrade",
        now + start,
        now + end,
        description="Planned work.",
        service_ids=[world.web],
        **kw,
    )


def test_a_window_is_scheduled_edited_and_cancelled(world: World) -> None:
    """Create: scheduled with its times and components; edit: updated; delete: cancelled."""
    window = _window(world, timedelta(hours=1), timedelta(hours=2))
    world.sync()
    (public,) = world.public()
    assert public["status"] == "scheduled"
    assert [c["id"] for c in public["components"]] == [world.components["web"]]
    assert public["scheduled_auto_in_progress"] and public["scheduled_auto_completed"]
    later = datetime.now(UTC) + timedelta(hours=3)
    world.ilert.edit_window(window, end=later, description="Takes longer.")
    world.sync()
    (public,) = world.public()
    assert datetime.fromisoformat(public["scheduled_until"].replace("Z", "+00:00")) > (
        datetime.now(UTC) + timedelta(hours=2, minutes=30)
    )
    world.ilert.delete_window(window)
    world.sync()
    world.sync()
    (public,) = world.public()
    assert public["status"] == "completed"
    assert updates(public)[-1][1] == "This maintenance was cancelled."
    assert [e for e, _ in world.events()] == [
        "maintenance_scheduled",
        "maintenance_updated",
        "maintenance_cancelled",
    ]


def test_a_window_underway_deleted_is_completed_at_once(world: World) -> None:
    """A window deleted while underway completes its maintenance now."""
    window = _window(world, -timedelta(minutes=10), timedelta(hours=1))
    world.sync()
    world.ilert.delete_window(window)
    world.sync()
    (public,) = world.public()
    assert public["status"] == "completed"
    assert ("maintenance_completed", "updated") in world.events()


def test_a_dry_run_sends_and_stores_nothing(world: World) -> None:
    """A dry run decides and logs, and neither writes the page nor stores a row."""
    world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    _window(world, timedelta(hours=1), timedelta(hours=2))
    world.harness.syncer = world.harness.new_syncer(dry_run=True)
    writes = world.statuspage_writes()
    world.sync()
    assert world.statuspage_writes() == writes
    assert world.rows() == [] and world.public() == []


@pytest.mark.parametrize(
    "step",
    [
        "before_bridge_create",
        "intent_bridge_create",
        "answered_bridge_create",
        "committed_bridge_create",
        "intent_bridge_update",
        "answered_bridge_update",
    ],
)
def test_a_crash_at_any_write_step_leaves_one_public_object(world: World, step: str) -> None:
    """Killed at each step of a create or an update: one incident, each update once."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    fired: list[str] = []

    def crash(name: str) -> None:
        if name == step and not fired:
            fired.append(name)
            raise Crash(name)

    world.harness.syncer = world.harness.new_syncer()
    world.harness.syncer.checkpoint = crash
    if step.endswith("update"):
        world.sync()
        world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    with pytest.raises(Crash):
        world.sync()
    world.harness.syncer = world.harness.new_syncer()  # a restart
    world.sync()
    world.sync()
    (public,) = world.public()
    if step.endswith("update"):
        assert [status for status, _ in updates(public)] == ["investigating", "identified"]
        assert public["status"] == "identified"
    assert len(world.rows()) == 1


def test_a_window_runs_its_course_on_statuspages_clock(world: World) -> None:
    """Statuspage starts and ends the maintenance, moving its component; the row then closes."""
    window = _window(world, timedelta(minutes=5), timedelta(minutes=30))
    world.sync()
    start = datetime.now(UTC)
    world.statuspage.set_clock(lambda: start + timedelta(minutes=10))
    (public,) = world.public()
    assert public["status"] == "in_progress"
    assert world.component("web") == "under_maintenance"
    world.sync()  # the daemon leaves a component under maintenance alone
    assert world.component("web") == "under_maintenance"
    later = start + timedelta(minutes=40)
    world.statuspage.set_clock(lambda: later)
    world.ilert.set_clock(lambda: later)
    world.harness.clock_offset = timedelta(minutes=40)
    world.sync()
    (public,) = world.public()
    assert public["status"] == "completed"
    assert world.component("web") == "operational"
    assert ("maintenance_ended", "completed_by_statuspage") in world.events()
    assert not world.rows()[0].is_open
    assert world.ilert.window(window)["id"] == window


def test_a_bridge_alone_runs_without_incident_actions(
    make_harness: Any, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """A config with a bridge and no incident action syncs the bridge."""
    api = ilert.add_service("Public API")
    component = statuspage.add_component(AUTO_PAGE, "Public API")
    bridge = StatusBridge("platform", "main", AUTO_PAGE, {api: component})
    harness: Harness = make_harness("classic", status_bridges=(bridge,), incident_actions=())
    ilert.add_incident("API errors", affected={api: "MAJOR_OUTAGE"})
    report = harness.sync()
    assert report.ok
    assert [i["name"] for i in statuspage.incidents(AUTO_PAGE)] == ["API errors"]
    assert statuspage.component(component)["status"] == "major_outage"


def test_status_lists_the_bridged_objects(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """``status`` shows the bridged objects after the alerts, open first."""
    import argparse

    from ilert_statuspage_sync.commands.status import reads, show

    world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    with reads(world.harness.config) as run:
        show(run, argparse.Namespace(all=False), datetime.now(UTC))
    out = capsys.readouterr().out
    assert "bridged iLert objects open: 1" in out
    (row,) = world.rows()
    assert any(
        line.split()[:5]
        == ["platform", "incident", str(row.ilert_id), "open", str(row.statuspage_id)]
        for line in out.splitlines()
    )


def test_an_incident_reopened_in_ilert_reopens_the_same_public_incident(world: World) -> None:
    """Resolved, then opened again in iLert: one public incident, reopened; no failed pass."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.resolve_incident(incident, message="Fixed.")
    world.sync()
    world.ilert.update_incident(incident, status="INVESTIGATING", message="It is back.")
    report = world.sync()
    assert report.ok, report
    (public,) = world.public()
    assert [s for s, _ in updates(public)] == ["investigating", "resolved", "investigating"]
    assert world.component("api") == "partial_outage"
    assert [e for e, _ in world.events()][-1] == "bridge_reopened"


def test_a_window_opened_again_after_its_maintenance_ended_fails_no_pass(
    world: World,
) -> None:
    """A window extended after Statuspage completed its maintenance: no second one, no failure."""
    window = _window(world, -timedelta(hours=2), -timedelta(minutes=1))
    now = datetime.now(UTC)
    world.ilert.edit_window(window, end=now + timedelta(minutes=30))
    world.sync()  # scheduled (already underway)
    world.ilert.edit_window(window, end=now - timedelta(minutes=1))
    world.statuspage.set_clock(lambda: now + timedelta(minutes=31))
    world.sync()
    world.ilert.edit_window(window, end=now + timedelta(hours=1))
    report = world.sync()
    assert report.ok, report
    assert len(world.public()) == 1


def test_a_refused_write_backs_off_instead_of_repeating_every_pass(world: World) -> None:
    """Statuspage refuses an update: it is not sent again until its back-off ends, then lands."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.ilert.update_incident(incident, status="IDENTIFIED", message="Found it.")
    world.statuspage.inject_fault(
        422, {"error": "refused"}, times=1, path_contains="/incidents/", method="PATCH"
    )

    def patches() -> int:
        return sum(
            1 for r in world.statuspage.requests if r.method == "PATCH" and "/incidents/" in r.path
        )

    assert not world.sync().ok
    assert patches() == 1
    world.sync()
    world.sync()
    assert patches() == 1  # waiting out its back-off: nothing sent, no error line each pass
    world.harness.clock_offset = timedelta(seconds=2 * world.harness.config.poll_interval)
    assert world.sync().ok
    assert patches() == 2
    (public,) = world.public()
    assert public["status"] == "identified"


def test_templates_word_the_bridged_incident_and_a_failing_one_holds_only_its_object(
    world: World,
) -> None:
    """The bridge's templates name and word the incident; a render failure holds that object."""
    from ilert_statuspage_sync.core.bridge_templates import BridgeTemplates, compile_bridge_template

    templates = BridgeTemplates(
        (
            compile_bridge_template("incident_name", "Platform: {{ incident.summary }}", "t"),
            compile_bridge_template(
                "incident_body",
                "{{ incident.message }}{% if incident.summary == 'Bad' %}{{ 1 / 0 }}{% endif %}",
                "t",
            ),
        )
    )
    bridge = dataclasses.replace(world.bridge, templates=templates)
    world.harness.config = dataclasses.replace(world.harness.config, status_bridges=(bridge,))
    world.harness.syncer = world.harness.new_syncer()
    world.ilert.add_incident("Bad", message="x", affected={world.api: "DEGRADED"})
    world.ilert.add_incident("API errors", message="Looking.", affected={world.api: "DEGRADED"})
    report = world.sync()
    assert not report.ok  # one object failed
    (public,) = world.public()
    assert public["name"] == "Platform: API errors"
    assert updates(public) == [("investigating", "Looking.")]


def test_a_resolved_incident_releases_its_component_although_its_service_was_read_during_it(
    world: World,
) -> None:
    """iLert derives a service's status from its incidents: after a change it is read again."""
    incident = world.ilert.add_incident("API errors", affected={world.api: "PARTIAL_OUTAGE"})
    world.sync()
    world.harness.syncer.bridges._services_at = None  # the minute passed: read during it
    world.sync()
    assert world.harness.syncer.bridges.services[world.api].status == "PARTIAL_OUTAGE"
    world.ilert.resolve_incident(incident, message="Fixed.")
    world.sync()  # within the minute of that read
    assert world.component("api") == "operational"


def test_check_tests_a_bridges_ids_and_previews_its_public_words(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check``: each mapped service and component, and what would be published, redacted."""
    import argparse
    import re

    from ilert_statuspage_sync.commands.check import check

    world.ilert.add_incident("API errors on db-42", affected={world.api: "DEGRADED"})
    _window(world, timedelta(hours=1), timedelta(hours=2))
    ghost = dataclasses.replace(
        world.bridge,
        services={**world.bridge.services, 999: "nosuchcomp01"},
        redact=(re.compile(r"db-\d+"),),
    )
    config = dataclasses.replace(world.harness.config, status_bridges=(ghost,))
    assert check(config, argparse.Namespace(offline=False)) == 1
    out = capsys.readouterr().out
    assert f"ok   iLert service {world.api} (Public API) for bridge platform: exists" in out
    assert "FAIL iLert service 999 for bridge platform: not found" in out
    assert "FAIL component nosuchcomp01 on page" in out
    assert "would publish incident" in out and "'API errors on [redacted]' (investigating)" in out
    assert "would schedule maintenance" in out and "'Database upgrade'" in out
    assert "db-42" not in out


def test_check_names_a_bridge_template_that_fails_to_render(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template failing on an object open now is one FAIL line, never a traceback."""
    import argparse

    from ilert_statuspage_sync.commands.check import check
    from ilert_statuspage_sync.core.bridge_templates import BridgeTemplates, compile_bridge_template

    world.ilert.add_incident("API errors", affected={world.api: "DEGRADED"})
    bad = compile_bridge_template("incident_name", "{{ 1 / 0 }}", "config: templates")
    bridge = dataclasses.replace(world.bridge, templates=BridgeTemplates((bad,)))
    config = dataclasses.replace(world.harness.config, status_bridges=(bridge,))
    assert check(config, argparse.Namespace(offline=False)) == 1
    out = capsys.readouterr().out
    assert "FAIL bridge platform:" in out and "Traceback" not in out


def test_a_component_the_bridge_set_is_undone_when_it_stops_holding_components(
    world: World,
) -> None:
    """A bridge switched to windows only: the status its service had set goes back."""
    world.ilert.set_service_status(world.api, "MAJOR_OUTAGE")
    world.harness.syncer.bridges._services_at = None  # the minute passed
    world.sync()
    assert world.component("api") == "major_outage"
    bridge = dataclasses.replace(world.bridge, service_status=False, incidents=False)
    world.reconfigure(status_bridges=(bridge,), incident_actions=())
    world.sync()
    assert world.component("api") == "operational"
