"""The shipped systemd unit: valid and sandboxed (where systemd-analyze exists), and its
restart policy stops on what a restart cannot fix."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ilert_statuspage_sync.commands.output import EXIT_FAILED, EXIT_INTERNAL, EXIT_USAGE
from tests.support.systemd_standin import parse_unit

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "ilert-statuspage-sync.service"
ANALYZE = shutil.which("systemd-analyze")

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}


@pytest.fixture(name="unit_file")
def _unit_file(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at an executable that exists on this machine."""
    text = UNIT.read_text()
    text = text.replace("/opt/ilert-statuspage-sync/bin/ilert-statuspage-sync", sys.executable)
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


@needs_analyze
def test_unit_verifies(unit_file: Path):
    """`systemd-analyze verify` accepts the unit."""
    result = subprocess.run(
        [str(ANALYZE), "verify", str(unit_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [line for line in result.stderr.splitlines() if UNIT.name in line]
    assert result.returncode == 0, result.stderr
    assert problems == []


@needs_analyze
def test_unit_exposure_is_at_most_two(unit_file: Path):
    """`systemd-analyze security --offline=yes` rates the unit 2.0 or lower."""
    result = subprocess.run(
        [str(ANALYZE), "security", "--offline=yes", str(unit_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def _seconds(value: str) -> float:
    """A systemd time span such as ``10``, ``90s`` or ``5min`` in seconds."""
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)\s*([a-z]*)", value):
        total += float(number) * _UNITS[unit or "s"]
    return total


def test_config_errors_are_not_restarted():
    """Exit 2 (config or usage error: the next start fails the same way) is not restarted;
    run-time failures (1) and bugs (70) are."""
    service = dict(parse_unit(UNIT.read_text()))
    assert service["Restart"] == "on-failure"
    prevented = service.get("RestartPreventExitStatus", "").split()
    assert str(EXIT_USAGE) in prevented
    assert str(EXIT_FAILED) not in prevented
    assert str(EXIT_INTERNAL) not in prevented


def test_a_crash_loop_reaches_the_start_limit():
    """A process failing at once on every start hits StartLimitBurst within
    StartLimitIntervalSec, RestartSec apart, so systemd stops restarting it (the default
    10 s interval is never reached at RestartSec=10)."""
    text = UNIT.read_text()
    unit, service = dict(parse_unit(text, "Unit")), dict(parse_unit(text))
    interval = _seconds(unit.get("StartLimitIntervalSec", "10s"))
    burst = int(unit.get("StartLimitBurst", "5"))
    restart_every = _seconds(service.get("RestartSec", "100ms"))
    assert burst >= 3  # one restart after a replaced database file is no loop
    assert burst * restart_every < interval


def test_runtime_directory_goes_with_the_process():
    """The metrics folder is not kept across restarts: a crash-looping service leaves no
    stale textfile behind, so IlertStatuspageSyncMetricsMissing can fire."""
    service = dict(parse_unit(UNIT.read_text()))
    assert service.get("RuntimeDirectoryPreserve", "no") == "no"
