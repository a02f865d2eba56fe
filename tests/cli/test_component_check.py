"""``check`` with components: one line per listed component, naming it; unknown ones fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.cli import (  # noqa: F401 - the canary-keyed simulators
    Cli,
    canary_ilert_fixture,
    canary_statuspage_fixture,
)
from tests.support.world import AUTO_PAGE

pytestmark = pytest.mark.slow


def _cli(tmp_path: Path, ilert: IlertSimulator, statuspage: StatuspageSimulator, ids: str) -> Cli:
    cli = Cli(tmp_path, ilert, statuspage)
    cli.write_keys()
    text = cli.config_text().replace(
        f'page_id = "{AUTO_PAGE}"\n', f'page_id = "{AUTO_PAGE}"\ncomponents = [{ids}]\n', 1
    )
    cli.write_config(text)
    assert cli.run("db", "upgrade").code == 0
    return cli


def test_check_names_each_component(tmp_path, ilert, statuspage):
    """Every listed component gets an ok line with its name and status; no write."""
    api = statuspage.add_component(AUTO_PAGE, "Public API")
    web = statuspage.add_component(AUTO_PAGE, "Website", status="partial_outage")
    cli = _cli(tmp_path, ilert, statuspage, f'"{api}", "{web}"')
    result = cli.run("check")
    assert result.code == 0, result.describe()
    lines = result.stdout.splitlines()[-2:]
    assert lines == [
        f"ok   component {api} (Public API) on page {AUTO_PAGE} for public-api: "
        "exists, now operational",
        f"ok   component {web} (Website) on page {AUTO_PAGE} for public-api: "
        "exists, now partial_outage",
    ]
    assert statuspage.component_writes() == [] and statuspage.writes() == []
    assert not cli.leaks()


def test_check_fails_on_an_unknown_component_or_a_group(tmp_path, ilert, statuspage):
    """An id the page lacks, or a group's id, is one clear FAIL line each; exit 1."""
    group = statuspage.add_component_group(AUTO_PAGE, "Platform")
    cli = _cli(tmp_path, ilert, statuspage, f'"zzzzzzzzzzzz", "{group}"')
    result = cli.run("check")
    assert result.code == 1, result.describe()
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        f"FAIL component zzzzzzzzzzzz on page {AUTO_PAGE} for public-api: not found on the "
        "page; `discover` lists the page's components",
        f"FAIL component {group} (Platform) on page {AUTO_PAGE} for public-api: is a component "
        "group, whose status follows its members; list the members instead",
    ]
    assert "Traceback" not in result.output
