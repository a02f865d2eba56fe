"""The demo accounts the simulators can hold: alert sources, pages, components, keys.

`demo` plays its scenes on them and `python -m ilert_statuspage_sync.simulators`
serves them; the ids and keys are public demo values, not secrets.
"""

from __future__ import annotations

from ilert_statuspage_sync.simulators.ilert import IlertSimulator
from ilert_statuspage_sync.simulators.statuspage import StatuspageSimulator

__all__ = [
    "API_SERVICE",
    "AUTO_PAGE",
    "AUTO_SOURCE",
    "FLEET_SOURCE",
    "ILERT_KEY",
    "MANUAL_PAGE",
    "MANUAL_SOURCE",
    "STATUSPAGE_KEY",
    "STORE_SOURCE",
    "seed_accounts",
    "seed_scene_sources",
]

AUTO_SOURCE, MANUAL_SOURCE = 101, 202
# The component scenes' sources: one incident per alert, and a storm shared by the action.
STORE_SOURCE, FLEET_SOURCE = 404, 505
AUTO_PAGE, MANUAL_PAGE = "demoautopage", "demomanualpg"
# The iLert service the demo's status bridge shows on the "Public API" component.
API_SERVICE = 901
ILERT_KEY, STATUSPAGE_KEY = "demo-il-4f7a0c9e", "demo-sp-8b2d6e1f"


def seed_accounts(ilert: IlertSimulator, statuspage: StatuspageSimulator) -> None:
    """What the demo accounts hold: the config's alert sources and pages, named, with components."""
    _seed_sources(ilert)
    ilert.add_service("Public API", service_id=API_SERVICE)
    _seed_pages(statuspage)


def _seed_sources(ilert: IlertSimulator) -> None:
    ilert.add_alert_source(
        "Checkout API", source_id=AUTO_SOURCE, escalation_policy_name="Web on-call"
    )
    ilert.add_alert_source(
        "Back office",
        source_id=MANUAL_SOURCE,
        escalation_policy_id=2,
        escalation_policy_name="Ops business hours",
    )
    ilert.add_alert_source(
        "Nightly batch",
        source_id=303,
        escalation_policy_id=2,
        escalation_policy_name="Ops business hours",
        status="IN_MAINTENANCE",
    )


def _seed_pages(statuspage: StatuspageSimulator) -> None:
    statuspage.add_page(AUTO_PAGE, "Acme Status")
    storefront = statuspage.add_component_group(AUTO_PAGE, "Storefront")
    statuspage.add_component(AUTO_PAGE, "Checkout", group_id=storefront)
    statuspage.add_component(AUTO_PAGE, "Search", group_id=storefront)
    platform = statuspage.add_component_group(AUTO_PAGE, "Platform")
    statuspage.add_component(AUTO_PAGE, "Public API", group_id=platform)
    statuspage.add_component(AUTO_PAGE, "Webhooks", group_id=platform)
    statuspage.add_component(AUTO_PAGE, "Website")
    statuspage.add_page(MANUAL_PAGE, "Acme Internal Status")
    statuspage.add_component(MANUAL_PAGE, "Back office")
    statuspage.add_component(MANUAL_PAGE, "Reporting", status="degraded_performance")


def seed_scene_sources(ilert: IlertSimulator) -> None:
    """The alert sources of the component scenes' actions (storefront, web-fleet)."""
    ilert.add_alert_source(
        "Storefront probes", source_id=STORE_SOURCE, escalation_policy_name="Web on-call"
    )
    ilert.add_alert_source(
        "Web fleet", source_id=FLEET_SOURCE, escalation_policy_name="Web on-call"
    )
