"""A storm larger than any list cut, then the state lost: no public text is repeated."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.config import MAX_REQUESTS_PER_MINUTE
from ilert_statuspage_sync.core import relink as core_relink
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition
from ilert_statuspage_sync.sync import relink as sync_relink
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

STORM = 520


def test_a_storm_of_520_alerts_rebuilt_after_state_loss_repeats_no_update(make_harness: Any):
    """520 alerts share one incident, the database is emptied, a restart rebuilds: all 520 are
    linked again, the next pass writes nothing, and the last resolve resolves the incident."""
    probe: Harness = make_harness("classic")
    auto, *rest = probe.config.incident_actions
    # The rebuild reads each alert and its timeline: 1,040 reads, past the tests' budget of 600.
    ilert = dataclasses.replace(probe.config.ilert, requests_per_minute=MAX_REQUESTS_PER_MINUTE)
    storm: Harness = make_harness(
        "classic", incident_actions=(dataclasses.replace(auto, group="action"), *rest), ilert=ilert
    )
    storm.sync()
    ids = [storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "") for n in range(STORM)]
    storm.sync()
    (incident,) = storm.incidents(AUTO_PAGE)
    assert len(incident["incident_updates"]) == STORM  # the create and 519 joins
    with storm.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    storm.syncer = storm.new_syncer()  # a restart on the emptied database
    writes = len(storm.statuspage.writes())
    storm.sync()
    with storm.sessions() as session:
        linked = session.scalars(sa.select(Link.statuspage_incident_id)).all()
    assert linked == [incident["id"]] * STORM
    storm.sync()
    (incident,) = storm.incidents(AUTO_PAGE)
    assert len(storm.statuspage.writes()) == writes
    assert len(incident["incident_updates"]) == STORM
    for alert_id in ids:
        storm.ilert.resolve(alert_id)
    storm.sync()
    (incident,) = storm.incidents(AUTO_PAGE)
    assert incident["status"] == "resolved"
    assert len(incident["incident_updates"]) == STORM + 1
    assert len(storm.statuspage.writes()) == writes + 1


def test_forged_storm_metadata_bounds_what_a_rebuild_reads(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    """An incident whose metadata names 999,999 alerts (`1.999998`), then the state lost: the
    rebuild reads back only the capped lowest ids (the cap lowered to 30 here: 10,000 in
    production), warns once, and links the real alert; the next pass writes nothing."""
    monkeypatch.setattr(core_relink, "MAX_INCIDENT_ALERTS", 30)
    monkeypatch.setattr(sync_relink, "MAX_INCIDENT_ALERTS", 30)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db down", "")
    harness.sync()
    (incident,) = harness.incidents(AUTO_PAGE)
    client = next(iter(harness.syncer.statuspage.values()))
    forged = {**incident["metadata"]["ilert"], "group": "action", "alert_id_runs": "1.999998"}
    client.update_incident(AUTO_PAGE, incident["id"], {"metadata": {"ilert": forged}})
    with harness.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    harness.syncer = harness.new_syncer()
    reads = len(harness.ilert.requests)
    writes = len(harness.statuspage.writes())
    with capture_logs() as logs:
        harness.sync()
    capped = [line for line in logs if line["event"] == "state_rebuild_alerts_capped"]
    assert [(c["alerts_named"], c["alerts_read"]) for c in capped] == [(999_999, 30)]
    assert len(harness.ilert.requests) - reads <= 2 * 30 + 10
    assert harness.link("public-api", alert_id) is not None
    harness.sync()
    assert len(harness.statuspage.writes()) == writes


def test_a_rebuild_cut_short_by_ilert_reads_no_alert_twice(make_harness: Any):
    """A shared incident of 10 alerts, the state lost, iLert failing on the last alert's read:
    the rebuild stores nothing; the next pass completes it reading only what it lacked (each
    alert read by id once in all), and writes nothing."""
    probe: Harness = make_harness("classic")
    auto, *rest = probe.config.incident_actions
    storm: Harness = make_harness(
        "classic", incident_actions=(dataclasses.replace(auto, group="action"), *rest)
    )
    storm.sync()
    ids = [storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "") for n in range(10)]
    storm.sync()
    with storm.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    storm.syncer = storm.new_syncer()
    writes = len(storm.statuspage.writes())
    before = len(storm.ilert.requests)
    storm.ilert.fail_next(3, path_contains=f"/api/alerts/{ids[-1]}", method="GET")
    with capture_logs() as logs:
        storm.sync()
    assert [line["event"] for line in logs if line["event"].startswith("state_rebuil")] == [
        "state_rebuild_failed"
    ]
    storm.sync()
    with storm.sessions() as session:
        assert sorted(session.scalars(sa.select(Link.alert_id))) == ids
    paths = [r.path for r in storm.ilert.requests[before:]]
    # The rebuild reads each alert by id (the passes themselves list alerts, never by id).
    assert [paths.count(f"/api/alerts/{alert_id}") for alert_id in ids[:-1]] == [1] * 9
    assert len(storm.statuspage.writes()) == writes
