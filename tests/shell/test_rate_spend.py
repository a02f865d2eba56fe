"""The Statuspage key's spend shared through the state database: reused ids, clock jumps."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.clients.http import RateBudget
from ilert_statuspage_sync.store.database import make_engine, upgrade
from ilert_statuspage_sync.sync.spend import SharedWindows


class Clock:
    """A settable clock."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        """Sleep on this clock: move it on."""
        self.t += seconds


def _engine(tmp_path: Path) -> sa.Engine:
    """A migrated SQLite state database."""
    engine = make_engine(f"sqlite:///{tmp_path}/state.db")
    upgrade(engine)
    return engine


def _budget(mono: Clock, wall: Clock, key_id: str = "k" * 32) -> RateBudget:
    """A budget of 10 a minute on the given clocks, named like a key."""
    budget = RateBudget(10, 60.0, clock=mono, sleep=lambda s: None, wall=wall)
    budget.key_id = key_id
    return budget


def _send(budget: RateBudget, n: int) -> None:
    """Spend ``n`` requests."""
    for _ in range(n):
        budget.answered(budget.take())


def _pass(engine: sa.Engine, budget: RateBudget) -> None:
    """A pass's load and save of the shared windows."""
    windows = SharedWindows([budget], store=True)
    with Session(engine) as session:
        windows.load(session)
        windows.save(session, Session.commit)


def test_a_long_lived_budget_counts_rows_whose_ids_sqlite_reused(tmp_path: Path) -> None:
    """Pruned empty, SQLite gives new rows old ids: a long-lived process still counts them."""
    engine = _engine(tmp_path)
    mono_a, mono_b, wall = Clock(1000.0), Clock(5000.0), Clock(1_800_000_000.0)
    daemon = _budget(mono_a, wall)  # long-lived process A
    # cron `sync` (process B) spends 8 of the 10 at t0
    cron1 = _budget(mono_b, wall)
    _send(cron1, 8)
    _pass(engine, cron1)
    _pass(engine, daemon)  # A absorbs ids 1..8
    assert daemon._live(mono_a.t) == 8
    # 10 minutes pass with no Statuspage request at all; a pass prunes the table empty
    for clk in (mono_a, mono_b, wall):
        clk.t += 600
    _pass(engine, daemon)
    with Session(engine) as session:
        assert session.execute(sa.text("select count(*) from rate_spend")).scalar() == 0
    assert daemon._live(mono_a.t) == 0
    # B again spends 8 of the key's 10 right now
    cron2 = _budget(mono_b, wall)
    _send(cron2, 8)
    _pass(engine, cron2)
    with Session(engine) as session:
        ids = [r[0] for r in session.execute(sa.text("select id from rate_spend"))]
    _pass(engine, daemon)
    # A must now count B's 8 requests in its window: it counts none (ids reused: {ids})
    assert daemon._live(mono_a.t) == 8, (
        f"daemon counts {daemon._live(mono_a.t)} of B's 8 (row ids {ids})"
    )


def test_rows_from_before_the_clock_jumped_back_hold_no_window(tmp_path: Path) -> None:
    """The host's clock stepped back a day: the rows written before hold no later process."""
    engine = _engine(tmp_path)
    wall = Clock(1_800_000_000.0)
    first = _budget(Clock(10.0), wall)
    _send(first, 10)
    _pass(engine, first)
    wall.t -= 86_400  # NTP steps the clock back a day
    waits: list[float] = []
    for _ in range(3):  # three later processes, an hour apart
        wall.t += 3600
        mono = Clock(100.0)
        later = RateBudget(10, 60.0, clock=mono, sleep=mono.advance, wall=wall)
        started = mono.t
        later.key_id = "k" * 32
        _pass(engine, later)
        later.take()
        waits.append(round(mono.t - started, 1))
    assert waits == [0.0, 0.0, 0.0], f"first request of each new process waited {waits} s"


def test_spend_whose_commit_failed_is_stored_by_the_next_pass(tmp_path: Path) -> None:
    """A pass's spend rolled back (its commit failed) is stored by the next pass, not lost."""
    engine = _engine(tmp_path)
    mono, wall = Clock(1000.0), Clock(1_800_000_000.0)
    budget = _budget(mono, wall)
    _send(budget, 5)

    def failing(_session: Session) -> None:
        raise sa.exc.OperationalError("commit", {}, Exception("disk I/O error"))

    with Session(engine) as session:
        try:
            SharedWindows([budget], store=True).save(session, failing)
        except sa.exc.OperationalError:
            session.rollback()
    _pass(engine, budget)

    with Session(engine) as session:
        assert session.execute(sa.text("select count(*) from rate_spend")).scalar() == 5
