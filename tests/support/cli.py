"""The one launcher of the console script: config and key files, a command run, its result.

Every command runs as ``python -m ilert_statuspage_sync --config PATH ...`` with a
real TOML file, real key files and a real SQLite file in the test's folder. The
API keys are canary values; the ``cli`` fixture ends by checking that no captured
output and no byte of the state database holds them.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import child_environment, cli_argv, said
from tests.support.simulators import simulator_fixtures
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE

CANARY_ILERT_KEY = "canary-ilert-3f9c1e"
CANARY_STATUSPAGE_KEY = "canary-sp-9a7d2b"
CANARIES = (CANARY_ILERT_KEY, CANARY_STATUSPAGE_KEY)
WRONG_STATUSPAGE_KEY = "wrong-sp-key-5e1d0a"

COMMAND_TIMEOUT = 60.0  # seconds for one short command; generous for a loaded CI machine
DEMO_TIMEOUT = 120.0
RUN_DEADLINE = 30.0
SLOW_POLL = 60  # seconds: a refused item waits one interval, far longer than a test


@dataclass(frozen=True)
class Result:
    """What one finished command printed and returned."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def said(self) -> str:
        """stderr as a terminal would show it (the CLI's JSON lines as ``error: ...``)."""
        return said(self.stderr)

    @property
    def output(self) -> str:
        """Both streams, for "appears anywhere" assertions."""
        return self.stdout + self.stderr

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log lines on stderr (stderr is not a TTY, so logs are JSON)."""
        return json_lines(self.stderr)

    def describe(self) -> str:
        """A readable dump for assertion messages."""
        return (
            f"{self.args} exited {self.code}\n--stdout--\n{self.stdout}\n--stderr--\n{self.stderr}"
        )


@dataclass
class Cli:
    """Writes the config and key files and runs the console script against them."""

    folder: Path
    ilert: IlertSimulator
    statuspage: StatuspageSimulator
    captured: list[str] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.folder / "config.toml"

    @property
    def db_path(self) -> Path:
        return self.folder / "state.db"

    @property
    def ilert_key_file(self) -> Path:
        return self.folder / "ilert.key"

    @property
    def statuspage_key_file(self) -> Path:
        return self.folder / "statuspage.key"

    def write_keys(self, statuspage_key: str = CANARY_STATUSPAGE_KEY) -> None:
        """Key files as an operator writes them: one line, mode 600."""
        for path, key in (
            (self.ilert_key_file, CANARY_ILERT_KEY),
            (self.statuspage_key_file, statuspage_key),
        ):
            path.write_text(key + "\n", encoding="utf-8")
            path.chmod(0o600)

    def config_text(
        self,
        *,
        poll_interval: int = SLOW_POLL,
        log_level: str = "info",
        statuspage_key_file: Path | None = None,
        auto_connector: str = "main",
        manual_sources: tuple[int, ...] = (MANUAL_SOURCE,),
    ) -> str:
        """The TOML of a valid config with both incident actions."""
        key_file = statuspage_key_file or self.statuspage_key_file
        return f"""\
poll_interval = {poll_interval}
database_url = {toml_str(f"sqlite:///{self.db_path}")}
log_level = {toml_str(log_level)}

[ilert]
api_url = {toml_str(self.ilert.url)}
api_key_file = {toml_str(str(self.ilert_key_file))}
requests_per_minute = 600

[connectors.main]
api_url = {toml_str(self.statuspage.url)}
api_key_file = {toml_str(str(key_file))}
requests_per_minute = 600

[[incident_actions]]
name = "public-api"
alert_sources = [{AUTO_SOURCE}]
connector = {toml_str(auto_connector)}
page_id = {toml_str(AUTO_PAGE)}

[[incident_actions]]
name = "manual-review"
alert_sources = [{", ".join(map(str, manual_sources))}]
connector = "main"
page_id = {toml_str(MANUAL_PAGE)}
trigger_mode = "manual"
"""

    def write_config(self, text: str | None = None, **options: Any) -> Path:
        """Write ``text`` (or the valid config built from ``options``) as config.toml."""
        self.config_path.write_text(
            text if text is not None else self.config_text(**options), encoding="utf-8"
        )
        self.config_path.chmod(0o600)
        return self.config_path

    def argv(self, *args: str, config: Path | None = None) -> list[str]:
        """The command line of the console script, as ``python -m`` runs it."""
        return cli_argv(config or self.config_path, *args)

    def run(
        self, *args: str, config: Path | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> Result:
        """Run one command to completion and capture both streams."""
        completed = subprocess.run(
            self.argv(*args, config=config),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            env=child_environment(),
            check=False,
        )
        self.captured += [completed.stdout, completed.stderr]
        return Result(tuple(args), completed.returncode, completed.stdout, completed.stderr)

    def leaks(self) -> list[str]:
        """Where a canary key turned up: in captured output or the database files."""
        found = [
            f"captured output #{number}: {canary}"
            for number, text in enumerate(self.captured)
            for canary in CANARIES
            if canary in text
        ]
        for path in sorted(self.folder.glob(f"{self.db_path.name}*")):
            data = path.read_bytes()
            found += [f"{path.name}: {c}" for c in CANARIES if c.encode() in data]
        return found


def toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string for the paths and URLs used here.
    return json.dumps(value)


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


def wait_for(condition: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` once ``deadline`` s pass."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up after {deadline:g}s waiting for {what}")
        time.sleep(0.1)


def table_rows(stdout: str) -> list[list[str]]:
    """A printed table as rows of whitespace-separated cells (header first).

    `status` prints its health lines first; the table starts at its header.
    """
    lines = [line for line in stdout.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith(("ACTION", "AT "))), 0)
    return [line.split() for line in lines[start:]]


# The simulators serving the canary keys (the API keys no output may hold).
canary_ilert_fixture, canary_statuspage_fixture = simulator_fixtures(
    CANARY_ILERT_KEY, CANARY_STATUSPAGE_KEY
)


@pytest.fixture(name="cli")
def cli_fixture(
    tmp_path: Path, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> Iterator[Cli]:
    cli = Cli(tmp_path, ilert, statuspage)
    cli.write_keys()
    cli.write_config()
    yield cli
    leaks = cli.leaks()
    assert not leaks, f"API keys leaked: {leaks}"


@pytest.fixture(name="activated")
def activated_fixture(cli: Cli) -> Cli:
    """A CLI whose first ``sync`` pass has activated both incident actions."""
    first = cli.run("sync")
    assert first.code == 0, first.describe()
    return cli
