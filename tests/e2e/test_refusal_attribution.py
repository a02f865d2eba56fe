"""A refusal is attributed to what was refused, and a transition the page lacks is kept.

A 422 on a call carrying a status and a body is sent again with the status
alone: a refused body is recorded failed once while the status reaches the
page; only a status refused alone is a fact about the page. A status the page
still lacks (a resolve) is retried with a growing delay, shows in ``status``
and makes ``sync`` exit 1 until the page has it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from ilert_statuspage_sync.commands import status as status_command
from ilert_statuspage_sync.store.core_reads import rows_of
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

FORBIDDEN = "http://forbidden.example/runbook"
ACTION = "public-api"
# Two attempts of a resolve (a status alone: no body to tell apart).
PATCHES_REFUSED = 2


def _statuses(harness: Harness) -> dict[str, str]:
    return {i["name"]: i["status"] for i in harness.incidents()}


def test_a_refused_body_does_not_poison_in_progress_for_the_page(harness: Harness):
    """Body 422 on the accept's call: in_progress still lands; a second alert's accept too."""
    first = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    harness.sync()
    harness.statuspage.refuse_bodies_containing(FORBIDDEN)
    harness.ilert.accept(first)
    harness.ilert.comment(first, f"Runbook: {FORBIDDEN}")
    report = harness.sync()
    assert not report.ok  # the refused body is a failed row in this pass
    assert _statuses(harness) == {"Checkout errors": "in_progress"}
    rows = [(r.event, r.outcome, r.to_status) for r in harness.audit_rows() if r.alert_id == first]
    assert ("accepted", "status_changed", "in_progress") in rows
    assert ("comment_added", "failed", "in_progress") in rows
    second = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 over 2s")
    harness.sync()
    harness.ilert.accept(second)
    assert harness.sync().ok
    assert _statuses(harness)["Search slow"] == "in_progress"


def test_after_a_restart_in_progress_is_still_sent(harness: Harness):
    """A body refused before a restart leaves no page fact behind: a later accept lands."""
    first = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    second = harness.ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 over 2s")
    harness.sync()
    harness.statuspage.refuse_bodies_containing(FORBIDDEN)
    harness.ilert.accept(first)
    harness.ilert.comment(first, f"Runbook: {FORBIDDEN}")
    harness.sync()
    harness.syncer = harness.new_syncer()  # a restart
    harness.ilert.accept(second)
    assert harness.sync().ok
    assert _statuses(harness) == {"Checkout errors": "in_progress", "Search slow": "in_progress"}
    accepted = [r for r in harness.audit_rows() if r.event == "accepted"]
    assert [(r.alert_id, r.outcome) for r in accepted] == [
        (first, "status_changed"),
        (second, "status_changed"),
    ]


def test_a_one_off_422_on_a_resolve_is_not_final(harness: Harness):
    """One 422 to the resolve's PATCH: the incident is resolved within two passes."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Login errors", "")
    harness.sync()
    harness.statuspage.inject_fault(422, {"error": "Body is invalid"}, method="PATCH")
    harness.ilert.resolve(alert_id)
    harness.sync()
    harness.clock_offset += timedelta(hours=2)
    harness.sync()
    assert _statuses(harness) == {"Login errors": "resolved"}
    assert harness.sync().ok


def test_a_refused_resolve_is_retried_with_back_off_and_shows(
    harness: Harness, capsys: pytest.CaptureFixture[str]
):
    """Resolve 422s twice over: kept, retried with a growing delay, in status, sync not ok."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Login errors", "")
    harness.sync()
    (incident,) = harness.incidents()
    harness.statuspage.fail_next(PATCHES_REFUSED, 422, path_contains=incident["id"], method="PATCH")
    harness.ilert.resolve(alert_id)
    assert not harness.sync().ok
    link = harness.link(ACTION, alert_id)
    assert link is not None and link.failures == 1 and link.is_open
    first_wait = link.next_attempt_at
    assert not harness.sync().ok  # waiting: still not ok, nothing sent
    harness.clock_offset += timedelta(seconds=harness.config.poll_interval * 1.5)
    assert not harness.sync().ok
    link = harness.link(ACTION, alert_id)
    assert link is not None and link.failures == 2
    assert first_wait is not None and link.next_attempt_at is not None
    waits = link.next_attempt_at - first_wait
    assert waits > timedelta(seconds=harness.config.poll_interval)  # the delay grew
    # The status command's lines, read on the harness's engine (closed with the harness).
    with harness.engine.connect() as connection:
        status_command.show(rows_of(connection), argparse.Namespace(), datetime.now(UTC))
    said = capsys.readouterr().out
    assert "failing items: 1" in said
    assert "2x, retry" in said
    assert _statuses(harness) == {"Login errors": "identified"}
    harness.clock_offset += timedelta(hours=2)
    assert harness.sync().ok
    assert _statuses(harness) == {"Login errors": "resolved"}


def test_a_create_whose_body_is_refused_opens_the_incident_without_it(harness: Harness):
    """The details carry a forbidden link: the incident opens in its status, without the body;
    the body that never went out is one failed row and the pass is not ok, as for a comment."""
    harness.statuspage.refuse_bodies_containing(FORBIDDEN)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", f"See {FORBIDDEN}")
    report = harness.sync()
    assert _statuses(harness) == {"Checkout errors": "identified"}
    row, failed = [r for r in harness.audit_rows() if r.alert_id == alert_id]
    assert (row.outcome, row.published_body) == ("created", None)
    assert "sent without its body" in (row.reason or "")
    assert failed.outcome == "failed" and failed.reason
    assert not report.ok and report.failed_items == 1
    link = harness.link(ACTION, alert_id)
    assert link is not None and not link.failures
