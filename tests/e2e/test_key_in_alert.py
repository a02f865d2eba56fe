"""An alert whose summary, details or comment quotes one of the daemon's own keys: the page
shows the mask, the audit records exactly what the page shows, and ``links.alert_summary``
holds no piece of the key, on SQLite and PostgreSQL."""

from __future__ import annotations

from ilert_statuspage_sync.runtime.secrets import MASK
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE, ILERT_KEY, STATUSPAGE_KEY


def _pieces() -> list[str]:
    return [key[i : i + 8] for key in (ILERT_KEY, STATUSPAGE_KEY) for i in range(len(key) - 7)]


def _leaked(text: str) -> list[str]:
    return [piece for piece in _pieces() if piece in text.lower()]


def test_a_key_in_the_alert_is_masked_on_the_page_the_audit_and_the_link(harness: Harness):
    """Summary with the iLert key, details with the Statuspage key: both masked everywhere,
    and the audit's published name and body are the page's own."""
    alert_id = harness.ilert.create_alert(
        AUTO_SOURCE, f"Checkout down {ILERT_KEY}", f"token {STATUSPAGE_KEY.upper()} rejected"
    )
    harness.sync()
    (incident,) = harness.incidents()
    body = incident["incident_updates"][-1]["body"]
    assert incident["name"] == f"Checkout down {MASK}"
    assert _leaked(incident["name"] + body) == [], (incident["name"], body)
    (row,) = [row for row in harness.audit_rows() if row.published_name]
    assert (row.published_name, row.published_body) == (incident["name"], body)
    link = harness.link("public-api", alert_id)
    assert link is not None
    assert _leaked(link.alert_summary) == [], link.alert_summary
