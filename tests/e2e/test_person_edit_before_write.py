"""A person's status edit between two passes is seen before the next pass writes.

With the unresolved list read a page a pass, a key the last pass did not spend
reads its page before writing: a person's status there is respected, not undone.
"""

from __future__ import annotations

from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE


def _mirrored(harness: Harness) -> tuple[int, str]:
    """One alert mirrored, then a later (sweeping) pass; its alert and incident ids."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Database slow", "")
    harness.sync()  # a process's first pass: the list is read whole
    harness.sync()  # later passes sweep a page at a time
    link = harness.link("public-api", alert_id)
    assert link is not None and link.statuspage_incident_id
    return alert_id, str(link.statuspage_incident_id)


def test_a_persons_status_is_not_overwritten_by_the_next_pass(harness: Harness) -> None:
    """The person set "monitoring", then the alert is accepted: the page keeps "monitoring"."""
    alert_id, incident_id = _mirrored(harness)
    harness.statuspage.person_sets_status(incident_id, "monitoring")
    harness.ilert.accept(alert_id)  # the daemon would move the incident on

    report = harness.sync()

    assert harness.statuspage.incident(incident_id)["status"] == "monitoring"
    assert report.outcomes["human_override"] == 1
    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override


def test_a_persons_status_with_no_alert_change_is_noticed(harness: Harness) -> None:
    """A person's status on a quiet incident is recorded as theirs within a pass."""
    alert_id, incident_id = _mirrored(harness)
    harness.statuspage.person_sets_status(incident_id, "monitoring")

    harness.sync()

    link = harness.link("public-api", alert_id)
    assert link is not None and link.human_override


def test_creates_go_out_before_the_list_page_is_read(harness: Harness) -> None:
    """A pass with only new alerts sends its creates first: a create cannot undo an edit,
    and a burst's first window holds a create where a read would have stood."""
    _mirrored(harness)
    for n in range(3):
        harness.ilert.create_alert(AUTO_SOURCE, f"new {n}", "")
    harness.statuspage.clear_requests()

    assert harness.sync().ok

    sent = [(r.method, r.path) for r in harness.statuspage.requests]
    creates = [i for i, (method, _path) in enumerate(sent) if method == "POST"]
    reads = [i for i, (_m, path) in enumerate(sent) if path.endswith("/incidents/unresolved")]
    assert len(creates) == 3, sent
    assert all(read > creates[-1] for read in reads), sent


def test_an_update_reads_the_list_page_first(harness: Harness) -> None:
    """A pass that moves an incident on reads its list page before the write, once."""
    alert_id, _incident_id = _mirrored(harness)
    harness.ilert.accept(alert_id)
    harness.statuspage.clear_requests()

    assert harness.sync().ok

    sent = [(r.method, r.path) for r in harness.statuspage.requests]
    reads = [i for i, (_m, path) in enumerate(sent) if path.endswith("/incidents/unresolved")]
    writes = [i for i, (method, _path) in enumerate(sent) if method in ("PATCH", "PUT")]
    assert len(reads) == 1 and writes and reads[0] < writes[0], sent


def test_a_restarted_process_reads_its_list_once_in_its_first_pass(harness: Harness) -> None:
    """A process's first pass reads the list whole before writing; an update in that pass
    and its step 6 read no page of it again."""
    alert_id, _incident_id = _mirrored(harness)
    harness.ilert.accept(alert_id)
    harness.syncer = harness.new_syncer()  # a restart: its first pass reads whole
    harness.statuspage.clear_requests()

    assert harness.sync().ok

    sent = [(r.method, r.path) for r in harness.statuspage.requests]
    reads = [path for _m, path in sent if path.endswith("/incidents/unresolved")]
    assert len(reads) == 1, sent
    assert any(method == "PATCH" for method, _path in sent), sent


def test_an_update_waits_when_its_list_page_cannot_be_read(harness: Harness) -> None:
    """The list page read before an update fails: the connector is down for the pass and
    the update waits for a pass that can see a person's edit first."""
    alert_id, incident_id = _mirrored(harness)
    harness.ilert.accept(alert_id)
    harness.statuspage.fail_next(1000, 503, path_contains="/incidents/unresolved")
    harness.statuspage.clear_requests()

    report = harness.sync()

    assert not [r for r in harness.statuspage.requests if r.method in ("PATCH", "PUT")]
    assert report.deferred_items == 1
    harness.statuspage.clear_faults()
    assert harness.sync().ok
    assert harness.statuspage.incident(incident_id)["status"] != "investigating"
