"""A pass's books: the daemon commits, a dry run flushes and forgets (sync.persistence)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from ilert_statuspage_sync.store.held import Held
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.pass_state import Work
from ilert_statuspage_sync.sync.persistence import Books, DryBooks, books_for
from tests.support.alerts import T0, an_alert

ACTION = cast(IncidentAction, SimpleNamespace(name="api"))


@pytest.fixture(name="sessions")
def _sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'books.db'}")
    upgrade(engine)
    yield make_sessions(engine)
    engine.dispose()


def _work(alert_id: int) -> Work:
    return Work(ACTION, Held.of(repo.new_link("api", alert_id, "page1", T0)), an_alert(alert_id))


def _stored(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(sa.select(Link.alert_id)))


def test_books_are_chosen_once_by_dry_run():
    """A dry run gets the books that store nothing; the daemon those that commit."""
    assert isinstance(books_for(True, 30), DryBooks)
    assert type(books_for(False, 30)) is Books


def test_the_daemon_tracks_new_links_for_good(sessions: sessionmaker[Session]):
    """New links are committed: a later session sees them."""
    with sessions() as session:
        kept = Books(30).track(session, [_work(1), _work(2)])
    assert len(kept) == 2
    assert sorted(_stored(sessions)) == [1, 2]


def test_a_dry_run_keeps_new_links_out_of_the_database(sessions: sessionmaker[Session]):
    """A dry run's new links stay transient, seen only as this pass's unstored links."""
    books = DryBooks(30)
    with sessions() as session:
        work = books.track(session, [_work(1)])
        assert books.unstored(item.link for item in work) == [work[0].link]
        session.rollback()
    assert _stored(sessions) == []


def test_a_dry_runs_commit_only_flushes(sessions: sessionmaker[Session]):
    """What a dry run commits is visible in its session, gone once it is rolled back."""
    with sessions() as session:
        session.add(repo.new_link("api", 3, "page1", T0))
        DryBooks(30).commit(session)
        assert session.scalar(sa.select(sa.func.count()).select_from(Link)) == 1
        session.rollback()
    assert _stored(sessions) == []
