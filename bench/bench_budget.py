"""Benchmark: the Statuspage key's budget with many open incidents, as ratios to the optimum.

Rows:

- Statuspage requests per quiet pass vs open incidents (100 / 1,100 / 10,000):
  the page holds N unresolved incidents (5 mirrored by the daemon, the rest
  someone else's); after the process's first pass (which reads the list whole,
  up to its 1,000), the most any of the next ``N // 100 + 2`` quiet passes
  sends (a whole sweep of the list and one more), against the target of 3;
- bursts of 120 and 300 new alerts with 1,100 incidents open: the time from
  the burst's first pass to its last create, on a virtual clock shared by the
  daemon's budgets and the simulator's limiter (as ``bench_scale.py``'s burst
  rows: a fresh window, zero network latency), against the optimum
  ``(ceil(creates / 60) - 1) * 60 s`` (60 per rolling 60 s).

Real daemon code over loopback HTTP to the simulators, a real migrated SQLite
database. Usage: python bench/bench_budget.py [--quick]   (--quick: 100 / 1,100
open only, and the 120 burst)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).parent))

import bench_scale as scale  # type: ignore[import-not-found]

from ilert_statuspage_sync.demo.play import AUTO_PAGE, AUTO_SOURCE, STATUSPAGE_KEY
from ilert_statuspage_sync.runtime.logs import configure_logging

MIRRORED = 5
TARGET_QUIET = 3


def _seed_foreign(sp: Any, count: int) -> None:
    """``count`` unresolved incidents someone else opened on the page."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"OAuth {STATUSPAGE_KEY}"
        url = f"{sp.url}/v1/pages/{AUTO_PAGE}/incidents"
        for n in range(count):
            http.post(
                url, json={"incident": {"name": f"other {n}", "status": "investigating"}}, timeout=5
            ).raise_for_status()


def _open_page(open_incidents: int) -> tuple[Any, Any, Any, Any]:
    """Enter the daemon context; mirror ``MIRRORED`` alerts, then seed the rest."""
    context = scale._daemon(hold=False)
    ilert, sp, config, _folder = context.__enter__()
    syncer, services = scale._syncer(config)
    scale._activate(ilert, syncer)
    for n in range(MIRRORED):
        ilert.create_alert(AUTO_SOURCE, f"mirrored {n}")
    syncer.run_pass()
    _seed_foreign(sp, open_incidents - MIRRORED)
    return context, ilert, sp, (syncer, services)


def quiet_row(open_incidents: int) -> scale.Row:
    """The most any quiet pass of a whole sweep (after the first pass) sends to Statuspage."""
    context, _ilert, sp, (syncer, services) = _open_page(open_incidents)
    try:
        syncer.pace_writes = True
        syncer.run_pass()  # a process's first pass with the page full: the list read whole
        counts = []
        for _ in range(open_incidents // 100 + 2):
            sp.clear_requests()
            syncer.run_pass()
            counts.append(len(sp.requests))
    finally:
        services.close()
        context.__exit__(None, None, None)
    worst = max(counts)
    return scale.Row(
        f"Statuspage requests per quiet pass, {open_incidents:,} open incidents",
        f"at most {worst} a pass over {len(counts)} passes (mean {sum(counts) / len(counts):.1f})",
        f"{TARGET_QUIET} a pass at any number open",
        worst / TARGET_QUIET,
        "<= 1.00",
    )


def burst_row(count: int, open_incidents: int = 1_100) -> scale.Row:
    """``count`` creates with ``open_incidents`` open: time to the last create vs the optimum."""
    context, ilert, sp, (syncer, services) = _open_page(open_incidents)
    clock = scale.VirtualTime()
    try:
        syncer.pace_writes = True
        syncer.run_pass()  # the daemon ran before the burst (its first pass read the list)
        budget = scale._Recording(scale.STATUSPAGE_LIMIT, clock, fixed_windows=False)
        ilert_budget = scale._Recording(scale.ILERT_LIMIT, clock, fixed_windows=True)
        for http in services.https:
            http.budget = ilert_budget if http.service == "ilert" else budget
        ilert.set_rate_limit(scale.ILERT_LIMIT, window=60.0, monotonic=clock)
        sp.set_rate_limit(scale.STATUSPAGE_LIMIT, window=60.0, monotonic=clock)
        for n in range(count):
            ilert.create_alert(AUTO_SOURCE, f"burst {n}")
        sp.clear_requests()
        due, passes = 0.0, 0
        while True:
            clock.now = max(clock.now, due)
            syncer.run_pass()
            passes += 1
            made = sum(1 for i in sp.incidents(AUTO_PAGE) if i["name"].startswith("burst"))
            if made >= count or passes > 200:
                break
            due = max(due + scale.POLL_INTERVAL, clock.now)
        sent = list(zip(budget.sends, sp.requests, strict=False))
        creates = [at for at, r in sent if r.method == "POST" and r.status == 201]
        reads = sum(1 for _, r in sent if r.method == "GET")
        throttled = sp.rate_limit_violations()
    finally:
        services.close()
        context.__exit__(None, None, None)
    optimum = (math.ceil(count / scale.STATUSPAGE_LIMIT) - 1) * 60.0
    last = creates[-1] if creates else math.inf
    return scale.Row(
        f"Burst of {count} creates with {open_incidents:,} incidents open",
        f"{len(creates)} creates, the last at {last:.1f} s ({reads} reads, {throttled} throttled, "
        f"{passes} passes)",
        f"optimum {optimum:.0f} s (60 per rolling 60 s)",
        last / optimum,
        f"<= {(65 if count == 120 else 250) / optimum:.3f}",
    )


def main(argv: list[str]) -> None:
    """Print the rows."""
    configure_logging("error")
    quick = "--quick" in argv
    sizes = (100, 1_100) if quick else (100, 1_100, 10_000)
    bursts = (120,) if quick else (120, 300)
    rows = []
    for size in sizes:
        rows.append(quiet_row(size))
        print(f"  measured: {rows[-1].figure}: {rows[-1].measured}", file=sys.stderr, flush=True)
    for count in bursts:
        rows.append(burst_row(count))
        print(f"  measured: {rows[-1].figure}: {rows[-1].measured}", file=sys.stderr, flush=True)
    scale._print(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
