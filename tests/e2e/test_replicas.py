"""Replicas on PostgreSQL: one leader, fast takeover, no writes from a deposed leader."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.runtime.deadlines import DEADLINE_SCALE_ENV, WRITE_DEADLINE
from ilert_statuspage_sync.service.leadership import LOCK_KEY
from ilert_statuspage_sync.simulators import StatuspageSimulator
from tests.support.database import Templates, postgres_database
from tests.support.proc import Daemon, wait_until, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

INTERVAL = 5
# The replicas run with every write deadline halved (answer deadline 15 s, still longer than
# HOLD): the same takeover and reconciliation logic, but a write is waited out in 22.5 s, not 45.
FAST_DEADLINES = {DEADLINE_SCALE_ENV: "0.5"}


@pytest.fixture(name="pg_url")
def _pg_url(database_templates: Templates) -> Iterator[str]:
    """A migrated PostgreSQL database: the replicas' leader finds nothing to migrate."""
    yield from postgres_database(database_templates.postgres())


@pytest.fixture(name="replicas")
def _replicas(tmp_path: Path, sims, pg_url: str) -> Iterator[tuple[Daemon, Daemon]]:
    ilert, statuspage = sims
    config = write_config(tmp_path, ilert.url, statuspage.url, pg_url, poll_interval=INTERVAL)
    first = Daemon(config, env=FAST_DEADLINES)
    first.wait_for("became_leader")
    second = Daemon(config, env=FAST_DEADLINES)
    second.wait_for("waiting_as_follower")
    yield first, second
    for daemon in (first, second):
        if daemon.process.poll() is None:
            daemon.stop()


def _lock_holder_pid(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        pid = connection.execute(
            # Advisory locks are per database; other tests on the server hold the same key.
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LOCK_KEY},
        ).scalar_one()
    engine.dispose()
    return int(pid)


def _assert_page(statuspage: StatuspageSimulator, alert_ids: list[int], status: str) -> None:
    incidents = statuspage.incidents(AUTO_PAGE)
    traced = sorted(int(i["metadata"]["ilert"]["alert_id"]) for i in incidents)
    assert traced == sorted(alert_ids), "one incident per alert, no duplicates"
    assert {i["status"] for i in incidents} == {status}
    for incident in incidents:
        bodies = [u["body"] for u in incident["incident_updates"] if u["body"]]
        assert len(bodies) == len(set(bodies)), "no duplicate update"


def test_one_leader_and_takeover_after_sigkill_mid_pass(replicas, sims):
    """SIGKILL the leader while a write is in flight: the follower takes over within two
    intervals, waits out the write's flight time, and the page ends exactly right."""
    leader, follower = replicas
    ilert, statuspage = sims
    alert_ids = [ilert.create_alert(AUTO_SOURCE, f"replica {n}", "details") for n in range(3)]
    stall = statuspage.stall_next(method="POST", path_contains="/incidents")
    assert stall.wait_arrived(3 * INTERVAL)
    leader.kill()
    killed_at = time.monotonic()
    stall.release()
    took_over = follower.wait_for("became_leader", timeout=4 * INTERVAL)
    assert took_over - killed_at <= 2 * INTERVAL + 1
    for alert_id in alert_ids:
        ilert.accept(alert_id)
    wait_until(
        lambda: [i["status"] for i in statuspage.incidents(AUTO_PAGE)] == ["in_progress"] * 3,
        # The killed leader's intent may be a write still on its way: it waits that long.
        timeout=WRITE_DEADLINE + 4 * INTERVAL,
        what="all incidents in_progress",
    )
    _assert_page(statuspage, alert_ids, "in_progress")
    assert follower.stop() == 0


def test_cut_leader_connection_stops_its_writes(replicas, sims, pg_url):
    """Terminating the leader's lock session mid-pass: it writes nothing more, the other
    replica takes over, and the page ends exactly right."""
    leader, follower = replicas
    ilert, statuspage = sims
    alert_ids = [ilert.create_alert(AUTO_SOURCE, f"cut {n}", "details") for n in range(3)]
    stall = statuspage.stall_next(method="POST", path_contains="/incidents")
    assert stall.wait_arrived(3 * INTERVAL)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": _lock_holder_pid(pg_url)}
        )
    engine.dispose()
    cut_at = time.monotonic()
    stall.release()
    leader.wait_for("leadership_lost_mid_pass", timeout=3 * INTERVAL)
    # Either replica may win the free lock; one of them must, within two intervals.
    took_over = wait_until(
        lambda: (
            leader.events().count("became_leader") >= 2
            or follower.events().count("became_leader") >= 1
        ),
        timeout=4 * INTERVAL,
        what="a new leader",
    )
    assert took_over - cut_at <= 2 * INTERVAL + 1
    wait_until(
        lambda: len(statuspage.incidents(AUTO_PAGE)) == 3, timeout=4 * INTERVAL, what="3 incidents"
    )
    time.sleep(INTERVAL)  # one more pass of both: nothing may change
    _assert_page(statuspage, alert_ids, "identified")
    # The deposed leader sent exactly the one write that was already in flight.
    posts = [w for w in statuspage.writes() if w.method == "POST" and w.status == 201]
    assert len(posts) == 3


HOLD = 12  # seconds Statuspage holds the in-flight create: longer than a takeover (<= 2 intervals)


def _cut_lock_session(url: str) -> None:
    """Terminate the leader's lock session, as a failover of its connection would."""
    _terminate(url, "pid = :pid", {"pid": _lock_holder_pid(url)})


def _cut_every_session(url: str) -> None:
    """Terminate every session of the test's own database: what a PostgreSQL restart does to
    the replicas. (The shared server itself is not restarted: other work uses it.)"""
    _terminate(url, "datname = current_database() AND pid <> pg_backend_pid()", {})


def _terminate(url: str, where: str, params: dict[str, int]) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        cut = connection.execute(
            sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}"),
            params,
        ).all()
    engine.dispose()
    assert cut, "no session was terminated"


CUTS = {"lock_session": _cut_lock_session, "every_session": _cut_every_session}


def _watch(statuspage: StatuspageSimulator, done: Callable[[], bool], timeout: float) -> None:
    """Poll the page until ``done``; at no moment may an alert have two open incidents."""
    deadline = time.monotonic() + timeout
    while not done():
        open_per_alert = Counter(
            int(i["metadata"]["ilert"]["alert_id"])
            for i in statuspage.incidents(AUTO_PAGE)
            if i["status"] != "resolved"
        )
        assert max(open_per_alert.values(), default=0) <= 1, f"duplicates open: {open_per_alert}"
        assert time.monotonic() < deadline, f"not done within {timeout}s"
        time.sleep(0.2)


@pytest.mark.parametrize("cut", list(CUTS))
def test_write_in_flight_when_leadership_moves(replicas, sims, pg_url, cut):
    """A create still in flight when the leader is cut off: one open incident per alert at
    every moment, and every incident resolved after its alert resolves."""
    ilert, statuspage = sims
    held = statuspage.delay_next(HOLD, method="POST", path_contains="/incidents")
    alert_ids = [ilert.create_alert(AUTO_SOURCE, f"in flight {n}", "details") for n in range(2)]
    assert held.wait_arrived(3 * INTERVAL)
    CUTS[cut](pg_url)
    _watch(statuspage, held.finished.is_set, timeout=2 * HOLD)
    for alert_id in alert_ids:
        ilert.resolve(alert_id)

    def all_resolved() -> bool:
        incidents = statuspage.incidents(AUTO_PAGE)
        return len(incidents) >= len(alert_ids) and all(
            i["status"] == "resolved" for i in incidents
        )

    _watch(statuspage, all_resolved, timeout=WRITE_DEADLINE + 4 * INTERVAL)
    time.sleep(INTERVAL)  # one more pass: nothing may change
    _assert_page(statuspage, alert_ids, "resolved")
    posts = [w for w in statuspage.writes() if w.method == "POST" and w.status == 201]
    assert len(posts) == len(alert_ids)
