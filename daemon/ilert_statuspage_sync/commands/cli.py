"""Command line: ``ilert-statuspage-sync [--config PATH] COMMAND [--config PATH]``.

Exit codes: 0 done; 1 something failed at run time (the state database
included: locked, read-only, full, corrupt, unreachable, not migrated; `status`
unhealthy; `check` found a problem); 2 config or usage error (every config
mistake is reported, one line each; `trigger` of an alert iLert says does not
exist or belongs to another source; `untrigger` of a published alert); 70 an
unexpected internal error (a bug); 130 interrupted.
Every failure is one ``error: ...`` line on stderr, never a traceback (a JSON
line when stderr is not a terminal, see ``logs.say``), its event naming its exit
code's class (``output.FAILURE_EVENTS``); messages are run through the redactor and
never hold a key, an SQL statement or its parameters.

Commands that call no vendor (``db``, ``status``, ``history``, ``untrigger``,
``check --offline``) load the config without reading any API key; ``db``,
``status`` and ``history`` also without compiling its templates (``check``
reports a template's mistakes).

This module holds the parser alone, and imports little: ``--version`` and ``--help``
start in a few interpreter start-ups' time (``bench/bench_startup.py``). Once the
arguments parse, ``dispatch`` loads the config and the command's own module.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.commands.output import fail, scrubbed_streams
from ilert_statuspage_sync.paths import DEFAULT_CONFIG_PATH

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction["_Parser"]

__all__ = ["main"]

_DRY_RUN = (
    "plan and log every transition (dry_run: true) without calling Statuspage or storing "
    "state (an empty database is still migrated)"
)
_CONFIG_HELP = f"the TOML config file (default: {DEFAULT_CONFIG_PATH})"

# `history --limit` beyond this is a typo, not a wish; SQL LIMIT is a 64-bit integer.
MAX_HISTORY_LIMIT = 1_000_000


class _Formatter(argparse.HelpFormatter):
    """Help text wrapped at spaces only: a path (``/etc/ilert-statuspage-sync``) stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """A usage error is one ``error:`` line and exit 2, like every other refusal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(fail(f"{self.prog}: {message} (see --help)", "usage_error"))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ilert-statuspage-sync",
        description="Mirror iLert alerts onto Atlassian Statuspage incidents by polling.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__} (Python {platform.python_version()})",
    )
    # None: the default, unless a command's own --config (after its name) gives one.
    parser.add_argument(
        "--config", type=_config_path, default=None, metavar="PATH", help=_CONFIG_HELP
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_daemon_commands(commands)
    _add_reading_commands(commands)
    _add_manual_commands(commands)
    _add_demo(commands)
    _add_discover(
        _command(
            commands,
            "discover",
            "list the iLert alert sources, Statuspage pages and components (the ids a config "
            "needs); --write a starter config",
        )
    )
    return parser


def _command(commands: Commands, name: str, summary: str, *, config: bool = True) -> _Parser:
    """A command whose ``--help`` starts with ``summary``, taking ``--config`` after its name
    too (``check --config ok.toml``): the same option, given where a person types it."""
    parser = commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])
    if config:  # SUPPRESS: absent, it leaves the value given before the command untouched
        parser.add_argument(
            "--config",
            type=_config_path,
            default=argparse.SUPPRESS,
            metavar="PATH",
            help=_CONFIG_HELP,
        )
    return parser


def _add_daemon_commands(commands: Commands) -> None:
    """run, sync and db: the commands that write the database."""
    run = _command(commands, "run", "poll forever: one pass now, then every poll_interval")
    run.add_argument("--dry-run", action="store_true", help=_DRY_RUN)
    sync = _command(commands, "sync", "one poll-and-apply pass, then exit (1: an item failed)")
    sync.add_argument("--dry-run", action="store_true", help=_DRY_RUN)
    db = _command(commands, "db", "migrate the state database up (upgrade) or down (downgrade)")
    db.add_argument(
        "db_command",
        choices=["upgrade", "downgrade"],
        help="upgrade: apply pending migrations; downgrade REVISION: undo the migrations "
        "after REVISION (before reinstalling an older release)",
    )
    db.add_argument("revision", nargs="?", help="downgrade's target revision, e.g. 0004")


def _add_reading_commands(commands: Commands) -> None:
    """check, status and history: the commands that only look."""
    check = _command(
        commands,
        "check",
        "validate the config, then reach the database, iLert and every page with its key",
    )
    check.add_argument(
        "--offline",
        action="store_true",
        help="check the config (templates compiled), the database (migrated? stored action "
        "names), the metrics textfile folder and the template previews only: read no API "
        "key and call no vendor",
    )
    status = _command(
        commands,
        "status",
        "whether the daemon is healthy, counts, and the failing and latest changed alerts "
        "(exit 1: UNHEALTHY)",
    )
    status.add_argument(
        "--all", action="store_true", help="every tracked alert (streamed), not the latest few"
    )
    history = _command(commands, "history", "the audit trail: the newest transitions, oldest first")
    history.add_argument("--alert", type=_alert_id, help="only this iLert alert id")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument(
        "--limit", type=_history_limit, default=200, help="newest N rows (%(default)s)"
    )
    preview = _command(
        commands,
        "preview",
        "what one iLert alert would publish under this config: reads iLert, writes nothing",
    )
    preview.add_argument("alert_id", type=_alert_id, help="iLert alert id")


def _add_manual_commands(commands: Commands) -> None:
    """trigger, untrigger and retry: a person steering single alerts."""
    trigger = _command(commands, "trigger", "manual trigger mode: mirror an alert from now on")
    trigger.add_argument("action", help="incident action name")
    trigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    untrigger = _command(commands, "untrigger", "cancel a trigger that has not been published yet")
    untrigger.add_argument("action", help="incident action name")
    untrigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    retry = _command(
        commands, "retry", "retry failing items on the next pass, with a fresh back-off"
    )
    retry.add_argument("action", nargs="?", help="only this incident action")
    retry.add_argument("alert_id", nargs="?", type=_alert_id, help="only this iLert alert id")


def _add_demo(commands: Commands) -> None:
    demo = _command(
        commands,
        "demo",
        "play a scripted scenario against built-in simulators (no config, no accounts)",
        config=False,
    )
    demo.add_argument(
        "--lifecycle",
        choices=["classic", "realtime", "both"],
        default=None,
        help="which lifecycle table to play (default: classic, the config's default; "
        "both: classic, then realtime; with --keep the last one stays up)",
    )
    demo.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="then keep the simulators running, with a ready config.toml and state.db in DIR, "
        "until Ctrl-C (exit 130) or SIGTERM (exit 0)",
    )


def _add_discover(parser: argparse.ArgumentParser) -> None:
    """The options of ``discover``."""
    parser.add_argument(
        "--write",
        type=Path,
        metavar="PATH",
        help="also write a commented starter config to PATH (never overwrites)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    parser.add_argument(
        "--ilert-key-env",
        metavar="VAR",
        help="read the iLert key from this environment variable instead of the config",
    )
    parser.add_argument(
        "--statuspage-key-env",
        metavar="VAR",
        action="append",
        help="a Statuspage key's environment variable (repeat for more keys) instead of the config",
    )
    parser.add_argument("--ilert-url", metavar="URL", help="iLert scheme and host")
    parser.add_argument("--statuspage-url", metavar="URL", help="Statuspage scheme and host")


def _config_path(text: str) -> Path:
    """``--config``: an empty value (``--config "$UNSET"``) is no path, not the folder ``.``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty (is the variable holding it set?)")
    return Path(text)


def _history_limit(text: str) -> int:
    """``--limit``: a whole number from 1 to MAX_HISTORY_LIMIT."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    if value > MAX_HISTORY_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_HISTORY_LIMIT:,}, got {text}")
    return value


def _alert_id(text: str) -> int:
    """An iLert alert id as the database stores it: a stored 0 or -1 would be polled forever."""
    from ilert_statuspage_sync.core.parse import parse_id  # not for --version, --help
    from ilert_statuspage_sync.errors import PayloadError

    try:
        return parse_id(text, "alert id", "command line")
    except PayloadError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not an iLert alert id (a whole number from 1 to 2^63-1)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every failure becomes one line and an exit code."""
    with scrubbed_streams():  # no piece of a key leaves, whatever prints it
        args = _parser().parse_args(argv)
        from ilert_statuspage_sync.commands.dispatch import run  # the config, the command

        return run(args)
