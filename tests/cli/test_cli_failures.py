"""Every storage and start-up failure is one ``error:`` line and an exit code, never a traceback.

The console script runs as a subprocess against real trouble: a SQLite file
another connection holds locked, an immutable file or folder (``chattr +i``:
the tests run as root, which ignores permission bits), a read-only bind mount
and a full tmpfs (both in a private mount namespace made by ``unshare -m``),
a file of random bytes, a PostgreSQL port nobody listens on, a metrics port
already bound. Exit codes: 1 runtime, 2 config or usage.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.database import head_revision
from tests.support.database import postgres_database
from tests.support.proc import Daemon, cli_argv
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

TIMEOUT = 60.0
CLOSED_PORT_URL = "postgresql+psycopg://nobody:pw@127.0.0.1:9/none"


def _run(config: Path, *args: str, wrap: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*wrap, *cli_argv(config, *args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single ``error:`` line of a failed command, as a terminal shows it.

    On a pipe every stderr line is JSON, the error too (an ``exit_code`` field).
    """
    dump = f"exit {result.returncode}\n--stdout--\n{result.stdout}\n--stderr--\n{result.stderr}"
    assert result.returncode == code, dump
    assert "Traceback" not in result.stdout + result.stderr, dump
    plain = [line for line in result.stderr.splitlines() if line.strip() and not _is_json(line)]
    assert plain == [], dump
    errors = [
        json.loads(line)
        for line in result.stderr.splitlines()
        if _is_json(line) and "exit_code" in json.loads(line)
    ]
    assert len(errors) == 1, dump
    assert errors[0]["level"] == "error" and errors[0]["exit_code"] == code, dump
    return f"error: {errors[0]['message']}"


@pytest.fixture(name="postgres_url")
def _postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (skipped without ILERT_SYNC_TEST_POSTGRES_URL)."""
    yield from postgres_database()


def _with_url(config: Path, url: str) -> Path:
    text = config.read_text()
    start = text.index("database_url = ")
    end = text.index("\n", start)
    config.write_text(text[:start] + f'database_url = "{url}"' + text[end:])
    return config


def _migrate(config: Path) -> None:
    result = _run(config, "db", "upgrade")
    assert result.returncode == 0, result.stderr


@pytest.fixture(name="immutable")
def _immutable() -> Iterator[list[Path]]:
    """Paths made immutable with ``chattr +i`` (root cannot write them); undone afterwards."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    paths: list[Path] = []
    yield paths
    for path in paths:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _chattr(immutable: list[Path], path: Path) -> None:
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {result.stderr!r}")
    immutable.append(path)


def _namespace(script: str) -> tuple[str, ...]:
    """A wrapper running ``script`` (then the command) in a private mount namespace."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("unshare -m (a private mount namespace) is not available")
    return ("unshare", "-m", "--propagation", "private", "sh", "-ec", script + '\nexec "$@"', "sh")


# -- the state database ----------------------------------------------------------------


@pytest.mark.slow
def test_locked_database_is_one_line_without_statement_or_text(
    config: Path, tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """A database held locked by another program: one line naming it, no SQL, no alert text."""
    ilert, _ = sims
    db = tmp_path / "state.db"
    _with_url(config, f"sqlite:///{db}?timeout=1")
    _migrate(config)
    ilert.create_alert(AUTO_SOURCE, "canary summary 5b7e", "canary detail")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = _run(config, "sync")
    finally:
        holder.close()
    line = _one_line(result, 1)
    assert line == (
        f"error: database {db} is locked by another program (waited 1s); "
        f"find it with `fuser {db}`, stop it, and retry"
    )
    assert "canary" not in result.stderr
    assert "INSERT" not in result.stderr and "UPDATE" not in result.stderr


@pytest.mark.slow
def test_database_locked_mid_write_stops_the_pass_in_one_line(
    config: Path, tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """Locked while a comment's PATCH is in flight: one line, no traceback, no comment text;
    the next `sync` finishes the write exactly once."""
    ilert, statuspage = sims
    db = tmp_path / "state.db"
    _with_url(config, f"sqlite:///{db}?timeout=1")
    assert _run(config, "sync").returncode == 0  # activates the action
    alert_id = ilert.create_alert(AUTO_SOURCE, "canary summary 5b7e", "")
    assert _run(config, "sync").returncode == 0
    ilert.comment(alert_id, "canary comment 77aa")
    stall = statuspage.stall_next(method="PATCH", after_apply=True)
    command = cli_argv(config, "sync")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        assert stall.arrived.wait(TIMEOUT), "the PATCH never came"
        holder.execute("BEGIN EXCLUSIVE")  # the intent is recorded; the outcome cannot be
        stall.release()
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        holder.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    line = _one_line(result, 1)
    assert line.startswith(f"error: database {db} is locked by another program"), line
    assert "canary" not in stderr and "pending_call" not in stderr
    again = _run(config, "sync")
    assert again.returncode == 0, again.stderr
    (incident,) = statuspage.incidents(AUTO_PAGE)
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert sum("canary comment 77aa" in body for body in bodies) == 1, bodies


@pytest.mark.slow
def test_read_only_database_file(config: Path, tmp_path: Path, immutable: list[Path]) -> None:
    """An immutable state.db: `sync` says the database is read-only, exit 1."""
    _migrate(config)
    _chattr(immutable, tmp_path / "state.db")
    line = _one_line(_run(config, "sync"), 1)
    assert line.startswith(f"error: database {tmp_path / 'state.db'} is read-only"), line


@pytest.mark.slow
@pytest.mark.parametrize("command", [("db", "upgrade"), ("sync",), ("run",)], ids=" ".join)
def test_unwritable_database_folder(
    config: Path, tmp_path: Path, immutable: list[Path], command: tuple[str, ...]
) -> None:
    """A database folder nobody may write: `db upgrade`, `sync` and `run` exit 1 naming it."""
    folder = tmp_path / "data"
    folder.mkdir()
    _with_url(config, f"sqlite:///{folder / 'state.db'}")
    _chattr(immutable, folder)
    line = _one_line(_run(config, *command), 1)
    assert line.startswith(f"error: permission denied on {folder / 'state.db.lock'}"), line
    assert "writable" in line
    assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_read_only_filesystem(config: Path, tmp_path: Path) -> None:
    """The database's filesystem mounted read-only: one line saying so, exit 1."""
    folder = tmp_path / "data"
    folder.mkdir()
    _with_url(config, f"sqlite:///{folder / 'state.db'}")
    _migrate(config)
    wrap = _namespace(f"mount --bind {folder} {folder}\nmount -o remount,bind,ro {folder}")
    line = _one_line(_run(config, "sync", wrap=wrap), 1)
    assert line.startswith(f"error: cannot write {folder / 'state.db.lock'}: read-only"), line


@pytest.mark.slow
def test_disk_full(config: Path, tmp_path: Path) -> None:
    """A full filesystem under the database: `sync` says disk full, exit 1."""
    folder = tmp_path / "disk"
    folder.mkdir()
    migrated = tmp_path / "migrated"
    migrated.mkdir()
    _migrate(_with_url(config, f"sqlite:///{migrated / 'state.db'}"))
    _with_url(config, f"sqlite:///{folder / 'state.db'}")
    # Room for SQLite's 32 KiB shared-memory file and little else: the first write fills it.
    script = f"""
mount -t tmpfs -o size=1m tmpfs {folder}
cp {migrated / "state.db"} {migrated / "state.db.lock"} {folder}/
free=$(df --output=avail -B1 {folder} | tail -1)
fallocate -l $((free - 36 * 1024)) {folder}/filler
"""
    line = _one_line(_run(config, "sync", wrap=_namespace(script)), 1)
    assert line == (
        f"error: disk full writing database {folder / 'state.db'}: "
        f"free space on the filesystem of {folder}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["status", "sync", "db upgrade"])
def test_malformed_database(config: Path, tmp_path: Path, command: str) -> None:
    """A state.db of random bytes: one line saying it is not a SQLite database, exit 1."""
    db = tmp_path / "state.db"
    db.write_bytes(bytes(range(256)) * 40)
    line = _one_line(_run(config, *command.split()), 1)
    assert f"database {db} is not a valid SQLite database" in line, line
    assert "restore it from a backup" in line


@pytest.mark.slow
@pytest.mark.parametrize("command", ["status", "history"])
def test_read_only_commands_on_a_missing_database_create_nothing(
    config: Path, tmp_path: Path, command: str
) -> None:
    """`status`/`history` without a database: exit 1 with the command to run; no file made."""
    line = _one_line(_run(config, command), 1)
    db = tmp_path / "state.db"
    assert line == (
        f"error: no database at {db}; run `ilert-statuspage-sync db upgrade` "
        "or start the daemon first"
    )
    assert sorted(p.name for p in tmp_path.glob("state.db*")) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", ["status", "history"])
def test_read_only_commands_on_a_never_migrated_database(
    config: Path, tmp_path: Path, command: str
) -> None:
    """`status`/`history` on an empty database file: exit 1 saying to run `db upgrade`."""
    db = tmp_path / "state.db"
    sqlite3.connect(db).close()
    line = _one_line(_run(config, command), 1)
    assert line == (
        f"error: database {db} is at revision none (never migrated), this version needs "
        f"{head_revision()}; run `ilert-statuspage-sync db upgrade`"
    )


@pytest.mark.slow
def test_check_warns_about_pending_migrations(config: Path, tmp_path: Path) -> None:
    """`check` on a database missing migrations prints WARN, not ok, naming `db upgrade`."""
    sqlite3.connect(tmp_path / "state.db").close()
    result = _run(config, "check")
    assert result.returncode == 0, result.stderr
    line = result.stdout.splitlines()[1]
    assert line == (
        f"WARN database sqlite:///{tmp_path / 'state.db'}: at no revision (empty), "
        f"migrations up to {head_revision()} pending; run `db upgrade` "
        "(the daemon also applies them when it starts)"
    )


@pytest.mark.slow
def test_check_fails_when_the_database_folder_is_missing(config: Path, tmp_path: Path) -> None:
    """No folder for the SQLite file: `check` fails (exit 1) naming it, as `db upgrade` and
    `sync` refuse to start there (exit 2); it no longer promises the first start creates it."""
    folder = tmp_path / "absent"
    _with_url(config, f"sqlite:///{folder / 'state.db'}")
    result = _run(config, "check", "--offline")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[1] == (
        f"FAIL database sqlite:///{folder / 'state.db'}: folder {folder} does not exist; "
        "create it (writable by the service's user) or fix database_url"
    )
    for command in (("db", "upgrade"), ("sync",)):
        line = _one_line(_run(config, *command), 2)
        assert line == f"error: {config}: database_url: folder {folder} does not exist"
    assert not folder.exists()


@pytest.mark.slow
def test_check_fails_when_the_database_folder_refuses_a_new_file(
    config: Path, tmp_path: Path, immutable: list[Path]
) -> None:
    """A folder where the file cannot be created (immutable: even root cannot): `check` fails
    naming it, and `db upgrade` indeed cannot create the database there."""
    folder = tmp_path / "frozen"
    folder.mkdir()
    _with_url(config, f"sqlite:///{folder / 'state.db'}")
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    immutable.append(folder)
    result = _run(config, "check", "--offline")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith(
        f"FAIL database sqlite:///{folder / 'state.db'}: folder {folder} is not writable by "
        "this user, so state.db cannot be created there"
    )
    assert _run(config, "db", "upgrade").returncode != 0


@pytest.mark.slow
def test_check_warning_about_a_new_database_is_kept_by_the_first_start(
    config: Path, tmp_path: Path
) -> None:
    """Folder present, no file: `check` warns (exit 0) that the first start creates it, and
    the first `sync` does (exit 0, database migrated)."""
    result = _run(config, "check", "--offline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith(
        f"WARN database sqlite:///{tmp_path / 'state.db'}: no database yet"
    )
    first = _run(config, "sync")
    assert first.returncode == 0, first.stderr
    assert _run(config, "check", "--offline").stdout.splitlines()[1].endswith(": up to date")


# -- database_url ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_scheme_is_accepted(config: Path, postgres_url: str) -> None:
    """A `postgres://` URL (as PaaS hand them out) migrates like `postgresql+psycopg://`."""
    _with_url(config, postgres_url.replace("postgresql+psycopg://", "postgres://", 1))
    result = _run(config, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"-> {head_revision()}" in result.stdout
    status = _run(config, "status")  # no daemon reports passes: UNHEALTHY, exit 1, not 2
    assert status.returncode == 1, status.stderr
    assert "no alerts tracked yet" in status.stdout


@pytest.mark.slow
def test_unsupported_database_names_the_config_file_without_a_postgres_hint(
    config: Path,
) -> None:
    """A `mysql://` URL: exit 2 naming the config file and the supported databases."""
    _with_url(config, "mysql://user:pw@127.0.0.1/state")
    line = _one_line(_run(config, "db", "upgrade"), 2)
    assert line.startswith(f"error: {config}: database_url: mysql is not supported; use sqlite"), (
        line
    )
    assert "[postgres]" not in line and "pw" not in line


@pytest.mark.slow
def test_postgres_unreachable_is_reported_as_unreachable(config: Path) -> None:
    """PostgreSQL not listening: `sync` says it cannot reach it, not that a lock is held."""
    _with_url(config, CLOSED_PORT_URL)
    line = _one_line(_run(config, "sync"), 1)
    assert line.startswith("error: cannot reach PostgreSQL at postgresql+psycopg://nobody:***@"), (
        line
    )
    assert "advisory lock" not in line and ":pw@" not in line


@pytest.mark.slow
def test_run_replica_without_database_is_neither_ready_nor_watchdog(
    config: Path, tmp_path: Path
) -> None:
    """`run` that cannot reach PostgreSQL logs database_error and never sends READY/WATCHDOG."""
    _with_url(config, CLOSED_PORT_URL)
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        sock.settimeout(0.2)
        daemon = Daemon(config, env={"NOTIFY_SOCKET": str(address)})
        try:
            daemon.wait_for("database_error", timeout=TIMEOUT, count=2)
        finally:
            daemon.stop()
        messages = []
        with contextlib.suppress(TimeoutError):
            while True:  # every datagram queued since the start
                messages.append(sock.recv(4096).decode())
    assert not any("READY=1" in m or "WATCHDOG=1" in m for m in messages), messages
    errors = [line for line in daemon.lines() if line.get("event") == "database_error"]
    assert errors[0]["operation"] == "leader_lock"
    assert errors[0]["unreachable"] is True
    assert errors[0]["reason"].startswith("cannot reach PostgreSQL"), errors[0]
    assert "raw" not in daemon.events(), daemon.log_path.read_text()


@pytest.mark.slow
def test_run_database_error_mid_pass_is_a_structured_event(
    config: Path, tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """A pass that meets a locked database logs database_error, not a scheduler traceback."""
    db = tmp_path / "state.db"
    _with_url(config, f"sqlite:///{db}?timeout=1")
    daemon = Daemon(config)
    try:
        daemon.wait_for("pass_finished", timeout=TIMEOUT)
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            daemon.wait_for("database_error", timeout=TIMEOUT)
        finally:
            holder.close()
        passes = daemon.events().count("pass_finished")
        daemon.wait_for("pass_finished", timeout=TIMEOUT, count=passes + 1)  # recovers
    finally:
        daemon.stop()
    error = next(line for line in daemon.lines() if line.get("event") == "database_error")
    assert error["operation"] == "pass"
    assert error["reason"].startswith(f"database {db} is locked"), error
    assert "Job" not in daemon.log_path.read_text()
    assert "raw" not in daemon.events(), daemon.log_path.read_text()


# -- config ----------------------------------------------------------------------------


@pytest.mark.slow
def test_key_with_a_non_latin1_character(config: Path, tmp_path: Path) -> None:
    """A key HTTP headers cannot carry: exit 2 naming the dotted key, never the key."""
    (tmp_path / "sp.key").write_text("sk-ключ-0042\n")
    line = _one_line(_run(config, "check"), 2)
    assert line.startswith(f"error: {config}: connectors.main.api_key_file: "), line
    assert "latin-1" in line
    assert "ключ" not in line and "0042" not in line


@pytest.mark.slow
@pytest.mark.parametrize("value", ["nan", "inf", "1e9"])
def test_poll_interval_must_be_finite_and_at_most_a_day(config: Path, value: str) -> None:
    """`poll_interval = nan`, `inf` or 1e9 is refused at load (exit 2), not at `run`."""
    text = config.read_text().replace("poll_interval = 5\n", f"poll_interval = {value}\n")
    config.write_text(text)
    line = _one_line(_run(config, "check"), 2)
    assert line.startswith(f"error: {config}: poll_interval: must be "), line


@pytest.mark.slow
def test_history_refuses_a_negative_limit(config: Path) -> None:
    """`history --limit -1` is a usage error (exit 2)."""
    result = _run(config, "history", "--limit", "-1")
    assert result.returncode == 2, result.stderr
    assert "--limit: must be at least 1, got -1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_run_with_metrics_port_in_use(config: Path) -> None:
    """`run` whose metrics port is taken: one line naming the address, exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config.write_text(config.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
        line = _one_line(_run(config, "run"), 1)
    assert line.startswith(f"error: cannot serve metrics on 127.0.0.1:{port}: "), line
    assert "[metrics] listen" in line


def _sigint_as_on_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_during_sync_is_one_line(
    config: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """SIGINT while `sync` waits on Statuspage: `error: interrupted`, exit 130, no traceback."""
    ilert, statuspage = sims
    assert _run(config, "sync").returncode == 0  # activates the action
    ilert.create_alert(AUTO_SOURCE, "interrupt me", "")
    stall = statuspage.stall_next(method="POST")
    command = cli_argv(config, "sync")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As a terminal starts it: a suite launched in the background (`nohup ... &`) hands
        # its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=_sigint_as_on_a_terminal,
    )
    try:
        assert stall.arrived.wait(TIMEOUT), "the POST never came"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        stall.release()
        if process.poll() is None:
            process.kill()
            process.communicate()
    line = _one_line(subprocess.CompletedProcess(command, process.returncode, stdout, stderr), 130)
    assert line == "error: interrupted"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("trigger", "public-api", "9223372036854775808"), "argument alert_id: "),
        (("trigger", "public-api", "-1"), "argument alert_id: "),
        (("trigger", "public-api", "0"), "argument alert_id: "),
        (("history", "--alert", str(2**64)), "argument --alert: "),
        (("history", "--limit", str(10**20)), "argument --limit: must be at most 1,000,000"),
    ],
    ids=["trigger-2^63", "trigger-negative", "trigger-zero", "history-alert-2^64", "limit-1e20"],
)
def test_out_of_range_ids_and_limits_are_one_usage_line(
    config: Path, args: tuple[str, ...], fragment: str
) -> None:
    """Alert ids outside 1..2^63-1 and limits above 1,000,000 are refused (exit 2), not stored."""
    config.write_text(
        config.read_text().replace("page_id = ", 'trigger_mode = "manual"\npage_id = ')
    )
    assert _run(config, "db", "upgrade").returncode == 0
    line = _one_line(_run(config, *args), 2)
    assert fragment in line, line
    assert "no alerts tracked yet" in _run(config, "status").stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "dotted"),
    [
        ("database_url = ", 'database_url = "sqlite:///a\\u0000b"\n# was: ', "database_url"),
        ("page_id = ", 'page_id = "../x"\n# was: ', "incident_actions[0].page_id"),
    ],
    ids=["nul-in-database-url", "page-id-path"],
)
def test_hostile_config_values_are_one_config_line(
    config: Path, old: str, new: str, dotted: str
) -> None:
    """A NUL in database_url or a path in page_id is a config error naming the key (exit 2)."""
    config.write_text(config.read_text().replace(old, new, 1))
    line = _one_line(_run(config, "check", "--offline"), 2)
    assert line.startswith(f"error: {config}: {dotted}: "), line
