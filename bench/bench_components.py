"""Benchmark: Statuspage requests that components add to a pass, as a share of the budget.

Runs the real daemon against the built-in simulators on loopback: N open alerts
of one incident action listing two components, half HIGH and half LOW. Prints
per scenario the Statuspage requests of a first pass (creates), of a quiet pass,
of the pass that raises one alert's priority and of the pass that resolves all,
split into component reads and component writes, and each pass's total as a
ratio to Statuspage's limit over one poll interval (60 per rolling 60 s, so 30
for the default `poll_interval = 30`). Usage: python bench/bench_components.py [N ...]
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
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

POLL_INTERVAL = 30.0
STATUSPAGE_PER_MINUTE = 60


def _counts(sp: StatuspageSimulator) -> tuple[int, int, int]:
    """(all requests, component list reads, component writes) since the last clear."""
    requests = sp.requests
    reads = sum(1 for r in requests if r.method == "GET" and r.path.endswith("/components"))
    writes = sum(1 for r in requests if r.method == "PATCH" and "/components/" in r.path)
    sp.clear_requests()
    return len(requests), reads, writes


def measure(alert_count: int) -> list[str]:
    """Open ``alert_count`` alerts on two components, then count each pass's requests."""
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        components = (sp.add_component(AUTO_PAGE, "API"), sp.add_component(AUTO_PAGE, "Web"))
        config = demo_config(
            "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=100_000
        )
        action = dataclasses.replace(config.incident_actions[0], components=components)
        config = dataclasses.replace(
            config, incident_actions=(action, *config.incident_actions[1:])
        )
        services = build_services(config)
        syncer = build_syncer(config, services)
        syncer.run_pass()
        ids = [
            ilert.create_alert(AUTO_SOURCE, f"alert {n}", "details", "HIGH" if n % 2 else "LOW")
            for n in range(alert_count)
        ]
        sp.clear_requests()
        rows = []
        budget = STATUSPAGE_PER_MINUTE * POLL_INTERVAL / 60
        for label in ("first pass", "quiet pass", "priority raised", "all resolved", "idle after"):
            if label == "priority raised":
                ilert.raise_priority(ids[0])
            if label == "all resolved":
                for alert_id in ids:
                    ilert.resolve(alert_id)
            syncer.run_pass()
            total, reads, writes = _counts(sp)
            rows.append(
                f"{alert_count:>5} alerts  {label:<16} statuspage requests {total:>4} "
                f"(component reads {reads}, component writes {writes})  "
                f"{total / budget:.2f}x of the limit per {POLL_INTERVAL:g}s interval"
            )
        services.close()
        return rows


def main(argv: list[str]) -> int:
    configure_logging("error")
    for count in [int(arg) for arg in argv] or [1, 10, 40]:
        for row in measure(count):
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
