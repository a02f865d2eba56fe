"""Benchmark: pass duration, API calls and memory for N open alerts.

Runs the real daemon against the built-in simulators on loopback with the
rate budgets lifted (the figures measure the daemon, not the vendors' limits)
and prints one line per scenario. Usage: python bench/bench_pass.py [N ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from ilert_statuspage_sync.demo.play import (
    AUTO_PAGE,
    AUTO_SOURCE,
    ILERT_KEY,
    STATUSPAGE_KEY,
    demo_config,
)
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.service.wiring import build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator


def measure(alert_count: int) -> str:
    """Create ``alert_count`` alerts, sync them, then time quiet passes."""
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        config = demo_config(
            "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=1_000_000
        )
        services = build_services(config)
        syncer = build_syncer(config, services)
        syncer.run_pass()
        for number in range(alert_count):
            alert_id = ilert.create_alert(AUTO_SOURCE, f"alert {number}", "details")
            ilert.comment(alert_id, "first comment")
        tracemalloc.start()
        started = time.perf_counter()
        first = syncer.run_pass()
        first_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ilert.clear_requests()
        quiet = []
        for _ in range(3):
            started = time.perf_counter()
            syncer.run_pass()
            quiet.append(time.perf_counter() - started)
        ilert_calls = len(ilert.requests) / 3
        services.close()
        assert first.writes == alert_count * 2, first
        return (
            f"alerts={alert_count:5d}  first pass {first_seconds:6.2f}s "
            f"({first.writes} writes, {first_seconds / alert_count * 1000:5.1f} ms/alert, "
            f"peak traced memory {peak / 1e6:5.1f} MB)  quiet pass median "
            f"{statistics.median(quiet):5.2f}s, {ilert_calls:.0f} iLert calls/pass"
        )


def main() -> None:
    configure_logging("error")
    sizes = [int(arg) for arg in sys.argv[1:]] or [10, 100, 500]
    for size in sizes:
        print(measure(size), flush=True)


if __name__ == "__main__":
    main()
