"""Whose timelines a pass reads (core.timeline_checks: must_check, timelines_to_read)."""

from __future__ import annotations

from datetime import timedelta

from ilert_statuspage_sync.core.timeline_checks import CheckFacts, must_check, timelines_to_read
from tests.support.alerts import T0


def test_unfinished_work_must_be_checked():
    """Never mirrored, a read under way, a pending write or a failure: always checked."""
    assert must_check(mirrored=False, reading=False, pending=False, failures=0)
    assert must_check(mirrored=True, reading=True, pending=False, failures=0)
    assert must_check(mirrored=True, reading=False, pending=True, failures=0)
    assert must_check(mirrored=True, reading=False, pending=False, failures=2)
    assert not must_check(mirrored=True, reading=False, pending=False, failures=0)


def test_musts_then_the_longest_unchecked_within_the_budget():
    """Every must is read; the rest of the budget goes to the oldest checks."""
    facts = [
        CheckFacts(1, False, False, T0),
        CheckFacts(2, False, False, T0 - timedelta(hours=1)),
        CheckFacts(3, False, True, T0),
    ]
    checks = timelines_to_read(facts, per_pass=2)
    assert checks.selected == [3, 2]
    assert checks.candidates == {1, 2, 3}


def test_withheld_alerts_take_no_budget():
    """An alert kept off the page is selected without spending the budget."""
    facts = [CheckFacts(9, True, False, None), CheckFacts(1, False, True, None)]
    checks = timelines_to_read(facts, per_pass=1)
    assert checks.selected == [1, 9]
    assert checks.candidates == {1}


def test_an_alert_one_action_withholds_and_another_publishes_competes():
    """Withheld by one action and published by another, an alert takes its turn in the
    budget: the publishing action's item reads its timeline."""
    facts = [
        CheckFacts(9, True, False, None),
        CheckFacts(9, False, False, T0),
        CheckFacts(1, False, False, T0 - timedelta(hours=1)),
    ]
    checks = timelines_to_read(facts, per_pass=1)
    assert checks.selected == [1]
    assert checks.candidates == {1, 9}


def test_one_alert_of_two_actions_merges_must_and_oldest_check():
    """An alert mirrored by two actions is a must if either says so, with its oldest check."""
    old, new = T0 - timedelta(hours=2), T0
    facts = [CheckFacts(1, False, False, new), CheckFacts(1, False, True, old)]
    checks = timelines_to_read(facts, per_pass=1)
    assert checks.selected == [1]
    facts = [
        CheckFacts(1, False, False, old),
        CheckFacts(1, False, False, new),
        CheckFacts(2, False, False, T0 - timedelta(hours=1)),
    ]
    assert timelines_to_read(facts, per_pass=1).selected == [1]
