"""``discover`` end to end: the console script as a process against the simulators.

The accounts hold more than one page of alert sources (120, iLert pages by 50),
three Statuspage pages, components in groups and a page with more than one page
of components (Statuspage pages by 100). Keys are canaries passed through
environment variables; no output and no written file may hold them.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ilert_statuspage_sync.clients.http import RetryPolicy
from ilert_statuspage_sync.commands.discover import read_inventory
from ilert_statuspage_sync.config import DEFAULT_ILERT_RATE, DEFAULT_STATUSPAGE_RATE, parse_config
from ilert_statuspage_sync.demo.play import (
    AUTO_PAGE,
    MANUAL_PAGE,
    demo_config,
    seed_accounts,
)
from ilert_statuspage_sync.demo.play import ILERT_KEY as DEMO_ILERT_KEY
from ilert_statuspage_sync.demo.play import STATUSPAGE_KEY as DEMO_STATUSPAGE_KEY
from ilert_statuspage_sync.service.wiring import build_services
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import cli_argv, python_module_argv, said

ILERT_VAR, SP_VAR = "DISCOVER_ILERT_KEY", "DISCOVER_SP_KEY"
ILERT_KEY, SP_KEY = "canary-ilert-d15c0", "canary-sp-d15c0"
WRONG_KEY = "wrong-key-d15c0"
PARTNER_PAGE = "partnerpage1"
TIMEOUT = 60.0


@dataclass(frozen=True)
class Result:
    """One finished command."""

    code: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.code}\n--stdout--\n{self.stdout}\n--stderr--\n{self.stderr}"


def _env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
    return {**env, ILERT_VAR: ILERT_KEY, SP_VAR: SP_KEY, "PYTHONUNBUFFERED": "1", **changes}


def _cli(folder: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    completed = subprocess.run(
        cli_argv(None, *args),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=folder,
        env=env or _env(),
        check=False,
    )
    # The CLI's own lines are JSON on a pipe; these tests read them as a terminal shows them.
    result = Result(completed.returncode, completed.stdout, said(completed.stderr))
    for key in (ILERT_KEY, SP_KEY, WRONG_KEY):
        assert key not in completed.stdout + completed.stderr, result.describe()
    assert "Traceback" not in completed.stderr, result.describe()
    return result


def _discover(
    folder: Path,
    ilert: IlertSimulator,
    statuspage: StatuspageSimulator,
    *args: str,
    env: dict[str, str] | None = None,
) -> Result:
    urls = ("--ilert-url", ilert.url, "--statuspage-url", statuspage.url)
    keys = ("--ilert-key-env", ILERT_VAR, "--statuspage-key-env", SP_VAR)
    return _cli(folder, "discover", *keys, *urls, *args, env=env)


@pytest.fixture(name="ilert")
def _ilert() -> Iterator[IlertSimulator]:
    with IlertSimulator(api_key=ILERT_KEY) as simulator:
        simulator.add_alert_source("Checkout API", escalation_policy_name="Web on-call")
        simulator.add_alert_source(
            "Back office", escalation_policy_id=2, escalation_policy_name="Ops business hours"
        )
        simulator.add_alert_source("Nightly batch", status="IN_MAINTENANCE")
        for number in range(4, 121):
            simulator.add_alert_source(f"Service {number}", escalation_policy_id=number % 3 + 1)
        simulator.create_alert(2, "Back office slow")  # makes source 2 PENDING
        yield simulator


@pytest.fixture(name="statuspage")
def _statuspage() -> Iterator[StatuspageSimulator]:
    with StatuspageSimulator(api_key=SP_KEY, page_ids=(), seed=11) as simulator:
        simulator.add_page(AUTO_PAGE, "Acme Status")
        storefront = simulator.add_component_group(AUTO_PAGE, "Storefront")
        simulator.add_component(AUTO_PAGE, "Checkout", group_id=storefront)
        simulator.add_component(AUTO_PAGE, "Search", group_id=storefront, status="major_outage")
        platform = simulator.add_component_group(AUTO_PAGE, "Platform")
        simulator.add_component(AUTO_PAGE, "Public API", group_id=platform)
        simulator.add_component(AUTO_PAGE, "Website")
        simulator.add_page(MANUAL_PAGE, "Acme Internal")
        simulator.add_page(PARTNER_PAGE, "Partner Status")
        regions = simulator.add_component_group(PARTNER_PAGE, "Regions")
        for number in range(104):
            simulator.add_component(PARTNER_PAGE, f"Region {number}", group_id=regions)
        yield simulator


def _sections(stdout: str) -> list[tuple[str, list[list[str]]]]:
    """Each table as (title, rows of cells); cells are separated by two or more spaces."""
    sections = []
    for block in stdout.strip().split("\n\n"):
        title, *lines = block.splitlines()
        sections.append((title, [re.split(r"\s{2,}", line.strip()) for line in lines]))
    return sections


def _expected_components(statuspage: StatuspageSimulator, page: str) -> list[list[str]]:
    components = statuspage.components(page)
    groups = {c["id"]: c["name"] for c in components if c["group"]}
    return [
        [c["id"], c["name"], groups[c["group_id"]] if c["group_id"] else "-", c["status"]]
        for c in components
        if not c["group"]
    ]


@pytest.mark.slow
def test_tables_list_everything_the_accounts_hold(tmp_path, ilert, statuspage):
    """Every alert source (three iLert pages of them), page and grouped component is listed."""
    result = _discover(tmp_path, ilert, statuspage)
    assert result.code == 0, result.describe()
    assert result.stderr == ""

    sections = _sections(result.stdout)
    title, rows = sections[0]
    assert title == f"iLert alert sources ({ilert.url}, key from env {ILERT_VAR}): 120"
    assert rows[0] == ["ID", "NAME", "ESCALATION POLICY", "STATUS"]
    expected = [
        [str(s["id"]), s["name"], s["escalationPolicy"]["name"], s["status"]]
        for s in ilert.alert_sources()
    ]
    assert rows[1:] == expected
    assert rows[1:4] == [
        ["1", "Checkout API", "Web on-call", "ALL_RESOLVED"],
        ["2", "Back office", "Ops business hours", "PENDING"],
        ["3", "Nightly batch", "Escalation policy 1", "IN_MAINTENANCE"],
    ]

    title, rows = sections[1]
    assert title == "Statuspage pages: 3"
    assert rows == [
        ["ID", "NAME", "CONNECTOR", "COMPONENTS"],
        [AUTO_PAGE, "Acme Status", "main", "4"],
        [MANUAL_PAGE, "Acme Internal", "main", "0"],
        [PARTNER_PAGE, "Partner Status", "main", "104"],
    ]
    by_title = dict(sections[2:])
    auto = by_title[f"Components of page {AUTO_PAGE} (Acme Status): 4"]
    assert auto[0] == ["ID", "NAME", "GROUP", "STATUS"]
    assert auto[1:] == _expected_components(statuspage, AUTO_PAGE)
    assert [row[1:] for row in auto[1:]] == [
        ["Checkout", "Storefront", "operational"],
        ["Search", "Storefront", "major_outage"],
        ["Public API", "Platform", "operational"],
        ["Website", "-", "operational"],
    ]
    assert by_title[f"Components of page {MANUAL_PAGE} (Acme Internal): 0"] == [["(none)"]]
    partner = by_title[f"Components of page {PARTNER_PAGE} (Partner Status): 104"]
    assert partner[1:] == _expected_components(statuspage, PARTNER_PAGE)

    # Paged as the APIs page: iLert by 50 (three reads), its services by 100 (one read),
    # Statuspage components by 100.
    reads = [(r.method, r.path, r.query) for r in ilert.requests]
    assert reads == [
        *[
            ("GET", "/api/alert-sources", {"start-index": [str(s)], "max-results": ["50"]})
            for s in (0, 50, 100)
        ],
        ("GET", "/api/services", {"start-index": ["0"], "max-results": ["100"]}),
    ]
    component_reads = [r for r in statuspage.requests if r.path.endswith("/components")]
    assert [(r.path, r.query["page"]) for r in component_reads] == [
        (f"/v1/pages/{AUTO_PAGE}/components", ["1"]),
        (f"/v1/pages/{MANUAL_PAGE}/components", ["1"]),
        (f"/v1/pages/{PARTNER_PAGE}/components", ["1"]),
        (f"/v1/pages/{PARTNER_PAGE}/components", ["2"]),
    ]
    assert all(r.query["per_page"] == ["100"] for r in component_reads)
    assert len(statuspage.requests) == 1 + len(component_reads)
    assert all(r.method == "GET" for r in statuspage.requests)


@pytest.mark.slow
def test_json_holds_ids_groups_and_statuses(tmp_path, ilert, statuspage):
    """``--json`` is one document with every source, page and component, groups included."""
    result = _discover(tmp_path, ilert, statuspage, "--json")
    assert result.code == 0, result.describe()
    document = json.loads(result.stdout)

    assert document["ilert"]["key"] == f"env {ILERT_VAR}"
    assert document["ilert"]["alert_sources"] == [
        {
            "id": s["id"],
            "name": s["name"],
            "escalation_policy": {
                "id": s["escalationPolicy"]["id"],
                "name": s["escalationPolicy"]["name"],
            },
            "status": s["status"],
        }
        for s in ilert.alert_sources()
    ]
    assert document["statuspage"]["connectors"] == [
        {"name": "main", "api_url": statuspage.url, "key": f"env {SP_VAR}"}
    ]
    pages = document["statuspage"]["pages"]
    assert [(p["id"], p["name"], p["connector"]) for p in pages] == [
        (AUTO_PAGE, "Acme Status", "main"),
        (MANUAL_PAGE, "Acme Internal", "main"),
        (PARTNER_PAGE, "Partner Status", "main"),
    ]
    for page in pages:
        served = statuspage.components(page["id"])
        names = {c["id"]: c["name"] for c in served}
        assert page["components"] == [
            {
                "id": c["id"],
                "name": c["name"],
                "status": c["status"],
                "group": c["group"],
                "group_id": c["group_id"],
                "group_name": names.get(c["group_id"]) if c["group_id"] else None,
            }
            for c in served
        ]


def _uncomment_first_example(text: str) -> str:
    """What a person does: drop the "# " of the first example's lines."""
    lines = text.splitlines()
    start = lines.index("# [[incident_actions]]")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("# notify_subscribers"))
    for index in range(start, end + 1):
        lines[index] = lines[index].removeprefix("# ")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_written_starter_passes_check_then_syncs_once_uncommented(tmp_path, ilert, statuspage):
    """The starter holds no key, passes ``check --offline``, idles, and syncs once uncommented."""
    starter = tmp_path / "config.toml"
    written = _discover(tmp_path, ilert, statuspage, "--write", str(starter))
    assert written.code == 0, written.describe()
    assert written.stderr.splitlines() == [
        f"wrote {starter}: every key with its default and 3 commented [[incident_actions]] "
        "example(s); uncomment one, then run `check`"
    ]
    text = starter.read_text()
    assert stat.S_IMODE(starter.stat().st_mode) == 0o600
    assert ILERT_KEY not in text
    assert SP_KEY not in text
    data = tomllib.loads(text)
    assert "incident_actions" not in data
    assert data["ilert"] == {
        "api_url": ilert.url,
        "api_key_env": ILERT_VAR,
        "requests_per_minute": DEFAULT_ILERT_RATE,
    }
    assert data["connectors"] == {
        "main": {
            "api_url": statuspage.url,
            "api_key_env": SP_VAR,
            "requests_per_minute": DEFAULT_STATUSPAGE_RATE,
        }
    }
    for page in (AUTO_PAGE, MANUAL_PAGE, PARTNER_PAGE):
        assert f'# page_id = "{page}"' in text
    for component in _expected_components(statuspage, AUTO_PAGE):
        assert f"#   {component[0]}: {component[1]}" in text
    assert "# alert_sources = [1]  # Checkout API" in text

    check = _cli(tmp_path, "--config", str(starter), "check", "--offline")
    assert check.code == 0, check.describe()
    config_line, database_line = check.stdout.splitlines()
    assert config_line == f"ok   config {starter}: valid"
    # No database yet: a warning (the first start creates it), not a failure.
    assert database_line.startswith("WARN database sqlite:///state.db: no database yet")
    assert "nothing to mirror" in check.stderr
    ilert.clear_requests()
    statuspage.clear_requests()

    idle = _cli(tmp_path, "--config", str(starter), "sync")
    assert idle.code == 0, idle.describe()
    assert ilert.requests == []  # no action: not even a read of the alerts
    assert statuspage.requests == []

    starter.write_text(_uncomment_first_example(text))
    first = _cli(tmp_path, "--config", str(starter), "sync")  # activates the action
    assert first.code == 0, first.describe()
    alert = ilert.create_alert(1, "Checkout API down", "5xx on /checkout")
    second = _cli(tmp_path, "--config", str(starter), "sync")
    assert second.code == 0, second.describe()
    incidents = statuspage.incidents(AUTO_PAGE)
    named = [(i["name"], i["metadata"]["ilert"]["alert_id"]) for i in incidents]
    assert named == [("Checkout API down", str(alert))]
    assert incidents[0]["metadata"]["ilert"]["incident_action"] == "acme-status"


@pytest.mark.slow
def test_existing_file_is_refused_in_one_line_before_any_read(tmp_path, ilert, statuspage):
    """``--write`` onto an existing file exits 2 with one line, keeps it, and reads nothing."""
    existing = tmp_path / "config.toml"
    existing.write_text("# mine\n")
    result = _discover(tmp_path, ilert, statuspage, "--write", str(existing))
    assert result.code == 2, result.describe()
    assert result.stderr.splitlines() == [
        f"error: {existing}: already exists; discover --write never overwrites a file "
        "(pick a new path)"
    ]
    assert result.stdout == ""
    assert existing.read_text() == "# mine\n"
    nowhere = tmp_path / "missing" / "config.toml"
    no_folder = _discover(tmp_path, ilert, statuspage, "--write", str(nowhere))
    assert no_folder.code == 2, no_folder.describe()
    assert no_folder.stderr.splitlines() == [
        f"error: {nowhere}: folder {nowhere.parent} does not exist"
    ]
    assert ilert.requests == []
    assert statuspage.requests == []


@pytest.mark.slow
@pytest.mark.parametrize("which", ["ilert", "statuspage"])
def test_a_rejected_key_is_one_line_naming_it(tmp_path, ilert, statuspage, which):
    """A wrong key exits 2 with one line naming which key (its variable), never its value."""
    env = _env(**{ILERT_VAR if which == "ilert" else SP_VAR: WRONG_KEY})
    result = _discover(tmp_path, ilert, statuspage, "--write", "new.toml", env=env)
    assert result.code == 2, result.describe()
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.describe()
    if which == "ilert":
        expected = f"error: iLert {ilert.url} refused the iLert key (env {ILERT_VAR})"
        assert lines[0].startswith(expected)
        assert "HTTP 403" in lines[0]
    else:
        assert lines[0].startswith(
            f"error: Statuspage {statuspage.url} refused the key of connector main "
            f"(env {SP_VAR}): HTTP 401"
        )
    assert result.stdout == ""
    assert not (tmp_path / "new.toml").exists()


@pytest.mark.slow
def test_unreachable_service_and_empty_accounts_are_one_line(tmp_path, ilert, statuspage):
    """An unreachable iLert, or an account with nothing in it, exits 1 with one line."""
    ilert.set_down("refuse")
    down = _discover(tmp_path, ilert, statuspage)
    assert down.code == 1, down.describe()
    assert down.stderr.splitlines() == [
        f"error: iLert {ilert.url}: ilert: cannot reach {ilert.url}: connection refused "
        "(GET /api/alert-sources); check the URL, the network and retry"
    ]
    ilert.set_down(None)

    with (
        IlertSimulator(api_key=ILERT_KEY) as empty_ilert,
        StatuspageSimulator(api_key=SP_KEY, page_ids=()) as empty_statuspage,
    ):
        no_sources = _discover(tmp_path, empty_ilert, statuspage)
        assert no_sources.code == 1, no_sources.describe()
        assert no_sources.stderr.splitlines() == [
            f"error: iLert {empty_ilert.url}: the account of the iLert key (env {ILERT_VAR}) "
            "has no alert sources; create one in iLert, then run discover again"
        ]
        no_pages = _discover(tmp_path, ilert, empty_statuspage)
        assert no_pages.code == 1, no_pages.describe()
        lines = no_pages.stderr.splitlines()
        assert len(lines) == 1
        assert "(env DISCOVER_SP_KEY) sees no pages" in lines[0]


@pytest.mark.slow
def test_keys_come_from_the_config_and_the_starter_keeps_their_files(tmp_path, ilert, statuspage):
    """With a config, its key files are used and named (not copied) in the starter."""
    (tmp_path / "ilert.key").write_text(ILERT_KEY + "\n")
    (tmp_path / "sp.key").write_text(SP_KEY + "\n")
    config = tmp_path / "old.toml"
    config.write_text(
        f'log_level = "debug"\n[ilert]\napi_url = "{ilert.url}"\napi_key_file = "ilert.key"\n'
        f'[connectors.status]\napi_url = "{statuspage.url}"\napi_key_file = "sp.key"\n'
    )
    starter = tmp_path / "new.toml"
    env = _env(**{ILERT_VAR: "", SP_VAR: ""})
    result = _cli(tmp_path, "--config", str(config), "discover", "--write", str(starter), env=env)
    assert result.code == 0, result.describe()
    data = tomllib.loads(starter.read_text())
    assert data["ilert"]["api_key_file"] == str(tmp_path / "ilert.key")
    assert data["connectors"]["status"]["api_key_file"] == str(tmp_path / "sp.key")
    assert '# connector = "status"' in starter.read_text()
    assert _cli(tmp_path, "--config", str(starter), "check", "--offline", env=env).code == 0

    missing = _cli(tmp_path, "--config", str(tmp_path / "none.toml"), "discover", env=env)
    assert missing.code == 2, missing.describe()
    assert missing.stderr.splitlines() == [
        f"error: {tmp_path / 'none.toml'}: config file not found; pass --config PATH, "
        "or discover without one: --ilert-key-env VAR --statuspage-key-env VAR"
    ]


def test_reads_are_paced_by_the_keys_budgets(ilert, statuspage):
    """Discover's reads wait on the per-key budget, so a tight vendor limit is never hit."""
    # The budget (2 per 0.5 s) stays below the vendor's limit (3), as the defaults do (50 < 60).
    statuspage.set_rate_limit(3, window=0.5)
    data = {
        "ilert": {"api_url": ilert.url, "api_key_env": ILERT_VAR},
        "connectors": {
            "main": {"api_url": statuspage.url, "api_key_env": SP_VAR, "requests_per_minute": 2}
        },
    }
    config = parse_config(data, _env(), origin="test")
    services = build_services(config, rate_window=0.5, retry=RetryPolicy(attempts=1))
    try:
        inventory = read_inventory(config, services)
    finally:
        services.close()
    assert len(inventory.pages) == 3
    assert len(statuspage.requests) == 5  # pages + 4 component pages
    assert statuspage.rate_limit_violations() == 0
    assert services.statuspage["main"].http.budget.waited > 0


def test_a_pass_without_actions_reads_and_writes_nothing(make_harness):
    """A config with no incident action (an untouched starter) passes ok and calls no vendor."""
    harness = make_harness("classic", incident_actions=())
    harness.ilert.create_alert(101, "unrelated alert")
    harness.ilert.clear_requests()

    report = harness.sync()

    assert report.ok
    assert report.alerts_seen == 0
    assert harness.ilert.requests == []
    assert harness.statuspage.requests == []


def test_the_demo_config_names_what_the_demo_accounts_hold():
    """Every alert source and page the demo's actions name exists in the seeded simulators."""
    with (
        IlertSimulator(api_key=DEMO_ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=DEMO_STATUSPAGE_KEY, page_ids=()) as statuspage,
    ):
        seed_accounts(ilert, statuspage)
        config = demo_config("classic", ilert.url, statuspage.url, "sqlite://")
        sources = {source["id"] for source in ilert.alert_sources()}
        pages = {page_id for page_id in (AUTO_PAGE, MANUAL_PAGE) if statuspage.components(page_id)}
        for action in config.incident_actions:
            assert set(action.alert_sources) <= sources, action
            assert action.page_id in pages, action


@pytest.mark.slow
def test_standalone_simulators_serve_the_demo_accounts_to_discover(tmp_path):
    """``python -m ilert_statuspage_sync.simulators`` prints exports; discover reads from it."""
    server = subprocess.Popen(
        python_module_argv("ilert_statuspage_sync.simulators"),
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert server.stdout is not None
        exports: dict[str, str] = {}
        for _ in range(2):
            line = server.stdout.readline()
            assert line.startswith("export "), line
            exports.update(pair.partition("=")[::2] for pair in line.split()[1:])
        result = _cli(
            tmp_path,
            "discover",
            "--ilert-key-env",
            "DEMO_ILERT_KEY",
            "--statuspage-key-env",
            "DEMO_STATUSPAGE_KEY",
            "--ilert-url",
            exports["ILERT_URL"],
            "--statuspage-url",
            exports["STATUSPAGE_URL"],
            env=_env(**exports),
        )
        assert result.code == 0, result.describe()
        sections = dict(_sections(result.stdout)[2:])
        assert [row[1:] for row in sections[f"Components of page {AUTO_PAGE} (Acme Status): 5"]][
            1:3
        ] == [["Checkout", "Storefront", "operational"], ["Search", "Storefront", "operational"]]
        assert "Checkout API" in result.stdout
    finally:
        server.terminate()
        code = server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    assert code == 0


@pytest.mark.slow
def test_a_lone_surrogate_in_a_name_still_gives_utf8_json(tmp_path, ilert, statuspage):
    """``--json`` stdout is valid UTF-8 even when a vendor name holds a lone surrogate."""
    statuspage.add_page("surrogate01", "Bad \ud800 name")
    keys = ("--ilert-key-env", ILERT_VAR, "--statuspage-key-env", SP_VAR)
    urls = ("--ilert-url", ilert.url, "--statuspage-url", statuspage.url)
    completed = subprocess.run(
        cli_argv(None, "discover", "--json", *keys, *urls),
        capture_output=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    pages = json.loads(completed.stdout.decode("utf-8"))["statuspage"]["pages"]
    assert {p["id"]: p["name"] for p in pages}["surrogate01"] == "Bad \ud800 name"


@pytest.mark.slow
def test_an_out_of_range_port_is_one_usage_line(tmp_path, ilert, statuspage):
    """``--ilert-url`` with port 99999 is one line (exit 2), with or without a config."""
    keys = ("--ilert-key-env", ILERT_VAR, "--statuspage-key-env", SP_VAR)
    urls = ("--ilert-url", "http://127.0.0.1:99999", "--statuspage-url", statuspage.url)
    result = _cli(tmp_path, "discover", *keys, *urls)
    assert result.code == 2, result.describe()
    assert result.stderr.splitlines() == [
        "error: discover options: ilert.api_url: 'http://127.0.0.1:99999': port must be 1 to 65535"
    ]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[ilert]\napi_key_env = "{ILERT_VAR}"\n[connectors.main]\napi_key_env = "{SP_VAR}"\n'
    )
    with_config = _cli(tmp_path, "--config", str(config), "discover", *urls)
    assert with_config.code == 2, with_config.describe()
    assert with_config.stderr.splitlines() == [
        "error: --ilert-url: 'http://127.0.0.1:99999': port must be 1 to 65535"
    ]


def test_services_are_listed_and_the_starter_proposes_a_bridge_by_name(tmp_path, ilert, statuspage):
    """iLert services are listed, and ``--write`` pairs them with same-named components."""
    api = ilert.add_service("Public API", status="DEGRADED")
    ilert.add_service("Billing")
    target = tmp_path / "starter.toml"
    result = _discover(tmp_path, ilert, statuspage, "--write", str(target))
    assert result.code == 0, result.describe()
    by_title = dict(_sections(result.stdout))
    rows = by_title["iLert services (for [[status_bridges]]): 2"]
    assert rows[1:] == [
        [str(api), "Public API", "DEGRADED"],
        [str(api + 1), "Billing", "OPERATIONAL"],
    ]
    text = target.read_text()
    public_api = next(
        c["id"] for c in statuspage.components(AUTO_PAGE) if c["name"] == "Public API"
    )
    assert f'# "{api}" = "{public_api}"' in text
    assert "# [[status_bridges]]" in text
