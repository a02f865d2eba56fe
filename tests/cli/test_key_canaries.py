"""No key is ever printed: the real CLI (`sync`, `check`, `run` with its JSON log) with canary
keys, asserting no 8-character piece of a key reaches stdout, stderr or the database file,
as a reader sees them (NUL and other controls removed); no database credential is shown
in any form; no key goes to a proxy over plain HTTP."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.database import postgres_database
from tests.support.http_fakes import FakeServer, json_answer
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


def _reader_view(data: bytes) -> bytes:
    """``data`` as a reader, ``clean_text`` or a JSON decoder later joins it: controls,
    zero-width and bidi characters (raw or JSON-escaped as NUL) removed."""
    text = data.decode("utf-8", "replace").replace("\\u0000", "")
    return "".join(c for c in text if unicodedata.category(c)[0] != "C").encode()


def _assert_no_key(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for view in (data, _reader_view(data)):
            leaked = [piece for piece in _pieces() if piece.encode() in view]
            assert leaked == [], f"key pieces {leaked} in:\n{view[-3000:]!r}"


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
    database_url: str = "",
) -> Path:
    ilert, statuspage = sims
    return write_config(
        folder,
        ilert.url,
        statuspage.url,
        database_url or f"sqlite:///{folder / 'state.db'}",
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


# Vendor echoes that are no prefix: the key's last 12 characters, and the whole key cut by a
# NUL (a JSON "\u0000") that the text cleaning of the database and the page removes later.
ECHOES: dict[str, Callable[[str], str]] = {
    "suffix": lambda key: f"token ...{key[-12:]} is not valid here",
    "nul-split": lambda key: f"bad token {key[:9]}\x00{key[9:]}",
}


@pytest.mark.parametrize("echo", ECHOES)
def test_check_never_shows_a_suffix_or_a_split_key_echoed_by_the_vendor(
    tmp_path: Path, canary_sims, echo: str
):
    """`check` against a Statuspage whose 422 echoes a piece of the key that is no prefix:
    the FAIL line masks it."""
    _, statuspage = canary_sims
    config = _config(tmp_path, canary_sims)
    statuspage.inject_fault(422, {"error": ECHOES[echo](SP_CANARY)}, times=3)
    result = run_cli(config, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL Statuspage page" in result.stdout and "********" in result.stdout
    _assert_no_key(result.stdout, result.stderr)


@pytest.mark.parametrize("echo", ECHOES)
def test_sync_never_stores_a_suffix_or_a_split_key_echoed_by_the_vendor(
    tmp_path: Path, canary_sims, echo: str
):
    """`sync` whose create is refused with a suffix or a NUL-split key echoed: recorded in
    the database (transitions.reason, links.last_error) and logged, masked."""
    ilert, statuspage = canary_sims
    config = _config(tmp_path, canary_sims)
    assert run_cli(config, "sync").returncode == 0
    ilert.create_alert(AUTO_SOURCE, "echo", "")
    statuspage.inject_fault(422, {"error": ECHOES[echo](SP_CANARY)}, times=3)
    result = run_cli(config, "sync")
    assert result.returncode == 1, result.stderr
    assert "alert_sync_failed" in result.stderr
    database = _database_bytes(tmp_path)
    assert b"********" in database
    _assert_no_key(result.stdout, result.stderr, database)


def test_a_plain_http_api_is_never_reached_through_the_environments_proxy(
    tmp_path: Path, canary_sims
):
    """`check` and `sync` against loopback http:// APIs with http_proxy and all_proxy set
    to a fake proxy: the APIs answer directly and the proxy receives nothing."""
    config = _config(tmp_path, canary_sims)
    with FakeServer(json_answer(502, {"message": "proxy"})) as proxy:
        env = {"http_proxy": proxy.url, "HTTP_PROXY": proxy.url, "all_proxy": proxy.url}
        env |= {"no_proxy": "", "NO_PROXY": ""}
        check = run_cli(config, "check", env=env)
        sync = run_cli(config, "sync", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert sync.returncode == 0, sync.stderr
    assert proxy.requests == []


@pytest.fixture(name="query_password_url")
def _query_password_url() -> Iterator[tuple[str, str]]:
    """A PostgreSQL database URL with the password as a query parameter (a valid libpq
    form), percent-encoded; and the password."""
    for url in postgres_database():
        parsed = sa.make_url(url)
        password = parsed.password
        assert password
        # URL.set ignores password=None: build the URL without one.
        bare = sa.URL.create(
            parsed.drivername,
            parsed.username,
            host=parsed.host,
            port=parsed.port,
            database=parsed.database,
        ).render_as_string(hide_password=False)
        assert f":{password}@" not in bare
        yield f"{bare}?sslmode=disable&pass%77ord={password}", str(password)


def test_a_password_in_the_database_urls_query_is_never_shown(
    tmp_path: Path, canary_sims, query_password_url: tuple[str, str]
):
    """`db upgrade`, `check` and `run`'s daemon_started show the URL with password=*** and
    no credential in any form."""
    url, password = query_password_url
    config = _config(tmp_path, canary_sims, database_url=url)
    upgrade = run_cli(config, "db", "upgrade")
    check = run_cli(config, "check")
    daemon = Daemon(config)
    try:
        daemon.wait_for("daemon_started")
    finally:
        daemon.stop()
    (started,) = [line for line in daemon.lines() if line["event"] == "daemon_started"]
    assert upgrade.returncode == 0, upgrade.stderr
    assert check.returncode == 0, check.stdout + check.stderr
    outputs = [upgrade.stdout + upgrade.stderr, check.stdout + check.stderr, str(started)]
    for output in outputs:
        assert "password=***" in output, output
        for form in (f"password={password}", f"%77ord={password}", f":{password}@"):
            assert form not in output, output
    assert "sslmode=disable" in started["database"]
