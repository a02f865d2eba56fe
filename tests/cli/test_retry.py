"""``retry``: a failing item is tried again on the next pass, its back-off starting over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.commands.cli import main
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions, upgrade
from tests.support.proc import activated_config, run_cli, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


@pytest.mark.slow
def test_retry_makes_a_refused_create_due_now(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
) -> None:
    """A create refused with 401 waits a poll interval; after `retry` the next `sync` creates it."""
    ilert, statuspage = sims
    config = activated_config(tmp_path, ilert.url, statuspage.url, poll_interval=600)
    alert = ilert.create_alert(AUTO_SOURCE, "Checkout down", "5xx")
    statuspage.fail_next(1, 401, path_contains="/incidents", method="POST")
    assert run_cli(config, "sync").returncode == 1  # refused: waits 600 s
    assert run_cli(config, "sync").returncode == 1  # still waiting, not retried
    assert statuspage.incidents(AUTO_PAGE) == []
    none = run_cli(config, "retry", "public-api", str(alert + 1))
    assert none.returncode == 0
    assert none.stdout.startswith("no failing item matches")
    unknown = run_cli(config, "retry", "no-such-action")
    assert unknown.returncode == 2
    assert "no incident action named 'no-such-action'" in unknown.stderr
    retried = run_cli(config, "retry")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith(f"public-api alert {alert}: retried on the next pass (was 1")
    assert run_cli(config, "sync").returncode == 0
    (incident,) = statuspage.incidents(AUTO_PAGE)
    assert incident["name"] == "Checkout down"
    again = run_cli(config, "retry")
    assert again.stdout.startswith("no failing item matches")


def test_retry_reports_only_the_items_it_reset(tmp_path: Path) -> None:
    """An item the daemon fixed between retry's look and its update is not claimed as retried."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessions(engine)
    now = datetime.now(UTC)
    with sessions() as session:
        for alert_id in (1, 2):
            link = repo.new_link("manual-review", alert_id, "pg", now)
            link.failures, link.last_error = 3, "HTTP 401 from Statuspage"
            link.next_attempt_at = now + timedelta(hours=1)
            session.add(link)
        session.commit()
    daemon = make_engine(url)

    def the_daemon_fixes_alert_1(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.lstrip().upper().startswith("UPDATE") and not fixed:
            fixed.append(True)
            with daemon.begin() as connection:
                connection.execute(
                    sa.text("UPDATE links SET last_error = NULL, failures = 0 WHERE alert_id = 1")
                )

    fixed: list[bool] = []
    sa.event.listen(engine, "before_cursor_execute", the_daemon_fixes_alert_1)
    with sessions() as session:
        reset = repo.reset_backoff(session, None, None)
        session.commit()
    sa.event.remove(engine, "before_cursor_execute", the_daemon_fixes_alert_1)
    assert fixed
    assert [(action, alert) for action, alert, _failures, _error in reset] == [("manual-review", 2)]
    engine.dispose()
    daemon.dispose()


def test_retry_with_only_an_alert_id_says_how_to_name_its_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``retry 42`` (an alert id where the action goes) is refused with the right spelling."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", url)
    assert main(["--config", str(config), "retry", "42"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no incident action named '42'" in err and "retry ACTION 42" in err
