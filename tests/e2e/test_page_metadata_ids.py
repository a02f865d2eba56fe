"""Ids a person writes into an incident's metadata are read by one bounded parser.

Anyone with the Statuspage key may open an incident with any ``metadata``.
An ``alert_id`` of 5,000 digits used to raise ``ValueError`` in ``int()`` (past
Python's 4,300-digit limit) in the duplicate check and the rebuild: every
pass crashed, and nothing synced.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, STATUSPAGE_KEY

HUGE = "9" * 5000


def _person_opens(harness: Harness, raw_metadata: str) -> None:
    """Open an incident by hand, its metadata sent as raw JSON text."""
    body = (
        '{"incident": {"name": "by hand", "status": "investigating", "metadata": '
        + raw_metadata
        + "}}"
    ).encode()
    request = urllib.request.Request(
        f"{harness.statuspage.url}/v1/pages/{AUTO_PAGE}/incidents",
        data=body,
        method="POST",
        headers={"Authorization": f"OAuth {STATUSPAGE_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        answer.read()


def _statuses(harness: Harness) -> dict[str, Any]:
    return {incident["name"]: incident["status"] for incident in harness.incidents()}


def test_a_5000_digit_alert_id_in_page_metadata_does_not_stop_the_sync(harness: Harness):
    """Huge ids (an id, an id list) on open incidents: the other alert is created and resolved."""
    _person_opens(
        harness, json.dumps({"ilert": {"alert_id": HUGE, "incident_action": "public-api"}})
    )
    _person_opens(
        harness,
        json.dumps({"ilert": {"alert_ids": f"{HUGE},7", "incident_action": "public-api"}}),
    )
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "checkout errors")

    assert harness.sync().ok
    assert _statuses(harness)["checkout errors"] != "resolved"
    harness.ilert.resolve(alert_id)
    assert harness.sync().ok

    assert _statuses(harness)["checkout errors"] == "resolved"
    assert harness.link("public-api", alert_id) is not None
