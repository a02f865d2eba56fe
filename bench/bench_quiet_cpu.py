"""Benchmark: a quiet pass's CPU and the daemon's memory against the open alerts it holds.

N open alerts (N = 1,000 / 10,000 / 100,000), every one mirrored to an
unresolved incident, nothing changing. The simulators run in this process;
the daemon runs alone in a fresh child process, so its CPU seconds
(``time.process_time``: every thread of the daemon, none of the simulators')
and its peak RSS (``VmHWM``) are the daemon's own. The child runs under
the vendors' default budgets (iLert 120 a minute, Statuspage 60; poll
interval 30 s: a pass may send 60 iLert requests), their windows compressed
to ``WINDOW`` s so a run takes seconds, not minutes. It runs passes until one
listing cycle of the open set is complete (every open alert's snapshot held,
as in a daemon that has run a while), then measures ``MEASURED`` passes.

Seeding: one alert is mirrored by the daemon itself; the other N - 1 are
copies of it (the alert in the iLert simulator, the incident in the
Statuspage simulator, the link row in the database), so seeding 100,000 takes
seconds instead of 100,000 creates.

``--before DIR``: also run the child with the daemon package from ``DIR``
(say, ``git archive`` of the base commit's ``daemon/``), side by side.

Usage: python bench/bench_quiet_cpu.py [--quick] [--before DIR] [N ...]
       (--quick: N = 1,000 and 10,000 only)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ilert_statuspage_sync.core.parse import parse_alert
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
from ilert_statuspage_sync.store.tables import Link

ILERT_LIMIT = 120  # per minute per key
STATUSPAGE_LIMIT = 60  # per rolling minute per key
POLL_INTERVAL = 30.0
WINDOW = 0.5  # seconds standing for the vendors' 60 s windows
MEASURED = 3
MOST_PASSES = 60  # a listing cycle longer than this is a failure of the run
UNLIMITED = 100_000
SIZES = (1_000, 10_000, 100_000)
TARGET_CPU = {10_000: 0.5, 100_000: 3.0}  # seconds a quiet pass
TARGET_RSS = {100_000: 200.0}  # MB


def _config(ilert_url: str, sp_url: str, db_url: str, rate: int, sp_rate: int) -> Any:
    config = demo_config("classic", ilert_url, sp_url, db_url, rate=rate)
    connectors = {
        name: dataclasses.replace(c, requests_per_minute=sp_rate)
        for name, c in config.connectors.items()
    }
    return dataclasses.replace(config, poll_interval=POLL_INTERVAL, connectors=connectors)


# -- the child: the daemon alone -------------------------------------------------------------


def child(ilert_url: str, sp_url: str, db_url: str) -> None:
    """Run passes to the end of a listing cycle, then measure quiet passes; print JSON."""
    configure_logging("error")
    config = _config(ilert_url, sp_url, db_url, ILERT_LIMIT, STATUSPAGE_LIMIT)
    engine = make_engine(db_url)
    services = build_services(config, rate_window=WINDOW)
    syncer = build_syncer(config, services, engine=engine, leadership=NoLeadership())
    loads = [0]

    def loaded(_target: object, _context: object) -> None:
        loads[0] += 1

    sa.event.listen(Link, "load", loaded)
    warm = 0
    while warm < MOST_PASSES:
        warm += 1
        syncer.run_pass()
        if syncer.carry.cycle.complete:
            break
    cpu, writes, link_loads = [], 0, []
    for _ in range(MEASURED):
        time.sleep(WINDOW)  # the budgets' compressed window frees, as an interval would
        loads[0] = 0
        started = time.process_time()
        report = syncer.run_pass()
        cpu.append(time.process_time() - started)
        writes += report.writes
        link_loads.append(loads[0])
    services.close()
    rss = _peak_rss_mb()
    print(
        json.dumps(
            {
                "cpu": cpu,
                "rss_mb": rss,
                "writes": writes,
                "warm_passes": warm,
                "link_loads": link_loads,
            }
        )
    )


def _peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``, in MB).

    Not ``ru_maxrss``: Linux carries the forking parent's high-water mark across
    ``exec`` into it, so the child reported the parent's simulators (hundreds of
    MB at 100,000 alerts) as its own. ``VmHWM`` belongs to the new address space.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: KB on Linux


# -- the parent: simulators and seeding ------------------------------------------------------


def _seed(ilert: IlertSimulator, sp: StatuspageSimulator, db_url: str, count: int) -> None:
    """``count`` open alerts, each mirrored: one by the daemon, the rest copies of it."""
    config = _config(ilert.url, sp.url, db_url, UNLIMITED, UNLIMITED)
    services = build_services(config)
    syncer = build_syncer(config, services, leadership=NoLeadership())
    ilert.set_clock(lambda: datetime.now(UTC) - timedelta(hours=2))
    syncer.run_pass()  # activation, two hours ago on iLert's clock
    ilert.set_clock(lambda: datetime.now(UTC))
    reported = datetime.now(UTC) - timedelta(minutes=60)  # before the "newly reported" window
    ilert.create_alert(AUTO_SOURCE, "alert 0", "details", report_time=reported)
    report = syncer.run_pass()
    assert report.writes == 1, report
    services.close()
    engine = make_engine(db_url)
    with engine.connect() as connection:
        template = dict(connection.execute(sa.select(Link)).one()._mapping)
    incident = sp.incident(template["statuspage_incident_id"])
    del template["id"]
    links, incidents = [], {}
    for n in range(1, count):
        alert_id = ilert.create_alert(AUTO_SOURCE, f"alert {n}", "details", report_time=reported)
        clone = copy.deepcopy(incident)
        clone["id"] = f"bench{n:07d}"
        clone["metadata"]["ilert"]["alert_id"] = str(alert_id)
        incidents[clone["id"]] = clone
        alert = parse_alert(ilert.alert(alert_id))
        last = ilert.log_entries(alert_id)[-1]["id"]
        links.append(
            {
                **template,
                "alert_id": alert_id,
                "alert_summary": f"alert {n}",
                "statuspage_incident_id": clone["id"],
                "last_log_entry_id": last,
                "mirror_next_escalation": alert.next_escalation,
                "mirror_rule_index": alert.escalation_rule_index,
            }
        )
    with sp._lock:  # a bench's seeding, not a vendor's route
        sp._incidents.update(incidents)
    with engine.begin() as connection:
        for start in range(0, len(links), 5_000):
            connection.execute(sa.insert(Link), links[start : start + 5_000])
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def _run_child(package: str | None, urls: tuple[str, str, str]) -> dict[str, Any]:
    env = dict(os.environ)
    if package is not None:
        env["PYTHONPATH"] = package
    out = subprocess.run(
        [sys.executable, __file__, "--child", *urls],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(count: int, before: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The child's figures at ``count`` open alerts: after (this code), and before if given."""
    results = []
    for label, package in (("after", None), ("before", before)):
        if label == "before" and before is None:
            continue
        with (
            tempfile.TemporaryDirectory() as folder,
            IlertSimulator(api_key=ILERT_KEY) as ilert,
            StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as sp,
        ):
            db_url = f"sqlite:///{Path(folder) / 'state.db'}"
            _seed(ilert, sp, db_url, count)
            results.append((label, _run_child(package, (ilert.url, sp.url, db_url))))
    return results


def _line(count: int, label: str, figures: dict[str, Any]) -> str:
    cpu = min(figures["cpu"])
    target = TARGET_CPU.get(count)
    rss_target = TARGET_RSS.get(count)
    cpu_ratio = f" = {cpu / target:4.2f} x target {target:g} s" if target else ""
    rss_ratio = (
        f" = {figures['rss_mb'] / rss_target:4.2f} x target {rss_target:g} MB" if rss_target else ""
    )
    return (
        f"N={count:7,d} {label:6s}: quiet pass CPU {cpu:6.3f} s{cpu_ratio}; "
        f"peak RSS {figures['rss_mb']:6.1f} MB{rss_ratio}; "
        f"link objects built a pass {max(figures['link_loads']):,} "
        f"({max(figures['link_loads']) / count:4.2f} per open link); "
        f"writes {figures['writes']}; passes to a full listing cycle {figures['warm_passes']}"
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(*argv[1:4])
        return
    configure_logging("error")
    before = None
    if "--before" in argv:
        at = argv.index("--before")
        before = argv[at + 1]
        del argv[at : at + 2]
    quick = "--quick" in argv
    sizes = [int(a) for a in argv if a.isdigit()] or list(SIZES[:2] if quick else SIZES)
    print(
        f"Quiet pass, every open alert mirrored; iLert {ILERT_LIMIT}/min, Statuspage "
        f"{STATUSPAGE_LIMIT}/min (windows compressed to {WINDOW} s), poll interval "
        f"{POLL_INTERVAL:g} s; least CPU of {MEASURED} passes after a full listing cycle."
    )
    for count in sizes:
        for label, figures in measure(count, before):
            print(_line(count, label, figures), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
