"""Crash sweep for component writes: the real `sync` process SIGKILLed at each step.

A LOW alert's incident set its component to degraded_performance; the alert is
raised to HIGH, so the next pass PATCHes the component to major_outage. The
process is killed before the intent, after it, while the PATCH is in flight
(not applied), after Statuspage applied it but before the answer, after the
answer but before the commit, and after the commit; and once after a create
that carried the components map was answered but not committed. After a
restart the page shows the right status, applied once, audited once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import StatuspageSimulator
from tests.support.proc import (
    CRASH_POINTS,
    finish_sync,
    kill_at_and_restart,
    state_rows,
    write_component_config,
)
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = pytest.mark.slow


def _changes(path: Path) -> list[tuple[str, str]]:
    rows = state_rows(
        path,
        "SELECT from_status, to_status FROM transitions "
        "WHERE outcome = 'component_changed' ORDER BY id",
    )
    return [(row[0], row[1]) for row in rows]


def _applied_patches(statuspage: StatuspageSimulator) -> int:
    return sum(1 for w in statuspage.component_writes() if w.status == 200)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_every_step_of_a_component_write(point, sims, tmp_path):
    """After a SIGKILL at this point and a restart, the PATCH took effect exactly once."""
    ilert, statuspage = sims
    config, component = write_component_config(tmp_path, sims)
    finish_sync(config)  # activates the incident action
    alert = ilert.create_alert(AUTO_SOURCE, "API slow", "p99 up", "LOW")
    finish_sync(config)
    assert statuspage.component(component)["status"] == "degraded_performance"
    ilert.raise_priority(alert)
    kill_at_and_restart(config, statuspage, point, "component", path_contains="/components/")
    assert statuspage.component(component)["status"] == "major_outage"
    assert _applied_patches(statuspage) == 1
    assert _changes(config) == [
        ("operational", "degraded_performance"),
        ("degraded_performance", "major_outage"),
    ]
    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert len(incident["incident_updates"]) == 1  # the component never touched the incident


def test_kill_after_a_create_with_components_was_answered(sims, tmp_path):
    """The create's components are adopted on restart: no duplicate, no extra PATCH."""
    ilert, statuspage = sims
    config, component = write_component_config(tmp_path, sims)
    finish_sync(config)
    ilert.create_alert(AUTO_SOURCE, "API down", "5xx", "HIGH")
    kill_at_and_restart(config, statuspage, "answered", "create")
    assert len(statuspage.incidents(AUTO_PAGE)) == 1
    assert statuspage.component(component)["status"] == "major_outage"
    assert statuspage.component_writes() == []
    assert _changes(config) == [("operational", "major_outage")]


def test_kill_after_a_create_sent_again_without_components(sims, tmp_path):
    """A create refused for its components is sent again without them; killed after that
    answer, the restart adopts the one incident and sets the component by one PATCH."""
    ilert, statuspage = sims
    config, component = write_component_config(tmp_path, sims)
    text = config.read_text().replace(
        f'components = ["{component}"]', f'components = ["{component}", "ghost0000001"]'
    )
    config.write_text(text)
    finish_sync(config)
    listed = statuspage.components(AUTO_PAGE)
    ghost = dict(listed[0], id="ghost0000001", name="Gone")  # listed, but not on the page
    statuspage.inject_fault(200, [*listed, ghost], path_contains="/components", method="GET")
    ilert.create_alert(AUTO_SOURCE, "API down", "5xx", "HIGH")
    kill_at_and_restart(config, statuspage, "answered", "create")
    assert len(statuspage.incidents(AUTO_PAGE)) == 1
    assert statuspage.component(component)["status"] == "major_outage"
    assert _applied_patches(statuspage) == 1
    assert _changes(config) == [("operational", "major_outage")]
