"""Reconciliation tells identical comment bodies apart: only an update after the intent counts.

The same comment text twice on one alert is legitimate ("still investigating").
When the second one's PATCH is interrupted, only an incident update created
after its intent may be taken as proof that it landed; the first comment's
update, with the same body, must not be.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.service.wiring import PAUSE_ENV
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.harness import Harness
from tests.support.proc import finish_sync, kill_process, start_sync, wait_for_line
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

TEXT = "Still investigating."


def _bodies(harness: Harness) -> list[str]:
    (incident,) = harness.incidents()
    return [update["body"] for update in incident["incident_updates"]]


def _comment_rows(rows: list[tuple[str, str, str | None]]) -> list[str]:
    return [outcome for event, outcome, reason in rows if event == "comment_added"]


def _audit(harness: Harness, alert_id: int) -> list[tuple[str, str, str | None]]:
    return [
        (row.event, row.outcome, row.reason)
        for row in harness.audit_rows()
        if row.alert_id == alert_id
    ]


def _with_one_comment(harness: Harness) -> int:
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Repeated note", "")
    harness.sync()
    harness.ilert.comment(alert_id, TEXT)
    harness.sync()
    assert _bodies(harness).count(TEXT) == 1
    return alert_id


def test_identical_comment_after_unapplied_503_is_posted(harness: Harness):
    """A second identical comment whose PATCH got an unapplied 503 is posted on a later pass."""
    alert_id = _with_one_comment(harness)
    harness.ilert.comment(alert_id, TEXT)
    harness.statuspage.fail_next(1, 503, method="PATCH")
    harness.sync()
    assert _bodies(harness).count(TEXT) == 1
    harness.sync()
    harness.sync()
    assert _bodies(harness).count(TEXT) == 2
    rows = _audit(harness, alert_id)
    assert _comment_rows(rows) == ["body_updated", "body_updated"]
    assert not any("interrupted call" in (reason or "") for _e, _o, reason in rows)


def test_identical_comment_applied_but_unanswered_is_adopted_once(harness: Harness):
    """A second identical comment applied but unanswered is adopted, never posted a third time."""
    alert_id = _with_one_comment(harness)
    harness.ilert.comment(alert_id, TEXT)
    harness.statuspage.drop_next(1, method="PATCH", after_apply=True)
    harness.sync()
    harness.sync()
    harness.sync()
    assert _bodies(harness).count(TEXT) == 2
    patches = [w for w in harness.statuspage.writes() if w.method == "PATCH"]
    assert len(patches) == 2
    rows = _audit(harness, alert_id)
    assert _comment_rows(rows) == ["body_updated", "body_updated"]
    assert "interrupted call" in (rows[-1][2] or "")


def test_third_identical_comment_while_the_second_reconciles(harness: Harness):
    """Two identical comments queued behind an unanswered one: each lands exactly once."""
    alert_id = _with_one_comment(harness)
    harness.ilert.comment(alert_id, TEXT)
    harness.statuspage.fail_next(1, 503, method="PATCH")
    harness.sync()
    harness.ilert.comment(alert_id, TEXT)
    harness.sync()
    harness.sync()
    assert _bodies(harness).count(TEXT) == 3
    assert _comment_rows(_audit(harness, alert_id)) == ["body_updated"] * 3


def test_update_intent_records_the_updates_that_existed_with_its_text(harness: Harness):
    """The intent of an update names the incident's earlier updates that carry its text."""
    alert_id = _with_one_comment(harness)
    harness.ilert.comment(alert_id, TEXT)
    harness.statuspage.fail_next(1, 503, method="PATCH")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.pending_call is not None
    (incident,) = harness.incidents()
    assert sorted(link.pending_call["updates_before"]) == sorted(
        update["id"] for update in incident["incident_updates"] if update["body"] == TEXT
    )
    assert len(incident["incident_updates"]) == 2  # the create's update has another text


def _incident_requests(harness: Harness) -> list[str]:
    """Requests about one incident (the per-pass unresolved-list read of the healer left out)."""
    return [r.method for r in harness.statuspage.requests if not r.path.endswith("/unresolved")]


def test_known_updates_cost_no_read_until_a_restart(harness: Harness):
    """A running daemon knows the updates it saw; after a restart one GET precedes the PATCH."""
    alert_id = _with_one_comment(harness)
    harness.statuspage.clear_requests()
    harness.ilert.comment(alert_id, TEXT)
    harness.sync()
    assert _incident_requests(harness) == ["PATCH"]
    harness.syncer = harness.new_syncer()
    harness.statuspage.clear_requests()
    harness.ilert.comment(alert_id, TEXT)
    harness.sync()
    assert _incident_requests(harness) == ["GET", "PATCH"]
    assert _bodies(harness).count(TEXT) == 3


@pytest.mark.slow
def test_identical_comment_killed_at_its_intent_is_posted(
    sims: tuple[IlertSimulator, StatuspageSimulator], config_path: Path
):
    """A `sync` SIGKILLed at a repeated comment's intent posts it after the restart."""
    ilert, statuspage = sims
    finish_sync(config_path)
    alert_id = ilert.create_alert(AUTO_SOURCE, "Repeated note", "")
    finish_sync(config_path)
    ilert.comment(alert_id, TEXT)
    finish_sync(config_path)
    ilert.comment(alert_id, TEXT)
    process: subprocess.Popen[str] = start_sync(config_path, {PAUSE_ENV: "intent_update"})
    kill_process(process, wait_for_line(process, "paused at intent_update"))
    finish_sync(config_path)
    finish_sync(config_path)

    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert [u["body"] for u in incident["incident_updates"]].count(TEXT) == 2
    engine = sa.create_engine(f"sqlite:///{config_path.parent / 'state.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT outcome, reason FROM transitions WHERE event = 'comment_added'")
        ).all()
    engine.dispose()
    assert [row[0] for row in rows] == ["body_updated", "body_updated"]
    assert not any("interrupted call" in (row[1] or "") for row in rows)
