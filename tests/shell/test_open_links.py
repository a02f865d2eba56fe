"""A session loads its open links once (store.repo.open_held), and loads them anew
whenever they may no longer be all of them: a rollback, a link added, deleted or reopened.
Counted in statements, never timed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from ilert_statuspage_sync.store.held import Held
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.work_items import waiting
from tests.support.alerts import T0

PAGE = "page1"


@pytest.fixture(name="engine")
def _engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'open.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(name="sessions")
def _sessions(engine: sa.Engine) -> sessionmaker[Session]:
    with make_sessions(engine)() as session:
        for alert_id in (1, 2, 3):
            session.add(repo.new_link("api", alert_id, PAGE, T0))
        closed = repo.new_link("api", 4, PAGE, T0)
        closed.is_open = False
        session.add(closed)
        session.commit()
    return make_sessions(engine)


def _selects(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM links" in sql:
            seen.append(sql)

    sa.event.listen(engine, "before_cursor_execute", statement)
    return seen


def _ids(links: list[Link]) -> list[int]:
    return sorted(link.alert_id for link in links)


def _held_ids(held: list[Held]) -> list[int]:
    return sorted(h.facts.alert_id for h in held)


def test_open_links_are_read_once_per_session(engine: sa.Engine, sessions):
    """Three asks in one session (and the page's held links) read the open rows once."""
    seen = _selects(engine)
    with sessions() as session:
        first = repo.open_held(session)
        again = repo.open_held(session)
        held = repo.held_on_page(session, PAGE, ["api"])
    assert _held_ids(first) == _held_ids(again) == _held_ids(held) == [1, 2, 3]
    assert all(a is b for a, b in zip(first, again, strict=True))
    # One read of the open rows, one of the closed links whose incident is held.
    assert len(seen) == 2


def test_open_links_are_read_as_rows_and_built_only_when_used(sessions):
    """The open rows build no object until one is used; a used one is built once."""
    built: list[object] = []

    def loaded(target: object, _context: object) -> None:
        built.append(target)

    sa.event.listen(Link, "load", loaded)
    try:
        with sessions() as session:
            held = repo.open_held(session)
            assert built == [] and not any(h.built for h in held)
            link = held[0].link
            assert repo.open_held(session)[0].link is link
            assert repo.open_links(session)[0] is link
    finally:
        sa.event.remove(Link, "load", loaded)
    assert len(built) == 3


def test_a_link_closed_in_the_session_is_no_longer_handed_out(sessions):
    """A link closed after the load is not among the open links asked for later."""
    with sessions() as session:
        first = repo.open_links(session)
        first[0].is_open = False
        assert _ids(repo.open_links(session)) == sorted(_ids(first)[1:])


def test_a_new_link_a_reopened_one_and_a_rollback_read_them_anew(engine, sessions):
    """A link added, a closed link reopened, and a rollback each make the next ask read
    the open rows again, so none is missed."""
    seen = _selects(engine)
    with sessions() as session:
        repo.open_links(session)
        session.add(repo.new_link("api", 5, PAGE, T0))
        session.flush()
        assert _ids(repo.open_links(session)) == [1, 2, 3, 5]
        reopened = repo.find_link(session, "api", 4)
        assert reopened is not None
        reopened.is_open = True
        assert _ids(repo.open_links(session)) == [1, 2, 3, 4, 5]
        session.rollback()
        before = len(seen)
        assert _held_ids(repo.open_held(session)) == [1, 2, 3]
        assert len(seen) == before + 1


def _on_one_incident(session: Session) -> tuple[Link, Link]:
    """The first two open links mirrored to one incident, committed."""
    first, second, _third = sorted(repo.open_links(session), key=lambda link: link.alert_id)
    for link in (first, second):
        link.statuspage_incident_id = "inc1"
        link.statuspage_status = "investigating"
    session.commit()
    return first, second


def test_a_shared_incidents_status_reaches_the_links_already_loaded(sessions):
    """Sharing an incident's status and flag (one UPDATE) also updates the loaded sibling
    objects: the session keeps them past its commits, and the pass reads them again."""
    with sessions() as session:
        first, second = _on_one_incident(session)
        first.statuspage_status, first.human_override = "monitoring", True

        repo.share_incident(session, first)
        session.commit()

        sibling = next(link for link in repo.open_links(session) if link.id == second.id)
        assert (sibling.statuspage_status, sibling.human_override) == ("monitoring", True)


def test_a_shared_incidents_status_reaches_the_rows_not_built_yet(sessions):
    """The pass's light rows of an incident's siblings take the shared status and flag too:
    they are what the pass's later decisions read."""
    with sessions() as session:
        first, second = _on_one_incident(session)
    with sessions() as session:
        held = {h.facts.alert_id: h for h in repo.open_held(session)}
        built = held[first.alert_id].link
        built.statuspage_status, built.human_override = "monitoring", True

        repo.share_incident(session, built)

        sibling = held[second.alert_id]
        assert not sibling.built
        facts = sibling.facts
        assert (facts.statuspage_status, facts.human_override) == ("monitoring", True)


def test_a_link_deleted_after_the_rows_were_read_does_not_fail_the_back_off_check(sessions):
    """An untrigger in another process deletes a link the pass read as a row: its clamped
    back-off is skipped (its own step reports it), the check does not raise."""
    with sessions() as session:
        link = next(iter(repo.open_links(session)))
        link.failures, link.next_attempt_at = 3, T0 + timedelta(days=365)  # before a clock jump
        session.commit()
    with sessions() as session:
        held = next(h for h in repo.open_held(session) if h.facts.alert_id == link.alert_id)
        with sessions() as other:
            other.execute(sa.delete(Link).where(Link.id == link.id))
            other.commit()

        assert waiting(held, T0, 30.0) is True  # clamped to a delay from now, not a year
        assert not held.built
