"""``python -m ilert_statuspage_sync.simulators``: help, and the ``alert`` command over HTTP.

The command runs in-process (``main(argv)``) against a real iLert simulator on loopback;
help runs as a real process, since a command that serves instead would never return.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator
from ilert_statuspage_sync.simulators.__main__ import main
from ilert_statuspage_sync.simulators.seed import ILERT_KEY
from tests.support.proc import child_environment, python_module_argv

MODULE = "ilert_statuspage_sync.simulators"
KEY = "command-ilert-key-5e3b"


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
        ["--help"],
        ["serve", "--help"],
        ["alert", "--help"],
        ["alert", "create", "--help"],
        ["alert", "accept", "-h"],
        ["alert", "comment", "--help"],
        ["alert", "resolve", "--help"],
    ],
    ids=" ".join,
)
def test_help_at_every_level_prints_help_and_exits_0_without_serving(args):
    """``--help`` anywhere prints usage and exits 0; it never starts the simulators."""
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
    assert "export ILERT_URL=" not in completed.stdout
    assert completed.stderr == ""


def test_create_accept_comment_resolve_change_the_alert(demo_ilert, capsys):
    """The four verbs open, accept, comment on and resolve an alert, one line each."""
    assert _run(capsys, "alert", "create", "--source", "101", "--summary", "Checkout down") == (
        0,
        "1\n",
        "",
    )
    assert demo_ilert.alert(1)["status"] == "PENDING"
    assert _run(capsys, "alert", "accept", "1") == (0, "alert 1 ACCEPTED\n", "")
    assert _run(capsys, "alert", "comment", "1", "Rolling back") == (
        0,
        "comment added to alert 1\n",
        "",
    )
    assert _run(capsys, "alert", "resolve", "1") == (0, "alert 1 RESOLVED\n", "")

    assert demo_ilert.alert(1)["status"] == "RESOLVED"
    comment = next(
        e for e in demo_ilert.log_entries(1) if e["logEntryType"] == "AlertCommentAddedLogEntry"
    )
    assert comment["vars"] == {"comment": "Rolling back", "author": "Ada Lovelace"}
    # The comment is an Events API call: keyed by the integration key, no API key sent.
    [event] = [r for r in demo_ilert.requests if r.path == "/api/events"]
    assert "authorization" not in event.headers
    assert event.json_body["integrationKey"] == "sim-integration-101"


def test_the_url_option_wins_and_the_demo_key_is_the_default(capsys, monkeypatch):
    """``--ilert-url`` after the verb is used; without DEMO_ILERT_KEY the demo key is sent."""
    monkeypatch.setenv("ILERT_URL", "http://127.0.0.1:1")
    monkeypatch.delenv("DEMO_ILERT_KEY", raising=False)
    with IlertSimulator(api_key=ILERT_KEY) as simulator:
        simulator.add_alert_source("Checkout API", source_id=101)
        argv = ["alert", "create", "--ilert-url", simulator.url, "--source", "101"]
        assert main([*argv, "--summary", "x"]) == 0
        assert simulator.alert(1)["summary"] == "x"


@pytest.mark.parametrize(
    ("argv", "code", "line"),
    [
        (
            ["alert", "accept", "7"],
            1,
            "error: PUT /api/alerts/7/accept: the iLert simulator answered 404: "
            "Alert 7 does not exist",
        ),
        (
            ["alert", "create", "--source", "5", "--summary", "x"],
            1,
            "error: POST /api/alerts: the iLert simulator answered 400: "
            "Alert source 5 does not exist",
        ),
        (
            ["alert", "create", "--source", "x", "--summary", "x"],
            2,
            "error: python -m ilert_statuspage_sync.simulators alert create: argument "
            "--source: invalid int value: 'x' (see --help)",
        ),
        (
            ["alert", "explode"],
            2,
            "error: python -m ilert_statuspage_sync.simulators alert: argument VERB: invalid "
            "choice: 'explode' (choose from create, accept, resolve, comment) (see --help)",
        ),
    ],
    ids=["unknown-alert", "unknown-source", "bad-int", "unknown-verb"],
)
def test_failures_are_one_line_with_their_exit_code(demo_ilert, capsys, argv, code, line):
    """A refusal is exit 1 and a usage error exit 2, each one ``error:`` line."""
    got: object
    try:
        got = main(argv)
    except SystemExit as exc:  # argparse leaves through SystemExit
        got = exc.code
    out, err = capsys.readouterr()
    assert (got, out) == (code, "")
    # Python 3.12 quotes argparse's choices and later versions do not.
    assert err.replace("'", "") == line.replace("'", "") + "\n"


def test_a_comment_on_a_resolved_alert_is_refused(demo_ilert, capsys):
    """The Events API drops a comment on a resolved alert; the command says so (exit 1)."""
    demo_ilert.create_alert(101, "over")
    demo_ilert.resolve(1)
    assert _run(capsys, "alert", "comment", "1", "late") == (
        1,
        "",
        "error: alert 1 is resolved; the Events API only comments on open alerts\n",
    )


def test_no_url_and_no_simulator_are_one_line_each(capsys, monkeypatch):
    """Without a URL: exit 2; with nothing listening: exit 1; both one line, no traceback."""
    monkeypatch.delenv("ILERT_URL", raising=False)
    code, out, err = _run(capsys, "alert", "resolve", "1")
    assert (code, out) == (2, "")
    assert err == (
        "error: no simulator URL: pass --ilert-url or set ILERT_URL "
        "(the simulators print it on their first line)\n"
    )
    code, out, err = _run(capsys, "alert", "resolve", "1", "--ilert-url", "http://127.0.0.1:1")
    assert (code, out) == (1, "")
    assert err.startswith("error: cannot reach the iLert simulator at http://127.0.0.1:1 ")
    assert len(err.splitlines()) == 1
