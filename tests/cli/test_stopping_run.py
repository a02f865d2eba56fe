"""`run` stops on time whatever the servers do: real processes, real signals, hostile fakes."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ilert_statuspage_sync.clients.http import DEADLINE_ENV
from tests.support.http_fakes import FakeRequest, FakeServer, hang, json_answer, trickle
from tests.support.proc import Daemon, run_cli, wait_until, write_config
from tests.support.world import AUTO_SOURCE

pytestmark = pytest.mark.slow

# The answer deadline the processes run with (test seam), and the time a stopping
# process gets on top of it to record its pass and exit (interpreter start-up excluded).
DEADLINE = 3.0
MARGIN = 4.0
SEAM = {DEADLINE_ENV: str(DEADLINE)}


@pytest.fixture(name="trickling")
def _trickling() -> Iterator[FakeServer]:
    """A Statuspage whose lists are empty (the unresolved list read before a create) and that
    answers every write one byte per second."""
    slow, empty = trickle(1.0), json_answer(200, [])

    def answer(conn: socket.socket, request: FakeRequest, closing: threading.Event) -> None:
        (empty if request.method == "GET" else slow)(conn, request, closing)

    with FakeServer(answer) as server:
        yield server


def _pending_intents(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "state.db") as db:
        rows = db.execute("SELECT pending_call FROM links WHERE pending_call IS NOT NULL")
        return [row[0] for row in rows]


def _daemon_stuck_in_a_write(
    tmp_path: Path, sims, statuspage: FakeServer, env: dict[str, str]
) -> Daemon:
    """A `run` whose second pass is inside a POST to ``statuspage``."""
    ilert, simulator = sims
    database = f"sqlite:///{tmp_path / 'state.db'}"
    # One pass against the real simulator activates the action (an empty database would
    # first look on the page for incidents to rebuild from, and meet the trickle there).
    config = write_config(tmp_path, ilert.url, simulator.url, database)
    activated = run_cli(config, "sync")
    assert activated.returncode == 0, activated.stderr
    config = write_config(tmp_path, ilert.url, statuspage.url, database)
    daemon = Daemon(config, env=env)
    daemon.wait_for("pass_finished")
    ilert.create_alert(AUTO_SOURCE, "trickled", "")
    assert statuspage.arrived.wait(30), daemon.log_path.read_text()
    wait_until(lambda: any(r.method == "POST" for r in statuspage.requests), what="the create")
    return daemon


def _exit_within(daemon: Daemon, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    try:
        code = daemon.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        daemon.kill()
        raise AssertionError(
            f"still running {seconds}s after the signal; log:\n{daemon.log_path.read_text()}"
        ) from None
    return code, time.monotonic() - started


def test_sigterm_during_a_trickled_write_exits_within_the_deadline(
    tmp_path: Path, sims, trickling: FakeServer
):
    """SIGTERM while Statuspage trickles a write's answer: `run` exits 0 within the answer
    deadline, starts no other request, and leaves the write's intent for reconciliation."""
    daemon = _daemon_stuck_in_a_write(tmp_path, sims, trickling, SEAM)
    daemon.signal(signal.SIGTERM)
    code, took = _exit_within(daemon, DEADLINE + MARGIN)
    daemon.stop()
    assert code == 0, daemon.log_path.read_text()
    assert took < DEADLINE + MARGIN
    # The page's unresolved list (empty: nothing to adopt), then the create; nothing after.
    assert [(r.method, r.path.endswith("/incidents")) for r in trickling.requests] == [
        ("GET", False),
        ("POST", True),
    ]
    assert len(_pending_intents(tmp_path)) == 1
    assert daemon.events()[-2:] == ["pass_finished", "stopped"]


def test_sigterm_with_a_hung_ilert_exits_within_the_deadline(tmp_path: Path, sims):
    """SIGTERM while iLert never answers a read: `run` exits 0 within the answer deadline
    and the read is not retried after the signal."""
    _, statuspage = sims
    with FakeServer(hang) as ilert:
        database = f"sqlite:///{tmp_path / 'state.db'}"
        daemon = Daemon(write_config(tmp_path, ilert.url, statuspage.url, database), env=SEAM)
        assert ilert.arrived.wait(30), daemon.log_path.read_text()
        daemon.signal(signal.SIGTERM)
        code, took = _exit_within(daemon, DEADLINE + MARGIN)
        daemon.stop()
        assert len(ilert.requests) == 1
    assert code == 0, daemon.log_path.read_text()
    assert took < DEADLINE + MARGIN
    assert statuspage.requests == []


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_second_stop_signal_exits_at_once(
    tmp_path: Path, sims, trickling: FakeServer, second: signal.Signals
):
    """A second SIGTERM or SIGINT during a trickled write (default 30 s deadline) exits at
    once with code 1 and a log line; the write's intent stays for reconciliation."""
    daemon = _daemon_stuck_in_a_write(tmp_path, sims, trickling, {})
    daemon.signal(signal.SIGTERM)
    daemon.wait_for("stopping")
    daemon.signal(second)
    code, took = _exit_within(daemon, 3.0)
    daemon.stop()
    assert code == 1
    assert took < 3.0
    line = next(line for line in daemon.lines() if line.get("event") == "stopping_now")
    assert line["signal"] == second.name
    assert len(_pending_intents(tmp_path)) == 1


def test_watchdog_is_pinged_during_a_long_pass(tmp_path: Path, sims):
    """A pass pacing slow writes sends WATCHDOG=1 between requests (every quarter of
    WATCHDOG_USEC), not only when it ends."""
    ilert, statuspage = sims
    database = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, ilert.url, statuspage.url, database)
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        sock.settimeout(30)
        env = {"NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "2000000"}
        daemon = Daemon(config, env=env)
        try:
            assert "READY=1" in sock.recv(4096).decode()
            assert sock.recv(4096).decode().startswith("WATCHDOG=1\nSTATUS=")
            statuspage.set_delay(0.6)
            for number in range(5):
                ilert.create_alert(AUTO_SOURCE, f"slow {number}", "")
            # Everything until the end of the next pass (its STATUS line).
            during: list[str] = []
            while not (message := sock.recv(4096).decode()).startswith("STATUS="):
                during.append(message)
            assert len(statuspage.writes()) == 5
        finally:
            statuspage.set_delay(0)
            daemon.stop()
    assert during.count("WATCHDOG=1") >= 3, during
