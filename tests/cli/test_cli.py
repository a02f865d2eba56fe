"""End-to-end tests of the console script, run as a subprocess against the simulators.

Every command runs as ``python -m ilert_statuspage_sync --config PATH ...`` with a
real TOML file, real key files and a real SQLite file in ``tmp_path``; the iLert
and Statuspage simulators serve in this test process. The API keys are canary
values, and every test ends by checking that no captured output and no byte of
the state database holds them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import UTC, datetime

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import TRAIL_FIELDS
from ilert_statuspage_sync.store.database import head_revision, make_engine, make_sessions
from tests.support.cli import (  # noqa: F401 - fixtures
    CANARIES,
    CANARY_ILERT_KEY,
    CANARY_STATUSPAGE_KEY,
    COMMAND_TIMEOUT,
    DEMO_TIMEOUT,
    RUN_DEADLINE,
    WRONG_STATUSPAGE_KEY,
    Cli,
    Result,
    activated_fixture,
    canary_ilert_fixture,
    canary_statuspage_fixture,
    cli_fixture,
    json_lines,
    table_rows,
    wait_for,
)
from tests.support.proc import child_environment
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

# A `history --json` line: the audit trail line as the log writes it.
HISTORY_KEYS = {"timestamp", "level", "event", *TRAIL_FIELDS}


# -- db upgrade -------------------------------------------------------------------


@pytest.mark.slow
def test_db_upgrade_migrates_a_fresh_file_then_is_a_no_op(cli: Cli) -> None:
    """``db upgrade`` reports empty -> head on a fresh file, and head -> head on a second run."""
    first = cli.run("db", "upgrade")
    assert first.code == 0, first.describe()
    head = head_revision()
    assert first.stdout.strip() == f"database sqlite:///{cli.db_path}: empty -> {head}"
    assert cli.db_path.is_file()

    second = cli.run("db", "upgrade")
    assert second.code == 0, second.describe()
    assert second.stdout.strip() == f"database sqlite:///{cli.db_path}: {head} -> {head}"


# -- sync -------------------------------------------------------------------------


@pytest.mark.slow
def test_sync_activates_then_mirrors_a_new_alert_once(
    cli: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """The first ``sync`` only activates; the next creates one incident; a third writes nothing."""
    first = cli.run("sync")
    assert first.code == 0, first.describe()
    assert statuspage.incidents() == []
    assert statuspage.writes() == []

    alert_id = ilert.create_alert(AUTO_SOURCE, "Checkout API down", "5xx on /checkout")
    second = cli.run("sync")
    assert second.code == 0, second.describe()
    incidents = statuspage.incidents(AUTO_PAGE)
    assert len(incidents) == 1
    assert incidents[0]["name"] == "Checkout API down"
    assert incidents[0]["status"] == "identified"
    ours = incidents[0]["metadata"]["ilert"]
    assert (ours["alert_id"], ours["incident_action"]) == (str(alert_id), "public-api")
    assert ours["wrote_status"] == "identified"  # what the daemon wrote, on the incident
    assert statuspage.incidents(MANUAL_PAGE) == []
    writes_after_create = len(statuspage.writes())
    assert writes_after_create == 1

    third = cli.run("sync")
    assert third.code == 0, third.describe()
    assert len(statuspage.writes()) == writes_after_create
    assert len(statuspage.incidents()) == 1


@pytest.mark.slow
def test_sync_dry_run_logs_the_transition_and_writes_nothing(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """``sync --dry-run`` logs the planned create as a dry-run transition and sends no write."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Search slow", "p99 above 2s")

    dry = activated.run("sync", "--dry-run")
    assert dry.code == 0, dry.describe()
    planned = [
        line
        for line in dry.logs()
        if line.get("event") == "transition" and line.get("alert_id") == alert_id
    ]
    assert len(planned) == 1, dry.describe()
    assert planned[0]["dry_run"] is True
    assert planned[0]["outcome"] == "created"
    assert planned[0]["to_status"] == "identified"
    assert planned[0]["incident_action"] == "public-api"
    assert statuspage.writes() == []
    assert statuspage.incidents() == []
    history = activated.run("history", "--json")
    assert history.code == 0, history.describe()
    assert history.stdout == "", "a dry run must not write audit rows"

    real = activated.run("sync")
    assert real.code == 0, real.describe()
    assert [i["name"] for i in statuspage.incidents(AUTO_PAGE)] == ["Search slow"]


@pytest.mark.slow
def test_sync_exits_1_on_a_refused_item_and_status_shows_why(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """A 422 on the create makes ``sync`` exit 1; ``status`` names the reason; the retry waits."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Payments degraded")
    statuspage.inject_fault(422, {"error": "Name is invalid"}, times=1, method="POST")

    failed = activated.run("sync")
    assert failed.code == 1, failed.describe()
    assert statuspage.incidents() == []
    warnings = [line for line in failed.logs() if line.get("event") == "alert_sync_failed"]
    assert len(warnings) == 1, failed.describe()
    assert warnings[0]["alert_id"] == alert_id
    assert "Name is invalid" in warnings[0]["error"]

    status = activated.run("status")
    assert status.code == 1, status.describe()  # no `run` daemon: UNHEALTHY
    line = _line_with(status.stdout, f" {alert_id} ")
    assert line.startswith("public-api"), status.stdout
    assert "  created -> failed  " in line
    assert "1x, retry " in line
    assert "Name is invalid" in line
    assert "HTTP 422" in line

    history = activated.run("history", "--json", "--alert", str(alert_id))
    rows = json_lines(history.stdout)
    assert [(r["ilert_event"], r["outcome"]) for r in rows] == [("created", "failed")]
    assert "Name is invalid" in rows[0]["reason"]

    # A refused create stays a failure: the next pass, before the retry delay, does not
    # resend it and still exits 1 (without its incident nothing of the alert is on the page).
    posts_before = len(statuspage.writes())
    deferred = activated.run("sync")
    assert deferred.code == 1, deferred.describe()
    assert len(statuspage.writes()) == posts_before


# -- status and history ------------------------------------------------------------


@pytest.mark.slow
def test_status_and_history_show_the_mirrored_alert(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """``status`` lists the alert and its incident; ``history`` prints its audit rows."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Login errors", "OAuth provider timing out")
    other_id = ilert.create_alert(AUTO_SOURCE, "Disk filling up")
    synced = activated.run("sync")
    assert synced.code == 0, synced.describe()
    incident_id = next(
        i["id"] for i in statuspage.incidents(AUTO_PAGE) if i["name"] == "Login errors"
    )

    status = activated.run("status")
    assert status.code == 1, status.describe()  # no `run` daemon: UNHEALTHY
    rows = table_rows(status.stdout)
    assert rows[0] == [
        "ACTION",
        "ALERT",
        "STATE",
        "INCIDENT",
        "STATUS",
        "LAST",
        "TRANSITION",
        "PROBLEM",
    ]
    by_alert = {row[1]: row for row in rows[1:]}
    assert set(by_alert) == {str(alert_id), str(other_id)}
    assert by_alert[str(alert_id)] == [
        "public-api",
        str(alert_id),
        "pending",
        incident_id,
        "identified",
        "created",
        "-",
    ]

    table = activated.run("history")
    assert table.code == 0, table.describe()
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "AT",
        "ALERT",
        "ACTION",
        "EVENT",
        "OUTCOME",
        "FROM",
        "TO",
        "INCIDENT",
        "REASON",
    ]
    ours = [line for line in lines[1:] if f" {alert_id} " in line]
    assert len(ours) == 1
    assert all(word in ours[0] for word in ("public-api", "created", "identified", incident_id))
    assert len(lines) == 3  # the header and one row per alert

    as_json = activated.run("history", "--json", "--alert", str(alert_id))
    assert as_json.code == 0, as_json.describe()
    objects = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(objects) == 1
    row = objects[0]
    assert set(row) == HISTORY_KEYS
    assert row["alert_id"] == alert_id
    assert row["incident_action"] == "public-api"
    assert row["page_id"] == AUTO_PAGE
    assert row["statuspage_incident_id"] == incident_id
    assert (row["event"], row["ilert_event"], row["outcome"]) == (
        "transition",
        "created",
        "created",
    )
    assert (row["from_status"], row["to_status"]) == (None, "identified")
    assert row["timestamp"].endswith("Z") and row["dry_run"] is False


@pytest.mark.slow
def test_status_on_an_empty_database_says_nothing_is_tracked(cli: Cli) -> None:
    """``status`` before any alert prints only the header and a hint."""
    assert cli.run("db", "upgrade").code == 0
    status = cli.run("status")
    assert status.code == 1, status.describe()  # no `run` daemon: UNHEALTHY
    assert status.stdout.splitlines()[-1] == "no alerts tracked yet"


@pytest.mark.slow
def test_status_exits_1_when_no_daemon_reports_passes(cli: Cli) -> None:
    """``status`` exits 1 when it prints UNHEALTHY, so probes and scripts can use it."""
    assert cli.run("db", "upgrade").code == 0
    status = cli.run("status")
    assert status.code == 1, status.describe()
    assert status.stdout.startswith("daemon: UNHEALTHY: no leader has reported a pass")


@pytest.mark.slow
def test_status_shows_each_actions_own_last_transition(
    cli: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """With one alert in two actions, each ``status`` row shows that action's last transition."""
    cli.write_config(manual_sources=(MANUAL_SOURCE, AUTO_SOURCE))
    assert cli.run("sync").code == 0
    alert_id = ilert.create_alert(AUTO_SOURCE, "Shared source outage")
    created = cli.run("sync")
    assert created.code == 0, created.describe()
    assert len(statuspage.incidents(AUTO_PAGE)) == 1
    assert cli.run("trigger", "manual-review", str(alert_id)).code == 0
    statuspage.inject_fault(422, {"error": "Name is invalid"}, times=1, method="POST")
    refused = cli.run("sync")
    assert refused.code == 1, refused.describe()

    status = cli.run("status")
    assert status.code == 1, status.describe()  # no `run` daemon: UNHEALTHY
    rows = {row[0]: row for row in table_rows(status.stdout)[1:]}
    assert set(rows) == {"public-api", "manual-review"}, status.stdout
    assert rows["manual-review"][5:8] == ["created", "->", "failed"], status.stdout
    # public-api mirrored the alert without trouble; its last transition is its own create.
    assert rows["public-api"][5] == "created", status.stdout
    assert rows["public-api"][6] == "-", status.stdout


# -- trigger ------------------------------------------------------------------------


@pytest.mark.slow
def test_trigger_mirrors_an_alert_of_a_manual_action(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """An alert of a manual action is only mirrored once ``trigger`` named it."""
    alert_id = ilert.create_alert(MANUAL_SOURCE, "Batch jobs late", "nightly export delayed")
    untouched = activated.run("sync")
    assert untouched.code == 0, untouched.describe()
    assert statuspage.incidents() == []

    trigger = activated.run("trigger", "manual-review", str(alert_id))
    assert trigger.code == 0, trigger.describe()
    assert trigger.stdout.strip() == (
        f"alert {alert_id} will be mirrored by manual-review from the next pass"
    )
    again = activated.run("trigger", "manual-review", str(alert_id))
    assert again.code == 0, again.describe()
    assert again.stdout.strip() == f"alert {alert_id} is already mirrored by manual-review"

    synced = activated.run("sync")
    assert synced.code == 0, synced.describe()
    incidents = statuspage.incidents(MANUAL_PAGE)
    assert [i["name"] for i in incidents] == ["Batch jobs late"]
    ours = incidents[0]["metadata"]["ilert"]
    assert (ours["alert_id"], ours["incident_action"]) == (str(alert_id), "manual-review")
    assert statuspage.incidents(AUTO_PAGE) == []


@pytest.mark.slow
def test_trigger_refuses_an_automatic_action(activated: Cli, ilert: IlertSimulator) -> None:
    """``trigger`` on an automatic action exits 2 saying that the action is automatic."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Anything")
    result = activated.run("trigger", "public-api", str(alert_id))
    assert result.code == 2, result.describe()
    assert result.stdout == ""
    assert result.said.strip() == (
        "error: incident action 'public-api' has trigger_mode = \"automatic\"; "
        'trigger only applies to actions with trigger_mode = "manual"'
    )


@pytest.mark.slow
def test_trigger_names_the_configured_actions_for_an_unknown_one(cli: Cli) -> None:
    """``trigger`` with an unknown action name exits 2 and lists the configured actions."""
    result = cli.run("trigger", "status-page", "7")
    assert result.code == 2, result.describe()
    assert result.said.strip() == (
        "error: no incident action named 'status-page' (configured: public-api, manual-review)"
    )


@pytest.mark.slow
def test_trigger_does_not_mirror_an_alert_from_another_source(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """A manual action only mirrors alerts of its own alert sources: trigger refuses one."""
    foreign_id = ilert.create_alert(AUTO_SOURCE, "Internal only: DB failover drill")
    trigger = activated.run("trigger", "manual-review", str(foreign_id))
    assert trigger.code == 2, trigger.describe()
    assert trigger.said.strip() == (
        f"error: alert {foreign_id} belongs to alert source {AUTO_SOURCE}, which incident action "
        f"'manual-review' does not mirror (its alert_sources: {MANUAL_SOURCE})"
    )
    synced = activated.run("sync")
    assert synced.code == 0, synced.describe()
    # public-api mirrors it, as configured; manual-review covers only MANUAL_SOURCE.
    assert [i["name"] for i in statuspage.incidents(AUTO_PAGE)] == [
        "Internal only: DB failover drill"
    ]
    assert statuspage.incidents(MANUAL_PAGE) == []


# -- check ----------------------------------------------------------------------------


@pytest.mark.slow
def test_check_reports_one_ok_line_per_check(cli: Cli, statuspage: StatuspageSimulator) -> None:
    """``check`` prints an ok line for the config, database, iLert and each page, and exits 0."""
    assert cli.run("db", "upgrade").code == 0
    result = cli.run("check")
    assert result.code == 0, result.describe()
    lines = result.stdout.splitlines()
    assert lines == [
        f"ok   config {cli.config_path}: valid",
        f"ok   database sqlite:///{cli.db_path}: up to date",
        f"ok   iLert {cli.ilert.url} (file {cli.ilert_key_file}): reachable, key accepted",
        f"ok   Statuspage page {AUTO_PAGE} for public-api via connector main "
        f"(file {cli.statuspage_key_file}): reachable, key accepted",
        f"ok   Statuspage page {MANUAL_PAGE} for manual-review via connector main "
        f"(file {cli.statuspage_key_file}): reachable, key accepted",
    ]
    assert statuspage.writes() == []


@pytest.mark.slow
def test_check_fails_on_a_wrong_statuspage_key_without_printing_it(cli: Cli) -> None:
    """A rejected Statuspage key gives FAIL lines naming page and connector, and exit 1."""
    assert cli.run("db", "upgrade").code == 0
    cli.write_keys(statuspage_key=WRONG_STATUSPAGE_KEY)
    result = cli.run("check")
    assert result.code == 1, result.describe()
    lines = result.stdout.splitlines()
    assert len(lines) == 5, result.describe()
    assert all(line.startswith("ok   ") for line in lines[:3]), result.describe()
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert len(failed) == 2
    for line, page, action in zip(
        failed, (AUTO_PAGE, MANUAL_PAGE), ("public-api", "manual-review"), strict=True
    ):
        assert f"Statuspage page {page} for {action} via connector main" in line
        assert "HTTP 401" in line
        assert "the API key was rejected" in line
    assert WRONG_STATUSPAGE_KEY not in result.output


# -- config errors ------------------------------------------------------------------


@pytest.mark.slow
def test_missing_config_file_exits_2(cli: Cli) -> None:
    """A config path that does not exist exits 2 naming the path."""
    missing = cli.folder / "nowhere" / "config.toml"
    result = cli.run("status", config=missing)
    assert result.code == 2, result.describe()
    assert result.stdout == ""
    assert result.said.strip() == f"error: {missing}: config file not found (pass --config PATH)"


@pytest.mark.slow
def test_unknown_config_key_exits_2_naming_it(cli: Cli) -> None:
    """A misspelt top-level key exits 2 naming the key and suggesting the right one."""
    cli.write_config("pol_interval = 30\n" + cli.config_text())
    result = cli.run("sync")
    assert result.code == 2, result.describe()
    assert result.said.startswith(
        f"error: {cli.config_path}: pol_interval: unknown key (did you mean 'poll_interval'?)"
    ), result.describe()
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_unknown_key_inside_a_table_exits_2_with_its_dotted_name(cli: Cli) -> None:
    """An unknown key in ``[connectors.main]`` is named with its dotted path."""
    text = cli.config_text().replace("[connectors.main]\n", '[connectors.main]\napi_token = "x"\n')
    cli.write_config(text)
    result = cli.run("status")
    assert result.code == 2, result.describe()
    assert f"{cli.config_path}: connectors.main.api_token: unknown key" in result.said


@pytest.mark.slow
def test_missing_key_file_exits_2_naming_the_path(cli: Cli) -> None:
    """A Statuspage key file that does not exist exits 2 naming the key and the file."""
    missing = cli.folder / "secrets" / "statuspage.key"
    cli.write_config(statuspage_key_file=missing)
    result = cli.run("sync")
    assert result.code == 2, result.describe()
    assert result.said.strip() == (
        f"error: {cli.config_path}: connectors.main.api_key_file: "
        f"cannot read key file {missing}: No such file or directory"
    )


@pytest.mark.slow
def test_unknown_connector_exits_2_naming_the_defined_ones(cli: Cli) -> None:
    """An incident action naming an undefined connector exits 2 listing the defined ones."""
    cli.write_config(auto_connector="backup")
    result = cli.run("check")
    assert result.code == 2, result.describe()
    assert result.stdout == ""
    assert result.said.strip() == (
        f"error: {cli.config_path}: incident_actions[0].connector: "
        "unknown connector 'backup' (defined: main)"
    )


# -- demo and run ----------------------------------------------------------------------


@pytest.mark.slow
def test_demo_walks_the_whole_lifecycle_table(cli: Cli) -> None:
    """``demo`` plays every row of both lifecycle tables and says that all matched."""
    result = cli.run("demo", timeout=DEMO_TIMEOUT)
    assert result.code == 0, result.describe()
    assert "every decision matched the lifecycle table" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("BAD")]


@pytest.mark.slow
def test_run_polls_until_sigterm_then_stops_cleanly(
    cli: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """``run`` mirrors an alert on a later poll and exits 0 with a "stopped" line on SIGTERM."""
    cli.write_config(poll_interval=5)
    stdout_path, stderr_path = cli.folder / "run.stdout", cli.folder / "run.stderr"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        daemon = subprocess.Popen(
            cli.argv("run"), stdout=out, stderr=err, cwd=cli.folder, env=child_environment()
        )
    try:

        def events() -> list[str]:
            return [
                str(line.get("event"))
                for line in json_lines(stderr_path.read_text(encoding="utf-8", errors="replace"))
            ]

        wait_for(lambda: "pass_finished" in events(), RUN_DEADLINE, "the first pass")
        alert_id = ilert.create_alert(AUTO_SOURCE, "Webhooks delayed", "queue backlog")
        wait_for(lambda: len(statuspage.incidents(AUTO_PAGE)) == 1, RUN_DEADLINE, "the incident")
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=RUN_DEADLINE)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=RUN_DEADLINE)
    stderr = stderr_path.read_text(encoding="utf-8")
    cli.captured += [stdout_path.read_text(encoding="utf-8"), stderr]
    assert code == 0, stderr
    logs = json_lines(stderr)
    names = [line.get("event") for line in logs]
    assert names[0] == "daemon_started", stderr
    assert "stopped" in names, stderr
    assert names.index("stopping") < names.index("stopped")
    stopping = next(line for line in logs if line.get("event") == "stopping")
    assert stopping["signal"] == "SIGTERM"
    created = [
        line
        for line in logs
        if line.get("event") == "transition" and line.get("alert_id") == alert_id
    ]
    assert [(line["outcome"], line["dry_run"]) for line in created] == [("created", False)]
    assert statuspage.incidents(AUTO_PAGE)[0]["name"] == "Webhooks delayed"


@pytest.mark.slow
def test_run_dry_run_on_a_fresh_database_plans_new_alerts(
    cli: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """``run --dry-run`` on a fresh install logs the create a real ``run`` would make."""
    cli.write_config(poll_interval=5)
    stderr_path = cli.folder / "dry-run.stderr"
    with stderr_path.open("wb") as err:
        daemon = subprocess.Popen(
            cli.argv("run", "--dry-run"),
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=cli.folder,
            env=child_environment(),
        )
    try:

        def passes() -> int:
            logs = json_lines(stderr_path.read_text(encoding="utf-8", errors="replace"))
            return sum(1 for line in logs if line.get("event") == "pass_finished")

        wait_for(lambda: passes() >= 1, RUN_DEADLINE, "the first pass")
        alert_id = ilert.create_alert(AUTO_SOURCE, "Dry run candidate")
        wait_for(lambda: passes() >= 2, RUN_DEADLINE, "the second pass")
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=RUN_DEADLINE)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=RUN_DEADLINE)
    stderr = stderr_path.read_text(encoding="utf-8")
    cli.captured.append(stderr)
    assert code == 0, stderr
    assert statuspage.writes() == []
    planned = [
        line
        for line in json_lines(stderr)
        if line.get("event") == "transition" and line.get("alert_id") == alert_id
    ]
    assert [(line["outcome"], line["dry_run"]) for line in planned] == [("created", True)], (
        "the alert was never planned: each dry-run pass re-activates the actions at its own "
        "start, so an alert reported between two passes is older than the activation"
    )


# -- secrets --------------------------------------------------------------------------


@pytest.mark.slow
def test_no_command_prints_or_stores_an_api_key(
    cli: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """Debug logs, failures and every read command keep both canary keys out of output and DB."""
    cli.write_config(log_level="debug")
    results = [cli.run("db", "upgrade"), cli.run("check"), cli.run("sync")]
    alert_id = ilert.create_alert(AUTO_SOURCE, "Canary outage", "details")
    manual_id = ilert.create_alert(MANUAL_SOURCE, "Canary manual")
    statuspage.inject_fault(500, {"error": "boom"}, times=1, method="POST")
    ilert.inject_fault(503, {"message": "maintenance"}, times=1, path_contains="log-entries")
    results += [
        cli.run("trigger", "manual-review", str(manual_id)),
        cli.run("sync", "--dry-run"),
        cli.run("sync"),
        cli.run("sync"),
        cli.run("status"),
        cli.run("history"),
        cli.run("history", "--json", "--alert", str(alert_id)),
    ]
    codes = [r.code for r in results]
    # The create hit by the injected 500 fails the first real pass; the next one heals it.
    # status exits 1: no `run` daemon reports passes (UNHEALTHY).
    assert codes == [0, 0, 0, 0, 0, 1, 0, 1, 0, 0], [r.describe() for r in results]
    assert statuspage.incidents(MANUAL_PAGE), [r.describe() for r in results]
    assert len(cli.captured) == 2 * len(results)
    for result in results:
        for canary in CANARIES:
            assert canary not in result.output, result.describe()
    db_files = sorted(cli.folder.glob("state.db*"))
    assert db_files
    for path in db_files:
        data = path.read_bytes()
        for canary in CANARIES:
            assert canary.encode() not in data, path
    # Both keys really went over the wire, so the absence above means something.
    assert any(
        r.headers.get("authorization") == f"Bearer {CANARY_ILERT_KEY}" for r in ilert.requests
    )
    assert any(
        r.headers.get("authorization") == f"OAuth {CANARY_STATUSPAGE_KEY}"
        for r in statuspage.requests
    )


def _line_with(stdout: str, needle: str) -> str:
    """The one line of ``stdout`` that contains ``needle``."""
    found = [line for line in stdout.splitlines() if needle in line]
    assert len(found) == 1, stdout
    return found[0]


def _into_a_closed_pipe(cli: Cli, *args: str) -> Result:
    """Run a command whose stdout reader is already gone (``cmd | head -c0``)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            cli.argv(*args),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd=cli.folder,
            env=child_environment(),
            check=False,
        )
    finally:
        os.close(write_end)
    return Result(tuple(args), completed.returncode, "", completed.stderr)


@pytest.mark.parametrize("tracked", [0, 600], ids=["short", "longer-than-a-buffer"])
def test_status_into_a_closed_pipe_keeps_its_unhealthy_exit_code(cli: Cli, tracked: int) -> None:
    """``status | head -1`` under pipefail: a reader gone never turns UNHEALTHY into exit 0."""
    assert cli.run("db", "upgrade").code == 0
    engine = make_engine(f"sqlite:///{cli.db_path}")
    with make_sessions(engine)() as session:
        for alert_id in range(1, tracked + 1):
            repo.trigger(session, "manual-review", alert_id, MANUAL_PAGE, datetime.now(UTC))
        session.commit()
    engine.dispose()
    status = _into_a_closed_pipe(cli, "status")
    assert status.code == 1, status.describe()
    assert status.stderr == ""


@pytest.mark.slow
def test_sync_of_an_endless_ilert_listing_exits_1_with_one_error_line(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """A listing that never ends: ``sync`` stops at the count's bound, one error line, exit 1."""
    for n in range(150):
        ilert.create_alert(AUTO_SOURCE, f"real {n}")
    ilert.set_endless_listing()

    result = activated.run("sync")

    assert result.code == 1, result.describe()
    assert "Traceback" not in result.stderr
    failed = [line for line in result.logs() if line.get("event") == "ilert_read_failed"]
    assert len(failed) == 1, result.describe()
    assert "does not end" in failed[0]["error"]
    assert statuspage.incidents() == []
