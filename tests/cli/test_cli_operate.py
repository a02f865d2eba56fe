"""Day-to-day operation through the real console script: one line per failure, keys only
where a vendor is called, JSON on a pipe, one trail schema, trigger and untrigger.

Each command runs as a subprocess against the simulators (the ``Cli`` harness of
``test_cli``), with canary keys that must never show up anywhere.
"""

from __future__ import annotations

import json
import os
import platform
import pty
import subprocess
from pathlib import Path

import pytest

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.cli import (  # noqa: F401 - fixtures
    CANARIES,
    Cli,
    activated_fixture,
    canary_ilert_fixture,
    canary_statuspage_fixture,
    cli_fixture,
    json_lines,
    table_rows,
)
from tests.support.proc import child_environment, cli_argv
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

pytestmark = pytest.mark.slow

UNSET_ILERT, UNSET_SP = "H9A_UNSET_ILERT_KEY", "H9A_UNSET_SP_KEY"


def _keyless(cli: Cli) -> Path:
    """The harness config with keys nobody can read here: unset variables, a missing file."""
    text = (
        cli.config_text()
        .replace(
            f"api_key_file = {json.dumps(str(cli.ilert_key_file))}",
            f'api_key_env = "{UNSET_ILERT}"',
        )
        .replace(
            f"api_key_file = {json.dumps(str(cli.statuspage_key_file))}",
            'api_key_file = "missing-statuspage.key"',
        )
    )
    assert UNSET_ILERT in text and "missing-statuspage.key" in text
    return cli.write_config(text)


def _said(stderr: str) -> list[dict[str, object]]:
    """The CLI's own JSON lines (they carry an exit code or a message for a person)."""
    return [line for line in json_lines(stderr) if "message" in line]


# -- keys only where a vendor is called ---------------------------------------------


def test_commands_that_call_no_vendor_run_without_keys(cli: Cli, ilert: IlertSimulator) -> None:
    """db upgrade, status, history, check --offline and untrigger never read a key;
    sync still refuses, naming every key it cannot read."""
    _keyless(cli)
    assert UNSET_ILERT not in os.environ and UNSET_SP not in os.environ

    upgraded = cli.run("db", "upgrade")
    assert upgraded.code == 0, upgraded.describe()
    for args, code in (
        (("status",), 1),  # no daemon reports passes: UNHEALTHY, not a key error
        (("history",), 0),
        (("history", "--json"), 0),
        (("check", "--offline"), 0),
        (("untrigger", "manual-review", "42"), 0),
    ):
        result = cli.run(*args)
        assert result.code == code, result.describe()
        assert "api_key" not in result.output, result.describe()
    offline = cli.run("check", "--offline")
    assert offline.stdout.splitlines()[:2] == [
        f"ok   config {cli.config_path}: valid",
        f"ok   database sqlite:///{cli.db_path}: up to date",
    ]
    assert ilert.requests == []

    synced = cli.run("sync")
    assert synced.code == 2, synced.describe()
    assert synced.said.splitlines() == [
        f"error: {cli.config_path}: ilert.api_key_env: environment variable {UNSET_ILERT} "
        "is not set",
        f"error: {cli.config_path}: connectors.main.api_key_file: cannot read key file "
        f"(name not shown) in {cli.folder} (a relative name is read from the config file's "
        "folder): No such file or directory",
    ]


# -- every config mistake at once ---------------------------------------------------


def test_an_empty_config_names_every_missing_table(cli: Cli) -> None:
    """An empty file: one JSON error line per missing table, exit 2."""
    empty = cli.folder / "empty.toml"
    empty.write_text("")
    result = cli.run("status", config=empty)
    assert result.code == 2, result.describe()
    assert [
        (line["event"], line["message"], line["exit_code"]) for line in _said(result.stderr)
    ] == [
        ("config_error", f"{empty}: ilert: missing table", 2),
        ("config_error", f"{empty}: connectors: missing table", 2),
    ]


def test_two_actions_on_one_page_and_source_are_refused(cli: Cli) -> None:
    """Two actions mirroring one source onto one page: exit 2, one line naming both."""
    text = cli.config_text(manual_sources=(AUTO_SOURCE,)).replace(
        f'page_id = "{MANUAL_PAGE}"', f'page_id = "{AUTO_PAGE}"'
    )
    cli.write_config(text)
    result = cli.run("check", "--offline")
    assert result.code == 2, result.describe()
    assert result.said.strip() == (
        f"error: {cli.config_path}: incident_actions[1] 'manual-review' and incident_actions[0] "
        f"'public-api' both mirror alert source {AUTO_SOURCE} onto page {AUTO_PAGE}, so every "
        "alert would be published twice; give each source on a page to one action"
    )


def test_an_empty_key_variable_is_reported_as_empty(cli: Cli) -> None:
    """api_key_env naming a variable that is set to "" says "empty", not "not set"."""
    _keyless(cli)
    completed = subprocess.run(
        cli.argv("sync"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cli.folder,
        env={**child_environment(), UNSET_ILERT: ""},
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    messages = [str(line["message"]) for line in _said(completed.stderr)]
    assert messages[0] == (
        f"{cli.config_path}: ilert.api_key_env: environment variable {UNSET_ILERT} is set but empty"
    )


# -- JSON on a pipe, a readable line on a terminal ------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "event"),
    [
        (("bogus-command",), 2, "usage_error"),
        (("history", "--limit", "-1"), 2, "usage_error"),
        (("trigger", "nowhere", "5"), 2, "config_error"),
        (("status",), 1, "command_failed"),  # no database yet
    ],
    ids=["unknown-command", "bad-limit", "unknown-action", "no-database"],
)
def test_every_stderr_line_is_json_on_a_pipe(
    cli: Cli, args: tuple[str, ...], code: int, event: str
) -> None:
    """Usage, config and runtime errors are JSON lines like the log when stderr is a pipe."""
    result = cli.run(*args)
    assert result.code == code, result.describe()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.describe()
    parsed = [json.loads(line) for line in lines]  # raises on a plain line
    errors = [line for line in parsed if line.get("exit_code") is not None]
    assert [(line["level"], line["event"], line["exit_code"]) for line in errors] == [
        ("error", event, code)
    ]
    assert set(errors[0]) == {"timestamp", "level", "event", "message", "exit_code"}


def test_on_a_terminal_the_error_is_one_readable_line(cli: Cli) -> None:
    """With stderr on a terminal (a pty) the same error is the plain ``error: ...`` line."""
    leader, follower = pty.openpty()
    try:
        completed = subprocess.run(
            cli.argv("trigger", "nowhere", "5"),
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
            cwd=cli.folder,
            env={**child_environment(), "NO_COLOR": "1"},  # colour: test_console_lines.py
            check=False,
        )
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the writer side is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert completed.returncode == 2
    assert seen.decode().replace("\r\n", "\n") == (
        "error: no incident action named 'nowhere' (configured: public-api, manual-review)\n"
    )


# -- one schema for the log's transition lines and history --json ----------------------


def test_history_json_has_the_log_transition_lines_keys(
    activated: Cli, ilert: IlertSimulator
) -> None:
    """A synced create: its log line and its history --json line have the same keys and
    the same values (the timestamps apart)."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Checkout slow", "p95 above 2s")
    synced = activated.run("sync")
    assert synced.code == 0, synced.describe()
    logged = [line for line in synced.logs() if line.get("event") == "transition"]
    assert len(logged) == 1, synced.describe()
    history = activated.run("history", "--json", "--alert", str(alert_id))
    assert history.code == 0, history.describe()
    stored = [json.loads(line) for line in history.stdout.splitlines()]
    assert len(stored) == 1

    assert list(logged[0]) == list(stored[0])  # the same keys, in the same order
    assert {k: v for k, v in logged[0].items() if k != "timestamp"} == {
        k: v for k, v in stored[0].items() if k != "timestamp"
    }
    assert stored[0]["ilert_event"] == "created" and stored[0]["dry_run"] is False
    assert stored[0]["published_name"] == "Checkout slow"


# -- debug: one line per HTTP request, never a key ------------------------------------


def test_debug_logs_each_http_request_without_keys_or_headers(
    cli: Cli, ilert: IlertSimulator
) -> None:
    """log_level = "debug": an http_request line per call with method, path, status,
    duration and budget wait; no key, no header, no query anywhere."""
    cli.write_config(log_level="debug")
    ilert.create_alert(AUTO_SOURCE, "Search down")
    synced = cli.run("sync")
    assert synced.code == 0, synced.describe()
    requests = [line for line in synced.logs() if line.get("event") == "http_request"]
    assert len(requests) == len(ilert.requests) + len(cli.statuspage.requests), synced.describe()
    for line in requests:
        assert {"service", "method", "path", "status", "duration_s", "budget_wait_s"} <= set(line)
        assert line["level"] == "debug"
        assert "?" not in str(line["path"])
    assert {(line["method"], line["path"]) for line in requests} >= {("GET", "/api/alerts")}
    posted = [line for line in requests if line["method"] == "POST"]
    assert posted and posted[0]["status"] == 201
    for canary in CANARIES:
        assert canary not in synced.output
    assert "authorization" not in synced.stderr.lower()
    assert "OAuth " not in synced.stderr and "Bearer " not in synced.stderr


# -- trigger and untrigger ------------------------------------------------------------


def test_trigger_refuses_an_alert_ilert_does_not_have(activated: Cli) -> None:
    """trigger 999999: iLert answers 404, so exit 2 saying the alert does not exist."""
    result = activated.run("trigger", "manual-review", "999999")
    assert result.code == 2, result.describe()
    assert result.said.strip() == (
        f"error: alert 999999 does not exist in iLert ({activated.ilert.url}); "
        "check the id (the number in the alert's URL)"
    )
    assert activated.run("untrigger", "manual-review", "999999").stdout.strip() == (
        "alert 999999 for manual-review: not triggered, nothing to cancel"
    )


def test_trigger_while_ilert_is_down_is_accepted_then_backs_off_on_404(
    activated: Cli, ilert: IlertSimulator
) -> None:
    """iLert unreachable: trigger warns and accepts. Then the id is 404: the pass logs
    alert_read_failed once and waits (no read next pass); status says why and how to undo."""
    ilert.set_down("refuse")
    try:
        trigger = activated.run("trigger", "manual-review", "999999")
    finally:
        ilert.set_down(None)
    assert trigger.code == 0, trigger.describe()
    warnings = [line for line in _said(trigger.stderr) if line["event"] == "trigger_unchecked"]
    assert len(warnings) == 1 and warnings[0]["level"] == "warning", trigger.describe()
    assert str(warnings[0]["message"]).startswith("alert 999999 not checked in iLert: ilert:")

    ilert.clear_requests()
    first = activated.run("sync")
    assert first.code == 1, first.describe()  # a failing item
    failed = [line for line in first.logs() if line.get("event") == "alert_read_failed"]
    assert len(failed) == 1, first.describe()
    assert failed[0]["failures"] == 1 and "HTTP 404" in failed[0]["error"]
    reads = [r for r in ilert.requests if r.path == "/api/alerts/999999"]
    assert len(reads) == 1

    second = activated.run("sync")
    assert "alert_read_failed" not in [line.get("event") for line in second.logs()]
    assert [r for r in ilert.requests if r.path == "/api/alerts/999999"] == reads

    status = activated.run("status")
    row = next(row for row in status.stdout.splitlines() if " 999999 " in row)
    assert "1x, retry" in row and "HTTP 404" in row
    assert "`untrigger manual-review 999999`" in row

    untrigger = activated.run("untrigger", "manual-review", "999999")
    assert untrigger.code == 0, untrigger.describe()
    assert untrigger.stdout.strip() == (
        "alert 999999 for manual-review: trigger cancelled, it will not be mirrored"
    )
    assert " 999999 " not in activated.run("status").stdout


def test_untrigger_before_the_pass_keeps_the_alert_off_the_page(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """trigger then untrigger: the next pass publishes nothing; a published one stays."""
    cancelled = ilert.create_alert(MANUAL_SOURCE, "Batch late")
    assert activated.run("trigger", "manual-review", str(cancelled)).code == 0
    untrigger = activated.run("untrigger", "manual-review", str(cancelled))
    assert untrigger.code == 0, untrigger.describe()
    assert activated.run("sync").code == 0
    assert statuspage.incidents(MANUAL_PAGE) == []

    published = ilert.create_alert(MANUAL_SOURCE, "Exports failing")
    assert activated.run("trigger", "manual-review", str(published)).code == 0
    assert activated.run("sync").code == 0
    assert [i["name"] for i in statuspage.incidents(MANUAL_PAGE)] == ["Exports failing"]
    refused = activated.run("untrigger", "manual-review", str(published))
    assert refused.code == 2, refused.describe()
    assert refused.said.strip() == (
        f"error: alert {published} for manual-review is already on page {MANUAL_PAGE} "
        "(or being written there); untrigger cancels only a trigger not yet published: "
        "resolve the alert in iLert and the incident follows"
    )
    rows = {row[1]: row for row in table_rows(activated.run("status").stdout)[1:]}
    assert str(published) in rows


def test_untrigger_refuses_an_automatic_action(cli: Cli) -> None:
    """untrigger only applies to manual actions: exit 2 saying so."""
    result = cli.run("untrigger", "public-api", "7")
    assert result.code == 2, result.describe()
    assert result.said.strip() == (
        "error: incident action 'public-api' has trigger_mode = \"automatic\"; "
        'untrigger only applies to actions with trigger_mode = "manual"'
    )


# -- small ones -----------------------------------------------------------------------


def test_version_names_the_program_and_python() -> None:
    """--version prints the name, the version and the Python version."""
    result = subprocess.run(
        cli_argv(None, "--version"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"ilert-statuspage-sync {__version__} (Python {platform.python_version()})"
    )


def test_a_reader_that_stops_early_is_not_an_error(cli: Cli) -> None:
    """`history --json | head -c 100`: exit 0 and nothing on stderr (no Broken pipe line)."""
    from datetime import UTC, datetime

    from ilert_statuspage_sync.store.database import make_engine, make_sessions
    from ilert_statuspage_sync.store.tables import Transition

    assert cli.run("db", "upgrade").code == 0
    engine = make_engine(f"sqlite:///{cli.db_path}")
    with make_sessions(engine)() as session:
        session.add_all(
            Transition(
                at=datetime.now(UTC),
                alert_id=number,
                incident_action="public-api",
                page_id=AUTO_PAGE,
                event="created",
                outcome="created",
                published_body="x" * 2000,
            )
            for number in range(1, 301)
        )
        session.commit()
    engine.dispose()

    process = subprocess.Popen(
        cli.argv("history", "--json", "--limit", "1000"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cli.folder,
        env=child_environment(),
    )
    assert process.stdout is not None and process.stderr is not None
    with process.stdout, process.stderr:
        assert len(process.stdout.read(100)) == 100
        process.stdout.close()
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, stderr
    assert stderr == ""
