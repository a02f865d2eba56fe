"""Benchmark: a quiet pass's cost against the history the database holds.

Runs the real daemon against the built-in simulators on loopback, on a real
migrated SQLite file, fenced by a leadership epoch as the daemon runs. Prints:

- (a) a quiet pass with 100 open mirrored alerts and K closed links (and
  their audit rows) in the database, K = 20,000 and 100,000: the daemon's CPU
  seconds (its own thread, the least of 9 passes; the simulators run in other
  threads), its peak traced memory and the link rows it read (a count that
  load cannot disturb), as ratios to the same pass with K = 0
  (target: 1.00 within 10%). One world (simulators, database, daemon) per K,
  the history being copies of a link the daemon itself mirrored and closed,
  dated within the retention period so nothing is pruned; the worlds' passes
  take turns, so the machine's changing load falls on each alike. Then
  100,000 expired links are added to the K = 0 world and its passes, each
  pruning a batch, are measured the same way;
- (b) SQL statements and commits of one quiet pass with N = 1,000 open
  mirrored alerts, under the default iLert budget (its window compressed to
  ``WINDOW`` s so the run takes seconds), counted with SQLAlchemy event
  listeners (target: a handful per pass, not one per checked alert).

Usage: python bench/bench_history.py        (also: ``rows()`` for bench_scale.py)
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ilert_statuspage_sync.config import Config, IlertConfig
from ilert_statuspage_sync.core.retention import PRUNE_BATCH
from ilert_statuspage_sync.demo.play import (
    AUTO_PAGE,
    AUTO_SOURCE,
    ILERT_KEY,
    MANUAL_PAGE,
    STATUSPAGE_KEY,
    demo_config,
)
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.service.leadership import NoLeadership
from ilert_statuspage_sync.service.wiring import build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.database import make_engine
from ilert_statuspage_sync.store.tables import Link, Transition
from ilert_statuspage_sync.sync.syncer import PassReport, Syncer

OPEN = 100
HISTORY = (20_000, 100_000)
QUIET_N = 1_000
POLL_INTERVAL = 30.0
WINDOW = 0.5  # seconds standing for the vendors' 60 s windows in part (b)
TOLERANCE = 0.10
MEASURED_PASSES = 9
# Far more than any budget: part (a) measures the daemon, not the vendors' pace.
UNLIMITED = 100_000


@dataclasses.dataclass
class World:
    """Simulators, a config and a fenced syncer on one SQLite file."""

    ilert: IlertSimulator
    statuspage: StatuspageSimulator
    config: Config
    engine: sa.Engine
    syncer: Syncer
    template: tuple[dict[str, Any], list[dict[str, Any]]] | None = None


@contextmanager
def _world() -> Iterator[World]:
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as sp,
    ):
        url = f"sqlite:///{Path(folder) / 'state.db'}"
        config = demo_config("classic", ilert.url, sp.url, url, rate=UNLIMITED)
        config = dataclasses.replace(config, poll_interval=POLL_INTERVAL)
        engine = make_engine(url)
        seeding = build_services(config)
        syncer = build_syncer(config, seeding, engine=engine, leadership=NoLeadership())
        syncer.run_pass()  # activation
        world = World(ilert, sp, config, engine, syncer)
        try:
            yield world
        finally:
            seeding.close()
            engine.dispose()


def _paced(world: World, rate: int, window: float) -> Syncer:
    """A fresh fenced syncer whose iLert budget is ``rate`` per (compressed) minute."""
    ilert = dataclasses.replace(world.config.ilert, requests_per_minute=rate)
    config = dataclasses.replace(world.config, ilert=ilert)
    services = build_services(config, rate_window=window)
    return build_syncer(config, services, engine=world.engine, leadership=NoLeadership())


def _mirror_open(world: World, count: int) -> None:
    for number in range(count):
        world.ilert.create_alert(AUTO_SOURCE, f"open alert {number}", "details")
    report = world.syncer.run_pass()
    assert report.ok, report
    assert report.writes == count, report


def _closed_template(world: World) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A link (and its audit rows) the daemon mirrored and closed itself, as column values."""
    alert_id = world.ilert.create_alert(AUTO_SOURCE, "closed alert", "details")
    world.syncer.run_pass()
    world.ilert.resolve(alert_id)
    world.syncer.run_pass()
    with world.engine.connect() as connection:
        link = connection.execute(sa.select(Link).where(Link.alert_id == alert_id)).one()
        audit = connection.execute(
            sa.select(Transition).where(Transition.alert_id == alert_id)
        ).all()
    assert not link.is_open, link
    return dict(link._mapping), [dict(row._mapping) for row in audit]


def seed_history(
    world: World, count: int, *, age: Callable[[int], timedelta], first_id: int = 10**9
) -> None:
    """``count`` closed links (copies of a real one) and their audit rows, ``age(n)`` old."""
    if world.template is None:
        world.template = _closed_template(world)
    link, audit = dict(world.template[0]), [dict(row) for row in world.template[1]]
    del link["id"]
    for row in audit:
        del row["id"]
    now = datetime.now(UTC)
    chunk = 5_000
    with world.engine.begin() as connection:
        for start in range(0, count, chunk):
            links: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            for n in range(start, min(start + chunk, count)):
                when = now - age(n)
                alert_id = first_id + n
                links.append(
                    {
                        **link,
                        "alert_id": alert_id,
                        "statuspage_incident_id": f"hist{n}",
                        "created_at": when - timedelta(hours=1),
                        "updated_at": when,
                    }
                )
                rows.extend({**row, "alert_id": alert_id, "at": when} for row in audit)
            connection.execute(sa.insert(Link), links)
            connection.execute(sa.insert(Transition), rows)
    _checkpoint(world)


def _checkpoint(world: World) -> None:
    with world.engine.connect() as connection:
        # The seeding's own write-ahead log is folded in now, not in a measured pass.
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _within_retention(n: int) -> timedelta:
    return timedelta(days=1 + n % 300, seconds=n)


def _expired(n: int) -> timedelta:
    return timedelta(days=500 + n % 300, seconds=n)


def _measured_pass(syncer: Syncer) -> tuple[float, float, PassReport]:
    """CPU seconds (this thread) and peak traced MB of one pass."""
    tracemalloc.start()
    started = time.thread_time()
    report = syncer.run_pass()
    cpu = time.thread_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return cpu, peak, report


@dataclasses.dataclass(frozen=True)
class Quiet:
    """Least CPU seconds (least disturbed by load), median peak MB and link rows read per pass."""

    cpu: float
    mb: float
    links_read: int


@dataclasses.dataclass
class _Samples:
    """One world's measured passes."""

    cpu: list[float] = dataclasses.field(default_factory=list)
    mb: list[float] = dataclasses.field(default_factory=list)
    reads: list[int] = dataclasses.field(default_factory=list)

    def quiet(self) -> Quiet:
        return Quiet(min(self.cpu), statistics.median(self.mb), max(self.reads))


def _take_turns(worlds: Sequence[World], *, quiet: bool = True) -> list[_Samples]:
    """``MEASURED_PASSES`` passes of each world, the worlds taking turns pass by pass.

    Taking turns spreads the machine's changing load over every world alike.
    """
    samples = [_Samples() for _ in worlds]
    loaded = [0]

    def count(_link: object, _context: object) -> None:
        loaded[0] += 1

    for world in worlds:
        world.syncer.run_pass()  # settles anything left; caches warm
    sa.event.listen(Link, "load", count)
    try:
        for _ in range(MEASURED_PASSES):
            for world, sample in zip(worlds, samples, strict=True):
                loaded[0] = 0
                seconds, peak, report = _measured_pass(world.syncer)
                assert report.ok, report
                assert report.writes == 0 or not quiet, report
                sample.cpu.append(seconds)
                sample.mb.append(peak)
                sample.reads.append(loaded[0])
    finally:
        sa.event.remove(Link, "load", count)
    return samples


@dataclasses.dataclass
class History:
    """Part (a): quiet passes by closed links stored, and passes that prune."""

    baseline: Quiet
    quiet: dict[int, Quiet]
    prune_cpu: float
    prune_ratio: float  # to the quiet passes taking turns with the pruning ones
    pruned_per_pass: float


def history_passes(counts: Sequence[int] = HISTORY) -> History:
    """Quiet passes with ``OPEN`` open alerts, without history and with each count of it.

    One world per count (simulators, database, daemon), the same open alerts in
    each; their passes take turns. Then the largest count of expired links is
    added to the K=0 world and its pruning passes take turns with the plain
    quiet passes of the K=20,000 world.
    """
    with ExitStack() as stack:
        worlds = [stack.enter_context(_world()) for _ in (0, *counts)]
        for world, count in zip(worlds, (0, *counts), strict=True):
            _mirror_open(world, OPEN)
            world.template = _closed_template(world)
            if count:
                seed_history(world, count, age=_within_retention)
        samples = _take_turns(worlds)
        base, *rest = (sample.quiet() for sample in samples)
        quiet = dict(zip(counts, rest, strict=True))
        pruning, plain = worlds[0], worlds[1]
        seed_history(pruning, counts[-1], age=_expired)
        before = _link_count(pruning)
        prune_samples, plain_samples = _take_turns([pruning, plain], quiet=False)
        pruned = (before - _link_count(pruning)) / (MEASURED_PASSES + 1)
        cpu = min(prune_samples.cpu)
        return History(base, quiet, cpu, cpu / min(plain_samples.cpu), pruned)


def _link_count(world: World) -> int:
    with world.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(Link)) or 0)


@dataclasses.dataclass
class SqlCount:
    """Statements and commits seen on one engine."""

    statements: int = 0
    commits: int = 0
    kinds: dict[str, int] = dataclasses.field(default_factory=dict)

    def statement(self, *args: Any) -> None:
        sql = str(args[2]).lstrip().split(None, 1)[0].upper()
        self.kinds[sql] = self.kinds.get(sql, 0) + 1
        self.statements += 1

    def commit(self, *_args: Any) -> None:
        self.commits += 1


@contextmanager
def counting(engine: sa.Engine) -> Iterator[SqlCount]:
    """Count every statement sent and every commit made on ``engine``."""
    count = SqlCount()
    sa.event.listen(engine, "before_cursor_execute", count.statement)
    sa.event.listen(engine, "commit", count.commit)
    try:
        yield count
    finally:
        sa.event.remove(engine, "before_cursor_execute", count.statement)
        sa.event.remove(engine, "commit", count.commit)


def quiet_sql(count: int) -> tuple[SqlCount, int]:
    """SQL of one quiet pass with ``count`` open mirrored alerts, default iLert budget."""
    with _world() as world:
        _mirror_open(world, count)
        syncer = _paced(world, _default_ilert_rate(), WINDOW)
        syncer.run_pass()
        world.ilert.clear_requests()
        with counting(world.engine) as sql:
            report = syncer.run_pass()
        checked = sum(1 for r in world.ilert.requests if r.path.endswith("/log-entries"))
        assert report.ok, report
        assert report.writes == 0, report
        return sql, checked


def _default_ilert_rate() -> int:
    """The iLert budget a config gets when it sets none."""
    rate = next(f for f in dataclasses.fields(IlertConfig) if f.name == "requests_per_minute")
    assert isinstance(rate.default, int)
    return rate.default


def rows() -> list[tuple[str, str, str, str]]:
    """(figure, measured, limit/target, ratio) rows, for bench_scale.py's table."""
    history = history_passes()
    base = history.baseline
    table = [
        (
            f"Quiet pass, {OPEN} open alerts, K=0 closed links",
            f"{base.cpu:.3f} s CPU, {base.mb:.1f} MB, {base.links_read} link rows read",
            "baseline",
            "1.00",
        )
    ]
    for count in HISTORY:
        quiet = history.quiet[count]
        table.append(
            (
                f"Quiet pass, {OPEN} open alerts, K={count:,} closed links",
                f"{quiet.cpu:.3f} s CPU, {quiet.mb:.1f} MB, {quiet.links_read} link rows read",
                f"K=0 figures within {TOLERANCE:.0%}",
                f"CPU {quiet.cpu / base.cpu:.2f}, memory {quiet.mb / base.mb:.2f}, "
                f"rows read {quiet.links_read / base.links_read:.2f}",
            )
        )
    table.append(
        (
            f"Quiet pass pruning {HISTORY[-1]:,} expired links",
            f"{history.pruned_per_pass:.0f} links a pass, {history.prune_cpu:.3f} s CPU",
            f"<= {PRUNE_BATCH} links a pass",
            f"{history.pruned_per_pass / PRUNE_BATCH:.2f} of the batch; "
            f"CPU {history.prune_ratio:.2f} of a quiet pass",
        )
    )
    sql, checked = quiet_sql(QUIET_N)
    table.append(
        (
            f"SQL per quiet pass, N={QUIET_N:,} open ({checked} timelines read)",
            f"{sql.statements} statements, {sql.commits} commits",
            "a handful per pass",
            f"{sql.statements / max(checked, 1):.2f} statements and "
            f"{sql.commits / max(checked, 1):.2f} commits per timeline read",
        )
    )
    return table


def main() -> None:
    configure_logging("error")
    for figure, measured, target, ratio in rows():
        print(f"{figure:58s} {measured:32s} {target:28s} {ratio}", flush=True)


if __name__ == "__main__":
    main()
