"""iLert documents no order for an alert's log entries: the daemon is right under either.

A read used to stop at the first page whose entries were all older than the
mirror's cursor, which is right only newest first. Served oldest first, every
entry past the first page was skipped: a comment made once the timeline had
passed 100 entries never reached the page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE


def _entry(
    alert_id: int, entry_id: int, kind: str = "NotificationLogEntry", text: str = ""
) -> dict[str, object]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    variables = {"comment": text, "author": "Ada"} if text else {}
    return {
        "id": entry_id,
        "timestamp": stamp,
        "logEntryType": kind,
        "text": text or "Notified Ada by SMS",
        "alertId": alert_id,
        "vars": variables,
    }


def _bodies(harness: Harness) -> list[str]:
    (incident,) = harness.incidents()
    return [update["body"] for update in incident["incident_updates"]]


def test_a_comment_past_the_first_page_of_an_oldest_first_timeline_reaches_the_page(
    harness: Harness,
):
    """Oldest first, 150 entries mirrored, then a comment: it is posted (page 2 is read)."""
    harness.ilert.set_log_order(newest_first=False)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "checkout errors")
    noise = [_entry(alert_id, n) for n in range(1, 151)]
    harness.ilert.set_raw_log_entries(alert_id, noise)
    assert harness.sync().ok  # mirrored: the cursor is entry 150

    comment = _entry(alert_id, 151, "AlertCommentAddedLogEntry", "Rolled back the release")
    harness.ilert.set_raw_log_entries(alert_id, [*noise, comment])
    assert harness.sync().ok

    assert any("Rolled back the release" in body for body in _bodies(harness))


def test_a_quiet_newest_first_timeline_still_costs_one_page(harness: Harness):
    """Newest first, proven by the first page: the read stops there, as before."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "checkout errors")
    harness.ilert.set_raw_log_entries(alert_id, [_entry(alert_id, n) for n in range(1, 251)])
    assert harness.sync().ok
    harness.ilert.clear_requests()

    assert harness.sync().ok
    path = f"/api/alerts/{alert_id}/log-entries"
    assert [r.query["start-index"] for r in harness.ilert.requests if r.path == path] == [["0"]]


def test_a_long_timeline_with_one_seconds_entries_in_ascending_id_is_finished(
    harness: Harness,
):
    """Newest first, ties in ascending id, past a pass's budget: the resolve lands in 2 passes."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "checkout errors")
    assert harness.sync().ok
    ids = list(range(1000, 6300))  # 53 pages: more than one pass's budget (50)
    # Stored oldest first and served reversed: each pair swapped comes in ascending id.
    stored = [i for k in range(0, len(ids), 2) for i in reversed(ids[k : k + 2])]
    harness.ilert.set_raw_log_entries(alert_id, [_entry(alert_id, i) for i in stored])
    harness.ilert.resolve(alert_id)

    statuses = []
    for _ in range(3):
        assert harness.sync().ok
        (incident,) = harness.incidents()
        statuses.append(incident["status"])

    assert statuses[:2] == ["identified", "resolved"]
