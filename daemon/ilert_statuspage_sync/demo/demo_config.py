"""The demo's config: four incident actions over the seeded accounts, as TOML would hold it.

`demo_settings` is the document (the kept folder's config.toml is written from
it), `demo_config` the parsed `Config` the demo and the tests' harness run with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.simulators import StatuspageSimulator
from ilert_statuspage_sync.simulators.seed import (
    API_SERVICE,
    AUTO_PAGE,
    AUTO_SOURCE,
    FLEET_SOURCE,
    ILERT_KEY,
    MANUAL_PAGE,
    MANUAL_SOURCE,
    STATUSPAGE_KEY,
    STORE_SOURCE,
)

__all__ = ["action_lines", "demo_components", "demo_config", "demo_settings"]


def demo_settings(
    lifecycle: str,
    ilert_url: str,
    statuspage_url: str,
    database_url: str,
    *,
    rate: int = 600,
    components: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The demo's config as the TOML document would hold it (keys from DEMO_* variables).

    ``components`` (component name -> id on the demo page, ``demo_components``)
    adds the component scenes' two actions; without it (the tests' harness)
    the config has just the two lifecycle actions.
    """
    actions = _lifecycle_actions()
    bridges: list[dict[str, Any]] = []
    if components is not None:
        actions += _component_actions(components)
        bridges.append(_bridge(components))
    settings: dict[str, Any] = {
        "poll_interval": 5,
        "database_url": database_url,
        "lifecycle": lifecycle,
        "ilert": _api(ilert_url, "DEMO_ILERT_KEY", rate),
        "connectors": {"main": _api(statuspage_url, "DEMO_STATUSPAGE_KEY", rate)},
        "incident_actions": actions,
    }
    if bridges:
        settings["status_bridges"] = bridges
    return settings


def _bridge(components: Mapping[str, str]) -> dict[str, Any]:
    """The bridge scenes' status bridge: iLert's "Public API" service on its component."""
    return {
        "name": "platform",
        "connector": "main",
        "page_id": AUTO_PAGE,
        "services": {str(API_SERVICE): components["Public API"]},
    }


def _api(url: str, key_env: str, rate: int) -> dict[str, Any]:
    """An API's URL, the variable holding its key, and the demo's request budget."""
    return {"api_url": url, "api_key_env": key_env, "requests_per_minute": rate}


def _action(name: str, source: int, page_id: str, **more: Any) -> dict[str, Any]:
    """One incident action on the demo's one connector."""
    return {
        "name": name,
        "alert_sources": [source],
        "connector": "main",
        "page_id": page_id,
        **more,
    }


def _lifecycle_actions() -> list[dict[str, Any]]:
    """The lifecycle scenes' actions: every alert of one source, and only triggered ones."""
    return [
        _action("public-api", AUTO_SOURCE, AUTO_PAGE),
        _action("manual-review", MANUAL_SOURCE, MANUAL_PAGE, trigger_mode="manual"),
    ]


def _component_actions(components: Mapping[str, str]) -> list[dict[str, Any]]:
    """The component scenes' actions: Checkout and Search per alert, Website for a storm."""
    checkout_search = [components["Checkout"], components["Search"]]
    return [
        _action("storefront", STORE_SOURCE, AUTO_PAGE, components=checkout_search),
        _action(
            "web-fleet", FLEET_SOURCE, AUTO_PAGE, components=[components["Website"]], group="action"
        ),
    ]


def demo_components(statuspage: StatuspageSimulator) -> dict[str, str]:
    """The demo page's components (not groups), name -> id, as ``seed_accounts`` made them."""
    return {
        str(c["name"]): str(c["id"]) for c in statuspage.components(AUTO_PAGE) if not c["group"]
    }


def demo_config(
    lifecycle: str,
    ilert_url: str,
    statuspage_url: str,
    database_url: str,
    *,
    rate: int = 600,
    components: Mapping[str, str] | None = None,
) -> Config:
    """The config the demo (and, without ``components``, the end-to-end tests) run with."""
    data = demo_settings(
        lifecycle, ilert_url, statuspage_url, database_url, rate=rate, components=components
    )
    environ = {"DEMO_ILERT_KEY": ILERT_KEY, "DEMO_STATUSPAGE_KEY": STATUSPAGE_KEY}
    return parse_config(data, environ, origin="demo config")


def action_lines() -> list[str]:
    """The legend's line per incident action: its source, its page and what it mirrors."""
    placeholders = {
        name: f"{name.lower().replace(' ', '')}0"
        for name in ("Checkout", "Search", "Website", "Public API")
    }
    url = "http://127.0.0.1:1"
    config = demo_config("classic", url, url, "sqlite://", components=placeholders)
    names = {v: k for k, v in placeholders.items()}
    lines = []
    for action in config.incident_actions:
        sources = ", ".join(str(source) for source in action.alert_sources)
        which = "only alerts someone triggers" if action.manual else "every alert"
        if action.components:
            which += ", sets " + " and ".join(names[c] for c in action.components)
        if action.group == "action":
            which += "; one shared incident"
        lines.append(f"{action.name:<14} alert source {sources} to page {action.page_id}, {which}")
    for bridge in config.status_bridges:
        shown = ", ".join(f"service {sid} on {names[c]}" for sid, c in bridge.services.items())
        lines.append(f"{bridge.name:<14} iLert's incidents, windows and {shown} (a bridge)")
    return lines
