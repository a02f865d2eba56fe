"""What the ``status`` health probe loads: its start-up is its cost, so it stays lean.

``status`` runs as a fresh process every few seconds on some hosts; the ORM,
Jinja2 (the config's templates), the HTTP clients and Alembic are for the pass,
``check`` and ``db``, not for reading a few counts and rows. On a SQLite file it
reads through ``sqlite3``: SQLAlchemy alone costs about ten interpreter starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ilert_statuspage_sync.store.database import make_engine, upgrade
from tests.support.proc import child_environment

# Modules the status command path must never import.
HEAVY = ("jinja2", "sqlalchemy", "requests", "alembic")

CONFIG = """\
poll_interval = 30
database_url = "sqlite:///{db}"
[ilert]
api_key_file = "ilert_api_key"
[connectors.main]
api_key_file = "statuspage_api_key"
[[incident_actions]]
name = "public-api"
alert_sources = [12345]
connector = "main"
page_id = "kctbh9vrtdwd"
[incident_actions.templates]
name = "Outage: {{{{ alert.summary }}}}"
"""

# Runs the console script's entry point, then lists the heavy modules it loaded.
_PROBE = """\
import json, sys
from ilert_statuspage_sync.commands.cli import main
code = main(["--config", sys.argv[1], "status"])
loaded = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
with open(sys.argv[3], "w") as out:
    json.dump({"code": code, "loaded": loaded}, out)
"""


@pytest.mark.slow
def test_status_on_sqlite_loads_no_sqlalchemy_templates_http_or_migrations(tmp_path: Path) -> None:
    """``status`` on SQLite (a config with a template) imports no SQLAlchemy, Jinja2, requests."""
    database = tmp_path / "state.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=database), encoding="utf-8")
    report = tmp_path / "loaded.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(config), json.dumps(HEAVY), str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_environment(),
        check=False,
    )
    assert report.is_file(), done.stderr
    got = json.loads(report.read_text())
    assert got["code"] == 1, done.stdout + done.stderr  # no daemon: UNHEALTHY, as before
    assert "no alerts tracked yet" in done.stdout
    assert got["loaded"] == []
