"""Benchmark: the iLert listing at scale, as ratios to the vendor's limits.

Runs the real daemon against the built-in simulators on loopback, with iLert's
limits simulated: 120 requests per fixed window (the window compressed from
60 s to ``WINDOW`` s, and the daemon's budget with it, so a run takes seconds)
and pages of at most 100. Alerts are held off the page by ``publish_after``,
so only the listing is measured. Prints, per N:

- list pages per listing cycle vs the minimum ceil(N / 100) (target 1.00),
  passes per cycle, passes that failed (target 0) and throttled answers (target 0);
- for N open alerts reported before activation: alerts served and list
  requests in a quiet pass (target: 0 served, 2 requests: one empty open-set
  page and one page of newly resolved alerts).

Usage: python bench/bench_scale.py [N ...]   (default 2000 10000 100000)
"""

from __future__ import annotations

import dataclasses
import math
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ilert_statuspage_sync.demo import (
    AUTO_PAGE,
    AUTO_SOURCE,
    ILERT_KEY,
    STATUSPAGE_KEY,
    demo_config,
)
from ilert_statuspage_sync.logs import configure_logging
from ilert_statuspage_sync.publish_config import parse_publish_policy
from ilert_statuspage_sync.runner import Syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.wiring import build_services, build_syncer

ILERT_LIMIT = 120  # per minute per key
PAGE_LIMIT = 100
POLL_INTERVAL = 30  # the default; a pass's budget is 120 * 30 / 60 = 60 requests
WINDOW = 0.5  # seconds standing for iLert's 60 s window
HOUR = timedelta(hours=1)


def _run(scenario: Callable[[IlertSimulator, Syncer], str]) -> str:
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        config = demo_config(
            "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=ILERT_LIMIT
        )
        policy = parse_publish_policy({"publish_after": 3600}, "incident_actions[0]", "bench")
        actions = tuple(
            a if a.manual else dataclasses.replace(a, publish=policy)
            for a in config.incident_actions
        )
        config = dataclasses.replace(config, incident_actions=actions, poll_interval=POLL_INTERVAL)
        services = build_services(config, rate_window=WINDOW)
        syncer = build_syncer(config, services)
        # Activated two hours ago on iLert's clock.
        ilert.set_clock(lambda: datetime.now(UTC) - 2 * HOUR)
        syncer.run_pass()
        ilert.set_clock(lambda: datetime.now(UTC))
        ilert.set_rate_limit(ILERT_LIMIT, window=WINDOW)
        try:
            return scenario(ilert, syncer)
        finally:
            services.close()


def _seed(ilert: IlertSimulator, count: int, newest: datetime) -> None:
    for n in range(count):
        moment = newest - timedelta(milliseconds=n)
        ilert.create_alert(AUTO_SOURCE, f"alert {n}", report_time=moment)


def _open_pages(ilert: IlertSimulator) -> int:
    return sum(
        1
        for r in ilert.requests
        if r.path == "/api/alerts" and "PENDING" in r.query.get("states", []) and r.status == 200
    )


def listing_cycle(count: int) -> str:
    """N open mirrorable alerts: pages and passes for one whole listing cycle."""

    def scenario(ilert: IlertSimulator, syncer: Syncer) -> str:
        _seed(ilert, count, datetime.now(UTC))
        ilert.clear_requests()
        passes = failed = 0
        while True:
            passes += 1
            report = syncer.run_pass()
            failed += not report.ok
            if syncer._cycle.complete:
                break
        pages = _open_pages(ilert)
        minimum = max(math.ceil(count / PAGE_LIMIT), 1) + (count % PAGE_LIMIT == 0)
        throttled = sum(1 for r in ilert.requests if r.status == 429)
        return (
            f"N={count:6d} open: list pages/cycle {pages:5d} vs minimum {minimum:5d} "
            f"= {pages / minimum:4.2f} (target 1.00); {passes} passes/cycle of "
            f"{POLL_INTERVAL * ILERT_LIMIT // 60} requests; failed passes {failed} (target 0); "
            f"throttled {throttled} (target 0)"
        )

    return _run(scenario)


def before_activation(count: int) -> str:
    """N open alerts reported before activation: what a quiet pass fetches of them."""

    def scenario(ilert: IlertSimulator, syncer: Syncer) -> str:
        _seed(ilert, count, datetime.now(UTC) - 3 * HOUR)
        served = ilert.alerts_served
        ilert.clear_requests()
        report = syncer.run_pass()
        lists = sum(1 for r in ilert.requests if r.path == "/api/alerts")
        fetched = ilert.alerts_served - served
        return (
            f"N={count:6d} before activation: alerts fetched {fetched} (target 0), "
            f"list requests {lists} (target 2), pass ok={report.ok}"
        )

    return _run(scenario)


def main() -> None:
    configure_logging("error")
    sizes = [int(arg) for arg in sys.argv[1:]] or [2_000, 10_000, 100_000]
    print(f"iLert limits: {ILERT_LIMIT} per minute (window compressed to {WINDOW} s), ", end="")
    print(f"{PAGE_LIMIT} per page; poll_interval {POLL_INTERVAL} s")
    for size in sizes:
        print(listing_cycle(size), flush=True)
        print(before_activation(size), flush=True)


if __name__ == "__main__":
    main()
