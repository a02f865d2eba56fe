"""Replica safety in one process: duplicates self-heal, another replica's write is waited out."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.core.intents import Writer
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.unresolved import duplicate_body
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


def _post_copy(harness: Harness, alert_id: int) -> str:
    """Create an incident carrying the same metadata.ilert, as a late in-flight create would."""
    client = next(iter(harness.syncer.statuspage.values()))
    metadata = {"ilert": {"alert_id": str(alert_id), "incident_action": "public-api"}}
    fields = {"name": "copy", "status": "identified", "metadata": metadata}
    return client.create_incident(AUTO_PAGE, fields).id


def _unresolved_reads(harness: Harness) -> int:
    return sum("/incidents/unresolved" in r.path for r in harness.statuspage.requests)


def test_a_duplicate_incident_is_resolved_pointing_to_the_linked_one(harness: Harness):
    """Two open incidents for one alert: the linked one stays, the copy is resolved, audited
    and logged."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id is not None
    kept = link.statuspage_incident_id
    copy = _post_copy(harness, alert_id)
    with capture_logs() as logs:
        report = harness.sync()
    assert report.outcomes["duplicate_resolved"] == 1
    assert harness.statuspage.incident(kept)["status"] == "identified"
    resolved = harness.statuspage.incident(copy)
    assert resolved["status"] == "resolved"
    assert resolved["incident_updates"][0]["body"] == duplicate_body(kept)
    assert kept in duplicate_body(kept)
    row = harness.audit_rows()[-1]
    assert (row.outcome, row.statuspage_incident_id, row.alert_id) == (
        "duplicate_resolved",
        copy,
        alert_id,
    )
    assert next(e for e in logs if e["event"] == "duplicate_resolved")["kept"] == kept
    harness.sync()  # healed: nothing more to do
    assert len(harness.statuspage.writes()) == 3


def test_a_page_with_nothing_mirrored_costs_no_read(harness: Harness):
    """No mirrored incident: no unresolved read; then one read per pass for the page."""
    harness.sync()  # the first pass on an empty database looks for incidents to rebuild from
    harness.statuspage.clear_requests()
    harness.sync()
    assert _unresolved_reads(harness) == 0
    harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    before = _unresolved_reads(harness)
    harness.sync()
    assert _unresolved_reads(harness) == before + 1


def test_another_replicas_intent_waits_out_its_flight_time(harness: Harness):
    """An intent another replica recorded is deferred until its write deadline passed on the
    database's clock, then reconciled: never a second create."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "in flight", "")
    harness.statuspage.drop_next(1, method="POST", after_apply=True)
    assert harness.sync().deferred_items == 1  # the answer was lost: the intent stays
    harness.syncer = harness.new_syncer()
    harness.syncer.writer = Writer("another-replica", sole=False)
    report = harness.sync()
    assert report.deferred_items == 1 and report.failed_items == 0
    assert len(harness.statuspage.writes()) == 1
    with harness.sessions() as session:
        link = session.scalars(sa.select(Link)).one()
        intent = dict(link.pending_call or {})
        assert intent["writer"]["instance"] != "another-replica"
        # Move the stamp back past the write deadline (the clock itself is the database's).
        recorded = datetime.fromisoformat(intent["recorded_at"])
        earlier = recorded - timedelta(seconds=intent["in_flight_s"] + 1)
        link.pending_call = {**intent, "recorded_at": earlier.isoformat()}
        session.commit()
    harness.sync()
    (incident,) = harness.incidents()
    link_after = harness.link("public-api", alert_id)
    assert link_after is not None and link_after.statuspage_incident_id == incident["id"]
    assert len(harness.statuspage.writes()) == 1
