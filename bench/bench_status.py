"""Benchmark: ``status`` at 200,000 links, and the first sight of 2,000 filtered alerts.

Prints, for this tree and (``--before REF``) for a git revision side by side,
each run in its own processes on the same machine in the same run:

- (a) ``status`` (the console script, a fresh process) on a migrated SQLite
  file holding N links (default 200,000: closed ones with two audit rows
  each, 100 open, 3 failing): CPU seconds (user + system of the process),
  peak RSS and lines printed; and the same on an empty database (interpreter
  start and imports dominate). Targets: <= 0.5 s CPU and <= 100 MB at
  200,000 links, output bounded; and the floor under it: an interpreter that
  only imports SQLAlchemy and its SQLite dialect. CPU is the least of ``RUNS`` runs (the
  machine is shared), RSS and lines do not move. Both trees are byte-compiled
  first, as an install is: the interpreter's own compiling is not the command's.
- (b) one pass of the real daemon against the simulators on loopback that
  first sees 2,000 alerts an ``exclude`` keeps off the page (budgets lifted:
  the daemon is measured, not the vendors' pace): SQL statements and commits,
  counted with SQLAlchemy event listeners (target: a handful of commits, not
  one per alert).

Usage: python bench/bench_status.py [--links N] [--filtered N] [--before REF] [--quick]
(``--quick``: 20,000 links and 200 filtered alerts).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

RUNS = 3
REPO = Path(__file__).resolve().parent.parent
CONFIG = """\
poll_interval = 30
database_url = "sqlite:///{db}"
[ilert]
api_key_file = "ilert_api_key"
[connectors.main]
api_key_file = "statuspage_api_key"
[[incident_actions]]
name = "public-api"
alert_sources = [12345]
connector = "main"
page_id = "kctbh9vrtdwd"
"""
# Run in a fresh interpreter: the child's own CPU and peak RSS, and its output's lines.
_MEASURE = """\
import resource, subprocess, sys, json
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu": use.ru_utime + use.ru_stime, "rss_mb": use.ru_maxrss / 1024,
                  "lines": len(done.stdout.splitlines()), "code": done.returncode,
                  "err": done.stderr[-300:]}))
"""
_STATUS = "import sys; from ilert_statuspage_sync.commands.cli import main; sys.exit(main())"


def seed(folder: Path, links: int) -> Path:
    """A migrated SQLite file with ``links`` links and their audit rows; the config naming it."""
    import sqlalchemy as sa

    from ilert_statuspage_sync.store.database import make_engine, upgrade
    from ilert_statuspage_sync.store.tables import Link, Transition

    database = folder / "state.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    now = datetime.now(UTC)
    chunk = 10_000
    with engine.begin() as connection:
        for start in range(0, links, chunk):
            rows, audit = [], []
            for n in range(start, min(start + chunk, links)):
                when = now - timedelta(seconds=links - n)
                opened = n >= links - 100
                failing = n % (links // 3 + 1) == 7
                rows.append(
                    {
                        "incident_action": "public-api",
                        "alert_id": 10**9 + n,
                        "page_id": "kctbh9vrtdwd",
                        "alert_summary": f"alert {n}",
                        "statuspage_incident_id": f"inc{n:08d}",
                        "statuspage_status": "identified" if opened else "resolved",
                        "is_open": opened,
                        "mirror_status": "PENDING" if opened else "RESOLVED",
                        "failures": 1 if failing else 0,
                        "last_error": "HTTP 422: Name is invalid" if failing else None,
                        "next_attempt_at": when + timedelta(minutes=1) if failing else None,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                for event, outcome in (("created", "created"), ("resolved", "status_changed")):
                    audit.append(
                        {
                            "at": when,
                            "alert_id": 10**9 + n,
                            "incident_action": "public-api",
                            "page_id": "kctbh9vrtdwd",
                            "statuspage_incident_id": f"inc{n:08d}",
                            "event": event,
                            "outcome": outcome,
                        }
                    )
            connection.execute(sa.insert(Link), rows)
            connection.execute(sa.insert(Transition), audit)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    config = folder / "config.toml"
    config.write_text(CONFIG.format(db=database))
    return config


def measure_status(config: Path, pythonpath: str | None, *extra: str) -> dict[str, Any]:
    """The least CPU of ``RUNS`` runs of ``status`` (RSS and lines: the last run's)."""
    argv = [sys.executable, "-c", _STATUS, "--config", str(config), "status", *extra]
    return measure(argv, pythonpath)


def measure(argv: list[str], pythonpath: str | None = None) -> dict[str, Any]:
    """The least CPU of ``RUNS`` runs of ``argv`` (RSS and lines: the last run's)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    runs = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, env=env
        )
        runs.append(json.loads(done.stdout))
    best = min(runs, key=lambda run: run["cpu"])
    return {**runs[-1], "cpu": best["cpu"]}


def filtered_first_sight(count: int) -> dict[str, Any]:
    """Statements and commits of the pass that first sees ``count`` excluded alerts."""
    import sqlalchemy as sa

    from ilert_statuspage_sync.config.publish import parse_publish_policy
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

    configure_logging("error")
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as sp,
    ):
        url = f"sqlite:///{Path(folder) / 'state.db'}"
        config = demo_config("classic", ilert.url, sp.url, url, rate=100_000)
        policy = parse_publish_policy({"exclude": "maintenance"}, "incident_actions[0]", "bench")
        first = dataclasses.replace(config.incident_actions[0], publish=policy)
        config = dataclasses.replace(config, incident_actions=(first, *config.incident_actions[1:]))
        engine = make_engine(url)
        services = build_services(config)
        syncer = build_syncer(config, services, engine=engine, leadership=NoLeadership())
        syncer.run_pass()  # activation
        for number in range(count):
            ilert.create_alert(AUTO_SOURCE, f"maintenance window {number}", "")
        statements: Counter[str] = Counter()
        commits = [0]

        def statement(_c: object, _cur: object, sql: str, *_a: object) -> None:
            statements[sql.split(None, 1)[0].upper()] += 1

        def commit(_c: object) -> None:
            commits[0] += 1

        sa.event.listen(engine, "before_cursor_execute", statement)
        sa.event.listen(engine, "commit", commit)
        report = syncer.run_pass()
        services.close()
        engine.dispose()
    assert report.ok, report
    assert report.writes == 0, report
    return {
        "statements": sum(statements.values()),
        "by_kind": dict(statements),
        "commits": commits[0],
    }


def checkout(ref: str, folder: Path) -> str:
    """The daemon package of ``ref``, extracted; its path for PYTHONPATH."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "daemon"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return str(folder / "daemon")


def byte_compile(folder: Path) -> None:
    """Write the ``.pyc`` files an install would (PYTHONDONTWRITEBYTECODE leaves them out)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=200_000)
    parser.add_argument("--filtered", type=int, default=2_000)
    parser.add_argument("--before", metavar="REF", help="also measure this git revision")
    parser.add_argument("--quick", action="store_true", help="20,000 links, 200 filtered")
    parser.add_argument("--part", choices=["filtered"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "filtered":  # a child process: this tree, or --before's on PYTHONPATH
        print(json.dumps(filtered_first_sight(args.filtered)))
        return
    links, filtered = (20_000, 200) if args.quick else (args.links, args.filtered)
    with tempfile.TemporaryDirectory() as folder:
        trees: dict[str, str | None] = {"this tree": None}
        byte_compile(REPO / "daemon")
        if args.before:
            trees[f"at {args.before}"] = checkout(args.before, Path(folder) / "before")
            byte_compile(Path(folder) / "before" / "daemon")
        empty, full = Path(folder) / "empty", Path(folder) / "full"
        empty.mkdir()
        full.mkdir()
        configs = {"empty database": seed(empty, 0), f"{links:,} links": seed(full, links)}
        print(f"status (least CPU of {RUNS} runs; targets: <= 0.5 s, <= 100 MB, bounded output)")
        for name, pythonpath in trees.items():
            for what, config in configs.items():
                got = measure_status(config, pythonpath)
                print(
                    f"  {name:>16}  {what:>16}: {got['cpu']:6.2f} s CPU ({got['cpu'] / 0.5:.2f} "
                    f"of 0.5 s), {got['rss_mb']:6.1f} MB ({got['rss_mb'] / 100:.2f} of 100 MB), "
                    f"{got['lines']:,} lines, exit {got['code']}"
                )
            if pythonpath is None:
                got = measure_status(configs[f"{links:,} links"], None, "--all")
                print(
                    f"  {name:>16}  {'--all':>16}: {got['cpu']:6.2f} s CPU, "
                    f"{got['rss_mb']:6.1f} MB, {got['lines']:,} lines, exit {got['code']}"
                )
        floor = measure([sys.executable, "-c", "import sqlalchemy.dialects.sqlite"])
        print(
            f"  {'floor':>16}  {'SQLAlchemy alone':>16}: {floor['cpu']:6.2f} s CPU "
            f"({floor['cpu'] / 0.5:.2f} of 0.5 s), {floor['rss_mb']:6.1f} MB "
            "(the interpreter and `import sqlalchemy.dialects.sqlite`)"
        )
        print(f"first sight of {filtered:,} alerts under exclude (one pass)")
        for name, pythonpath in trees.items():
            env = dict(os.environ)
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            done = subprocess.run(
                [sys.executable, __file__, "--part", "filtered", "--filtered", str(filtered)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            got = json.loads(done.stdout.splitlines()[-1])
            print(
                f"  {name:>16}: {got['commits']:,} commits ({got['commits'] / filtered:.3f} a "
                f"filtered alert), {got['statements']:,} statements {got['by_kind']}"
            )


if __name__ == "__main__":
    main()
