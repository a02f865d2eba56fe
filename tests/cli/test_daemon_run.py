"""The `run` process: one per SQLite file, systemd notify, SIGHUP reload, metrics file."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.proc import Daemon, run_cli, wait_until, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = pytest.mark.slow


@pytest.fixture(name="config")
def _config(tmp_path: Path, sims) -> Path:
    ilert, statuspage = sims
    metrics = f'[metrics]\ntextfile = "{tmp_path / "sync.prom"}"\n'
    return write_config(
        tmp_path, ilert.url, statuspage.url, f"sqlite:///{tmp_path / 'state.db'}", extra=metrics
    )


@pytest.fixture(name="daemon")
def _daemon(config: Path) -> Iterator[Daemon]:
    daemon = Daemon(config)
    daemon.wait_for("pass_finished")
    yield daemon
    if daemon.process.poll() is None:
        daemon.stop()


def test_second_process_on_one_sqlite_file_refuses(daemon: Daemon, config: Path):
    """A second `run` or `sync` on the same SQLite file exits 1 (restartable) naming the lock."""
    for command in ("run", "sync"):
        result = run_cli(config, command)
        assert result.returncode == 1, result.stderr
        assert "another ilert-statuspage-sync process holds database file" in result.stderr
        assert f"pid {daemon.process.pid}" in result.stderr
        assert "use PostgreSQL for replicas" in result.stderr
    assert daemon.process.poll() is None


def test_deleting_the_lock_file_mid_create_admits_no_second_writer(
    daemon: Daemon, config: Path, sims
):
    """`rm state.db.lock` while a create is in flight: a second `run` still refuses (exit 1),
    so nobody reconciles the in-flight intent early: one incident, one create."""
    ilert, statuspage = sims
    held = statuspage.delay_next(8, method="POST", path_contains="/incidents")
    ilert.create_alert(AUTO_SOURCE, "held create", "details")
    assert held.wait_arrived(30)
    (config.parent / "state.db.lock").unlink()
    second = Daemon(config)
    # Still running after that: it took the lead; what it wrote is asserted below.
    with contextlib.suppress(AssertionError):
        wait_until(lambda: second.process.poll() is not None, timeout=15, what="refusal")
    held.release()
    wait_until(held.finished.is_set, what="the held create answered")

    def passes() -> int:  # of whichever process leads
        return sum(d.events().count("pass_finished") for d in (daemon, second))

    settled = passes() + 2
    wait_until(lambda: passes() >= settled, what="two more passes")
    creates = [w for w in statuspage.writes() if w.method == "POST" and w.status == 201]
    incidents = len(statuspage.incidents(AUTO_PAGE))
    refused = second.process.poll()
    second.stop()  # closes its log too
    assert (len(creates), incidents) == (1, 1)
    assert refused == 1
    refusal = second.log_path.read_text()
    assert "holds database file" in refusal and f"(pid {daemon.process.pid})" in refusal
    assert daemon.process.poll() is None


def test_systemd_notify_ready_watchdog_status_stopping(config: Path, tmp_path: Path):
    """READY=1 comes after the first pass, WATCHDOG=1 every pass, STOPPING=1 on SIGTERM."""
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        sock.settimeout(30)
        daemon = Daemon(config, env={"NOTIFY_SOCKET": str(address)})
        messages = [sock.recv(4096).decode() for _ in range(3)]
        assert "READY=1" in messages[0]
        assert "STATUS=leader: last pass ok" in messages[0]
        assert any("WATCHDOG=1" in message for message in messages)
        assert "pass_finished" in daemon.events()
        daemon.signal(signal.SIGTERM)
        while "STOPPING=1" not in sock.recv(4096).decode():
            pass
        # No second SIGTERM here: that one would mean "exit at once".
        assert daemon.process.wait(timeout=60) == 0
        daemon.stop()


def test_sighup_reloads_config_without_dropping_state(daemon: Daemon, config: Path, sims):
    """SIGHUP applies a new lifecycle to the next pass; the incident is kept, not duplicated;
    a broken file is refused and the daemon goes on."""
    ilert, statuspage = sims
    alert_id = ilert.create_alert(AUTO_SOURCE, "reload me", "")
    wait_until(lambda: len(statuspage.incidents(AUTO_PAGE)) == 1, what="incident created")
    config.write_text(config.read_text().replace('lifecycle = "classic"', 'lifecycle = "realtime"'))
    daemon.signal(signal.SIGHUP)
    daemon.wait_for("config_reloaded")
    # Classic would make no change for an escalation; realtime moves back to investigating.
    ilert.escalate(alert_id)
    wait_until(
        lambda: [i["status"] for i in statuspage.incidents(AUTO_PAGE)] == ["investigating"],
        what="realtime rule applied after the reload",
    )
    good = config.read_text()
    config.write_text(good + "\nsurprise = 1\n")
    daemon.signal(signal.SIGHUP)
    failure = daemon.wait_for("config_reload_failed")
    assert failure
    line = next(e for e in daemon.lines() if e.get("event") == "config_reload_failed")
    assert "surprise" in line["error"]
    assert [error.split(": ")[1] for error in line["errors"]] == ["incident_actions[0].surprise"]
    ilert.resolve(alert_id)
    wait_until(
        lambda: [i["status"] for i in statuspage.incidents(AUTO_PAGE)] == ["resolved"],
        what="still syncing after a bad reload",
    )
    assert daemon.stop() == 0


def test_metrics_textfile_after_a_scenario(daemon: Daemon, sims, tmp_path: Path):
    """The textfile holds passes, transitions, API requests, leadership and freshness."""
    ilert, statuspage = sims
    alert_id = ilert.create_alert(AUTO_SOURCE, "metrics", "")
    ilert.comment(alert_id, "looking")
    wait_until(lambda: len(statuspage.incidents(AUTO_PAGE)) == 1, what="incident")
    passes = daemon.events().count("pass_finished")
    daemon.wait_for("pass_finished", count=passes + 1)
    status = run_cli(tmp_path / "config.toml", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("daemon: healthy: leader "), status.stdout
    assert "failing items: 0" in status.stdout
    text = (tmp_path / "sync.prom").read_text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    prefix = "ilert_statuspage_sync_"
    assert samples[(f"{prefix}passes_total", (("result", "ok"),))] >= 2
    assert samples[(f"{prefix}transitions_total", (("outcome", "created"),))] == 1
    assert samples[(f"{prefix}transitions_total", (("outcome", "body_updated"),))] == 1
    assert (
        samples[(f"{prefix}api_requests_total", (("service", "statuspage"), ("status", "201")))]
        == 1
    )
    assert samples[(f"{prefix}api_requests_total", (("service", "ilert"), ("status", "200")))] >= 3
    assert samples[(f"{prefix}leader", ())] == 1
    assert samples[(f"{prefix}alerts_tracked", ())] == 1
    assert samples[(f"{prefix}last_successful_pass_timestamp_seconds", ())] > 0


def test_textfile_is_deleted_when_run_stops(daemon: Daemon, tmp_path: Path):
    """SIGTERM: `run` exits 0 and deletes the textfile it wrote, so a stopped daemon's
    metrics go absent (IlertStatuspageSyncMetricsMissing) instead of staying at their last
    values."""
    textfile = tmp_path / "sync.prom"
    assert "ilert_statuspage_sync_build_info" in textfile.read_text()
    assert daemon.stop() == 0
    assert not textfile.exists()
    assert [p.name for p in tmp_path.glob(".sync.prom.*")] == []


def test_textfile_is_deleted_when_run_fails(daemon: Daemon, tmp_path: Path):
    """`run` stopping on a failure (its SQLite file deleted: exit 1) deletes its textfile
    too: a crash loop shows no metrics rather than the last good pass's."""
    textfile = tmp_path / "sync.prom"
    wait_until(textfile.exists, what="the first pass's textfile")  # written after its log line
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'state.db'}{suffix}").unlink(missing_ok=True)
    daemon.process.wait(timeout=60)
    assert daemon.stop() == 1, daemon.log_path.read_text()
    assert "database_replaced" in daemon.events()
    assert not textfile.exists()
