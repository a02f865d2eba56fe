"""Benchmark: what status bridges cost a pass, as ratios to the minimum and the vendors' limits.

N bridges (1, 3, 10) on one page, each mapping 3 iLert services to 3
components; each bridge has one open iLert incident (on its first service, so
it holds a component) and one upcoming maintenance window (on its second).
Rows per N:

- iLert requests of a quiet pass that the bridges make (incidents, windows,
  services reads) against the minimum: 1 incidents read per bridge + 1 windows
  read a pass + the services read at most once a minute (half a read a pass at
  ``poll_interval = 30``); and the whole pass's iLert requests (the demo's two
  incident actions' alert reads included) as a share of a pass's iLert budget
  (120/min → 60 a pass);
- Statuspage requests of a quiet pass (minimum 0; the components listing may
  cost 1 a page while something holds a component) as a share of a pass's
  budget (60 per rolling 60 s → 30 a pass);
- an iLert incident's status change: after how many passes it shows on the page
  (target 1: within one poll interval), and that pass's Statuspage requests.

Real daemon code over loopback HTTP to the simulators, a real migrated SQLite
database, the vendors' default budgets (iLert 120/min, Statuspage 60/min) with
their windows compressed to ``WINDOW`` s as the listing rows of
``bench_scale.py``; the services' once-a-minute read runs on a virtual clock
moved one poll interval a pass. Usage: python bench/bench_bridges.py [N ...]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_scale as scale  # type: ignore[import-not-found]

from ilert_statuspage_sync.clients.http import reset_budgets
from ilert_statuspage_sync.config import parse_config
from ilert_statuspage_sync.demo.demo_config import demo_settings
from ilert_statuspage_sync.demo.play import AUTO_PAGE, ILERT_KEY, STATUSPAGE_KEY
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.service.wiring import build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator

SERVICES_PER_BRIDGE = 3
QUIET_PASSES = 4  # two minutes of passes at poll_interval 30: the services read twice
STATUSPAGE_PER_PASS = scale.STATUSPAGE_LIMIT * scale.POLL_INTERVAL // 60
BRIDGE_PATHS = ("/api/incidents", "/api/maintenance-windows", "/api/services")


class _Minutes:
    """A monotonic clock moved one poll interval a pass (the services' once-a-minute read)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _world(
    ilert: IlertSimulator, sp: StatuspageSimulator, bridges: int, folder: str
) -> tuple[Any, list[int]]:
    """The config with ``bridges`` bridges, each with an open incident and a window."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    tables, incidents = [], []
    for b in range(bridges):
        names = [f"b{b} service {s}" for s in range(SERVICES_PER_BRIDGE)]
        services = {ilert.add_service(n): sp.add_component(AUTO_PAGE, n) for n in names}
        ids = list(services)
        incidents.append(ilert.add_incident(f"b{b} errors", affected={ids[0]: "PARTIAL_OUTAGE"}))
        ilert.add_window(f"b{b} upgrade", soon, soon + timedelta(hours=1), service_ids=[ids[1]])
        tables.append(
            {
                "name": f"bridge-{b}",
                "connector": "main",
                "page_id": AUTO_PAGE,
                "services": {str(k): v for k, v in services.items()},
            }
        )
    data = demo_settings(
        "classic", ilert.url, sp.url, f"sqlite:///{Path(folder) / 's.db'}", rate=scale.ILERT_LIMIT
    )
    data["connectors"]["main"]["requests_per_minute"] = scale.STATUSPAGE_LIMIT
    data["poll_interval"] = scale.POLL_INTERVAL
    data["status_bridges"] = tables
    environ = {"DEMO_ILERT_KEY": ILERT_KEY, "DEMO_STATUSPAGE_KEY": STATUSPAGE_KEY}
    return parse_config(data, environ, origin="bench config"), incidents


def _bridge_reads(ilert: IlertSimulator) -> dict[str, int]:
    """GETs iLert answered per bridge path since the last clear."""
    counts = dict.fromkeys(BRIDGE_PATHS, 0)
    for r in ilert.requests:
        for path in BRIDGE_PATHS:
            if r.method == "GET" and r.path.startswith(path):
                counts[path] += 1
    return counts


def measure(bridges: int) -> list[scale.Row]:
    """The rows for ``bridges`` bridges."""
    reset_budgets()
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        config, incidents = _world(ilert, sp, bridges, folder)
        services = build_services(config, rate_window=scale.WINDOW)
        ilert.set_rate_limit(scale.ILERT_LIMIT, window=scale.WINDOW)
        sp.set_rate_limit(scale.STATUSPAGE_LIMIT, window=scale.WINDOW)
        try:
            syncer = build_syncer(config, services)
            minutes = _Minutes()
            syncer.bridges._monotonic = minutes

            def run() -> None:
                assert syncer.run_pass().ok
                minutes.now += scale.POLL_INTERVAL

            run()  # publishes every incident and window
            run()
            published = len(sp.incidents(AUTO_PAGE))
            ilert.clear_requests()
            sp.clear_requests()
            for _ in range(QUIET_PASSES):
                run()
            reads = _bridge_reads(ilert)
            ilert_all = len(ilert.requests)
            sp_all = len(sp.requests)
            listings = sum(1 for r in sp.requests if r.path.endswith("/components"))
            sp_writes = sum(1 for r in sp.requests if r.method != "GET")
            ilert.update_incident(incidents[0], status="IDENTIFIED", message="Found it.")
            sp.clear_requests()
            passes = 0
            while passes < 5:
                run()
                passes += 1
                shown = [i for i in sp.incidents(AUTO_PAGE) if i["name"] == "b0 errors"]
                if shown and shown[0]["status"] == "identified":
                    break
            change_requests = len(sp.requests)
            throttled = ilert.rate_limit_violations() + sp.rate_limit_violations()
        finally:
            services.close()
    return _rows(
        bridges,
        reads,
        ilert_all,
        (sp_all, listings, sp_writes),
        (passes, change_requests),
        published,
        throttled,
    )


def _rows(
    bridges: int,
    reads: dict[str, int],
    ilert_all: int,
    sp_quiet: tuple[int, int, int],
    change: tuple[int, int],
    published: int,
    throttled: int,
) -> list[scale.Row]:
    per_pass = {path: count / QUIET_PASSES for path, count in reads.items()}
    ours = sum(per_pass.values())
    minimum = bridges + 1 + 0.5  # incidents per bridge, windows once, services once a minute
    sp_all, listings, sp_writes = sp_quiet
    passes, change_requests = change
    label = f"{bridges} bridge{'s' if bridges > 1 else ''} x {SERVICES_PER_BRIDGE} services"
    return [
        scale.Row(
            f"{label}: bridges' iLert requests per quiet pass",
            f"{ours:.2f} a pass ({per_pass['/api/incidents']:.2f} incidents, "
            f"{per_pass['/api/maintenance-windows']:.2f} windows, "
            f"{per_pass['/api/services']:.2f} services over {QUIET_PASSES} passes = "
            f"{QUIET_PASSES * scale.POLL_INTERVAL // 60} min); {published} objects published",
            f"minimum {minimum:.1f} ({bridges} + 1 + 0.5)",
            ours / minimum,
            "= 1.00",
        ),
        scale.Row(
            f"{label}: whole quiet pass's iLert requests",
            f"{ilert_all / QUIET_PASSES:.2f} a pass (alert reads of the demo's actions included)",
            f"iLert 120/min: {scale.PER_PASS} a pass",
            ilert_all / QUIET_PASSES / scale.PER_PASS,
            "<= 1.00",
        ),
        scale.Row(
            f"{label}: Statuspage requests per quiet pass",
            f"{sp_all / QUIET_PASSES:.2f} a pass ({listings / QUIET_PASSES:.2f} components "
            f"listings while incidents hold components, {sp_writes} writes)",
            f"Statuspage 60 per 60 s: {STATUSPAGE_PER_PASS} a pass",
            sp_all / QUIET_PASSES / STATUSPAGE_PER_PASS,
            "<= 1.00",
        ),
        scale.Row(
            f"{label}: an iLert incident's status change on the page",
            f"after {passes} pass{'es' if passes > 1 else ''} ({change_requests} Statuspage "
            f"requests in it); {throttled} throttled",
            "target: the next pass (1)",
            float(passes),
            "= 1.00",
        ),
    ]


def main(argv: list[str]) -> None:
    """Print the rows."""
    configure_logging("error")
    sizes = [int(a) for a in argv] or [1, 3, 10]
    print(
        f"Vendors' limits: iLert {scale.ILERT_LIMIT}/min per key, Statuspage "
        f"{scale.STATUSPAGE_LIMIT} per rolling 60 s; poll_interval {scale.POLL_INTERVAL} s; "
        f"windows compressed from 60 s to {scale.WINDOW} s."
    )
    rows = []
    for size in sizes:
        rows.extend(measure(size))
        print(f"  measured: {size} bridges", file=sys.stderr, flush=True)
    scale._print(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
