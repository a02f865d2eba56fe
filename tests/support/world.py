"""The world the tests build: page ids, alert sources, API keys and the config over them.

The values match the demo's (so a test and the demo read alike), but the tests
own them: a change to the demo cannot move a test's expectations.
"""

from __future__ import annotations

from typing import Any

from ilert_statuspage_sync.config import Config, parse_config

AUTO_SOURCE, MANUAL_SOURCE = 101, 202
AUTO_PAGE, MANUAL_PAGE = "demoautopage", "demomanualpg"
# Keys of the in-process harness (the simulators check them on every request).
ILERT_KEY, STATUSPAGE_KEY = "demo-il-4f7a0c9e", "demo-sp-8b2d6e1f"


def world_settings(
    lifecycle: str, ilert_url: str, statuspage_url: str, database_url: str, *, rate: int = 600
) -> dict[str, Any]:
    """The harness's config as its TOML document would hold it (keys from DEMO_* variables)."""
    return {
        "poll_interval": 5,
        "database_url": database_url,
        "lifecycle": lifecycle,
        "ilert": {
            "api_url": ilert_url,
            "api_key_env": "DEMO_ILERT_KEY",
            "requests_per_minute": rate,
        },
        "connectors": {
            "main": {
                "api_url": statuspage_url,
                "api_key_env": "DEMO_STATUSPAGE_KEY",
                "requests_per_minute": rate,
            }
        },
        "incident_actions": [
            {
                "name": "public-api",
                "alert_sources": [AUTO_SOURCE],
                "connector": "main",
                "page_id": AUTO_PAGE,
            },
            {
                "name": "manual-review",
                "alert_sources": [MANUAL_SOURCE],
                "connector": "main",
                "page_id": MANUAL_PAGE,
                "trigger_mode": "manual",
            },
        ],
    }


def world_config(
    lifecycle: str, ilert_url: str, statuspage_url: str, database_url: str, *, rate: int = 600
) -> Config:
    """The parsed config the in-process tests run with: one automatic, one manual action."""
    data = world_settings(lifecycle, ilert_url, statuspage_url, database_url, rate=rate)
    environ = {"DEMO_ILERT_KEY": ILERT_KEY, "DEMO_STATUSPAGE_KEY": STATUSPAGE_KEY}
    return parse_config(data, environ, origin="demo config")
