"""A storm larger than any list cut, then the state lost: no public text is repeated."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from ilert_statuspage_sync.config import MAX_REQUESTS_PER_MINUTE
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition
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
