"""Running a parsed command: its config, its module, and every failure as one line.

Imported by ``cli.main`` only once the arguments parsed, so ``--version``, ``--help``
and a usage error never load the config package, SQLAlchemy or structlog. ``run`` is
the one handler that turns the error families (our own, SQLAlchemy's, ``sqlite3``'s,
``OSError``) into the ``error:`` line and its exit code (``output.FAILURE_EVENTS``).
It loads SQLAlchemy only to tell one of its errors: ``status`` on a SQLite file never does.
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import replace

import structlog

from ilert_statuspage_sync.commands.output import (
    EXIT_OK,
    EXIT_USAGE,
    RunFailureError,
    fail,
    stdout_gone,
)
from ilert_statuspage_sync.config import DEFAULT_CONFIG_PATH, Config, load_config
from ilert_statuspage_sync.config.database_url import check_database_url
from ilert_statuspage_sync.errors import (
    ConfigError,
    DatabaseFailureError,
    StoreError,
    UsageError,
)
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.store.diagnose import explain

__all__ = ["run"]

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


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; every failure becomes one line and the exit code of its class."""
    code = EXIT_OK  # a reader gone mid-output (`demo | head`) is no failure of ours
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader gone (`| head`) shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        stdout_gone()
        return code  # the verdict (`status` UNHEALTHY: 1) holds whoever stopped reading
    except (DatabaseFailureError, RunFailureError) as error:
        return fail(str(error), "command_failed")
    except ConfigError as error:
        for line in error.lines:  # every mistake of the file, one line each
            fail(line, "config_error")
        return EXIT_USAGE
    except (UsageError, StoreError) as error:  # a refused request (`db downgrade 9999`): exit 2
        return fail(str(error), "usage_error")
    except KeyboardInterrupt:
        return fail("interrupted", "interrupted")
    except Exception as error:  # noqa: BLE001 - the last resort: a bug, still one line
        if _storage_failure(error):
            line = explain(error, getattr(args, "database_url", "")) or type(error).__name__
            return fail(line, "command_failed")
        what = str(error).splitlines()[0][:200] if str(error) else ""
        return fail(
            f"internal error {type(error).__name__}: {what} (a bug: please report it)",
            "internal_error",
        )


def _storage_failure(error: Exception) -> bool:
    """A failure of the database or the filesystem (its own line), not a bug."""
    if isinstance(error, OSError | sqlite3.Error):
        return True
    if "sqlalchemy" not in sys.modules:  # nothing loaded SQLAlchemy: not one of its errors
        return False
    import sqlalchemy as sa

    return isinstance(error, sa.exc.SQLAlchemyError)


def _dispatch(args: argparse.Namespace) -> int:
    if args.config is None:
        args.config = DEFAULT_CONFIG_PATH
    if args.command == "demo":
        return _demo(args)
    if args.command == "discover":  # runs before a config exists, or with one
        from ilert_statuspage_sync.commands.discover import run_discover

        return run_discover(args, sys.stdout, sys.stderr)
    config = _config(args)
    args.database_url = config.database_url  # for run's one-line database errors
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
    from ilert_statuspage_sync.core.lifecycle import DEFAULT_LIFECYCLE
    from ilert_statuspage_sync.demo.play import run_demo  # only the demo needs the simulators

    # A scene's expected warning (a person's edit: human_override) is in the table;
    # an error still prints.
    configure_logging("error")
    # The config's default lifecycle; `both` plays the other one too (near the same rows).
    return run_demo(args.lifecycle or DEFAULT_LIFECYCLE, sys.stdout, keep=args.keep)


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
