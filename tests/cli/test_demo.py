"""``demo`` explains itself, and ``demo --keep DIR`` leaves a world the other commands work on.

The demo runs as a real process (``python -m ilert_statuspage_sync demo``): on
a pipe, under a pseudo-terminal, and kept running with ``--keep`` while the
printed ``sync``, ``trigger``, ``history`` and ``status`` commands run against
it, until a real SIGTERM or SIGINT.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import pty
import re
import select
import shlex
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from ilert_statuspage_sync.commands.cli import main
from ilert_statuspage_sync.demo.keep import prepare_folder
from ilert_statuspage_sync.demo.play import DEMO_SCENES, Scene, run_demo
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.service.leadership import FileLeadership
from tests.support.proc import cli_argv, said

DEMO_TIMEOUT = 120.0
COMMAND_TIMEOUT = 60.0


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CREDENTIALS_DIRECTORY", "NO_COLOR")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _demo(*args: str) -> list[str]:
    return cli_argv(None, "demo", *args)


def _section(text: str, start: str, end: str | None = None) -> str:
    after = text.split(start, 1)[1]
    return after.split(end, 1)[0] if end else after


def test_demo_on_a_pipe_is_plain_with_legend_headers_and_the_public_pages() -> None:
    """Not a terminal: no ANSI codes; a legend, column headers, and each page's incidents."""
    result = subprocess.run(
        _demo("--lifecycle", "realtime"),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        env=_environment(),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "\x1b" not in out
    assert "How to read this demo" in out
    assert "An incident action is one rule in the config" in out
    lines = out.splitlines()
    title = lines.index("    #   WHAT HAPPENED IN ILERT")  # a scene's title line
    for column in ("EVENT SEEN", "DAEMON DID", "PUBLIC PAGE SHOWS"):
        assert column in lines[title + 1]  # the columns of the decisions under it
    rows = [line for line in out.splitlines() if line.startswith(("ok ", "BAD"))]
    assert len(rows) == len(DEMO_SCENES)
    assert all(row.startswith("ok ") for row in rows), rows
    assert "every decision matched the lifecycle table" in out
    pages = _section(out, "The public pages now")
    public = _section(pages, "Acme Status  (page demoautopage)", "Acme Internal Status")
    internal = _section(pages, "Acme Internal Status  (page demomanualpg)")
    # Incident A's whole timeline, newest first, as Statuspage lists it (realtime).
    a = _section(public, "Demo: A  [Resolved]", "Demo:").splitlines()[1:]
    statuses = [line.split("UTC", 1)[1].strip() for line in a if "UTC" in line]
    assert statuses == [
        "Resolved",
        "Investigating",
        "Identified",
        "Investigating - We are looking into elevated error rates.",
        "Investigating - details of A",
    ]
    for name in ("Demo: C  [Investigating]", "Demo: E  [Identified]", "Demo: G  [Resolved]"):
        assert name in internal
    assert "Checkout" in public and "Degraded performance" in internal  # components listed


def test_demo_in_process_labels_every_incident_of_the_page_view() -> None:
    """The page view lists every incident the scenes made, each with its #n and timeline."""
    out = io.StringIO()
    assert run_demo("classic", out) == 0
    text = out.getvalue()
    pages = _section(text, "The public pages now")
    for number in range(1, 13):
        line = next(line for line in pages.splitlines() if line.strip().startswith(f"#{number} "))
        assert "incident " in line
    # A: 4 updates, B..G: 1 each, J and K: 2 each, the storm: 1 + 4 joins + the person's + 1
    # comment; the bridged incident: 4; the maintenance: scheduled, in progress, completed
    assert pages.count(" UTC  ") == 10 + 4 + 7 + 4 + 3


def test_demo_scenes_show_components_a_storm_and_a_persons_edit() -> None:
    """Worst-of on Checkout, five storm alerts in one incident, and a person's status kept."""
    out = io.StringIO()
    assert run_demo("realtime", out) == 0
    text = out.getvalue()
    table = _section(text, "== lifecycle", "The public pages now")
    rows = [" ".join(line.split()) for line in table.splitlines()]
    assert "component set Checkout major_outage -> degraded_performance" in rows  # K still open
    assert "component set Checkout degraded_performance -> operational" in rows
    assert "created x4 joined incident #10 investigating" in rows  # one row per alert, counted
    assert "human_edit x5 saw a human edit #10 investigating -> monitoring" in rows
    public = _section(text, "Acme Status  (page demoautopage)", "Acme Internal Status")
    components = _section(public, "Components", "Active incidents")
    assert [" ".join(line.split()) for line in components.splitlines() if line.strip()] == [
        "Storefront",
        "Checkout Operational",
        "Search Operational",
        "Platform",
        "Public API Operational",
        "Webhooks Operational",
        "Website Major outage",
    ]
    storm = _section(public, "Demo: web-1 down  [Monitoring]", "Past incidents").splitlines()
    bodies = [line.split("UTC", 1)[1].strip() for line in storm if "UTC" in line]
    assert bodies == [
        "Monitoring - Replacing the failed load balancer.",
        "Monitoring - Traffic moved to the standby region; watching.",
        *[f"Investigating - Also affected: Demo: web-{n} down" for n in (5, 4, 3, 2)],
        "Investigating - health check of web-1 failing",
    ]
    assert "This incident affected: Website (Major outage)." in "\n".join(storm)


def test_demo_on_a_terminal_is_coloured() -> None:
    """Under a pseudo-terminal the demo colours its marks and statuses; NO_COLOR turns it off."""
    coloured = _on_a_terminal(_demo("--lifecycle", "classic"), _environment(TERM="xterm"))
    assert "\x1b[32mok\x1b[0m" in coloured
    assert "\x1b[" in coloured.split("The public pages now", 1)[1]
    plain = _on_a_terminal(
        _demo("--lifecycle", "classic"), _environment(TERM="xterm", NO_COLOR="1")
    )
    assert "\x1b" not in plain
    assert "every decision matched the lifecycle table" in plain


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True
    )
    os.close(terminal)
    chunks = []
    deadline = time.monotonic() + DEMO_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.wait(timeout=COMMAND_TIMEOUT) == 0
    return b"".join(chunks).decode("utf-8", errors="replace")


class _Kept:
    """A ``demo --keep DIR`` process, read line by line until it says "ready"."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            _demo("--keep", str(folder)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        watchdog = threading.Timer(DEMO_TIMEOUT, self.process.kill)  # a silent hang ends too
        watchdog.start()
        try:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.strip() == "ready":
                    break
        finally:
            watchdog.cancel()
        assert self.lines and self.lines[-1] == "ready", "\n".join(self.lines)

    def command(self, *words: str) -> list[str]:
        """The printed command line that runs these words (comment dropped), as argv."""
        wanted = " ".join(words)
        for line in self.lines:
            text = line.split("#", 1)[0].strip()
            if "--config" in text and text.endswith(wanted):
                return shlex.split(text)
        raise AssertionError(f"no printed command for {wanted!r}:\n" + "\n".join(self.lines))

    def stop(self, signum: int) -> tuple[int, str]:
        """Send the signal; the exit code and the rest of stdout."""
        self.process.send_signal(signum)
        rest, _ = self.process.communicate(timeout=COMMAND_TIMEOUT)
        return self.process.returncode, rest

    def kill(self) -> None:
        """Leave nothing running whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=COMMAND_TIMEOUT)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=_environment(),
        cwd="/",
        check=False,
    )


@pytest.mark.slow
def test_demo_keep_serves_a_ready_config_for_sync_trigger_history_status(tmp_path: Path) -> None:
    """The printed commands work on the kept world; SIGTERM stops it with exit 0."""
    folder = tmp_path / "kept"
    kept = _Kept(folder)
    try:
        # The scenes' spend (at the demo's 600 a minute) is not the kept world's: under its
        # default 60 it would hold the first `sync` for up to a minute.
        with sqlite3.connect(folder / "state.db") as db:
            assert db.execute("SELECT count(*) FROM rate_spend").fetchone() == (0,)
        block = " ".join(" ".join(kept.lines).split())  # the ready block's prose, unwrapped
        found = re.search(r"since the last pass alert (\d+) opened .* alert (\d+) on source", block)
        assert found is not None, block
        opened, waiting = int(found[1]), int(found[2])
        sync = _run(kept.command("sync"))
        assert sync.returncode == 0, sync.stderr
        trigger = _run(kept.command("trigger", "manual-review", str(waiting)))
        assert trigger.returncode == 0, trigger.stderr
        assert _run(kept.command("sync")).returncode == 0
        history = _run([*kept.command("history", "--limit", "5"), "--json"])
        assert history.returncode == 0, history.stderr
        rows = [json.loads(line) for line in history.stdout.splitlines()]
        created = {(row["alert_id"], row["outcome"]) for row in rows}
        assert {(opened, "created"), (waiting, "created")} <= created
        status = _run(kept.command("status"))
        assert status.returncode == 1, status.stdout + status.stderr  # no `run`: UNHEALTHY
        assert "UNHEALTHY" in status.stdout and f"public-api     {opened}" in status.stdout
        code, rest = kept.stop(signal.SIGTERM)
    finally:
        kept.kill()
    assert code == 0, rest
    assert "Demo: H opened after the demo  [Identified]" in rest  # the reader's sync, on the page
    assert "Demo: I waits for a trigger  [Identified]" in rest
    assert rest.rstrip().endswith("simulators stopped (SIGTERM)")
    assert (folder / "config.toml").read_text().startswith("# written by")


@pytest.mark.slow
def test_demo_keep_ctrl_c_exits_130_and_a_foreign_config_is_never_overwritten(
    tmp_path: Path,
) -> None:
    """SIGINT stops the kept demo with 130; a folder with someone's config.toml is refused."""
    kept = _Kept(tmp_path / "kept")
    try:
        code, rest = kept.stop(signal.SIGINT)
    finally:
        kept.kill()
    assert code == 130, rest
    assert "simulators stopped (interrupted)" in rest
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "config.toml").write_text("poll_interval = 30\n")
    refused = _run(_demo("--keep", str(foreign)))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert said(refused.stderr).strip().splitlines() == [
        f"error: demo --keep {foreign}: {foreign / 'config.toml'} exists and was not written "
        "by the demo; pick a new or empty folder"
    ]
    assert (foreign / "config.toml").read_text() == "poll_interval = 30\n"


def test_demo_into_a_reader_that_stops_ends_quietly() -> None:
    """``demo | head -1``: the closed pipe ends the demo with exit 0 and nothing on stderr."""
    process = subprocess.Popen(
        _demo("--lifecycle", "classic"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"How to read this demo")
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=DEMO_TIMEOUT) == 0
    assert stderr == b""


def test_a_scene_that_differs_or_fails_its_check_is_bad() -> None:
    """A scene whose audit rows differ, or whose check objects, prints BAD and the demo exits 1."""
    scenes = (
        Scene(
            "X opened",
            lambda stage: stage.alerts.update(x=stage.ilert.create_alert(101, "Demo: X", "x")),
            (("created", "created", "investigating"),),  # classic creates `identified`
            (("created", "created", "investigating"),),
        ),
        Scene(
            "X commented",
            lambda stage: stage.ilert.comment(stage.alerts["x"], "still down"),
            (("comment_added", "body_updated", "identified"),),
            (("comment_added", "body_updated", "investigating"),),
            check=lambda stage: "component Checkout should show major_outage",
        ),
    )
    out = io.StringIO()
    assert run_demo("classic", out, scenes=scenes) == 1
    rows = [line for line in out.getvalue().splitlines() if line.startswith(("ok ", "BAD"))]
    assert [row.split()[0] for row in rows] == ["BAD", "BAD"]
    text = out.getvalue()
    assert "expected [('created', 'created', 'investigating')]" in text
    assert "component Checkout should show major_outage" in text
    assert "2 scenes differ from the lifecycle table" in text


def test_demo_help_says_what_each_option_does(capsys: pytest.CaptureFixture[str]) -> None:
    """``demo --help`` explains --lifecycle and --keep (it once showed just "both")."""
    with pytest.raises(SystemExit) as done:
        main(["demo", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "which lifecycle table to play (default: classic, the config's default; both:" in text
    assert "--keep DIR" in text and "until Ctrl-C (exit 130) or SIGTERM (exit 0)" in text


def test_demo_keep_refuses_a_folder_a_daemon_or_another_demo_is_using(tmp_path: Path) -> None:
    """A second ``demo --keep DIR`` never deletes the database a running ``run`` or demo holds."""
    folder = tmp_path / "kept"
    with ExitStack() as stack:  # a kept folder, as a previous demo --keep left it
        prepare_folder(folder, stack)
    (folder / "state.db").write_bytes(b"the running daemon's database")
    daemon = FileLeadership(folder / "state.db")
    assert daemon.try_acquire()
    try:
        with ExitStack() as stack, pytest.raises(ConfigError, match=r"a daemon \(pid \d+\)"):
            prepare_folder(folder, stack)
    finally:
        daemon.release()
    assert (folder / "state.db").read_bytes() == b"the running daemon's database"
    with ExitStack() as first:
        assert prepare_folder(folder, first) == folder
        assert not (folder / "state.db").exists()
        (folder / "state.db").write_bytes(b"the first demo's database")
        with ExitStack() as second, pytest.raises(ConfigError, match="another demo"):
            prepare_folder(folder, second)
        assert (folder / "state.db").read_bytes() == b"the first demo's database"
    with ExitStack() as after_the_first:  # the first demo ended: the folder is free again
        prepare_folder(folder, after_the_first)


def test_demo_keep_refuses_a_path_with_control_characters_before_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line break or escape in DIR is one line naming it, escaped, and nothing is created."""
    folder = tmp_path / "line\nbreak\x1b[31m"
    assert main(["demo", "--keep", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "\x1b" not in captured.err
    assert "control characters" in captured.err
    assert not folder.exists()


def test_demo_keep_refuses_a_folder_others_may_write(tmp_path: Path) -> None:
    """In a folder others can write (``/tmp/x`` made 0777), key files could become links."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with ExitStack() as stack, pytest.raises(ConfigError, match="writable by other users"):
        prepare_folder(folder, stack)
    folder.chmod(0o775)  # a user's private group (umask 002) may write: still theirs
    with ExitStack() as stack:
        assert prepare_folder(folder, stack) == folder
    with ExitStack() as stack:  # a new folder is the user's alone
        assert (prepare_folder(folder / "new", stack).stat().st_mode & 0o777) == 0o700


def test_demo_keep_refuses_a_kept_config_someone_edited(tmp_path: Path) -> None:
    """A kept config edited into a real one (marker line kept) is theirs: never deleted again."""
    folder = tmp_path / "kept"
    with ExitStack() as stack:
        prepare_folder(folder, stack)
    (folder / "state.db").write_bytes(b"the demo's database")
    with ExitStack() as stack:  # unchanged since the demo wrote it: reused
        prepare_folder(folder, stack)
    assert not (folder / "state.db").exists()
    edited = (folder / "config.toml").read_text() + "database_url = 'sqlite:///real.db'\n"
    (folder / "config.toml").write_text(edited)
    (folder / "state.db").write_bytes(b"links to real incidents")
    with ExitStack() as stack, pytest.raises(ConfigError, match="was not written by the demo"):
        prepare_folder(folder, stack)
    assert (folder / "state.db").read_bytes() == b"links to real incidents"
    assert (folder / "config.toml").read_text() == edited


def test_demo_keep_never_empties_a_folder_it_did_not_write(tmp_path: Path) -> None:
    """``demo --keep .`` where ``sync`` left its real state.db: refused, nothing deleted."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "state.db").write_bytes(b"links to real incidents")
    with ExitStack() as stack, pytest.raises(ConfigError, match=r"did not write \(state.db"):
        prepare_folder(folder, stack)
    assert (folder / "state.db").read_bytes() == b"links to real incidents"
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]


def test_a_demo_killed_before_ready_leaves_a_folder_the_next_one_reuses(tmp_path: Path) -> None:
    """The folder is marked as the demo's before any scene: a kill mid-way does not strand it."""
    folder = tmp_path / "kept"
    with ExitStack() as stack:
        prepare_folder(folder, stack)
        (folder / "state.db").write_bytes(b"half a demo")  # then SIGKILL
    with ExitStack() as stack:
        assert prepare_folder(folder, stack) == folder
    assert not (folder / "state.db").exists()


@pytest.mark.slow
def test_demo_keep_whose_reader_left_still_exits_130_on_ctrl_c(tmp_path: Path) -> None:
    """``demo --keep DIR | tee log`` with tee gone: Ctrl-C still exits 130, nothing on stderr."""
    kept = _Kept(tmp_path / "kept")
    try:
        assert kept.process.stdout is not None and kept.process.stderr is not None
        kept.process.stdout.close()
        kept.process.send_signal(signal.SIGINT)
        code = kept.process.wait(timeout=COMMAND_TIMEOUT)
        stderr = kept.process.stderr.read()
        kept.process.stderr.close()
    finally:
        kept.kill()
    assert code == 130, stderr
    assert stderr == ""


@pytest.fixture(scope="module")
def demo_at_80() -> dict[str, str]:
    """The demo's output on a pipe with COLUMNS=80: by default and with ``--lifecycle both``."""
    outputs = {}
    for name, args in (("default", ()), ("both", ("--lifecycle", "both"))):
        result = subprocess.run(
            _demo(*args),
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT,
            env=_environment(COLUMNS="80"),
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[name] = result.stdout
    return outputs


def test_demo_at_80_columns_prints_no_line_wider_than_80(demo_at_80: dict[str, str]) -> None:
    """At COLUMNS=80 every line fits: the demo wraps its text itself, never the terminal."""
    for name, out in demo_at_80.items():
        wide = [line for line in out.splitlines() if len(line) > 80]
        assert wide == [], f"{name}: {len(wide)} lines wider than 80"


def test_demo_plays_the_default_lifecycle_only_unless_asked_for_both(
    demo_at_80: dict[str, str],
) -> None:
    """``demo`` plays the config's default lifecycle (classic); ``--lifecycle both`` plays two."""
    titles = [line for line in demo_at_80["default"].splitlines() if line.startswith("== ")]
    assert titles == ['== lifecycle = "classic"']
    both = [line for line in demo_at_80["both"].splitlines() if line.startswith("== ")]
    assert both == ['== lifecycle = "classic"', '== lifecycle = "realtime"']


def test_demo_never_prints_the_same_table_row_twice_in_a_row(demo_at_80: dict[str, str]) -> None:
    """Identical decisions in a row (a storm's joins, a person's edit) print once, counted."""
    for out in demo_at_80.values():
        for table in out.split("== lifecycle")[1:]:
            lines = _section(table, "\n", "The public pages now").splitlines()
            repeats = [a for a, b in itertools.pairwise(lines) if a.strip() and a == b]
            assert repeats == []
        assert "created x4" in out and "human_edit x5" in out


def test_demo_legend_explains_component_statuses(demo_at_80: dict[str, str]) -> None:
    """The legend names every component status and why the daemon sets one."""
    legend = " ".join(demo_at_80["default"].split("== lifecycle", 1)[0].split())
    for status in (
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ):
        assert status in legend
    assert "worst" in legend and "priority" in legend
