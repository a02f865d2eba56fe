"""A failure only one item sees is that item's: it backs off, the others go on.

Statuspage answering 500 to every PATCH of one incident must not hold back a
newer alert, nor log the connector down and up each pass. Enough distinct
items failing in a row, with nothing succeeding, is an outage: one line when
it starts, one when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from structlog.testing import capture_logs

from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE


def _lines(logs: Sequence[Mapping[str, Any]], event: str) -> int:
    return sum(1 for line in logs if line["event"] == event)


def _poisoned(harness: Harness) -> tuple[int, str]:
    """An alert on the page whose incident Statuspage answers 500 to every PATCH."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    harness.sync()
    (incident,) = harness.incidents()
    harness.statuspage.fail_next(1000, 500, path_contains=incident["id"], method="PATCH")
    harness.ilert.accept(alert_id)
    return alert_id, incident["id"]


def test_newer_alert_reaches_the_page_despite_a_poisoned_older_one(harness: Harness):
    """The older alert's PATCH always 500s; the newer alert's incident opens in its first pass."""
    poisoned, _incident = _poisoned(harness)
    newer = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 over 2s")
    with capture_logs() as logs:
        passes = 0
        while len(harness.incidents()) < 2 and passes < 8:
            harness.sync()
            harness.clock_offset += timedelta(minutes=5)
            passes += 1
    assert passes == 1
    link = harness.link("public-api", poisoned)
    assert link is not None and link.failures >= 1 and link.last_error
    newer_link = harness.link("public-api", newer)
    assert newer_link is not None and newer_link.statuspage_incident_id
    assert _lines(logs, "service_unreachable") == 0
    assert _lines(logs, "service_recovered") == 0


def test_one_poisoned_item_logs_no_outage_over_many_passes(harness: Harness):
    """Eight passes past the item's back-off: no service_unreachable, no service_recovered."""
    poisoned, _incident = _poisoned(harness)
    with capture_logs() as logs:
        for _ in range(8):
            harness.clock_offset += timedelta(hours=2)  # past any back-off: it is tried each pass
            report = harness.sync()
            assert not report.ok
    assert _lines(logs, "service_unreachable") == 0
    assert _lines(logs, "service_recovered") == 0
    assert _lines(logs, "alert_write_failed") == 8
    link = harness.link("public-api", poisoned)
    assert link is not None and link.failures == 8


def test_failing_items_go_behind_the_others(harness: Harness):
    """Past its back-off the failing alert is tried after a newer alert, not before it."""
    _poisoned(harness)
    harness.sync()  # the poisoned alert fails once
    harness.clock_offset += timedelta(hours=2)
    harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 over 2s")
    first = len(harness.statuspage.requests)
    harness.sync()
    writes = [(r.method, r.path) for r in harness.statuspage.requests[first:] if r.method != "GET"]
    assert [method for method, _path in writes] == ["POST", "PATCH"]


def test_an_outage_of_writes_is_one_down_line_and_one_up_line(harness: Harness):
    """Every create 500s while the page reads work: the third distinct item marks the connector
    down once; the page reads meanwhile do not count as recovery; up once when writes work."""
    harness.ilert.create_alert(AUTO_SOURCE, "Already on the page", "")
    harness.sync()  # an incident on the page: each pass reads the page first
    harness.statuspage.fail_next(6, 500, method="POST")  # two passes of three items
    for title in ("Checkout errors", "Search slow", "Login failing", "Cart empty"):
        harness.ilert.create_alert(AUTO_SOURCE, title, "down")
    with capture_logs() as logs:
        first = harness.sync()
        for _ in range(3):
            harness.clock_offset += timedelta(hours=2)  # past every back-off
            harness.sync()
    assert (first.failed_items, first.deferred_items) == (0, 4)
    # The two failing before the third are the outage's, not theirs: no back-off, no warning.
    assert _lines(logs, "alert_write_failed") == 0
    assert _lines(logs, "service_unreachable") == 1
    assert _lines(logs, "service_recovered") == 1
    assert len(harness.incidents()) == 5


def test_alerts_reach_the_page_within_two_passes_after_a_write_outage(harness: Harness):
    """Twenty passes of every create failing: no alert waits, all are on the page in
    at most two passes once writes work, and no alert_write_failed is logged."""
    harness.ilert.create_alert(AUTO_SOURCE, "Already on the page", "")
    harness.sync()
    harness.statuspage.fail_next(10**6, 500, method="POST")
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"alert {i}", "down") for i in range(6)]
    with capture_logs() as logs:
        for _ in range(20):
            harness.sync()
            harness.clock_offset += timedelta(seconds=30)
    assert _lines(logs, "alert_write_failed") == 0
    links = [harness.link("public-api", i) for i in ids]
    assert all(link is not None and link.next_attempt_at is None for link in links)
    harness.statuspage.clear_faults()
    passes = 0
    while len(harness.incidents()) < 7 and passes < 20:
        harness.sync()
        harness.clock_offset += timedelta(seconds=30)
        passes += 1
    assert passes <= 2


def test_three_poisoned_alerts_do_not_hold_back_a_newer_one(harness: Harness):
    """Three older alerts' PATCHes always 500 (judged an outage: no back-off): in the next
    pass they go behind the newer alert, whose incident opens."""
    titles = ("Checkout errors", "Search slow", "Login failing")
    poisoned = [harness.ilert.create_alert(AUTO_SOURCE, title, "down") for title in titles]
    harness.sync()
    for incident in harness.incidents():
        harness.statuspage.fail_next(1000, 500, path_contains=incident["id"], method="PATCH")
    for alert_id in poisoned:
        harness.ilert.accept(alert_id)
    harness.sync()  # three distinct failures, nothing succeeding: an outage
    harness.ilert.create_alert(AUTO_SOURCE, "Cart empty", "down")
    first = len(harness.statuspage.requests)
    harness.sync()
    writes = [r.method for r in harness.statuspage.requests[first:] if r.method != "GET"]
    assert writes[0] == "POST"
    assert len(harness.incidents()) == 4


def test_a_comment_answered_after_the_read_timeout_is_not_sent_twice(harness: Harness):
    """The comment's PATCH is held past the client's timeout, then applied: the next passes
    wait for it (own intent, no answer: in flight) instead of sending it again."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx")
    harness.sync()
    (incident,) = harness.incidents()
    harness.ilert.comment(alert_id, "We are rolling back")
    harness.statuspage.delay_next(4.0, path_contains=incident["id"], method="PATCH")
    first = len(harness.statuspage.requests)
    harness.sync()  # the client gives up after 2 s; the server applies it at 4 s
    harness.clock_offset += timedelta(seconds=30)
    harness.sync()
    time.sleep(4.5)
    harness.sync()
    patches = [r for r in harness.statuspage.requests[first:] if r.method == "PATCH"]
    assert len(patches) == 1  # the held one, recorded when it was applied
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count("We are rolling back") == 1
