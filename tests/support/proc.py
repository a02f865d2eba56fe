"""Helpers to run the real daemon as a process: config files, logs, waiting."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.service.wiring import PAUSE_ENV
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

ILERT_KEY, SP_KEY = "proc-ilert-key-7a1c", "proc-sp-key-2e9f"

# The events of the CLI's own lines for a person (logs.say): JSON when stderr is a pipe.
SAID_EVENTS = frozenset(
    {
        "config_error",
        "usage_error",
        "command_failed",
        "internal_error",
        "interrupted",
        "trigger_unchecked",
        "starter_config_written",
    }
)


def said(stderr: str) -> str:
    """``stderr`` as a terminal shows it: each CLI line (JSON on a pipe) as ``level: message``.

    Every other line (log lines, anything plain) is kept as it is.
    """
    out = []
    for raw in stderr.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if isinstance(line, dict) and line.get("event") in SAID_EVENTS and "message" in line:
            level = "" if line["level"] == "info" else f"{line['level']}: "
            out.append(f"{level}{line['message']}")
        else:
            out.append(raw)
    return "\n".join(out) + ("\n" if out else "")


def child_environment() -> dict[str, str]:
    """This environment without anything that would redirect key files or logs."""
    env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def python_module_argv(module: str, *args: str) -> list[str]:
    """``python -m module args`` with the interpreter running the tests."""
    return [sys.executable, "-m", module, *args]


def cli_argv(config: Path | None, *args: str) -> list[str]:
    """The console script's command line, as ``python -m`` runs it (``--config`` when given)."""
    options = ("--config", str(config)) if config is not None else ()
    return python_module_argv("ilert_statuspage_sync", *options, *args)


def run_cli(
    config: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one console-script command against ``config`` to its end; both streams captured."""
    return subprocess.run(
        cli_argv(config, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**child_environment(), **(env or {})},
        check=False,
    )


def write_config(
    folder: Path,
    ilert_url: str,
    statuspage_url: str,
    database_url: str,
    *,
    poll_interval: int = 5,
    extra: str = "",
    lifecycle: str = "classic",
    action_extra: str = "",
    ilert_key: str = ILERT_KEY,
    sp_key: str = SP_KEY,
    ilert_source: str = 'api_key_file = "ilert.key"',
    sp_source: str = 'api_key_file = "sp.key"',
    tables: str = "",
) -> Path:
    """A config file with key files beside it, one automatic action on AUTO_PAGE.

    ``ilert_key``/``sp_key`` are the key files' text; ``*_source`` how the config names a key;
    ``tables`` is TOML appended after the action (more tables, such as ``[[status_bridges]]``).
    """
    (folder / "ilert.key").write_text(ilert_key)
    (folder / "sp.key").write_text(sp_key)
    path = folder / "config.toml"
    path.write_text(
        f"""
poll_interval = {poll_interval}
database_url = "{database_url}"
lifecycle = "{lifecycle}"
{extra}
[ilert]
api_url = "{ilert_url}"
{ilert_source}
requests_per_minute = 6000
[connectors.main]
api_url = "{statuspage_url}"
{sp_source}
requests_per_minute = 6000
[[incident_actions]]
name = "public-api"
alert_sources = [{AUTO_SOURCE}]
connector = "main"
page_id = "{AUTO_PAGE}"
{action_extra}
{tables}
"""
    )
    path.chmod(0o600)
    return path


def activated_config(folder: Path, ilert_url: str, statuspage_url: str, **options: Any) -> Path:
    """A process config on a new SQLite file in ``folder``, after the first `sync` (exit 0)
    activated its incident action; ``options`` go to ``write_config``."""
    database_url = f"sqlite:///{folder / 'state.db'}"
    config = write_config(folder, ilert_url, statuspage_url, database_url, **options)
    assert run_cli(config, "sync").returncode == 0
    return config


def write_component_config(
    folder: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> tuple[Path, str]:
    """A process config whose action shows its incidents on a new "Public API" component of
    AUTO_PAGE, over the ``sims`` simulators and a SQLite file in ``folder``; and that id."""
    ilert, statuspage = sims
    component = statuspage.add_component(AUTO_PAGE, "Public API")
    path = write_config(
        folder,
        ilert.url,
        statuspage.url,
        f"sqlite:///{folder / 'state.db'}",
        action_extra=f'components = ["{component}"]',
    )
    return path, component


BRIDGE = "platform"


def bridge_table(services: dict[int, str], *, name: str = BRIDGE, page_id: str = AUTO_PAGE) -> str:
    """A ``[[status_bridges]]`` table on connector "main" mapping iLert service id -> component."""
    pairs = ", ".join(f'"{service}" = "{component}"' for service, component in services.items())
    return f"""
[[status_bridges]]
name = "{name}"
connector = "main"
page_id = "{page_id}"
services = {{ {pairs} }}
"""


def write_bridge_config(
    folder: Path, sims: tuple[IlertSimulator, StatuspageSimulator], names: tuple[str, ...]
) -> tuple[Path, dict[int, str]]:
    """A process config with one status bridge (BRIDGE) on AUTO_PAGE mapping a new iLert service
    per name to a new component of that name, over ``sims`` and a SQLite file in ``folder``;
    and the mapping (service id -> component id)."""
    ilert, statuspage = sims
    services = {ilert.add_service(n): statuspage.add_component(AUTO_PAGE, n) for n in names}
    path = write_config(
        folder,
        ilert.url,
        statuspage.url,
        f"sqlite:///{folder / 'state.db'}",
        tables=bridge_table(services),
    )
    return path, services


class Daemon:
    """A `run` (or other command) process whose JSON log goes to a file."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            cli_argv(config, *(args or ("run",))),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def lines(self) -> list[dict[str, Any]]:
        """Every JSON log line so far."""
        out = []
        for raw in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"event": "raw", "text": raw})
        return out

    def events(self) -> list[str]:
        return [str(line.get("event")) for line in self.lines()]

    def wait_for(self, event: str, timeout: float = 30, count: int = 1) -> float:
        """Wait until ``event`` was logged ``count`` times; return when (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.events().count(event) >= count:
                return time.monotonic()
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {event!r} within {timeout}s; log:\n{self.log_path.read_text()}")

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._log.close()
        return code

    def kill(self) -> None:
        """SIGKILL and reap."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> float:
    """Poll ``check`` until true; return the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout}s")


# -- one `sync` process, killed at a chosen line (the crash sweeps) --


def start_sync(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start one `sync` pass as a process, its streams piped."""
    return subprocess.Popen(
        cli_argv(config, "sync"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish_sync(config: Path) -> None:
    """Run `sync` to completion and require exit 0."""
    process = start_sync(config)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err


def wait_for_line(
    process: subprocess.Popen[str], needle: str, timeout: float = 30
) -> threading.Thread:
    """Read stderr in a thread until ``needle``; the thread closes the pipe at EOF."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                lines.put(line)
        lines.put("")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while True:
        line = lines.get(timeout=timeout)
        if needle in line:
            return reader
        assert line, f"process ended before {needle!r}"


def kill_process(process: subprocess.Popen[str], reader: threading.Thread | None = None) -> None:
    """SIGKILL, as the kernel's OOM killer or a power cut would, and reap it."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    if reader is not None:
        reader.join(timeout=30)
    for stream in (process.stdout, process.stderr if reader is None else None):
        if stream is not None:
            stream.close()


# Where the crash sweeps kill a write: before the intent is recorded, after it, while the
# request is in flight (not applied), applied but not answered, answered but not
# committed, and after the commit.
CRASH_POINTS = ["before", "intent", "in_flight", "applied_unanswered", "answered", "committed"]


def kill_at_and_restart(
    config: Path,
    statuspage: StatuspageSimulator,
    point: str,
    kind: str,
    *,
    method: str = "PATCH",
    path_contains: str = "/incidents",
) -> None:
    """SIGKILL a `sync` at ``point`` of its ``kind`` write (the pause hook ``{point}_{kind}``,
    or a stalled ``method`` request for the in-flight points), then run `sync` twice."""
    if point in ("in_flight", "applied_unanswered"):
        stall = statuspage.stall_next(
            method=method, path_contains=path_contains, after_apply=point == "applied_unanswered"
        )
        process = start_sync(config)
        assert stall.wait_arrived(30)
        kill_process(process)
        stall.release()
    else:
        process = start_sync(config, {PAUSE_ENV: f"{point}_{kind}"})
        reader = wait_for_line(process, f"paused at {point}_{kind}")
        kill_process(process, reader)
    finish_sync(config)
    finish_sync(config)


def state_rows(config: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows ``sql`` selects from the SQLite file beside ``config`` (``state.db``)."""
    engine = sa.create_engine(f"sqlite:///{config.parent / 'state.db'}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.fixture(name="config_path")
def _config_path(tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]) -> Path:
    """A process config file over the ``sims`` simulators and a SQLite file in ``tmp_path``."""
    ilert, statuspage = sims
    return write_config(tmp_path, ilert.url, statuspage.url, f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture(name="config")
def _config(config_path: Path) -> Path:
    """The same process config under the name the CLI and state-loss tests use."""
    return config_path
