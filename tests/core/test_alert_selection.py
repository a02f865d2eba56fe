"""Which alerts each incident action mirrors (core.alert_selection)."""

from __future__ import annotations

from datetime import timedelta

from ilert_statuspage_sync.core.alert_selection import (
    Scope,
    Tracked,
    mirrors_read,
    select_alerts,
)
from ilert_statuspage_sync.core.listing import OpenSetCycle
from tests.support.alerts import T0, an_alert

AUTO = Scope(sources=(1,), manual=False, activated_at=T0)
MANUAL = Scope(sources=(1,), manual=True, activated_at=T0)


def _complete_cycle(*listed: int) -> OpenSetCycle:
    cycle = OpenSetCycle()
    cycle.resume("q")
    cycle.record(listed, next_start=0, ended=True)
    return cycle


def test_automatic_takes_alerts_reported_since_activation():
    """An automatic action mirrors its sources' alerts reported at or after activation."""
    old = an_alert(1, report_time=T0 - timedelta(minutes=1))
    new = an_alert(2)
    other = an_alert(3, source_id=9)
    alerts = {a.id: a for a in (old, new, other)}
    found = select_alerts(AUTO, alerts, {}, OpenSetCycle(), {})
    assert list(found.chosen) == [2]
    assert found.read_by_id == []


def test_a_tracked_alert_is_kept_whatever_its_report_time():
    """An alert the action already tracks stays mirrored even if reported before activation."""
    old = an_alert(1, report_time=T0 - timedelta(days=1))
    tracked = {1: Tracked(is_open=True, triggered=False)}
    found = select_alerts(AUTO, {1: old}, tracked, OpenSetCycle(), {})
    assert list(found.chosen) == [1]


def test_manual_takes_only_triggered_alerts():
    """A manual action mirrors a listed alert only when it was triggered for it."""
    alerts = {1: an_alert(1), 2: an_alert(2)}
    tracked = {2: Tracked(is_open=True, triggered=True)}
    found = select_alerts(MANUAL, alerts, tracked, OpenSetCycle(), {})
    assert list(found.chosen) == [2]


def test_an_untriggered_manual_link_is_not_read():
    """A manual link no one triggered is neither mirrored nor read by id."""
    tracked = {5: Tracked(is_open=True, triggered=False)}
    found = select_alerts(MANUAL, {}, tracked, OpenSetCycle(), {})
    assert found.chosen == {} and found.read_by_id == []


def test_a_manual_trigger_unlisted_is_read_by_id():
    """A manual action's triggered alert is read by id when not in hand."""
    tracked = {5: Tracked(is_open=True, triggered=True)}
    found = select_alerts(MANUAL, {}, tracked, OpenSetCycle(), {})
    assert found.read_by_id == [5]


def test_unlisted_during_a_cycle_stands_in_with_its_snapshot():
    """While the cycle may still list it, a tracked alert's latest snapshot stands in."""
    cycle = OpenSetCycle()  # not complete: every alert may be open
    snapshot = an_alert(7)
    tracked = {7: Tracked(is_open=True, triggered=False), 8: Tracked(True, False)}
    found = select_alerts(AUTO, {}, tracked, cycle, {7: snapshot})
    assert found.chosen == {7: snapshot}
    assert found.read_by_id == []


def test_left_the_open_set_is_read_by_id():
    """A whole cycle did not list a tracked open alert: it is read by id."""
    found = select_alerts(AUTO, {}, {7: Tracked(True, False)}, _complete_cycle(), {})
    assert found.read_by_id == [7]


def test_a_closed_link_is_not_read():
    """A closed link costs nothing: it is neither chosen nor read."""
    found = select_alerts(AUTO, {}, {7: Tracked(False, False)}, _complete_cycle(), {})
    assert found.chosen == {} and found.read_by_id == []


def test_a_read_alert_of_another_source_is_not_mirrored():
    """An alert read by id belongs to the action only when it is of one of its sources."""
    assert mirrors_read(AUTO, an_alert(1))
    assert not mirrors_read(AUTO, an_alert(1, source_id=9))
    assert not mirrors_read(AUTO, None)


def test_a_refreshed_mirrored_alert_is_read_by_id_with_its_snapshot_as_fallback():
    """Chosen for a refresh while the cycle may hold it open: read by id, snapshot in reserve."""
    snapshot = an_alert(7)
    tracked = {7: Tracked(is_open=True, triggered=False), 8: Tracked(is_open=True, triggered=False)}
    snapshots = {7: snapshot, 8: an_alert(8)}
    found = select_alerts(AUTO, {}, tracked, OpenSetCycle(), snapshots, frozenset({7}))
    assert found.read_by_id == [7]
    assert found.fallback == {7: snapshot}
    assert set(found.chosen) == {8}


def test_a_settled_snapshot_only_competes_for_a_timeline_read():
    """Unlisted with its snapshot settled, an alert is no work item, only a candidate; an
    unsettled one stands in with its snapshot as before."""
    tracked = {7: Tracked(True, False), 8: Tracked(True, False)}
    snapshots = {7: an_alert(7), 8: an_alert(8)}
    found = select_alerts(AUTO, {}, tracked, OpenSetCycle(), snapshots, settled={7})
    assert found.settled == [7]
    assert set(found.chosen) == {8}


def test_a_settled_alert_listed_refreshed_or_gone_is_not_passed_over():
    """Settled counts only for an unlisted snapshot: a listed alert is chosen, a refreshed
    one read by id, one a whole cycle missed read by id, one without a snapshot skipped."""
    tracked = {n: Tracked(True, False) for n in (1, 2, 3)}
    listed = {1: an_alert(1)}
    snapshots = {2: an_alert(2)}
    found = select_alerts(
        AUTO, listed, tracked, OpenSetCycle(), snapshots, frozenset({2}), settled={1, 2, 3}
    )
    assert set(found.chosen) == {1} and found.read_by_id == [2] and found.settled == []
    gone = select_alerts(AUTO, {}, tracked, _complete_cycle(1), snapshots, settled={2})
    assert sorted(gone.read_by_id) == [2, 3] and gone.settled == []
