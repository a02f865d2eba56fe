"""A database that refuses one alert's rows rolls back that alert only; the pass goes on.

The refusal is real: a trigger on the ``links`` table (SQLite and PostgreSQL)
aborts the statement for one alert id, the way a constraint, a full disk or a
value the column cannot hold would. The other alert, sorted after it, syncs;
once the trigger is gone the refused alert syncs too, exactly once.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from structlog.testing import capture_logs

from tests.support.database import allow_links, refuse_links
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

ACTION = "public-api"


def _two_alerts(harness: Harness) -> tuple[int, int]:
    refused = harness.ilert.create_alert(AUTO_SOURCE, "refused alert", "")
    good = harness.ilert.create_alert(AUTO_SOURCE, "good alert", "")
    return refused, good


def _incidents_of(harness: Harness) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for incident in harness.incidents():
        found.setdefault(incident["metadata"]["ilert"]["alert_id"], []).append(incident)
    return found


def _events(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [line for line in logs if line["event"] == name]


def test_a_refused_failure_record_is_logged_and_the_pass_goes_on(harness: Harness) -> None:
    """Every update of one alert's link refused: one line for it, the next alert still syncs."""
    refused, good = _two_alerts(harness)
    harness.sync()  # both links exist; nothing is refused yet
    harness.ilert.comment(refused, "first comment")
    harness.ilert.comment(good, "good comment")
    refuse_links(harness.engine, "UPDATE", f"NEW.alert_id = {refused}")

    with capture_logs() as logs:
        report = harness.sync()

    assert report.failed_items == 1
    unrecorded = _events(logs, "alert_failure_unrecorded")
    assert [line["alert_id"] for line in unrecorded] == [refused]
    assert "refused by the test" in unrecorded[0]["record_error"]
    assert len(_events(logs, "pass_finished")) == 1
    bodies = [u["body"] for u in _incidents_of(harness)[str(good)][0]["incident_updates"]]
    assert "good comment" in bodies

    allow_links(harness.engine)
    harness.clock_offset = timedelta(hours=2)
    assert harness.sync().ok
    incident = _incidents_of(harness)[str(refused)]
    assert len(incident) == 1
    assert "first comment" in [u["body"] for u in incident[0]["incident_updates"]]


def test_a_refused_new_link_skips_that_alert_only(harness: Harness) -> None:
    """The database refuses one new link: that alert is logged, the others are tracked and sync."""
    refused, good = _two_alerts(harness)
    refuse_links(harness.engine, "INSERT", f"NEW.alert_id = {refused}")

    with capture_logs() as logs:
        report = harness.sync()

    assert report.ilert_ok
    assert [line["alert_id"] for line in _events(logs, "alert_unstorable")] == [refused]
    assert set(_incidents_of(harness)) == {str(good)}
    assert harness.link(ACTION, refused) is None

    allow_links(harness.engine)
    assert harness.sync().ok
    assert {key: len(value) for key, value in _incidents_of(harness).items()} == {
        str(refused): 1,
        str(good): 1,
    }


def test_an_outcome_refused_after_the_write_is_adopted_later_never_repeated(
    harness: Harness,
) -> None:
    """The create lands but its outcome commit is refused: rolled back, retried, one incident."""
    refused, good = _two_alerts(harness)
    refuse_links(
        harness.engine,
        "UPDATE",
        f"NEW.alert_id = {refused} AND NEW.statuspage_incident_id IS NOT NULL",
    )

    with capture_logs() as logs:
        report = harness.sync()

    assert report.failed_items == 1
    assert [line["alert_id"] for line in _events(logs, "alert_store_failed")] == [refused]
    assert not _events(logs, "alert_failure_unrecorded")
    link = harness.link(ACTION, refused)
    assert link is not None and link.failures == 1 and link.pending_call is not None
    assert set(_incidents_of(harness)) == {str(refused), str(good)}

    allow_links(harness.engine)
    harness.clock_offset = timedelta(hours=2)
    assert harness.sync().ok
    assert len(_incidents_of(harness)[str(refused)]) == 1
    link = harness.link(ACTION, refused)
    assert link is not None and link.pending_call is None and link.statuspage_incident_id
