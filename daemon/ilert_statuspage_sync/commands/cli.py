"""Command line: ``ilert-statuspage-sync [--config PATH] COMMAND``.

Exit codes: 0 done; 1 something failed at run time (the state database
included: locked, read-only, full, corrupt, unreachable, not migrated; `status`
unhealthy; `check` found a problem); 2 config or usage error (every config
mistake is reported, one line each; `trigger` of an alert iLert says does not
exist or belongs to another source; `untrigger` of a published alert); 70 an
unexpected internal error (a bug); 130 interrupted.
Every failure is one ``error: ...`` line on stderr, never a traceback (a JSON
line when stderr is not a terminal, see ``logs.say``): ``main`` is the one
handler that turns the error families (our own, SQLAlchemy's, ``OSError``) into
that line; messages are run through the redactor and never hold a key, an SQL
statement or its parameters.

Commands that call no vendor (``db``, ``status``, ``history``, ``untrigger``,
``check --offline``) load the config without reading any API key; ``db``,
``status`` and ``history`` also without compiling its templates (``check``
reports a template's mistakes).

This module holds the parser and the dispatch; each command lives in its own
module (``run``, ``db``, ``check``, ``status``, ``history``, ``manual``,
``retry``, ``discover``), sharing ``output`` (exit codes, the failure line) and
``engines`` (opening the database, the leader lock).
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import sqlalchemy as sa
import structlog

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.commands.output import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    RunFailureError,
    fail,
    scrubbed_streams,
    stdout_gone,
)
from ilert_statuspage_sync.config import DEFAULT_CONFIG_PATH, Config, load_config
from ilert_statuspage_sync.config.database_url import check_database_url
from ilert_statuspage_sync.core.parse import parse_id
from ilert_statuspage_sync.errors import (
    ConfigError,
    DatabaseFailureError,
    PayloadError,
    StoreError,
    UsageError,
)
from ilert_statuspage_sync.runtime.logs import configure_logging, say
from ilert_statuspage_sync.store.diagnose import explain

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction["_Parser"]

__all__ = ["main"]

log = structlog.get_logger(__name__)

# Commands that call a vendor, so they read the API keys; the others never read one
# (`trigger` asks iLert only when it can read the iLert key: triggers.check_alert).
_CALLS_VENDORS = frozenset({"run", "sync", "check", "preview"})

# Commands that neither publish nor judge the wording: their config load compiles no
# template (no Jinja2; `check`, `run` and `sync` compile every one and report its mistakes).
_PUBLISH_NOTHING = frozenset({"db", "status", "history"})

# Each command's module, imported when it runs: `status` (the health probe) never loads
# the HTTP clients, the pass or the service that `run` needs.
_HANDLERS: dict[str, str] = {
    "run": "run",
    "sync": "run",
    "db": "db",
    "check": "check",
    "status": "status",
    "history": "history",
    "trigger": "trigger",
    "retry": "retry",
    "untrigger": "trigger",
    "preview": "preview",
}
_DRY_RUN = "log planned transitions, call nothing"

# `history --limit` beyond this is a typo, not a wish; SQL LIMIT is a 64-bit integer.
MAX_HISTORY_LIMIT = 1_000_000


class _Parser(argparse.ArgumentParser):
    """A usage error is one ``error:`` line and exit 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        say("error", "usage_error", f"{self.prog}: {message} (see --help)", exit_code=EXIT_USAGE)
        self.exit(EXIT_USAGE)


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
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config (%(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_daemon_commands(commands)
    _add_reading_commands(commands)
    _add_manual_commands(commands)
    _add_demo(commands)
    _add_discover(
        commands.add_parser("discover", help="list alert sources, pages, components; --write")
    )
    return parser


def _add_daemon_commands(commands: Commands) -> None:
    """run, sync and db: the commands that write the database."""
    run = commands.add_parser("run", help="poll forever")
    run.add_argument("--dry-run", action="store_true", help=_DRY_RUN)
    sync = commands.add_parser("sync", help="one poll-and-apply pass, then exit")
    sync.add_argument("--dry-run", action="store_true", help=_DRY_RUN)
    db = commands.add_parser("db", help="database commands")
    db.add_argument(
        "db_command",
        choices=["upgrade", "downgrade"],
        help="upgrade: apply pending migrations; downgrade REVISION: undo the migrations "
        "after REVISION (before reinstalling an older release)",
    )
    db.add_argument("revision", nargs="?", help="downgrade's target revision, e.g. 0004")


def _add_reading_commands(commands: Commands) -> None:
    """check, status and history: the commands that only look."""
    check = commands.add_parser(
        "check", help="validate the config and reach every API with its key"
    )
    check.add_argument("--offline", action="store_true", help="config and database only")
    status = commands.add_parser(
        "status", help="health, counts, failing and latest alerts with their incidents"
    )
    status.add_argument(
        "--all", action="store_true", help="every tracked alert (streamed), not the latest few"
    )
    history = commands.add_parser("history", help="the audit trail of transitions")
    history.add_argument("--alert", type=_alert_id, help="only this iLert alert id")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument(
        "--limit", type=_history_limit, default=200, help="newest N rows (%(default)s)"
    )
    preview = commands.add_parser(
        "preview", help="what one iLert alert would publish under this config; writes nothing"
    )
    preview.add_argument("alert_id", type=_alert_id, help="iLert alert id")


def _add_manual_commands(commands: Commands) -> None:
    """trigger, untrigger and retry: a person steering single alerts."""
    trigger = commands.add_parser(
        "trigger", help="manual trigger mode: mirror an alert from now on"
    )
    trigger.add_argument("action", help="incident action name")
    trigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    untrigger = commands.add_parser(
        "untrigger", help="cancel a trigger that has not been published yet"
    )
    untrigger.add_argument("action", help="incident action name")
    untrigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    retry = commands.add_parser(
        "retry", help="retry failing items on the next pass, with a fresh back-off"
    )
    retry.add_argument("action", nargs="?", help="only this incident action")
    retry.add_argument("alert_id", nargs="?", type=_alert_id, help="only this iLert alert id")


def _add_demo(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="play a scripted scenario against built-in simulators")
    demo.add_argument(
        "--lifecycle",
        choices=["classic", "realtime", "both"],
        default=None,
        help="which lifecycle table to play (default: both; with --keep: classic)",
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
    try:
        return parse_id(text, "alert id", "command line")
    except PayloadError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not an iLert alert id (a whole number from 1 to 2^63-1)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every failure becomes one line and an exit code."""
    with scrubbed_streams():  # no piece of a key leaves, whatever prints it
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    code = EXIT_OK  # a reader gone mid-output (`demo | head`) is no failure of ours
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader gone (`| head`) shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        stdout_gone()
        return code  # the verdict (`status` UNHEALTHY: 1) holds whoever stopped reading
    except (DatabaseFailureError, RunFailureError) as error:
        return fail(str(error), EXIT_FAILED)
    except ConfigError as error:
        for line in error.lines:  # every mistake of the file, one line each
            fail(line, EXIT_USAGE, "config_error")
        return EXIT_USAGE
    except UsageError as error:
        return fail(str(error), EXIT_USAGE, "usage_error")
    except StoreError as error:
        return fail(str(error), EXIT_USAGE)
    except (sa.exc.SQLAlchemyError, OSError) as error:
        line = explain(error, getattr(args, "database_url", "")) or type(error).__name__
        return fail(line, EXIT_FAILED)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED, "interrupted")
    except Exception as error:  # noqa: BLE001 - the last resort: a bug, still one line
        what = str(error).splitlines()[0][:200] if str(error) else ""
        return fail(
            f"internal error {type(error).__name__}: {what} (a bug: please report it)",
            EXIT_INTERNAL,
            "internal_error",
        )


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(args)
    if args.command == "discover":  # runs before a config exists, or with one
        from ilert_statuspage_sync.commands.discover import run_discover

        return run_discover(args, sys.stdout, sys.stderr)
    config = _config(args)
    args.database_url = config.database_url  # for main's one-line database errors
    configure_logging(config.log_level)
    for warning in config.warnings:
        log.warning("config_warning", message=warning)
    return _handler(args.command)(config, args)


def _handler(command: str) -> Callable[[Config, argparse.Namespace], int]:
    """The command's function, from its module (imported now, see ``_HANDLERS``)."""
    module = importlib.import_module(f"ilert_statuspage_sync.commands.{_HANDLERS[command]}")
    handler: Callable[[Config, argparse.Namespace], int] = getattr(module, command)
    return handler


def _demo(args: argparse.Namespace) -> int:
    from ilert_statuspage_sync.demo.play import run_demo  # only the demo needs the simulators

    # A scene's expected warning (a person's edit: human_override) is in the table;
    # an error still prints.
    configure_logging("error")
    lifecycle = args.lifecycle or ("classic" if args.keep else "both")
    return run_demo(lifecycle, sys.stdout, keep=args.keep)


def _config(args: argparse.Namespace) -> Config:
    """The config, with keys only for commands that call a vendor, templates compiled for
    those that publish or check.

    `db upgrade` or `status` work where the keys are not at hand (a shell outside
    the unit's LoadCredential=).
    """
    needs_keys = args.command in _CALLS_VENDORS and not getattr(args, "offline", False)
    templates = args.command not in _PUBLISH_NOTHING
    config = load_config(args.config, keys=needs_keys, templates=templates)
    try:
        return replace(config, database_url=check_database_url(config.database_url))
    except ConfigError as error:
        raise ConfigError(f"{config.path}: {error}") from None
