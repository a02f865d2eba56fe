"""A quiet pass's peak memory grows by a bounded amount per open alert.

Real daemon code, real HTTP to the simulators, a real migrated database. A pass reads a
light row of every open link and decides on each: what it allocates per open alert on
top of what the process holds is most of a daemon's peak memory at 100,000 open alerts.
Counted in bytes Python allocated (``tracemalloc``'s peak during one quiet pass) at two
sizes of the open set, never timed.
"""

from __future__ import annotations

import copy
import gc
import tracemalloc
from datetime import UTC, datetime

import sqlalchemy as sa

from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.store.tables import Link
from tests.support.cycle import HOUR, activated_earlier, go_round
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

SMALL, LARGE = 1_000, 3_000
RATE, INTERVAL = 120, 5  # 10 requests a pass: both sizes list the same pages a pass
# Bytes per open alert. About 1,200 when a pass held every open link's row twice while
# reading them, each with its own copies of repeated values, and an object or set entry
# per open link for several of its choices; about 850 since.
PER_ALERT = 1_000


def _copies(harness: Harness, count: int) -> None:
    """``count`` more open alerts, each mirrored: copies of the first one's alert, incident
    and link (seeding thousands through passes would take thousands of creates)."""
    with harness.engine.connect() as connection:
        first = connection.execute(sa.select(Link).order_by(Link.id).limit(1)).one()
    template = dict(first._mapping)
    incident = harness.statuspage.incident(template.pop("statuspage_incident_id"))
    del template["id"]
    reported = datetime.now(UTC) - HOUR  # past the "reported since" overlap: the cycle lists it
    links, incidents = [], {}
    for _ in range(count):
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "copy", "details", report_time=reported)
        clone = copy.deepcopy(incident)
        clone["id"] = f"copy{alert_id:08d}"
        clone["metadata"]["ilert"]["alert_id"] = str(alert_id)
        incidents[clone["id"]] = clone
        alert = parse_alert(harness.ilert.alert(alert_id))
        links.append(
            {
                **template,
                "alert_id": alert_id,
                "alert_summary": f"alert {alert_id}",
                "statuspage_incident_id": clone["id"],
                "last_log_entry_id": harness.ilert.log_entries(alert_id)[-1]["id"],
                "mirror_next_escalation": alert.next_escalation,
                "mirror_rule_index": alert.escalation_rule_index,
            }
        )
    with harness.statuspage._lock:  # a test's seeding, not a vendor's route
        harness.statuspage._incidents.update(incidents)
    with harness.engine.begin() as connection:
        connection.execute(sa.insert(Link), links)


def _peak(harness: Harness) -> int:
    """The most a quiet pass allocated on top of what it started with, once a new
    process's listing cycle has gone round (every open alert's snapshot held)."""
    go_round(harness, RATE, INTERVAL)
    gc.collect()
    tracemalloc.start()
    try:
        report = harness.sync()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok
    assert report.writes == 0
    return peak


def test_a_quiet_pass_allocates_a_bounded_amount_per_open_alert(make_harness):
    """Between 1,000 and 3,000 open alerts (all mirrored, the listing cycle gone round), the
    peak a quiet pass allocates grows by at most ``PER_ALERT`` bytes per open alert."""
    harness = make_harness("classic")
    activated_earlier(harness)
    reported = datetime.now(UTC) - HOUR
    harness.ilert.create_alert(AUTO_SOURCE, "first", "details", report_time=reported)
    harness.sync()
    assert len(harness.incidents(AUTO_PAGE)) == 1
    _copies(harness, SMALL - 1)
    small = _peak(harness)
    _copies(harness, LARGE - SMALL)
    large = _peak(harness)
    per_alert = (large - small) / (LARGE - SMALL)
    assert per_alert <= PER_ALERT, (small, large, per_alert)
