"""A resolve Statuspage refuses is never dropped: ``sync`` exits 1 and ``status`` shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import activated_config, run_cli
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


@pytest.mark.slow
def test_a_refused_resolve_keeps_sync_failing_until_the_page_has_it(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """Two 422s to the resolve: each sync exits 1, status lists the item; then resolved, exit 0."""
    ilert, statuspage = sims
    config = activated_config(tmp_path, ilert.url, statuspage.url, poll_interval=600)
    alert = ilert.create_alert(AUTO_SOURCE, "Checkout down", "")
    assert run_cli(config, "sync").returncode == 0
    (incident,) = statuspage.incidents(AUTO_PAGE)
    statuspage.fail_next(2, 422, path_contains=incident["id"], method="PATCH")
    ilert.resolve(alert)
    assert run_cli(config, "sync").returncode == 1  # refused: kept, waits 600 s
    assert run_cli(config, "sync").returncode == 1  # still lacking the resolve
    shown = run_cli(config, "status")
    assert "failing items: 1" in shown.stdout
    assert "1x, retry" in shown.stdout
    assert run_cli(config, "retry").returncode == 0
    assert run_cli(config, "sync").returncode == 1  # refused again
    assert run_cli(config, "retry").returncode == 0
    assert run_cli(config, "sync").returncode == 0
    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert incident["status"] == "resolved"
