"""A tracked alert iLert will not give an action is asked again after a growing delay.

A manual trigger of an id iLert does not have (404), or of an alert of another
source, used to be read on every pass and logged ``alert_read_failed`` forever.
Now the link records the failure and waits one interval, doubling, at most an
hour, like any refused item; ``status`` shows why.
"""

from __future__ import annotations

from datetime import timedelta

from structlog.testing import capture_logs

from ilert_statuspage_sync.store import repo
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

MISSING = 999_999


def _reads(harness: Harness, alert_id: int) -> int:
    return sum(1 for r in harness.ilert.requests if r.path == f"/api/alerts/{alert_id}")


def test_a_missing_triggered_alert_is_read_again_only_after_a_doubling_delay(harness: Harness):
    """404: one read and one failure per delay (1, then 2 intervals), nothing in between."""
    harness.trigger("manual-review", MISSING)
    harness.ilert.clear_requests()
    interval = harness.config.poll_interval

    first = harness.sync()
    assert first.failed_items == 1 and not first.ok
    assert _reads(harness, MISSING) == 1
    link = harness.link("manual-review", MISSING)
    assert link is not None and link.failures == 1
    assert link.last_error is not None and "HTTP 404" in link.last_error
    assert "`untrigger manual-review 999999`" in link.last_error

    waiting = harness.sync()
    assert _reads(harness, MISSING) == 1  # not asked again within the delay
    assert waiting.deferred_items == 1

    harness.clock_offset = timedelta(seconds=interval + 1)
    harness.sync()
    assert _reads(harness, MISSING) == 2
    link = harness.link("manual-review", MISSING)
    assert link is not None and link.failures == 2
    assert link.next_attempt_at is not None

    harness.clock_offset = timedelta(seconds=2 * interval + 2)  # 1 s into a 2-interval wait
    harness.sync()
    assert _reads(harness, MISSING) == 2
    assert harness.incidents(MANUAL_PAGE) == []


def test_a_triggered_alert_of_another_source_backs_off_and_says_why(harness: Harness):
    """An alert of a source the manual action does not cover: a failure naming the source."""
    foreign = harness.ilert.create_alert(AUTO_SOURCE, "Other team's alert")
    harness.sync()
    harness.trigger("manual-review", foreign)
    harness.ilert.clear_requests()

    report = harness.sync()
    assert report.failed_items == 1
    link = harness.link("manual-review", foreign)
    assert link is not None and link.failures == 1
    assert link.last_error is not None
    assert f"belongs to alert source {AUTO_SOURCE}" in link.last_error
    harness.sync()
    assert _reads(harness, foreign) <= 1
    assert harness.incidents(MANUAL_PAGE) == []


def _untrigger(harness: Harness, alert_id: int) -> repo.Untrigger:
    with harness.sessions() as session:
        result = repo.untrigger(session, "manual-review", alert_id)
        session.commit()
    return result


def _set(harness: Harness, alert_id: int, **values: object) -> None:
    with harness.sessions() as session:
        link = repo.find_link(session, "manual-review", alert_id)
        assert link is not None
        for name, value in values.items():
            setattr(link, name, value)
        session.commit()


def test_untrigger_deletes_only_a_trigger_nothing_was_sent_for(harness: Harness):
    """A cleared intent (JSON null) is nothing in flight; a recorded intent or an
    incident id keeps the link (on SQLite and PostgreSQL alike)."""
    assert _untrigger(harness, 11) is repo.Untrigger.NOT_TRIGGERED
    for alert_id, values, expected in (
        (11, {}, repo.Untrigger.CANCELLED),
        (12, {"pending_call": None}, repo.Untrigger.CANCELLED),
        (13, {"pending_call": {"op": "create"}}, repo.Untrigger.PUBLISHED),
        (14, {"statuspage_incident_id": "inc123"}, repo.Untrigger.PUBLISHED),
    ):
        harness.trigger("manual-review", alert_id)
        _set(harness, alert_id, **values)
        assert _untrigger(harness, alert_id) is expected, alert_id
        kept = harness.link("manual-review", alert_id) is not None
        assert kept == (expected is repo.Untrigger.PUBLISHED), alert_id


def test_a_published_alert_that_turns_404_waits_for_confirmation_and_clears_on_an_answer(
    harness: Harness,
):
    """Its incident is on the page and untrigger cannot end it: each 404 is counted towards
    a confirmed deletion (core.deletion), the item is deferred meanwhile (the pass is not ok),
    status shows the reason, and it all clears when iLert answers."""
    alert_id = harness.ilert.create_alert(MANUAL_SOURCE, "Exports failing")
    harness.trigger("manual-review", alert_id)
    harness.sync()
    assert len(harness.incidents(MANUAL_PAGE)) == 1
    harness.ilert.inject_fault(
        404, {"message": "Alert not found"}, times=2, path_contains=f"/api/alerts/{alert_id}"
    )

    with capture_logs() as first_logs:
        first = harness.sync()
    with capture_logs() as second_logs:
        second = harness.sync()

    assert not first.ok and not second.ok
    assert first.deferred_items == second.deferred_items == 1
    assert [e["reads"] for e in first_logs + second_logs if e["event"] == "alert_missing"] == [1, 2]
    link = harness.link("manual-review", alert_id)
    assert link is not None and link.last_error is not None and "404" in link.last_error
    assert link.failures == 0 and link.is_open and link.missing_reads == 2

    harness.sync()  # the fault is used up: iLert answers again
    link = harness.link("manual-review", alert_id)
    assert link is not None and link.last_error is None and link.missing_reads == 0
