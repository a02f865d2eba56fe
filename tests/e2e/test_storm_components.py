"""Storms and components together: real Syncer, real HTTP to the simulators, a migrated DB.

A shared incident (group = "action") holds its components at the worst priority
among its OPEN alerts; a person's edit of the shared incident's status leaves
the components to the alerts, and a person's resolve releases them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.simulators import StatuspageSimulator
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


@pytest.fixture(name="api")
def _api(statuspage: StatuspageSimulator) -> str:
    """One component on the auto page."""
    return statuspage.add_component(AUTO_PAGE, "Public API")


def _storm(make_harness: Any, component: str) -> Harness:
    """A harness whose one action groups its alerts and lists ``component``, activated."""
    action = IncidentAction(
        name="public-api",
        alert_sources=(AUTO_SOURCE,),
        connector="main",
        page_id=AUTO_PAGE,
        components=(component,),
        group="action",
    )
    harness: Harness = make_harness("classic")
    harness.config = dataclasses.replace(harness.config, incident_actions=(action,))
    harness.syncer = harness.new_syncer()
    harness.sync()
    return harness


def _component(statuspage: StatuspageSimulator, component_id: str) -> str:
    return str(statuspage.component(component_id)["status"])


def _one_incident(harness: Harness) -> dict[str, Any]:
    (incident,) = harness.incidents(AUTO_PAGE)
    return incident


def test_a_shared_incident_holds_its_components_at_the_worst_priority_of_its_open_alerts(
    make_harness: Any, statuspage: StatuspageSimulator, api: str
):
    """LOW opens, HIGH joins: major outage, by PATCH, no extra incident update; the HIGH one
    resolves while LOW ones stay open: degraded performance; all resolve: operational."""
    h = _storm(make_harness, api)
    low = h.ilert.create_alert(AUTO_SOURCE, "api slow", "", "LOW")
    h.sync()
    assert _component(statuspage, api) == "degraded_performance"  # set by the create
    high = h.ilert.create_alert(AUTO_SOURCE, "db down", "", "HIGH")
    other_low = h.ilert.create_alert(AUTO_SOURCE, "cache slow", "", "LOW")
    h.sync()
    incident = _one_incident(h)
    assert len(incident["incident_updates"]) == 3  # the create and two joins, nothing more
    assert _component(statuspage, api) == "major_outage"
    (raised,) = statuspage.component_writes()
    assert raised.json_body == {"component": {"status": "major_outage"}}

    h.ilert.resolve(high)
    h.sync()
    assert _one_incident(h)["status"] == "identified"  # two alerts still open
    assert _component(statuspage, api) == "degraded_performance"
    h.ilert.resolve(low)
    h.sync()
    assert _component(statuspage, api) == "degraded_performance"  # other_low holds it
    h.ilert.resolve(other_low)
    h.sync()
    assert _one_incident(h)["status"] == "resolved"
    assert _component(statuspage, api) == "operational"
    changes = [
        (row.from_status, row.to_status)
        for row in h.audit_rows()
        if row.outcome == "component_changed"
    ]
    assert changes == [
        ("operational", "degraded_performance"),
        ("degraded_performance", "major_outage"),
        ("major_outage", "degraded_performance"),
        ("degraded_performance", "operational"),
    ]


def test_a_priority_raised_in_a_storm_raises_the_component_without_an_update(
    make_harness: Any, statuspage: StatuspageSimulator, api: str
):
    """One of two LOW alerts of a shared incident raised to HIGH: the component goes to major
    outage by PATCH; the shared incident gets no update."""
    h = _storm(make_harness, api)
    first = h.ilert.create_alert(AUTO_SOURCE, "api slow", "", "LOW")
    h.ilert.create_alert(AUTO_SOURCE, "cache slow", "", "LOW")
    h.sync()
    writes = len(statuspage.writes())
    h.ilert.raise_priority(first)
    h.sync()
    assert _component(statuspage, api) == "major_outage"
    assert len(statuspage.writes()) == writes
    assert len(_one_incident(h)["incident_updates"]) == 2


def test_a_persons_status_on_a_shared_incident_leaves_its_components_to_the_open_alerts(
    make_harness: Any, statuspage: StatuspageSimulator, api: str
):
    """A person sets the shared incident to monitoring: the daemon changes its status no more,
    but its components still follow the open alerts (a resolve lowers them; all resolved:
    operational) while the incident stays the person's monitoring."""
    h = _storm(make_harness, api)
    high = h.ilert.create_alert(AUTO_SOURCE, "db down", "", "HIGH")
    low = h.ilert.create_alert(AUTO_SOURCE, "api slow", "", "LOW")
    h.sync()
    statuspage.person_sets_status(_one_incident(h)["id"], "monitoring", "Fix deployed.")
    h.sync()
    assert _component(statuspage, api) == "major_outage"
    h.ilert.resolve(high)
    h.sync()
    assert _component(statuspage, api) == "degraded_performance"
    h.ilert.resolve(low)
    h.sync()
    assert _one_incident(h)["status"] == "monitoring"  # the person's; the daemon never resolves
    assert _component(statuspage, api) == "operational"


def test_a_persons_resolve_of_a_shared_incident_releases_its_components(
    make_harness: Any, statuspage: StatuspageSimulator, api: str
):
    """A person resolves the shared incident while its alerts are open: its components go back
    to operational (nothing open on the page claims an outage); the next alert opens a new
    incident that holds them again."""
    h = _storm(make_harness, api)
    h.ilert.create_alert(AUTO_SOURCE, "db down", "", "HIGH")
    h.ilert.create_alert(AUTO_SOURCE, "api slow", "", "LOW")
    h.sync()
    assert _component(statuspage, api) == "major_outage"
    statuspage.person_sets_status(_one_incident(h)["id"], "resolved", "All good.")
    h.sync()
    assert _component(statuspage, api) == "operational"
    assert _one_incident(h)["status"] == "resolved"
    h.sync()
    assert _component(statuspage, api) == "operational"  # not taken back on a later pass
    h.ilert.create_alert(AUTO_SOURCE, "queue stuck", "", "LOW")
    h.sync()
    newest, resolved = h.incidents(AUTO_PAGE)
    assert newest["status"] == "identified" and resolved["status"] == "resolved"
    assert _component(statuspage, api) == "degraded_performance"


def test_a_persons_component_status_in_a_storm_is_left_alone(
    make_harness: Any, statuspage: StatuspageSimulator, api: str
):
    """A person sets the storm's component to partial outage: further joins and a resolve do
    not touch it until it is back at what the daemon set."""
    h = _storm(make_harness, api)
    first = h.ilert.create_alert(AUTO_SOURCE, "db down", "", "HIGH")
    h.sync()
    statuspage.set_component_status(api, "partial_outage")
    h.ilert.create_alert(AUTO_SOURCE, "api slow", "", "LOW")
    h.sync()
    h.ilert.resolve(first)
    h.sync()
    assert _component(statuspage, api) == "partial_outage"
    assert statuspage.component_writes() == []
