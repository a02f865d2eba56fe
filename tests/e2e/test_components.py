"""Components end to end: real Syncer, real HTTP to the simulators, a migrated database.

The page model: a component shows the worst status held by the daemon's open
mirrored alerts across the actions sharing the page; a person's edit or a
maintenance is left alone; a component write is exactly-once in effect.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.intents import Writer, stamp
from ilert_statuspage_sync.simulators import StatuspageSimulator
from ilert_statuspage_sync.store.epoch import database_now
from ilert_statuspage_sync.store.tables import ActionState, ComponentRow, Link, Transition
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

WEB_SOURCE = 303


class Crash(BaseException):
    """Stands in for a kill: nothing in the daemon catches it."""


@pytest.fixture(name="page")
def _page(statuspage: StatuspageSimulator) -> dict[str, str]:
    """Two components on the auto page."""
    return {
        "api": statuspage.add_component(AUTO_PAGE, "Public API"),
        "web": statuspage.add_component(AUTO_PAGE, "Website"),
    }


def _harness(make_harness: Any, *actions: IncidentAction) -> Harness:
    harness: Harness = make_harness("classic")
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer()
    harness.sync()  # activates the actions
    return harness


def _public(**changes: Any) -> IncidentAction:
    base = IncidentAction(
        name="public-api", alert_sources=(AUTO_SOURCE,), connector="main", page_id=AUTO_PAGE
    )
    return dataclasses.replace(base, **changes)


def _status(statuspage: StatuspageSimulator, component_id: str) -> str:
    return str(statuspage.component(component_id)["status"])


def _incident_writes(statuspage: StatuspageSimulator) -> int:
    return len(statuspage.writes())


def _component_lists(statuspage: StatuspageSimulator) -> int:
    return sum(
        1
        for r in statuspage.requests
        if r.method == "GET" and r.path.rstrip("/").endswith("/components")
    )


def _changes(harness: Harness) -> list[tuple[int, str | None, str | None]]:
    return [
        (row.alert_id, row.from_status, row.to_status)
        for row in harness.audit_rows()
        if row.outcome == "component_changed"
    ]


def test_create_sets_components_by_priority(make_harness, statuspage, page):
    """A new LOW alert's incident carries component_ids and the LOW status; no PATCH needed."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "p99 up", "LOW")
    h.sync()
    (incident,) = h.incidents()
    assert [c["id"] for c in incident["components"]] == [page["api"]]
    assert incident["components"][0]["status"] == "degraded_performance"
    assert _status(statuspage, page["api"]) == "degraded_performance"
    assert _status(statuspage, page["web"]) == "operational"
    assert statuspage.component_writes() == []
    assert _changes(h) == [(alert, "operational", "degraded_performance")]
    h.sync()
    assert statuspage.component_writes() == []  # nothing to change on a quiet pass


def test_priority_raised_raises_component_without_incident_update(make_harness, statuspage, page):
    """LOW -> HIGH moves the component to major_outage by PATCH, the incident is not updated."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "p99 up", "LOW")
    h.sync()
    writes = _incident_writes(statuspage)
    updates = len(h.incidents()[0]["incident_updates"])
    h.ilert.raise_priority(alert)
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    assert _incident_writes(statuspage) == writes
    assert len(h.incidents()[0]["incident_updates"]) == updates
    (write,) = statuspage.component_writes()
    assert write.json_body == {"component": {"status": "major_outage"}}
    assert _changes(h)[-1] == (alert, "degraded_performance", "major_outage")


def test_two_alerts_on_one_component_worst_of_open(make_harness, statuspage, page):
    """One resolves: the component stays at the other's status; both resolve: operational."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    high = h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    low = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    h.ilert.resolve(high)
    h.sync()
    assert _status(statuspage, page["api"]) == "degraded_performance"
    h.ilert.resolve(low)
    h.sync()
    assert _status(statuspage, page["api"]) == "operational"
    assert [i["status"] for i in h.incidents()] == ["resolved", "resolved"]
    assert _changes(h)[-2:] == [
        (high, "major_outage", "degraded_performance"),
        (low, "degraded_performance", "operational"),
    ]
    reads = _component_lists(statuspage)
    h.sync()
    assert _component_lists(statuspage) == reads  # nothing mirrored, nothing to undo: no read


def test_two_actions_share_a_component(make_harness, statuspage, page):
    """Across actions on one page the worst open share wins, per component."""
    web_statuses = {"HIGH": "partial_outage", "LOW": "degraded_performance"}
    web = IncidentAction(
        name="website",
        alert_sources=(WEB_SOURCE,),
        connector="main",
        page_id=AUTO_PAGE,
        components=(page["api"], page["web"]),
        component_status=web_statuses,
    )
    h = _harness(make_harness, _public(components=(page["api"],)), web)
    site = h.ilert.create_alert(WEB_SOURCE, "Site errors", "", "HIGH")
    h.sync()
    assert _status(statuspage, page["api"]) == "partial_outage"
    assert _status(statuspage, page["web"]) == "partial_outage"
    api = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    assert _status(statuspage, page["api"]) == "partial_outage"  # LOW does not lower it
    h.ilert.resolve(site)
    h.sync()
    assert _status(statuspage, page["api"]) == "degraded_performance"
    assert _status(statuspage, page["web"]) == "operational"
    h.ilert.raise_priority(api)
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"


def test_reads_at_most_one_component_list_per_page_and_pass(make_harness, statuspage, page):
    """A create and the component step share the pass's one listing; idle pages read none."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    assert _component_lists(statuspage) == 0
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    assert _component_lists(statuspage) == 1
    h.sync()
    assert _component_lists(statuspage) == 2


def test_person_component_change_is_left_alone(make_harness, statuspage, page):
    """A person's status holds until it is back at the daemon's; logged once."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    statuspage.set_component_status(page["api"], "partial_outage")
    with capture_logs() as logs:
        h.sync()
        h.ilert.raise_priority(alert)
        h.sync()
    overrides = [e for e in logs if e["event"] == "component_human_override"]
    assert len(overrides) == 1
    assert overrides[0]["status"] == "partial_outage"
    assert _status(statuspage, page["api"]) == "partial_outage"
    assert statuspage.component_writes() == []
    statuspage.set_component_status(page["api"], "degraded_performance")  # back at last-set
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    h.ilert.resolve(alert)
    h.sync()
    assert _status(statuspage, page["api"]) == "operational"


def test_person_ends_their_hold_with_operational(make_harness, statuspage, page):
    """A hold a person began elsewhere ends at operational; the daemon resumes."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    statuspage.set_component_status(page["api"], "partial_outage")
    h.sync()
    assert _status(statuspage, page["api"]) == "partial_outage"
    statuspage.set_component_status(page["api"], "operational")
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"


def test_person_clearing_the_outage_is_not_fought(make_harness, statuspage, page):
    """A person who sets operational while the alert is open is not overwritten."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    statuspage.set_component_status(page["api"], "operational")
    h.sync()
    h.sync()
    assert _status(statuspage, page["api"]) == "operational"
    assert statuspage.component_writes() == []
    h.ilert.resolve(alert)
    h.sync()
    second = h.ilert.create_alert(AUTO_SOURCE, "API down again", "", "HIGH")
    h.sync()
    assert second
    assert _status(statuspage, page["api"]) == "major_outage"  # a new outage is shown


def test_under_maintenance_is_left_alone(make_harness, statuspage, page):
    """A maintenance's component is not overwritten by a create or a pass; after it, it is."""
    h = _harness(make_harness, _public(components=(page["api"], page["web"])))
    maintenance = statuspage.start_maintenance(AUTO_PAGE, [page["api"]], "DB upgrade")
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    incident = next(i for i in h.incidents() if i["id"] != maintenance)
    assert {c["id"] for c in incident["components"]} == {page["api"], page["web"]}
    assert _status(statuspage, page["api"]) == "under_maintenance"
    assert _status(statuspage, page["web"]) == "major_outage"
    h.sync()
    assert statuspage.component_writes() == []
    statuspage.end_maintenance(maintenance)
    assert _status(statuspage, page["api"]) == "operational"
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"


@pytest.mark.parametrize("point", ["intent_component", "answered_component"])
def test_crash_at_a_component_write_is_reconciled(make_harness, statuspage, page, point):
    """Stopped after the intent or after the answer: one PATCH in effect, one audit row."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    h.ilert.raise_priority(alert)

    def crash(name: str) -> None:
        if name == point:
            raise Crash(name)

    h.syncer.checkpoint = crash
    with pytest.raises(Crash):
        h.sync()
    sent = len(statuspage.component_writes())
    assert sent == (1 if point == "answered_component" else 0)
    h.syncer = h.new_syncer()  # a restart
    h.sync()
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    assert len(statuspage.component_writes()) == 1
    assert _changes(h).count((alert, "degraded_performance", "major_outage")) == 1


def test_lost_answer_of_a_component_write_is_reconciled(make_harness, statuspage, page):
    """The PATCH applied but its answer was lost: next pass adopts it, no second PATCH."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    h.ilert.raise_priority(alert)
    statuspage.drop_next(method="PATCH", path_contains="/components/", after_apply=True)
    report = h.sync()
    assert report.deferred_items == 1
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    assert len(statuspage.component_writes()) == 1
    rows = [r for r in h.audit_rows() if r.outcome == "component_changed"]
    assert rows[-1].reason == "confirmed on Statuspage after an interrupted call"
    assert len(rows) == 2


def test_unreadable_components_do_not_stop_the_incident(make_harness, statuspage, page):
    """A refused component list: the incident is created anyway, components follow later."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    statuspage.fail_next(1, status=403, path_contains="/components", method="GET")
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    report = h.sync()
    (incident,) = h.incidents()
    assert incident["components"] == []
    assert report.failed_items == 1  # the component step reports the page
    assert _component_lists(statuspage) == 1  # read once in the pass, even when refused
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"


def test_dry_run_changes_no_component(make_harness, statuspage, page):
    """A dry run reads and decides but writes nothing and stores nothing."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    h.ilert.raise_priority(alert)
    dry = h.new_syncer(dry_run=True)
    with capture_logs() as logs:
        dry.run_pass()
    planned = [e for e in logs if e.get("outcome") == "component_changed"]
    assert [(e["to_status"], e["dry_run"]) for e in planned] == [("major_outage", True)]
    assert statuspage.component_writes() == []
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    assert len(statuspage.component_writes()) == 1


def test_refused_component_write_is_audited_once(make_harness, statuspage, page):
    """A PATCH Statuspage refuses for good is one failed row, not one per pass."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    h.ilert.raise_priority(alert)
    statuspage.fail_next(5, status=422, path_contains="/components/", method="PATCH")
    for _ in range(3):
        h.sync()
    failed = [r for r in h.audit_rows() if r.event == "component" and r.outcome == "failed"]
    assert len(failed) == 1
    assert len(statuspage.component_writes()) == 1


def test_lost_state_still_drops_the_components_it_set(make_harness, statuspage, page):
    """After the state is lost and rebuilt, a resolve still returns the component to green."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    assert _status(statuspage, page["api"]) == "major_outage"
    with h.sessions() as session:
        for table in (Transition, Link, ActionState, ComponentRow):
            session.execute(sa.delete(table))
        session.commit()
    h.ilert.resolve(alert)
    h.syncer = h.new_syncer()  # a restart on the emptied database
    h.sync()
    h.sync()
    assert h.incidents()[0]["status"] == "resolved"
    assert _status(statuspage, page["api"]) == "operational"


def test_held_component_on_an_idle_page_costs_no_read(make_harness, statuspage, page):
    """Once nothing is open, a person's status left in place does not make the page read."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    statuspage.set_component_status(page["api"], "partial_outage")
    h.ilert.resolve(alert)
    h.sync()
    reads = _component_lists(statuspage)
    h.sync()
    h.sync()
    assert _component_lists(statuspage) == reads
    assert _status(statuspage, page["api"]) == "partial_outage"
    assert statuspage.component_writes() == []


def test_component_taken_out_of_the_config_is_undone(make_harness, statuspage, page):
    """A component the daemon set and the config no longer lists goes back to operational."""
    h = _harness(make_harness, _public(components=(page["api"], page["web"])))
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    assert _status(statuspage, page["web"]) == "major_outage"
    h.config = dataclasses.replace(h.config, incident_actions=(_public(components=(page["api"],)),))
    h.syncer = h.new_syncer()  # restarted with the edited config
    h.sync()
    assert _status(statuspage, page["web"]) == "operational"
    assert _status(statuspage, page["api"]) == "major_outage"


def test_components_removed_from_every_action_are_undone(make_harness, statuspage, page):
    """With no components configured on the page any more, what the daemon set is undone."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    h.config = dataclasses.replace(h.config, incident_actions=(_public(),))
    h.syncer = h.new_syncer()
    h.sync()
    assert _status(statuspage, page["api"]) == "operational"
    reads = _component_lists(statuspage)
    h.sync()
    assert _component_lists(statuspage) == reads  # nothing owned any more: no read


def test_odd_component_entries_do_not_hide_the_others(make_harness, statuspage, page):
    """A malformed entry is skipped; a component with the spec's "" status is left alone."""
    h = _harness(make_harness, _public(components=(page["api"], page["web"])))
    listed = statuspage.components(AUTO_PAGE)
    odd = [dict(c, status="") if c["id"] == page["web"] else c for c in listed]
    statuspage.inject_fault(
        200,
        [*odd, {"id": 7}, {"id": "bad\nid", "status": "operational"}],
        path_contains="/components",
        method="GET",
    )
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    (incident,) = h.incidents()
    assert {c["id"]: c["status"] for c in incident["components"]} == {
        page["api"]: "major_outage",
        page["web"]: "operational",  # held: "" is not the daemon's, so the create left it out
    }
    assert statuspage.component_writes() == []


def test_another_replicas_component_write_in_flight_waits(make_harness, statuspage, page):
    """A fresh intent of another process holds the page until its write cannot land any more."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    h.sync()
    h.ilert.raise_priority(alert)
    me = Writer("me", 2, sole=False)
    h.syncer.writer = h.syncer.components.writer = me
    with h.sessions() as session:
        row = session.get(ComponentRow, (AUTO_PAGE, page["api"]))
        assert row is not None
        other = stamp(Writer("other", 1, sole=False), database_now(session), 1.0)
        row.pending_call = {"kind": "component", "status": "major_outage", **other}
        session.commit()
    report = h.sync()
    assert report.deferred_items == 1
    assert statuspage.component_writes() == []
    time.sleep(1.2)
    h.sync()  # the other write never landed: forgotten, then decided again
    assert _status(statuspage, page["api"]) == "major_outage"
    assert len(statuspage.component_writes()) == 1


def test_create_refused_for_its_components_is_created_without_them(make_harness, statuspage, page):
    """A 422 on a create that carried components: the incident is created without them at once."""
    h = _harness(make_harness, _public(components=(page["api"], "ghost0000001")))
    listed = statuspage.components(AUTO_PAGE)
    ghost = dict(listed[0], id="ghost0000001", name="Gone")  # the listing lies: not on the page
    statuspage.inject_fault(200, [*listed, ghost], times=3, path_contains="/components")
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    with capture_logs() as logs:
        report = h.sync()
    assert len(h.incidents()) == 1
    assert report.outcomes["created"] == 1
    assert [e["event"] for e in logs].count("components_refused") == 1
    creates = [w for w in statuspage.writes() if w.method == "POST"]
    assert len(creates) == 2  # the refused one, then the one without components
    assert "components" not in creates[1].json_body["incident"]
    h.sync()  # the component step sets what the page has
    assert _status(statuspage, page["api"]) == "major_outage"
    assert len(h.incidents()) == 1


def test_a_storm_and_a_per_alert_action_share_a_component(make_harness, statuspage, page):
    """group "action" and group "alert" on one page and component: worst of every open alert;
    the storm's incident resolves with its last alert, the component then goes green."""
    web = IncidentAction(
        name="website",
        alert_sources=(WEB_SOURCE,),
        connector="main",
        page_id=AUTO_PAGE,
        components=(page["api"],),
    )
    h = _harness(make_harness, _public(components=(page["api"],), group="action"), web)
    storm = [h.ilert.create_alert(AUTO_SOURCE, f"node-{n} slow", "", "LOW") for n in range(2)]
    site = h.ilert.create_alert(WEB_SOURCE, "Site down", "", "HIGH")
    h.sync()
    assert len(h.incidents()) == 2
    assert _status(statuspage, page["api"]) == "major_outage"
    h.ilert.resolve(site)
    h.ilert.resolve(storm[0])
    h.sync()
    assert _status(statuspage, page["api"]) == "degraded_performance"
    shared = h.link("public-api", storm[1])
    assert shared is not None
    assert statuspage.incident(str(shared.statuspage_incident_id))["status"] != "resolved"
    h.ilert.resolve(storm[1])
    h.sync()
    assert _status(statuspage, page["api"]) == "operational"
    assert [i["status"] for i in h.incidents()] == ["resolved", "resolved"]
    assert len(statuspage.component_writes()) == 2


def test_lost_state_keeps_a_persons_component_status(make_harness, statuspage, page):
    """After the state is lost, a status the action could never set is a person's: the rebuild
    does not take it for the daemon's, so it is not overwritten while the alert is open."""
    h = _harness(make_harness, _public(components=(page["api"],)))
    h.ilert.create_alert(AUTO_SOURCE, "API down", "", "HIGH")
    h.sync()
    statuspage.set_component_status(page["api"], "partial_outage")  # not in component_status
    with h.sessions() as session:
        for table in (Transition, Link, ActionState, ComponentRow):
            session.execute(sa.delete(table))
        session.commit()
    h.syncer = h.new_syncer()  # a restart on the emptied database
    h.sync()
    h.sync()
    assert _status(statuspage, page["api"]) == "partial_outage"
    assert statuspage.component_writes() == []


def test_one_failing_component_write_holds_back_neither_the_others_nor_the_connector(
    make_harness, statuspage, page
):
    """Every PATCH of one component 500s: the other is set, no outage is logged, pass after pass."""
    h = _harness(make_harness, _public(components=(page["api"], page["web"])))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "p99 up", "LOW")
    h.sync()
    poisoned, other = sorted((page["api"], page["web"]))  # the poisoned one is written first
    statuspage.fail_next(1000, 500, path_contains=f"/components/{poisoned}", method="PATCH")
    h.ilert.raise_priority(alert)
    with capture_logs() as logs:
        for _ in range(3):
            assert not h.sync().ok
            h.clock_offset += timedelta(hours=2)  # past its back-off: tried each pass
    assert _status(statuspage, other) == "major_outage"
    assert _status(statuspage, poisoned) == "degraded_performance"
    events = [line["event"] for line in logs]
    assert events.count("component_write_failed") == 3
    assert "service_unreachable" not in events
    assert "service_recovered" not in events


def test_three_failing_components_hold_back_neither_a_fourth_nor_the_connector(
    make_harness, statuspage
):
    """Three components' PATCHes always 500, sorted before a fourth: the fourth is set by the
    second pass; the three back off behind it; at most one outage logged over 6 passes."""
    ids = sorted(statuspage.add_component(AUTO_PAGE, f"C{i}") for i in range(4))
    h = _harness(make_harness, _public(components=tuple(ids)))
    alert = h.ilert.create_alert(AUTO_SOURCE, "API slow", "p99 up", "LOW")
    h.sync()
    for poisoned in ids[:3]:
        statuspage.fail_next(1000, 500, path_contains=f"/components/{poisoned}", method="PATCH")
    h.ilert.raise_priority(alert)
    with capture_logs() as logs:
        h.sync()
        h.sync()
        assert _status(statuspage, ids[3]) == "major_outage"
        first = len(statuspage.requests)
        for _ in range(4):
            h.sync()
    events = [line["event"] for line in logs]
    assert events.count("service_unreachable") <= 1
    assert events.count("service_recovered") <= 1
    retried = [r for r in statuspage.requests[first:] if r.method == "PATCH"]
    assert len(retried) <= 3  # backed off: not every component every pass
