"""``python -m ilert_statuspage_sync.simulators incident|service|window``: help, and the verbs.

The verbs run in-process (``main(argv)``) against a real iLert simulator on loopback;
help runs as a real process, as for the ``alert`` command.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator
from ilert_statuspage_sync.simulators.__main__ import main
from tests.support.proc import child_environment, python_module_argv

MODULE = "ilert_statuspage_sync.simulators"
KEY = "status-command-key-7c1d"


@pytest.fixture(name="demo_ilert")
def _demo_ilert(monkeypatch: pytest.MonkeyPatch) -> Iterator[IlertSimulator]:
    with IlertSimulator(api_key=KEY) as simulator:
        simulator.add_alert_source("Checkout API", source_id=101)
        monkeypatch.setenv("ILERT_URL", simulator.url)
        monkeypatch.setenv("DEMO_ILERT_KEY", KEY)
        yield simulator


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["incident", "--help"],
        ["incident", "create", "--help"],
        ["incident", "update", "-h"],
        ["incident", "resolve", "--help"],
        ["service", "--help"],
        ["service", "create", "--help"],
        ["service", "set", "--help"],
        ["window", "--help"],
        ["window", "create", "--help"],
        ["window", "edit", "--help"],
        ["window", "delete", "--help"],
    ],
    ids=" ".join,
)
def test_help_at_every_level_prints_help_and_exits_0(args):
    """``--help`` on every status command and verb prints usage and exits 0."""
    completed = subprocess.run(
        python_module_argv(MODULE, *args),
        capture_output=True,
        text=True,
        timeout=60,
        env=child_environment(),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m ilert_statuspage_sync.simulators")
    assert completed.stderr == ""


def test_service_and_incident_verbs(demo_ilert, capsys):
    """create prints the id; update, resolve and set print one line and change the simulator."""
    assert _run(capsys, "service", "create", "--name", "Checkout") == (0, "1\n", "")
    created = _run(
        capsys, "incident", "create", "--summary", "Slow", "--service", "1:DEGRADED", "--notify"
    )
    assert created == (0, "1\n", "")
    assert demo_ilert.incident(1)["sendNotification"] is True
    assert demo_ilert.service(1)["status"] == "DEGRADED"
    updated = _run(capsys, "incident", "update", "1", "--status", "MONITORING", "--message", "ok")
    assert updated == (0, "incident 1 MONITORING\n", "")
    assert _run(capsys, "incident", "resolve", "1") == (0, "incident 1 RESOLVED\n", "")
    assert demo_ilert.service(1)["status"] == "OPERATIONAL"
    assert _run(capsys, "service", "set", "1", "MAJOR_OUTAGE") == (
        0,
        "service 1 MAJOR_OUTAGE\n",
        "",
    )


def test_window_verbs(demo_ilert, capsys):
    """A window is planned with relative times, edited and deleted."""
    demo_ilert.add_service("Checkout")
    argv = ["window", "create", "--summary", "DB", "--start", "+1h", "--end", "+2h"]
    assert _run(capsys, *argv, "--service", "1", "--source", "101") == (0, "1\n", "")
    window = demo_ilert.window(1)
    assert ([s["id"] for s in window["services"]], window["alertSources"][0]["id"]) == ([1], 101)
    code, out, _ = _run(capsys, "window", "edit", "1", "--end", "2099-01-01T00:00:00Z")
    assert (code, out.endswith("to 2099-01-01T00:00:00.000Z\n")) == (0, True)
    assert _run(capsys, "window", "delete", "1") == (0, "window 1 deleted\n", "")


@pytest.mark.parametrize(
    ("argv", "code", "line"),
    [
        (["incident", "update", "9", "--status", "IDENTIFIED"], 1, "answered 404"),
        (["incident", "update", "9"], 2, "nothing to update"),
        (["incident", "create", "--summary", "x", "--service", "7:DEGRADED"], 1, "answered 400"),
        (["window", "create", "--summary", "x", "--start", "+2h", "--end", "+1h"], 1, "400"),
        (["window", "edit", "3"], 2, "nothing to change"),
    ],
)
def test_failures_are_one_line_with_their_exit_code(demo_ilert, capsys, argv, code, line):
    """A refusal is exit 1 and a missing change exit 2, each one ``error:`` line."""
    got, out, err = _run(capsys, *argv)
    assert (got, out) == (code, "")
    assert err.startswith("error: ")
    assert line in err
    assert err.count("\n") == 1


def test_a_bad_time_or_impact_is_a_usage_error(demo_ilert, capsys):
    """An unreadable --start or --service is exit 2 before anything is sent."""
    for argv in (
        ["window", "create", "--summary", "x", "--start", "soon", "--end", "+1h"],
        ["incident", "create", "--summary", "x", "--service", "1:BAD"],
    ):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
    assert demo_ilert.requests == []
