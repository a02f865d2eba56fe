"""A quiet pass decides on what changed, not again on every open alert it settled.

Real daemon code, real HTTP to the simulators, a real migrated database. Many alerts are
mirrored and the open-set listing spans passes (a small iLert budget); counted in work
items decided on and requests, never timed.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config.publish import parse_publish_policy
from ilert_statuspage_sync.store.held import Held
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.work_items import WorkItems
from tests.support.cycle import HOUR, activated_earlier, go_round
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

MIRRORED = 250  # three list pages
RATE, INTERVAL = 48, 5  # a pass's iLert budget: 48 x 5 / 60 = 4 requests
BUDGET = RATE * INTERVAL // 60


def _mirrored(make_harness: Any) -> tuple[Harness, list[int]]:
    """``MIRRORED`` alerts mirrored at once, then a process with a small iLert budget whose
    listing cycle has gone round once (every open alert's snapshot held)."""
    harness = make_harness("classic")
    activated_earlier(harness)
    # Reported an hour ago: past the "reported since" overlap, listed only by the cycle.
    reported = datetime.now(UTC) - HOUR
    alerts = [
        harness.ilert.create_alert(AUTO_SOURCE, f"open {n}", "", report_time=reported)
        for n in range(MIRRORED)
    ]
    harness.sync()
    assert len(harness.incidents()) == MIRRORED
    go_round(harness, RATE, INTERVAL)
    return harness, alerts


def _also_triggered(harness: Harness, target: int, **manual_changes: Any) -> None:
    """The manual action covers the source too and a person triggered ``target`` there, so
    it is read by id each pass; two requests a pass: that read and one list page."""
    actions = tuple(
        dataclasses.replace(a, alert_sources=(AUTO_SOURCE,), **manual_changes) if a.manual else a
        for a in harness.config.incident_actions
    )
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=24)
    harness.config = dataclasses.replace(harness.config, incident_actions=actions, ilert=ilert)
    harness.syncer = harness.new_syncer(rate_window=1.0)
    harness.trigger(next(a.name for a in actions if a.manual), target)


@contextmanager
def deciding(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The alert ids whose work items a pass decided on (their timeline-check facts)."""
    decided: list[int] = []
    plain = WorkItems._check_facts

    def counted(self: WorkItems, item: Any, now: Any) -> Any:
        decided.append(item.alert.id)
        return plain(self, item, now)

    monkeypatch.setattr(WorkItems, "_check_facts", counted)
    yield decided


def test_a_quiet_pass_decides_only_on_the_alerts_it_listed(make_harness, monkeypatch):
    """Once the cycle has gone round, a quiet pass builds work items only for the alerts
    its list pages and reads by id brought (and those checked the pass before), not one
    per open alert."""
    harness, _alerts = _mirrored(make_harness)
    for _ in range(3):
        harness.ilert.clear_requests()
        with deciding(monkeypatch) as decided:
            report = harness.sync()
        assert report.ok and report.writes == 0
        by_id = sum(1 for r in harness.ilert.requests if r.path.rsplit("/", 1)[-1].isdigit())
        brought = report.alerts_seen + by_id  # what the pass's reads brought
        assert brought < MIRRORED, report
        # ... and the few whose timeline the pass before read (their links moved on).
        assert len(decided) <= brought + BUDGET, (len(decided), brought)
        # The others still compete for a timeline read: they wait, counted.
        assert report.waiting_checks >= MIRRORED - brought - BUDGET, report


def test_a_settled_alerts_comment_still_reaches_the_page_in_its_turn(make_harness):
    """An alert decided on before and not listed since still has its timeline read in
    its turn: a comment on it is published within the rotation's bound."""
    harness, alerts = _mirrored(make_harness)
    target = alerts[0]
    harness.ilert.comment(target, "We found the cause.")
    for _ in range(2 * MIRRORED):  # the bound: every open alert checked once, twice over
        harness.sync()
        if any(e == "comment_added" for e, _outcome, _to in harness.transitions(target)):
            break
    assert ("comment_added", "body_updated") in [(e, o) for e, o, _ in harness.transitions(target)]


def test_a_settled_alert_whose_link_changed_is_decided_on_again(make_harness, monkeypatch):
    """A link changed since its snapshot was settled (another process recorded a failure
    on it) makes its alert a work item again in the next pass, listed or not."""
    harness, alerts = _mirrored(make_harness)
    target = alerts[1]
    with harness.engine.begin() as connection:
        connection.execute(sa.update(Link).where(Link.alert_id == target).values(failures=1))
    with deciding(monkeypatch) as decided:
        harness.sync()
    assert target in decided


def test_a_pass_leaves_its_open_links_to_no_garbage_collection(make_harness):
    """Nothing of a pass keeps its rows alive in a reference cycle: with the cyclic
    collector off, no open link's row outlives the pass (they held several passes'
    rows in memory at once)."""
    harness, _alerts = _mirrored(make_harness)
    gc.collect()
    gc.disable()
    try:
        harness.sync()
        alive = sum(1 for o in gc.get_objects() if isinstance(o, Held))
    finally:
        gc.enable()
    assert alive == 0, alive


def test_a_snapshot_another_action_read_anew_is_decided_on_again(make_harness):
    """An alert a manual action reads by id each pass (keeping it off its own page) brings a
    newer snapshot: the automatic action that settled the older one decides on it in the
    next pass, so an accept reaches its page before its list page comes round again."""
    harness, alerts = _mirrored(make_harness)
    target = alerts[0]
    policy = parse_publish_policy({"include": "^never$"}, "incident_actions[1]", "test.toml")
    _also_triggered(harness, target, publish=policy)
    for _ in range(30):
        harness.sync()
        if harness.syncer.carry.cycle.complete:
            break
    # Accepted once the pass that lists its page (the last, the oldest alerts') is over:
    # the next two passes list the other pages, and only the manual action reads it.
    for _ in range(6):
        if harness.sync().alerts_seen == MIRRORED % 100:
            break
    harness.ilert.accept(target)
    for _ in range(2):
        assert harness.sync().alerts_seen != MIRRORED % 100
    assert ("accepted", "status_changed") in [(e, o) for e, o, _ in harness.transitions(target)]


def _later(harness: Harness, minutes: float) -> None:
    """Both clocks, the daemon's and iLert's (its Date header), move on by ``minutes``."""
    harness.clock_offset += timedelta(minutes=minutes)
    offset = harness.clock_offset
    harness.ilert.set_clock(lambda: datetime.now(UTC) + offset)
    harness.statuspage.set_clock(lambda: datetime.now(UTC) + offset)


def test_an_alert_another_action_confirmed_deleted_ends_a_settled_incident_too(make_harness):
    """An alert a manual action (reading it by id) confirms deleted while the automatic
    action holds its snapshot settled: both incidents are resolved as deleted in that pass."""
    harness, alerts = _mirrored(make_harness)
    reported = datetime.now(UTC) - HOUR
    for n in range(200):  # five list pages: the cycle spans more passes than the 404s need
        harness.ilert.create_alert(AUTO_SOURCE, f"more {n}", "", report_time=reported)
    target = alerts[0]
    _also_triggered(harness, target)
    for _ in range(60):
        harness.sync()
        if harness.syncer.carry.cycle.complete and len(harness.incidents()) == MIRRORED + 200:
            break
    for _ in range(10):
        if harness.sync().alerts_seen == (MIRRORED + 200) % 100:
            break
    harness.ilert.delete_alert(target)
    for minutes in (0, 5, 6):
        _later(harness, minutes)
        harness.sync()
    rows = harness.audit_rows()
    deleted = [r.incident_action for r in rows if r.alert_id == target and r.event == "deleted"]
    assert sorted(deleted) == sorted(a.name for a in harness.config.incident_actions)
