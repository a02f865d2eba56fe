"""Benchmark: an alert storm with group = "action" against one incident per alert.

Runs the real daemon against the built-in simulators on loopback with the rate
budgets lifted (the figures count requests, then state them as minutes of
Statuspage's budget: 60 requests per rolling 60 s per key) and prints one line
per scenario, then the open pass's daemon CPU as group = "action" over group =
"alert". Daemon CPU is the CPU time of the thread that runs the pass (the
simulators answer on threads of their own), never wall time: every join's
answer carries the whole timeline, so a storm costing more than one incident
per alert shows here. Each (N, group) runs in a process of its own.
Usage: python bench/bench_storm.py [N ...]
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
import time
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

STATUSPAGE_PER_MINUTE = 60


def measure(alert_count: int, group: str) -> tuple[str, float]:
    """Open ``alert_count`` alerts in one pass, then resolve them all in one pass."""
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        config = demo_config(
            "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=100_000
        )
        auto, *rest = config.incident_actions
        config = dataclasses.replace(
            config, incident_actions=(dataclasses.replace(auto, group=group), *rest)
        )
        syncer = build_syncer(config, build_services(config))
        syncer.run_pass()
        ids = [ilert.create_alert(AUTO_SOURCE, f"node {n} down", "") for n in range(alert_count)]
        sp.clear_requests()
        started, cpu = time.perf_counter(), time.thread_time()
        syncer.run_pass()
        open_cpu = time.thread_time() - cpu
        open_seconds = time.perf_counter() - started
        open_requests = len(sp.requests)
        for alert_id in ids:
            ilert.resolve(alert_id)
        sp.clear_requests()
        started = time.perf_counter()
        syncer.run_pass()
        resolve_seconds = time.perf_counter() - started
        resolve_requests = len(sp.requests)
        reads = sum("/incidents/unresolved" in r.path for r in sp.requests)
        incidents = len(sp.incidents(AUTO_PAGE))
    total = open_requests + resolve_requests
    line = (
        f"group={group:6} alerts={alert_count:5} incidents={incidents:5} "
        f"statuspage requests: open pass {open_requests} ({open_seconds:.2f}s, "
        f"daemon CPU {open_cpu:.2f}s), "
        f"resolve pass {resolve_requests} ({resolve_seconds:.2f}s, {reads} unresolved read); "
        f"= {total / STATUSPAGE_PER_MINUTE:.2f} minutes of the Statuspage budget"
    )
    return line, open_cpu


def measured_apart(alert_count: int, group: str) -> tuple[str, float]:
    """``measure`` in a process of its own: a run after another in the same process
    can cost more CPU (measured once: the same 1,000-alert run 8.3 s first, 10.6 s second)."""
    answer = subprocess.run(
        [sys.executable, __file__, "--one", str(alert_count), group],
        capture_output=True,
        text=True,
        check=True,
    )
    line, cpu = answer.stdout.strip().rsplit("\n", 1)[-1].rsplit(" ", 1)
    return line, float(cpu)


def main(argv: list[str]) -> None:
    """Print one line per (N, group)."""
    configure_logging("error")
    if argv[:1] == ["--one"]:
        line, seconds = measure(int(argv[1]), argv[2])
        print(line, seconds, flush=True)
        return
    for count in [int(arg) for arg in argv] or [20, 200]:
        cpu: dict[str, float] = {}
        for group in ("alert", "action"):
            line, cpu[group] = measured_apart(count, group)
            print(line, flush=True)
        print(
            f"alerts={count:5} open pass daemon CPU, action over alert: "
            f"{cpu['action'] / cpu['alert']:.2f}x ({cpu['action']:.2f}s / {cpu['alert']:.2f}s)",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
