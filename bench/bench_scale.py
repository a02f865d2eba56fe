"""Benchmark: every scale figure as a ratio to the vendor's limit or the target, one run.

Runs the real daemon code (HTTP over loopback to the built-in simulators, a
real SQLite database built by the migrations) with the vendors' limits
simulated by the simulators themselves: iLert 120 requests per fixed window
per key and pages of at most 100; Statuspage 60 per rolling window. Two ways
of keeping a run short, each said in the output:

- listing and latency rows compress iLert's 60 s window to ``WINDOW`` s (the
  daemon's budget with it): a pass still has its budget of 120 x 30 / 60 = 60
  requests, it only need not wait a minute for the next one;
- burst rows run the vendors' full 60 s windows on a *virtual clock* shared by
  the daemon's rate budgets and the simulators' limiters: waiting on a budget
  moves that clock instead of sleeping, passes start on it every
  ``poll_interval`` as the scheduler starts them. Seconds there are the
  vendor's seconds; network latency is zero.

The two history rows (quiet pass with K closed links; SQL per quiet pass) come
from ``bench/bench_history.py`` (``rows()``) when it is present.

Usage: python bench/bench_scale.py [--quick]   (--quick: smaller N, for a smoke run)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ilert_statuspage_sync.clients.http import RateBudget, Slot, reset_budgets
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.publish import parse_publish_policy
from ilert_statuspage_sync.demo.play import (
    AUTO_PAGE,
    AUTO_SOURCE,
    ILERT_KEY,
    STATUSPAGE_KEY,
    demo_config,
)
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.service.wiring import Services, build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.sync.syncer import Syncer

ILERT_LIMIT = 120  # per minute per key
STATUSPAGE_LIMIT = 60  # per rolling 60 s per key
PAGE_LIMIT = 100
POLL_INTERVAL = 30  # the default; a pass's iLert budget is 120 * 30 / 60 = 60 requests
PER_PASS = ILERT_LIMIT * POLL_INTERVAL // 60
WINDOW = 0.5  # seconds standing for iLert's 60 s window in listing and latency rows
WATCHDOG_SEC = 600  # systemd/ilert-statuspage-sync.service WatchdogSec=10min
HOUR = timedelta(hours=1)
LIFTED = 100_000  # the most a config allows


@dataclasses.dataclass(frozen=True)
class Row:
    """One figure: what was measured, against what, and the ratio (with the target's sense)."""

    figure: str
    measured: str
    limit: str
    ratio: float
    target: str  # e.g. "<= 1.05", ">= 0.95", "= 1.00"

    def ok(self) -> bool:
        """Whether the ratio meets its target."""
        sense, value = self.target.split()
        bound = float(value)
        if sense == "<=":
            return self.ratio <= bound + 1e-9
        if sense == ">=":
            return self.ratio >= bound - 1e-9
        return abs(self.ratio - bound) < 1e-9


@contextmanager
def _daemon(
    *, hold: bool, ilert_rate: int = ILERT_LIMIT
) -> Iterator[tuple[IlertSimulator, StatuspageSimulator, Config, Path]]:
    """Simulators, a migrated database, the demo config (held by publish_after if ``hold``)."""
    reset_budgets()
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        config = demo_config(
            "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=ilert_rate
        )
        if hold:
            policy = parse_publish_policy({"publish_after": 3600}, "incident_actions[0]", "bench")
            actions = tuple(
                a if a.manual else dataclasses.replace(a, publish=policy)
                for a in config.incident_actions
            )
            config = dataclasses.replace(config, incident_actions=actions)
        config = dataclasses.replace(config, poll_interval=POLL_INTERVAL)
        yield ilert, sp, config, Path(folder)


def _syncer(config: Config, rate_window: float = 60.0) -> tuple[Syncer, Services]:
    services = build_services(config, rate_window=rate_window)
    return build_syncer(config, services), services


def _activate(ilert: IlertSimulator, syncer: Syncer) -> None:
    """The automatic action's first pass, two hours ago on iLert's clock."""
    ilert.set_clock(lambda: datetime.now(UTC) - 2 * HOUR)
    syncer.run_pass()
    ilert.set_clock(lambda: datetime.now(UTC))


def _seed(ilert: IlertSimulator, count: int, newest: datetime, step: timedelta) -> list[int]:
    return [
        ilert.create_alert(AUTO_SOURCE, f"alert {n}", report_time=newest - n * step)
        for n in range(count)
    ]


def _open_pages(ilert: IlertSimulator) -> int:
    return sum(
        1
        for r in ilert.requests
        if r.path == "/api/alerts" and "PENDING" in r.query.get("states", []) and r.status == 200
    )


def _list_requests(ilert: IlertSimulator) -> int:
    return sum(1 for r in ilert.requests if r.path == "/api/alerts")


def _minimum_pages(count: int) -> int:
    """Pages for ``count`` items: a short page ends the list; a full last one needs an empty."""
    return count // PAGE_LIMIT + 1


# -- listing rows --------------------------------------------------------------------------


def open_alerts(count: int) -> Row:
    """N open alerts (held) plus 3 new mirrorable ones: one listing cycle, all of it synced."""
    with _daemon(hold=True) as (ilert, sp, config, _folder):
        syncer, services = _syncer(config, WINDOW)
        _activate(ilert, syncer)
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        _seed(ilert, count, datetime.now(UTC), timedelta(milliseconds=1))
        reported = datetime.now(UTC) - timedelta(minutes=90)  # past publish_after
        for n in range(3):
            ilert.create_alert(AUTO_SOURCE, f"new {n}", report_time=reported)
        ilert.clear_requests()
        passes = failed = 0
        while True:
            passes += 1
            failed += not syncer.run_pass().ok
            if syncer.carry.cycle.complete:
                break
        pages = _open_pages(ilert)
        minimum = _minimum_pages(count + 3)
        mirrored = len(sp.incidents(AUTO_PAGE))
        throttled = ilert.rate_limit_violations()
        services.close()
    return Row(
        f"Open alerts in the linked sources: {count:,}",
        f"{pages:,} list pages over {passes} passes (minimum {minimum:,}); "
        f"{failed} failed passes; {mirrored}/3 new mirrored; {throttled} throttled",
        "no cap: all sync, pages = minimum",
        pages / minimum if failed == 0 and mirrored == 3 and throttled == 0 else math.inf,
        "= 1.00",
    )


def before_activation(count: int) -> Row:
    """N open alerts reported before activation: what a quiet pass fetches of them."""
    with _daemon(hold=True) as (ilert, _sp, config, _folder):
        syncer, services = _syncer(config, WINDOW)
        _activate(ilert, syncer)
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        _seed(ilert, count, datetime.now(UTC) - 3 * HOUR, timedelta(milliseconds=1))
        served = ilert.alerts_served
        ilert.clear_requests()
        report = syncer.run_pass()
        lists = _list_requests(ilert)
        fetched = ilert.alerts_served - served
        services.close()
    return Row(
        f"Open alerts reported before activation: {count:,}",
        f"{fetched} fetched; {lists} list requests a quiet pass; pass ok={report.ok}",
        "0 fetched, 2 requests (1 empty open-set page, 1 of newly resolved)",
        lists / 2 if fetched == 0 else math.inf,
        "= 1.00",
    )


# -- resolve latency and the reported-since window ---------------------------------------------


def resolve_latency(count: int) -> Row:
    """N open alerts (held) and 3 mirrored on the listing's last page: passes until the page
    shows a resolve made right after the N were reported (the cycle has just begun)."""
    with _daemon(hold=True) as (ilert, sp, config, _folder):
        syncer, services = _syncer(config, WINDOW)
        _activate(ilert, syncer)
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        reported = datetime.now(UTC) - timedelta(minutes=90)  # past publish_after
        mirrored = [
            ilert.create_alert(AUTO_SOURCE, f"m {n}", report_time=reported) for n in range(3)
        ]
        syncer.run_pass()
        _seed(ilert, count, datetime.now(UTC) - timedelta(minutes=10), timedelta(milliseconds=1))
        ilert.resolve(mirrored[0])
        passes, most = 0, 0
        while passes < 40:
            ilert.clear_requests()
            syncer.run_pass()
            passes += 1
            most = max(most, sum(1 for r in ilert.requests if r.path != "/api/alerts/count"))
            if any(i["status"] == "resolved" for i in sp.incidents(AUTO_PAGE)):
                break
        cycle = syncer.carry.cycle.start // PAGE_LIMIT  # pages of the cycle read so far
        services.close()
    open_pages = _minimum_pages(count + 3)
    return Row(
        f"Resolve latency of a mirrored alert, {count:,} open",
        f"on the page after {passes} pass(es) (listing cycle at page {cycle:,} of {open_pages:,}, "
        f"so a cycle of {math.ceil(open_pages / max(cycle, 1) * passes)}+ passes); most requests "
        f"in a pass {most} (budget {PER_PASS}, count requests aside)",
        "2 intervals",
        passes / 2,
        "<= 1.00",
    )


def reported_after_restart(count: int, passes: int) -> Row:
    """N alerts reported inside the overlap while down: the first passes after a restart."""
    with _daemon(hold=True) as (ilert, _sp, config, _folder):
        syncer, services = _syncer(config, WINDOW)
        _activate(ilert, syncer)
        syncer.run_pass()  # the cursor is now
        services.close()
        syncer, services = _syncer(config, WINDOW)  # a restart
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        _seed(ilert, count, datetime.now(UTC) - timedelta(seconds=1), timedelta(milliseconds=1))
        most_reported = most = ran = 0
        while ran < passes:
            ilert.clear_requests()
            syncer.run_pass()
            ran += 1
            reported = [
                r
                for r in ilert.requests
                if r.path in ("/api/alerts", "/api/alerts/count")
                and "PENDING" not in r.query.get("states", [])
            ]
            most_reported = max(most_reported, len(reported))
            most = max(most, sum(1 for r in ilert.requests if r.path != "/api/alerts/count"))
            if syncer.carry.reported is None:
                break
        window = syncer.carry.reported
        at = window.start // PAGE_LIMIT if window else _minimum_pages(count)
        throttled = ilert.rate_limit_violations()
        services.close()
    return Row(
        f"Reported-since pages a pass after a restart, {count:,} in the overlap",
        f"at most {most_reported} a pass over {ran} passes (window at page {at:,} of "
        f"{_minimum_pages(count):,}); most requests in a pass {most}; {throttled} throttled",
        f"a pass's budget ({PER_PASS})",
        most_reported / PER_PASS,
        "<= 0.50",
    )


# -- comment latency -----------------------------------------------------------------------


def comment_latency(count: int) -> Row:
    """N open mirrored alerts, nothing changing: passes until every timeline was read."""
    with _daemon(hold=False, ilert_rate=LIFTED) as (ilert, sp, config, _folder):
        lifted = dataclasses.replace(
            config,
            connectors={
                n: dataclasses.replace(c, requests_per_minute=LIFTED)
                for n, c in config.connectors.items()
            },
        )
        syncer, services = _syncer(lifted)
        _activate(ilert, syncer)
        # Reported 30 to 90 minutes ago: after activation, before the "newly reported" window.
        step = timedelta(minutes=60) / count
        alerts = _seed(ilert, count, datetime.now(UTC) - timedelta(minutes=30), step)
        syncer.run_pass()  # mirrors all, reads every timeline once
        assert len(sp.incidents(AUTO_PAGE)) == count
        services.close()
        limited = dataclasses.replace(
            config, ilert=dataclasses.replace(config.ilert, requests_per_minute=ILERT_LIMIT)
        )
        syncer, services = _syncer(limited, WINDOW)
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        unread, passes, lists, most = set(alerts), 0, 0, 0
        while unread:
            ilert.clear_requests()
            syncer.run_pass()
            passes += 1
            lists += _list_requests(ilert)
            most = max(most, len(ilert.requests))
            unread -= {
                int(r.path.split("/")[3])
                for r in ilert.requests
                if r.path.endswith("/log-entries") and r.status == 200
            }
        throttled = ilert.rate_limit_violations()
        services.close()
    per_pass_lists = lists / passes
    bound = math.ceil(count / (PER_PASS - per_pass_lists))
    return Row(
        f"Comment latency, N={count:,} open mirrored, nothing changing",
        f"{passes} passes; {per_pass_lists:.1f} list pages a pass; most requests in a pass "
        f"{most} (budget {PER_PASS}); {throttled} throttled",
        f"bound ceil(N / ({PER_PASS} - list pages)) = {bound} passes",
        passes / bound,
        "<= 1.05",
    )


# -- bursts on a virtual clock ---------------------------------------------------------------


class VirtualTime:
    """The one clock of the daemon's budgets and the simulators' limiters."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Recording(RateBudget):
    def __init__(self, limit: int, clock: VirtualTime, *, fixed_windows: bool) -> None:
        super().__init__(limit, 60.0, clock=clock, sleep=clock.sleep, fixed_windows=fixed_windows)
        self.sends: list[float] = []

    def take(self) -> Slot:
        slot = super().take()
        self.sends.append(self._clock())
        return slot


@dataclasses.dataclass
class Burst:
    """What a burst did, on the vendor's clock."""

    sends: list[float]
    passes: int
    list_pages: list[tuple[int, int]]  # (open-set pages, open alerts) per pass
    listings: list[float]  # when each pass listed iLert
    watchdog_gap: float
    change_latency: float
    throttled: int


def run_burst(count: int, change_after: int = 1) -> Burst:
    """``count`` new alerts through the paced daemon at the vendors' limits, virtual clock.

    After pass ``change_after`` the first alert is resolved on iLert (a change
    during the burst); the burst records when its resolve reached the page.
    """
    clock = VirtualTime()
    with _daemon(hold=False) as (ilert, sp, config, _folder):
        config = dataclasses.replace(
            config,
            connectors={
                n: dataclasses.replace(c, requests_per_minute=STATUSPAGE_LIMIT)
                for n, c in config.connectors.items()
            },
        )
        syncer, services = _syncer(config)
        _activate(ilert, syncer)
        syncer.pace_writes = True  # as the daemon runs it
        ilert_budget = _Recording(ILERT_LIMIT, clock, fixed_windows=True)
        statuspage_budget = _Recording(STATUSPAGE_LIMIT, clock, fixed_windows=False)
        for http in services.https:
            http.budget = ilert_budget if http.service == "ilert" else statuspage_budget
        ilert.set_rate_limit(ILERT_LIMIT, window=60.0, monotonic=clock)
        sp.set_rate_limit(STATUSPAGE_LIMIT, window=60.0, monotonic=clock)
        alerts = _seed(ilert, count, datetime.now(UTC), timedelta(milliseconds=1))[::-1]
        pings: list[float] = []
        shutdown.set_keepalive(lambda: pings.append(clock.now))
        due, passes, gap = 0.0, 0, 0.0
        pages: list[tuple[int, int]] = []
        listings: list[float] = []
        changed_at = reached_at = math.nan
        open_now = count
        while True:
            clock.now = max(clock.now, due)
            ilert.clear_requests()
            began, pings[:] = clock.now, []
            syncer.run_pass()
            passes += 1
            moments = [began, *pings, clock.now]
            gap = max(gap, *(b - a for a, b in itertools.pairwise(moments)))
            pages.append((_open_pages(ilert), open_now))
            listings.append(began)
            if passes == change_after:
                ilert.resolve(alerts[0])
                changed_at, open_now = clock.now, count - 1
            if math.isnan(reached_at) and not math.isnan(changed_at):
                resolved = [i for i in sp.incidents(AUTO_PAGE) if i["status"] == "resolved"]
                if resolved:
                    reached_at = clock.now
            due = max(due + POLL_INTERVAL, clock.now)
            if len(sp.incidents(AUTO_PAGE)) == count and not math.isnan(reached_at):
                break
        shutdown.set_keepalive(None)
        throttled = sp.rate_limit_violations() + ilert.rate_limit_violations()
        services.close()
    return Burst(
        statuspage_budget.sends,
        passes,
        pages,
        listings,
        gap,
        reached_at - changed_at,
        throttled,
    )


def burst_rows(count: int) -> list[Row]:
    """Burst of ``count`` new alerts: the Statuspage rate and the iLert list pages."""
    burst = run_burst(count)
    sends = burst.sends
    least = (math.ceil(len(sends) / STATUSPAGE_LIMIT) - 1) * 60.0
    span = sends[-1] - sends[0]
    extra = sum(p - _minimum_pages(n) for p, n in burst.list_pages)
    return [
        Row(
            f"Burst of {count} new alerts: Statuspage rate",
            f"{len(sends)} requests in {span:.1f} s (least possible {least:.0f} s); "
            f"{burst.throttled} throttled",
            ">= 0.95 of 1 req/s, 0 throttled",
            least / span if burst.throttled == 0 else 0.0,
            ">= 0.95",
        ),
        Row(
            f"Burst of {count} new alerts: iLert list pages",
            f"{sum(p for p, _ in burst.list_pages)} open-set pages in {burst.passes} passes, "
            f"{extra} over the minimum of each listing",
            "list pages = minimum (one listing each interval)",
            1.0 + extra / max(sum(p for p, _ in burst.list_pages), 1),
            "= 1.00",
        ),
    ]


def long_burst_rows(count: int) -> list[Row]:
    """A burst longer than 10 minutes at the limit: the watchdog, the listing, a change."""
    burst = run_burst(count, change_after=3)
    span = burst.sends[-1] - burst.sends[0]
    listing_gap = max(b - a for a, b in itertools.pairwise(burst.listings))
    pace = 60.0 + 1.0  # a batch of the burst every window (plus the budget's margin)
    return [
        Row(
            f"Burst of {count} writes ({span / 60:.1f} min at the limit): watchdog",
            f"longest gap between WATCHDOG=1 inside a pass {burst.watchdog_gap:.1f} s",
            f"WatchdogSec={WATCHDOG_SEC} s",
            burst.watchdog_gap / WATCHDOG_SEC,
            "<= 1.00",
        ),
        Row(
            f"Burst of {count} writes: iLert listing refreshed",
            f"longest time between two listings {listing_gap:.1f} s over {burst.passes} passes",
            f"each interval ({POLL_INTERVAL} s)",
            listing_gap / POLL_INTERVAL,
            "<= 1.05",
        ),
        Row(
            f"Burst of {count} writes: change made mid-burst",
            f"on the page {burst.change_latency:.1f} s after it was made",
            f"one interval of the burst's pace ({pace:.0f} s a batch + {POLL_INTERVAL} s)",
            burst.change_latency / (pace + POLL_INTERVAL),
            "<= 1.00",
        ),
    ]


# -- history rows (bench/bench_history.py) ---------------------------------------------------


def history_rows() -> list[Row]:
    """The two history figures, from bench_history.rows() when that bench exists."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import bench_history  # type: ignore[import-not-found]
    except ImportError:
        return [
            Row(figure, "not measured: bench/bench_history.py is not here", limit, math.nan, "")
            for figure, limit in (
                ("Quiet pass with 100 open alerts and K closed links", "independent of K"),
                ("SQL per quiet pass at N=1,000", "a handful per pass"),
            )
        ]
    rows = []
    for figure, measured, limit, ratio in bench_history.rows():
        try:
            rows.append(Row(str(figure), str(measured), str(limit), float(ratio), "<= 1.00"))
        except ValueError:  # several ratios in one cell ("CPU 1.05, memory 1.00, ..."): as said
            rows.append(Row(str(figure), f"{measured} ({ratio})", str(limit), math.nan, ""))
    return rows


# -- the table -------------------------------------------------------------------------------


def _print(rows: list[Row]) -> None:
    print("| Figure | Measured | Limit / target | Ratio | Target | Met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = "-" if math.isnan(row.ratio) else f"{row.ratio:.3f}"
        met = "-" if not row.target else ("yes" if row.ok() else "NO")
        print(f"| {row.figure} | {row.measured} | {row.limit} | {ratio} | {row.target} | {met} |")


def main(argv: list[str]) -> None:
    """Every row of the scale table, one run."""
    configure_logging("error")
    quick = "--quick" in argv
    big, before, latency, burst, long_burst = (
        (5_000, 2_000, [300], 120, 200) if quick else (100_000, 10_000, [1_000, 10_000], 300, 650)
    )
    resolve_sizes, restart = ([5_000], 5_000) if quick else ([30_000, 100_000], 100_000)
    print(
        f"Vendors' limits: iLert {ILERT_LIMIT}/min per key (fixed windows), {PAGE_LIMIT} per "
        f"page; Statuspage {STATUSPAGE_LIMIT} per rolling 60 s. poll_interval {POLL_INTERVAL} s "
        f"(a pass: {PER_PASS} iLert requests)."
    )
    print(
        f"Listing and latency rows: iLert's window compressed from 60 s to {WINDOW} s. "
        "Burst rows: full 60 s windows on a virtual clock shared by the daemon's budgets "
        "and the simulators (no real waiting, zero network latency)."
    )
    jobs: list[Callable[[], Any]] = [
        lambda: [open_alerts(big)],
        lambda: [before_activation(before)],
        lambda: burst_rows(burst),
        *[(lambda n=n: [comment_latency(n)]) for n in latency],
        *[(lambda n=n: [resolve_latency(n)]) for n in resolve_sizes],
        lambda: [reported_after_restart(restart, 3)],
        history_rows,
        lambda: long_burst_rows(long_burst),
    ]
    rows: list[Row] = []
    for job in jobs:
        found = job()
        for row in found:
            print(f"  measured: {row.figure}: {row.measured}", file=sys.stderr, flush=True)
        rows.extend(found)
    _print(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
