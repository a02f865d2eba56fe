"""An alert deleted in iLert while its incident is open: the incident is resolved, saying so.

It used to stay open forever (every read answered 404, logged once) while
`sync` exited 0. Now three 404 reads spanning ten minutes on iLert's clock
confirm the deletion; the incident is resolved with the `deleted` template's
text and the audit trail records event `deleted`. Until then the item waits
(`sync` exits 1), and an answer with the alert in between starts the count again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from structlog.testing import capture_logs

from ilert_statuspage_sync.config.publish import parse_publish_policy
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

GONE_TEXT = "This alert was removed from our on-call system."


def _later(harness: Harness, minutes: float) -> None:
    """Both clocks, the daemon's and iLert's (its Date header), move on by ``minutes``."""
    harness.clock_offset += timedelta(minutes=minutes)
    offset = harness.clock_offset
    clock: Callable[[], datetime] = lambda: datetime.now(UTC) + offset  # noqa: E731
    harness.ilert.set_clock(clock)
    harness.statuspage.set_clock(clock)


def _incident(harness: Harness) -> dict[str, Any]:
    (incident,) = harness.incidents()
    return incident


def test_a_deleted_alert_resolves_its_incident_after_three_404s_over_ten_minutes(
    harness: Harness,
):
    """404 at 0, 5 and 11 minutes: open, open (exit 1), then resolved with the deleted text."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.delete_alert(alert_id)

    with capture_logs() as logs:
        first = harness.sync()
    assert not first.ok and first.deferred_items == 1  # `sync` exits 1 while unconfirmed
    assert [e["reads"] for e in logs if e["event"] == "alert_missing"] == [1]
    _later(harness, 5)
    assert not harness.sync().ok
    assert _incident(harness)["status"] != "resolved"
    _later(harness, 6)
    report = harness.sync()

    incident = _incident(harness)
    assert report.ok
    assert incident["status"] == "resolved"
    assert incident["incident_updates"][0]["body"] == GONE_TEXT  # newest first
    assert ("deleted", "status_changed", "resolved") in [
        (event, outcome, to) for event, outcome, to in harness.transitions(alert_id)
    ]
    link = harness.link("public-api", alert_id)
    assert link is not None and not link.is_open


def test_three_quick_404s_are_not_enough(harness: Harness):
    """Three 404s within a minute: the span is not ten minutes, the incident stays open."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.delete_alert(alert_id)

    for _ in range(4):
        assert not harness.sync().ok

    assert _incident(harness)["status"] != "resolved"
    link = harness.link("public-api", alert_id)
    assert link is not None and link.missing_reads == 4 and link.is_open


def test_an_answer_with_the_alert_in_between_starts_the_count_again(harness: Harness):
    """404, 404, then the alert answers again: the count is reset; later 404s start over."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    alert = harness.ilert.delete_alert(alert_id)
    harness.sync()
    _later(harness, 6)
    harness.sync()
    harness.ilert.set_raw_alert(alert_id, alert)  # it was only hidden from the key
    _later(harness, 1)
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.missing_reads == 0

    harness.ilert.delete_alert(alert_id)
    _later(harness, 6)
    harness.sync()

    assert _incident(harness)["status"] != "resolved"  # one 404 of a new count


def test_the_deleted_text_is_a_template(harness: Harness):
    """`templates.deleted` words the resolve, with the alert's variables."""
    keys = {"templates": {"deleted": "{{ alert.summary }} was withdrawn in iLert."}}
    policy = parse_publish_policy(keys, "incident_actions[0]", "test.toml")
    actions = tuple(
        dataclasses.replace(a, publish=policy) if a.name == "public-api" else a
        for a in harness.config.incident_actions
    )
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.delete_alert(alert_id)
    for minutes in (0, 5, 6):
        _later(harness, minutes)
        harness.sync()

    incident = _incident(harness)
    assert incident["status"] == "resolved"
    assert incident["incident_updates"][0]["body"] == "Checkout down was withdrawn in iLert."


def _ilert_ahead(harness: Harness, minutes: float) -> None:
    """Only iLert's clock (its Date header) runs ``minutes`` ahead of the daemon's."""
    offset = harness.clock_offset + timedelta(minutes=minutes)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC) + offset  # noqa: E731
    harness.ilert.set_clock(clock)


def _resolved(harness: Harness) -> int:
    return sum(incident["status"] == "resolved" for incident in harness.incidents())


def test_twenty_alerts_answering_404_at_once_are_held_not_resolved(harness: Harness):
    """20 of 20 open incidents' alerts 404 (a narrowed key looks the same): none resolved."""
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"db-{n} down") for n in range(20)]
    assert harness.sync().ok
    for alert_id in ids:
        harness.ilert.delete_alert(alert_id)
    harness.sync()
    _later(harness, 5)
    harness.sync()
    _later(harness, 6)

    with capture_logs() as logs:
        report = harness.sync()

    assert _resolved(harness) == 0
    assert not report.ok and report.deferred_items == 20
    (held,) = [e for e in logs if e["event"] == "alert_deletion_held"]
    assert held["alerts"] == 20 and "20 of 20" in held["reason"]


def test_an_alert_of_a_source_the_key_no_longer_sees_is_not_taken_as_deleted(harness: Harness):
    """The source hidden from the key: its alert 404s past the span, the incident stays open."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.hide_alert_source(AUTO_SOURCE)
    for minutes in (0, 5, 6):
        _later(harness, minutes)
        with capture_logs() as logs:
            harness.sync()

    assert _incident(harness)["status"] != "resolved"
    (held,) = [e for e in logs if e["event"] == "alert_deletion_held"]
    assert f"alert source {AUTO_SOURCE}" in held["reason"]
    harness.ilert.hide_alert_source(AUTO_SOURCE, hidden=False)
    assert harness.sync().ok
    link = harness.link("public-api", alert_id)
    assert link is not None and link.is_open and link.missing_reads == 0


def test_an_ilert_date_15_minutes_ahead_does_not_shorten_the_ten_minutes(harness: Harness):
    """404s over one minute of this machine's time, iLert's Date 15 minutes ahead: still open."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.delete_alert(alert_id)
    harness.sync()
    _later(harness, 0.5)
    harness.sync()
    _later(harness, 0.5)
    _ilert_ahead(harness, 15)
    harness.sync()

    assert _incident(harness)["status"] != "resolved"


def test_an_ilert_404_on_a_timeline_is_no_incident_deleted_on_the_page(harness: Harness):
    """An alert deleted between the list read and its timeline's (iLert's 404 there) is
    not taken for an incident a person deleted on Statuspage: the link stays open and
    mirrored, so the deletion is still confirmed and the incident resolved."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down")
    assert harness.sync().ok
    harness.ilert.comment(alert_id, "Looking into it.")
    harness.ilert.fail_next(1, 404, path_contains=f"/api/alerts/{alert_id}/log-entries")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.is_open and not link.human_override
    assert link.statuspage_status != "deleted"
