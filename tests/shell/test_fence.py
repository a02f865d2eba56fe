"""The leadership epoch: a deposed leader's commits are refused, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.errors import LeadershipLostError
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from ilert_statuspage_sync.store.epoch import claim_epoch, database_now, fence_sessions
from ilert_statuspage_sync.store.tables import Link


@pytest.fixture(name="engine")
def _engine(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _add_link(sessions: sa.orm.sessionmaker[sa.orm.Session], alert_id: int) -> None:
    with sessions() as session:
        session.add(repo.new_link("public-api", alert_id, "page1", datetime.now(UTC)))
        session.commit()


def _alert_ids(engine: sa.Engine) -> list[int]:
    with make_sessions(engine)() as session:
        return sorted(session.scalars(sa.select(Link.alert_id)))


def test_a_stale_epochs_commit_is_refused(engine: sa.Engine):
    """Once a newer leader claimed the epoch, the old leader's commit is refused and lost."""
    old_epoch = claim_epoch(engine, "old")
    old = fence_sessions(make_sessions(engine), old_epoch)
    _add_link(old, 1)  # still the leader: accepted
    new_epoch = claim_epoch(engine, "new")
    assert new_epoch == old_epoch + 1
    with pytest.raises(LeadershipLostError, match=f"epoch {old_epoch} is over"):
        _add_link(old, 2)
    _add_link(fence_sessions(make_sessions(engine), new_epoch), 3)
    assert _alert_ids(engine) == [1, 3]


def test_an_open_transaction_of_the_old_leader_is_refused_at_commit(engine: sa.Engine):
    """A transaction begun (and flushed) before the takeover cannot commit after it."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite admits one writing transaction at a time: a claim waits for it")
    old = fence_sessions(make_sessions(engine), claim_epoch(engine, "old"))
    with old() as session:
        session.add(repo.new_link("public-api", 5, "page1", datetime.now(UTC)))
        session.commit()
        session.add(repo.new_link("public-api", 6, "page1", datetime.now(UTC)))
        session.flush()
        claim_epoch(engine, "new")
        with pytest.raises(LeadershipLostError):
            session.commit()
    assert _alert_ids(engine) == [5]


def test_the_database_clock_is_aware_utc(engine: sa.Engine):
    """Intents are stamped on the database's clock, read back as aware UTC."""
    with make_sessions(engine)() as session:
        now = database_now(session)
    assert now.tzinfo is not None
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60
