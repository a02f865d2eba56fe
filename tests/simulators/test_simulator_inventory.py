"""The simulators' alert sources, pages and components, spoken to over real HTTP.

Field names are checked against the vendors' OpenAPI schemas (copied here, since
tests must not read ../shared): iLert ``AlertSourceNoIncludes``, Statuspage
``Component`` and ``Page``.
"""

from __future__ import annotations

import pytest
import requests

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator

TIMEOUT = 5.0
PAGE = "kctbh9vrtdwd"
ILERT_AUTH = {"Authorization": "Bearer ilert-sim-key"}
STATUSPAGE_AUTH = {"Authorization": "OAuth statuspage-sim-key"}

# iLert OpenAPI, components.schemas.AlertSourceNoIncludes.properties (required: name,
# escalationPolicy, integrationType); EscalationPolicy.properties.
ALERT_SOURCE_FIELDS = {
    "id", "teams", "name", "iconUrl", "lightIconUrl", "darkIconUrl", "escalationPolicy",
    "integrationType", "integrationKey", "integrationUrl", "autoResolutionTimeout",
    "alertGroupingWindow", "alertCreation", "status", "active", "alertPriorityRule",
    "supportHours", "bidirectional",
}  # fmt: skip
POLICY_FIELDS = {
    "id", "name", "escalationRules", "teams", "repeating", "frequency", "delayMin", "routingKey",
}  # fmt: skip
SOURCE_STATUSES = {"PENDING", "ALL_ACCEPTED", "ALL_RESOLVED", "IN_MAINTENANCE", "DISABLED"}
# Statuspage OpenAPI, components.schemas.Component.properties.
COMPONENT_FIELDS = {
    "id", "page_id", "group_id", "created_at", "updated_at", "group", "name", "description",
    "position", "status", "showcase", "only_show_if_degraded", "automation_email", "start_date",
}  # fmt: skip
COMPONENT_STATUSES = {
    "operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage",
}  # fmt: skip


def _sources(http: requests.Session, ilert: IlertSimulator, query: str = "") -> requests.Response:
    url = f"{ilert.url}/api/alert-sources{query}"
    return http.get(url, headers=ILERT_AUTH, timeout=TIMEOUT)


def _components(
    http: requests.Session, statuspage: StatuspageSimulator, query: str = "", page: str = PAGE
) -> requests.Response:
    url = f"{statuspage.url}/v1/pages/{page}/components{query}"
    return http.get(url, headers=STATUSPAGE_AUTH, timeout=TIMEOUT)


class TestAlertSources:
    def test_paged_by_start_index_with_a_cap_of_50(self, ilert, http):
        """The list pages like the real API: default and maximum 50; above 50 is a 400."""
        ids = [ilert.add_alert_source(f"Source {n}") for n in range(120)]

        default = _sources(http, ilert)
        assert default.status_code == 200
        assert [s["id"] for s in default.json()] == ids[:50]
        pages = [_sources(http, ilert, f"?start-index={s}&max-results=50") for s in (0, 50, 100)]
        assert [s["id"] for page in pages for s in page.json()] == ids
        assert [len(page.json()) for page in pages] == [50, 50, 20]
        too_many = _sources(http, ilert, "?max-results=51")
        assert too_many.status_code == 400
        assert too_many.json()["message"] == "'max-results' must not be above 50"

    def test_fields_are_the_specs_and_status_follows_the_alerts(self, ilert, http):
        """Sources carry only spec fields; PENDING, ALL_ACCEPTED, ALL_RESOLVED follow alerts."""
        source = ilert.add_alert_source(
            "Checkout", escalation_policy_id=7, escalation_policy_name="Web on-call"
        )
        quiet = ilert.add_alert_source("Batch", status="IN_MAINTENANCE")

        def status(source_id: int) -> str:
            answer = http.get(
                f"{ilert.url}/api/alert-sources/{source_id}", headers=ILERT_AUTH, timeout=TIMEOUT
            )
            assert answer.status_code == 200
            body = answer.json()
            assert set(body) <= ALERT_SOURCE_FIELDS
            assert {"name", "escalationPolicy", "integrationType"} <= set(body)
            assert set(body["escalationPolicy"]) <= POLICY_FIELDS
            assert body["status"] in SOURCE_STATUSES
            return str(body["status"])

        assert status(source) == "ALL_RESOLVED"
        alert = ilert.create_alert(source, "down")
        assert status(source) == "PENDING"
        ilert.accept(alert)
        assert status(source) == "ALL_ACCEPTED"
        ilert.resolve(alert)
        assert status(source) == "ALL_RESOLVED"
        ilert.create_alert(quiet, "ignored while in maintenance")
        assert status(quiet) == "IN_MAINTENANCE"
        assert ilert.alert(alert)["alertSource"]["name"] == "Checkout"
        assert ilert.alert(alert)["escalationPolicy"] == {"id": 7, "name": "Web on-call"}

    def test_unknown_source_is_404_and_a_wrong_key_403(self, ilert, http):
        """An unknown id is iLert's 404; a wrong key gets 403 KEY_ERROR, none gets 401."""
        missing = http.get(f"{ilert.url}/api/alert-sources/99", headers=ILERT_AUTH, timeout=5)
        assert missing.status_code == 404
        wrong = http.get(
            f"{ilert.url}/api/alert-sources", headers={"Authorization": "Bearer x"}, timeout=5
        )
        assert (wrong.status_code, wrong.json()["code"]) == (403, "KEY_ERROR")
        assert http.get(f"{ilert.url}/api/alert-sources", timeout=5).status_code == 401


class TestComponents:
    def test_groups_and_members_as_the_list_shows_them(self, statuspage, http):
        """A group is a component with group true and its members' worst status."""
        group = statuspage.add_component_group(PAGE, "Platform")
        api = statuspage.add_component(PAGE, "API", group_id=group, status="partial_outage")
        hooks = statuspage.add_component(PAGE, "Webhooks", group_id=group)
        site = statuspage.add_component(PAGE, "Website", status="under_maintenance")

        answer = _components(http, statuspage)
        assert answer.status_code == 200
        listed = answer.json()
        assert [c["id"] for c in listed] == [group, api, hooks, site]
        for component in listed:
            assert set(component) <= COMPONENT_FIELDS
            assert component["status"] in COMPONENT_STATUSES
            assert component["page_id"] == PAGE
        assert [(c["group"], c["group_id"]) for c in listed] == [
            (True, None),
            (False, group),
            (False, group),
            (False, None),
        ]
        assert listed[0]["status"] == "partial_outage"
        assert [c["position"] for c in listed] == [1, 2, 3, 4]
        one = http.get(
            f"{statuspage.url}/v1/pages/{PAGE}/components/{api}.json",
            headers=STATUSPAGE_AUTH,
            timeout=TIMEOUT,
        )
        assert one.json() == listed[1]

    def test_list_is_paged_by_100_at_most(self, statuspage, http):
        """`page`/`per_page` page the list; per_page above 100 is held to 100."""
        ids = [statuspage.add_component(PAGE, f"C{n}") for n in range(130)]

        first = _components(http, statuspage, "?page=1&per_page=500").json()
        second = _components(http, statuspage, "?page=2&per_page=100").json()
        assert [c["id"] for c in first + second] == ids
        assert len(first) == 100
        assert len(_components(http, statuspage).json()) == 100

    def test_pages_list_unknown_page_and_wrong_key(self, statuspage, http):
        """GET /v1/pages lists the pages; an unknown page is 404; a wrong key is 401."""
        statuspage.add_page("secondpage01", "Second")
        pages = http.get(f"{statuspage.url}/v1/pages", headers=STATUSPAGE_AUTH, timeout=5).json()
        assert [(p["id"], p["name"]) for p in pages] == [
            (PAGE, f"Simulated page {PAGE}"),
            ("secondpage01", "Second"),
        ]
        assert _components(http, statuspage, page="nopage").status_code == 404
        wrong = http.get(
            f"{statuspage.url}/v1/pages/{PAGE}/components",
            headers={"Authorization": "OAuth wrong"},
            timeout=TIMEOUT,
        )
        assert wrong.status_code == 401

    def test_control_surface_rejects_bad_input(self, statuspage):
        """Unknown statuses, pages and non-group parents are refused."""
        plain = statuspage.add_component(PAGE, "API")
        with pytest.raises(ValueError, match="status"):
            statuspage.add_component(PAGE, "X", status="down")
        with pytest.raises(ValueError, match="not a component group"):
            statuspage.add_component(PAGE, "X", group_id=plain)
        assert [c["id"] for c in statuspage.components(PAGE)] == [plain]
