"""The shipped systemd unit is valid and sandboxed (where systemd-analyze exists)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "ilert-statuspage-sync.service"
ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")


@pytest.fixture(name="unit_file")
def _unit_file(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at an executable that exists on this machine."""
    text = UNIT.read_text()
    text = text.replace("/opt/ilert-statuspage-sync/bin/ilert-statuspage-sync", sys.executable)
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


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
