"""The parser's edges: ``--config`` after the command, every command's help, a lean start-up."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ilert_statuspage_sync.commands.cli import main
from tests.support.proc import child_environment, python_module_argv, write_config

COMMANDS = (
    "run",
    "sync",
    "db",
    "check",
    "status",
    "history",
    "trigger",
    "untrigger",
    "retry",
    "demo",
    "discover",
    "preview",
)

# Runs the console script's entry point with argv, then lists the modules it loaded.
_PROBE = """\
import json, sys
from ilert_statuspage_sync.commands.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
heavy = ("sqlalchemy", "alembic", "structlog", "jinja2", "ilert_statuspage_sync.config")
sys.__stderr__.write(json.dumps([name for name in heavy if name in sys.modules]))
"""


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_a_description_and_every_option_a_help(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """``COMMAND --help`` opens with a one-sentence description and explains each option."""
    text = _help(capsys, command)
    paragraphs = text.split("\n\n")
    assert paragraphs[0].startswith(f"usage: ilert-statuspage-sync {command}")
    description = paragraphs[1]
    assert description[0].isupper() and not description.startswith(("positional", "options"))
    options = text.split("options:\n", 1)[1]
    # Each option line names the option, then its help on the same or the next line.
    entries = re.split(r"\n  (?=-)", "\n" + options.strip("\n"))
    assert all(len(entry.split()) > 2 for entry in entries if entry.strip()), options


def test_check_offline_help_says_all_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    """``check --offline`` names what it checks and that it reads no key and calls no vendor."""
    words = " ".join(_help(capsys, "check").split())
    for part in ("config", "database", "metrics textfile", "previews", "no API key", "no vendor"):
        assert part in words, part


@pytest.mark.parametrize("argv", [["--config=", "status"], ["status", "--config", ""]])
def test_an_empty_config_path_is_a_usage_error_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """An empty ``--config`` (an unset variable) is refused as such, not read as the folder "."."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    message = json.loads(line)["message"]
    assert "argument --config: the path is empty" in message, message


@pytest.mark.slow
def test_config_after_the_command_means_the_same(tmp_path: Path) -> None:
    """``check --offline --config PATH`` reads PATH, as ``--config PATH check --offline`` does."""
    config = write_config(
        tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", f"sqlite:///{tmp_path / 's.db'}"
    )
    outputs = []
    for argv in (
        ("check", "--offline", "--config", str(config)),
        ("--config", str(config), "check", "--offline"),
        ("--config", str(tmp_path / "missing.toml"), "check", "--offline", "--config", str(config)),
    ):
        done = subprocess.run(
            python_module_argv("ilert_statuspage_sync", *argv),
            capture_output=True,
            text=True,
            timeout=60,
            env=child_environment(),
            check=False,
        )
        assert done.returncode == 0, (argv, done.stderr)
        outputs.append(done.stdout)
    assert f"config {config}: valid" in outputs[0]
    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["status", "--help"]])
def test_version_and_help_load_no_database_or_logging_library(argv: list[str]) -> None:
    """``--version`` and ``--help`` import neither SQLAlchemy, Alembic, structlog nor the config."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_environment(),
        check=False,
    )
    assert done.stdout.startswith("ilert-statuspage-sync" if argv == ["--version"] else "usage:")
    assert json.loads(done.stderr) == []
