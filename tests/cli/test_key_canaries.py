"""No key is ever printed: the real CLI (`sync`, `check`, `run` with its JSON log) with canary
keys, asserting no 8-character piece of a key reaches stdout, stderr or the database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import Daemon, run_cli, said, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = pytest.mark.slow

# Lower case and digits: neither can pass for an environment variable name.
ILERT_CANARY = "ilc4n4ry8k2j7h5g3f9d1s6a"
SP_CANARY = "spc4n4ry3m8n2b7v5c9x1z4q"
# The vendor echo is cut at 500 characters: 490 of padding leave a 10-character prefix.
PADDING = 490


def _pieces() -> list[str]:
    return [key[i : i + 8] for key in (ILERT_CANARY, SP_CANARY) for i in range(len(key) - 7)]


def _assert_no_key(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        leaked = [piece for piece in _pieces() if piece.encode() in data]
        assert leaked == [], f"key pieces {leaked} in:\n{data[-3000:]!r}"


def _database_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.glob("state.db*")))


@pytest.fixture(name="canary_sims")
def _canary_sims() -> Iterator[tuple[IlertSimulator, StatuspageSimulator]]:
    with (
        IlertSimulator(api_key=ILERT_CANARY) as ilert,
        StatuspageSimulator(api_key=SP_CANARY, page_ids=(AUTO_PAGE,)) as statuspage,
    ):
        yield ilert, statuspage


def _config(
    folder: Path,
    sims: tuple[IlertSimulator, StatuspageSimulator],
    *,
    ilert_source: str = 'api_key_file = "ilert.key"',
    sp_source: str = 'api_key_file = "sp.key"',
    ilert_file: str = ILERT_CANARY,
) -> Path:
    ilert, statuspage = sims
    return write_config(
        folder,
        ilert.url,
        statuspage.url,
        f"sqlite:///{folder / 'state.db'}",
        ilert_key=ilert_file,
        sp_key=f"{SP_CANARY}\n",
        ilert_source=ilert_source,
        sp_source=sp_source,
    )


@pytest.mark.parametrize(
    ("sources", "dotted"),
    [
        ({"ilert_file": f"{ILERT_CANARY}\n# rotated 2024\n"}, "ilert.api_key_file"),
        ({"ilert_source": f'api_key_env = "{ILERT_CANARY}"'}, "ilert.api_key_env"),
        ({"sp_source": f'api_key_file = "{SP_CANARY}"'}, "connectors.main.api_key_file"),
    ],
    ids=["key-file-second-line", "key-in-api_key_env", "key-in-api_key_file"],
)
@pytest.mark.parametrize("command", ["sync", "check", "run"])
def test_a_misplaced_key_is_a_config_error_that_never_shows_it(
    tmp_path: Path, canary_sims, sources: dict[str, str], dotted: str, command: str
):
    """A key file with a second line, or a key pasted where a variable name or file name
    belongs: exit 2 with one line naming the dotted key, and no piece of the key anywhere."""
    config = _config(tmp_path, canary_sims, **sources)
    result = run_cli(config, command)
    assert result.returncode == 2, result.stderr
    assert said(result.stderr).startswith("error: ") and dotted in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    _assert_no_key(result.stdout, result.stderr, _database_bytes(tmp_path))


def _echoing(statuspage: StatuspageSimulator, ilert: IlertSimulator | None = None) -> None:
    """Vendor error bodies that echo the key after 490 characters (cut at 500)."""
    statuspage.inject_fault(422, {"error": "e" * PADDING + SP_CANARY}, times=3)
    if ilert is not None:
        ilert.inject_fault(503, {"message": "m" * PADDING + ILERT_CANARY}, times=3)


def test_check_never_shows_a_key_echoed_by_the_vendor(tmp_path: Path, canary_sims):
    """`check` against a Statuspage whose 422 echoes the key prints no piece of it."""
    _, statuspage = canary_sims
    config = _config(tmp_path, canary_sims)
    _echoing(statuspage)
    result = run_cli(config, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL Statuspage page" in result.stdout
    assert "********" in result.stdout
    _assert_no_key(result.stdout, result.stderr)


def test_sync_never_stores_a_key_echoed_by_the_vendor(tmp_path: Path, canary_sims):
    """`sync` whose create is refused with the key echoed: the failure is recorded in the
    database and logged, without any piece of the key."""
    ilert, statuspage = canary_sims
    config = _config(tmp_path, canary_sims)
    assert run_cli(config, "sync").returncode == 0
    ilert.create_alert(AUTO_SOURCE, "echo", "")
    _echoing(statuspage)
    result = run_cli(config, "sync")
    assert result.returncode == 1, result.stderr
    assert "alert_sync_failed" in result.stderr  # a refused create stays failing, retried
    database = _database_bytes(tmp_path)
    assert b"eeeeeeee********" in database
    _assert_no_key(result.stdout, result.stderr, database)


def test_run_json_log_never_shows_a_key_echoed_by_the_vendor(tmp_path: Path, canary_sims):
    """`run` meeting an iLert 503 and a Statuspage 422 that both echo the key: its JSON log
    and database hold no piece of either key."""
    ilert, statuspage = canary_sims
    daemon = Daemon(_config(tmp_path, canary_sims))
    try:
        daemon.wait_for("pass_finished")
        ilert.create_alert(AUTO_SOURCE, "echo", "")
        _echoing(statuspage, ilert)
        daemon.wait_for("service_unreachable")
        daemon.wait_for("alert_sync_failed", timeout=40)
    finally:
        daemon.stop()
    log = daemon.log_path.read_text()
    assert "********" in log
    _assert_no_key(log, _database_bytes(tmp_path))
