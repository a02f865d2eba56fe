"""The Statuspage simulator's component writes, spoken to over real HTTP.

Checked against the spec (``patchPagesPageIdComponents``, the incident's
``components`` map and ``component_ids``): statuses outside the five are 422,
an incident's map sets its components, and the person's and maintenance's
controls change what the API then serves.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ilert_statuspage_sync.simulators import StatuspageSimulator

TIMEOUT = 5.0
PAGE = "kctbh9vrtdwd"
AUTH = {"Authorization": "OAuth statuspage-sim-key"}


def _call(sim: StatuspageSimulator, method: str, path: str, body: Any = None) -> requests.Response:
    with requests.Session() as session:
        return session.request(
            method, f"{sim.url}/v1/pages/{PAGE}{path}", json=body, headers=AUTH, timeout=TIMEOUT
        )


def test_patch_component_status(statuspage):
    """PATCH sets a documented status and answers the Component; GET one shows it."""
    api = statuspage.add_component(PAGE, "API")
    answer = _call(
        statuspage, "PATCH", f"/components/{api}", {"component": {"status": "partial_outage"}}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "partial_outage"
    assert _call(statuspage, "GET", f"/components/{api}").json()["status"] == "partial_outage"


@pytest.mark.parametrize("status", ["down", "", None, "resolved"])
def test_patch_component_refuses_undocumented_status(statuspage, status):
    """A status outside the spec's five is a 422 and changes nothing."""
    api = statuspage.add_component(PAGE, "API")
    answer = _call(statuspage, "PATCH", f"/components/{api}", {"component": {"status": status}})
    assert answer.status_code == 422 and "error" in answer.json()
    assert statuspage.component(api)["status"] == "operational"


def test_patch_component_errors(statuspage):
    """No wrapper: 400; unknown id: 404; a group's own status: 422."""
    group = statuspage.add_component_group(PAGE, "Platform")
    assert _call(statuspage, "PATCH", "/components/nope", {"component": {}}).status_code == 404
    api = statuspage.add_component(PAGE, "API", group_id=group)
    assert _call(statuspage, "PATCH", f"/components/{api}", {"status": "x"}).status_code == 400
    body = {"component": {"status": "major_outage"}}
    assert _call(statuspage, "PATCH", f"/components/{group}", body).status_code == 422


def test_incident_components_map_sets_components(statuspage):
    """component_ids and components on create and update: stored, applied, returned."""
    api, web = statuspage.add_component(PAGE, "API"), statuspage.add_component(PAGE, "Web")
    fields = {"name": "x", "component_ids": [api, web], "components": {api: "major_outage"}}
    created = _call(statuspage, "POST", "/incidents", {"incident": fields}).json()
    assert [(c["id"], c["status"]) for c in created["components"]] == [
        (api, "major_outage"),
        (web, "operational"),
    ]
    assert created["incident_updates"][0]["affected_components"] == [
        {"code": api, "name": "API", "old_status": "operational", "new_status": "major_outage"}
    ]
    update = {"incident": {"status": "resolved", "components": {api: "operational"}}}
    _call(statuspage, "PATCH", f"/incidents/{created['id']}", update)
    assert statuspage.component(api)["status"] == "operational"
    statuspage.set_component_status(web, "degraded_performance")
    shown = statuspage.incident(created["id"])["components"]
    assert [c["status"] for c in shown] == ["operational", "degraded_performance"]


@pytest.mark.parametrize(
    "make",
    [
        lambda _api: {"component_ids": ["unknown"]},
        lambda _api: {"components": {"unknown": "major_outage"}},
        lambda api: {"components": {api: "broken"}},
        lambda api: {"component_ids": api},
    ],
)
def test_incident_with_bad_components_is_refused(statuspage, make):
    """Unknown ids, bad statuses or shapes: 422 and no incident."""
    api = statuspage.add_component(PAGE, "API")
    answer = _call(statuspage, "POST", "/incidents", {"incident": {"name": "x", **make(api)}})
    assert answer.status_code == 422
    assert statuspage.incidents() == []
    assert statuspage.component(api)["status"] == "operational"


def test_maintenance_puts_components_under_maintenance(statuspage):
    """A maintenance underway holds its components; completing it sets them operational."""
    api = statuspage.add_component(PAGE, "API")
    maintenance = statuspage.start_maintenance(PAGE, [api], "DB upgrade")
    assert statuspage.component(api)["status"] == "under_maintenance"
    assert statuspage.incident(maintenance)["status"] == "in_progress"
    statuspage.end_maintenance(maintenance)
    assert statuspage.component(api)["status"] == "operational"
    assert statuspage.incident(maintenance)["status"] == "completed"
    assert statuspage.component_writes() == []  # controls are not API requests
