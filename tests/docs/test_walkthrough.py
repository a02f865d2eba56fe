"""The README's simulators walk-through works as written, in a fresh shell.

The fenced block between the ``walkthrough`` markers is run by bash (``-e``: any failing
line fails it) in a new folder that holds only a ``.venv`` link to the venv running the
tests, with an environment that has no venv on PATH. The block starts the real
simulators process itself; its last ``curl`` prints the page's incidents, which must
show the alert's incident created, commented on and resolved.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
TIMEOUT = 180.0


def walkthrough() -> str:
    """The shell block between the README's walkthrough markers."""
    text = README.read_text()
    block = text.split("<!-- walkthrough -->", 1)[1].split("<!-- /walkthrough -->", 1)[0]
    lines = block.strip().splitlines()
    assert lines[0] == "```sh", lines[0]
    assert lines[-1] == "```", lines[-1]
    return "\n".join(lines[1:-1]) + "\n"


def _incidents(stdout: str) -> list[dict[str, Any]]:
    """The last JSON array printed (the block's curl of the page's incidents)."""
    arrays = [line for line in stdout.splitlines() if line.startswith("[")]
    assert arrays, stdout
    incidents: list[dict[str, Any]] = json.loads(arrays[-1])
    return incidents


@pytest.mark.slow
def test_the_readme_walkthrough_creates_comments_and_resolves_an_incident(tmp_path):
    """Replayed by bash as written: one incident, created, with the comment, then resolved."""
    if not (Path(sys.prefix) / "bin" / "activate").exists():
        pytest.skip("the tests do not run in a venv; the walk-through activates .venv")
    (tmp_path / ".venv").symlink_to(sys.prefix)
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough())
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    # Files, not pipes: simulators left running by a failed line would hold a pipe open.
    with out.open("w") as stdout_file, err.open("w") as stderr_file:
        shell = subprocess.Popen(
            ["bash", "-e", str(script)],
            cwd=tmp_path,
            env=env,
            stdout=stdout_file,
            stderr=stderr_file,
            start_new_session=True,  # the simulators it starts go with it, whatever happens
        )
        try:
            shell.wait(timeout=TIMEOUT)
        finally:
            # `kill %1` has asked the simulators to stop; whatever is left goes now.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
    stdout, stderr = out.read_text(), err.read_text()
    described = f"exit {shell.returncode}\n--stdout--\n{stdout}\n--stderr--\n{stderr}"
    assert shell.returncode == 0, described
    assert "Traceback" not in stderr, described

    [incident] = _incidents(stdout)
    assert incident["name"] == "Checkout is failing", described
    assert incident["status"] == "resolved", described
    oldest_first = [(u["status"], u["body"]) for u in reversed(incident["incident_updates"])]
    assert oldest_first[0][0] == "identified", oldest_first
    assert ("identified", "Rolling back the deploy") in oldest_first, oldest_first
    assert oldest_first[-1][0] == "resolved", oldest_first
