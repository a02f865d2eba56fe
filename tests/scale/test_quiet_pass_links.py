"""A quiet pass reads the open links once, as light rows, and changes none of them.

Real daemon code, real HTTP to the simulators, a real migrated database. Counted in
objects loaded and objects flushed, never timed: the open links once made a pass's CPU
grow with the open set, each loaded three times and each marked changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.duplicates import Tracked
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync import unresolved
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

OPEN = 6


@contextmanager
def watching(harness: Harness) -> Iterator[tuple[list[int], list[int]]]:
    """Link objects built, and link objects pending at each flush, in the passes inside."""
    loaded: list[int] = []
    flushed: list[int] = []

    def load(_link: object, _context: object) -> None:
        loaded.append(1)

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        flushed.append(sum(isinstance(obj, Link) for obj in session.dirty))

    sessions = harness.syncer.sessions
    sa.event.listen(Link, "load", load)
    sa.event.listen(sessions, "before_flush", before_flush)
    try:
        yield loaded, flushed
    finally:
        sa.event.remove(Link, "load", load)
        sa.event.remove(sessions, "before_flush", before_flush)


def _quiet(harness: Harness) -> None:
    for n in range(OPEN):
        harness.ilert.create_alert(AUTO_SOURCE, f"open {n}", "")
    report = harness.sync()
    assert report.ok
    assert report.writes == OPEN
    harness.sync()  # settles anything left


def test_a_quiet_pass_builds_link_objects_only_for_the_items_it_works_on(harness: Harness):
    """The open links are read as light rows: a quiet pass builds link objects only for
    the items it admits (here the one timeline its budget reads), not one per open link."""
    _quiet(harness)
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=36)
    harness.syncer = harness.new_syncer(ilert=ilert)
    harness.sync()  # a new process's first pass reads the pages whole
    with watching(harness) as (loaded, _flushed):
        report = harness.sync()
    assert report.ok
    assert report.writes == 0
    waited = report.waiting_checks + report.paced_items + report.deferred_items
    assert waited >= OPEN - 2, report
    assert len(loaded) <= OPEN - waited, (len(loaded), report)


def test_a_quiet_pass_marks_no_link_changed(harness: Harness):
    """Checking whether an alert waits out a back-off changes nothing: no link is
    pending at any flush of a quiet pass."""
    _quiet(harness)
    with watching(harness) as (_loaded, flushed):
        report = harness.sync()
    assert report.ok
    assert report.writes == 0
    assert not any(flushed), flushed


def test_choosing_the_pages_to_read_takes_one_link_a_page(harness: Harness, monkeypatch):
    """Which pages a pass reads is settled by the first open link with an incident on each:
    a quiet pass makes no per-link duplicate-check value for it (only for the alerts
    its page read shows)."""
    _quiet(harness)
    made: list[int] = []
    plain = Tracked

    def counted(**fields: object) -> object:
        made.append(1)
        return plain(**fields)  # type: ignore[arg-type]

    monkeypatch.setattr(unresolved, "Tracked", counted)
    report = harness.sync()
    assert report.ok
    assert report.writes == 0
    # The alerts the page's read shows (the duplicate check), and one a page for each read.
    assert len(made) <= OPEN + 2, len(made)
