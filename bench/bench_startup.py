"""Benchmark: how long the command line takes to start, against the bare interpreter.

Times fresh processes of this interpreter, side by side in one run (round-robin, so a
busy moment of a shared machine hits every command alike), and prints the least wall
time of ``--runs`` runs of each and its ratio to ``python -c pass``:

- ``python -c pass``: the floor (interpreter start, site, the venv's .pth files);
- ``--version`` and ``--help``: argument parsing only (target: within 5x of the floor);
- ``status`` on an empty migrated SQLite file (no daemon: it exits 1, UNHEALTHY) — the
  health probe, which reads a SQLite file through ``sqlite3`` (target: within 10x of the floor);
- ``import sqlalchemy`` (with its SQLite dialect) alone: what ``status`` on SQLite no longer
  pays (on PostgreSQL it still reads through SQLAlchemy Core).

Each command runs as the console script does (``main()`` of ``commands.cli``), once
before timing so its modules are byte-compiled as an install leaves them.

Usage: python bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY = "import sys; from ilert_statuspage_sync.commands.cli import main; sys.exit(main())"
CONFIG = """\
database_url = "sqlite:///{db}"
[ilert]
api_key_env = "UNUSED_ILERT_KEY"
[connectors.main]
api_key_env = "UNUSED_STATUSPAGE_KEY"
[[incident_actions]]
name = "public-api"
alert_sources = [12345]
connector = "main"
page_id = "kctbh9vrtdwd"
"""
TARGETS = {"--version": 5.0, "--help": 5.0, "status": 10.0}


def _commands(config: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-c", ENTRY]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--version": [*cli, "--version"],
        "--help": [*cli, "--help"],
        "status": [*cli, "--config", str(config), "status"],
        "import sqlalchemy": [sys.executable, "-c", "import sqlalchemy.dialects.sqlite"],
    }


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each (%(default)s)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG.format(db=Path(tmp) / "state.db"), encoding="utf-8")
        env = {**os.environ, "NO_COLOR": "1"}
        subprocess.run(
            [sys.executable, "-c", ENTRY, "--config", str(config), "db", "upgrade"],
            check=True,
            capture_output=True,
            env=env,
        )
        commands = _commands(config)
        for argv in commands.values():  # warm-up: byte-compiles what each imports
            _once(argv)
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(runs):
            for name, argv in commands.items():
                best[name] = min(best[name], _once(argv))
    floor = best["python -c pass"]
    version = sys.version.split()[0]
    print(f"least wall time of {runs} runs each, {sys.executable} (Python {version})")
    failed = False
    for name, seconds in best.items():
        ratio = seconds / floor
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  (target <= {target:g}x: "
        if target is not None:
            verdict += "ok)" if ratio <= target else "MISSED)"
            failed |= ratio > target
        print(f"{name:16} {seconds * 1000:7.1f} ms  {ratio:5.1f}x{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
