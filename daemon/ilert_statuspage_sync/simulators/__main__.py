"""``python -m ilert_statuspage_sync.simulators``: serve both simulators, or change alerts.

With no command (or ``serve``) both simulators are served until stopped. They hold
the demo's accounts (alert sources, pages, components), so ``discover``,
``discover --write`` and then ``sync`` can be tried against them from a shell.
The first lines printed are ``export`` lines for the URLs and the demo keys
(public demo values, not secrets); Ctrl-C or SIGTERM stops both.

``alert create|accept|comment|resolve`` changes alerts in a running iLert
simulator over HTTP (see `alert_command`); ``incident create|update|resolve``,
``service create|set`` and ``window create|edit|delete`` change its incidents,
services and maintenance windows (see `status_command`). Every failure is one ``error:`` line:
exit 1 when the simulator refused or could not be reached, 2 for a usage error,
70 for a bug, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.simulators.alert_command import (
    AlertCommandError,
    add_alert_parser,
    run_alert_command,
)
from ilert_statuspage_sync.simulators.seed import ILERT_KEY, STATUSPAGE_KEY, seed_accounts
from ilert_statuspage_sync.simulators.status_command import (
    STATUS_COMMANDS,
    add_status_parsers,
    run_status_command,
)

PROG = "python -m ilert_statuspage_sync.simulators"


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, as everywhere else in the project."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "The iLert and Statuspage simulators with the demo's accounts. With no command "
            "(or `serve`) both are served on 127.0.0.1 until Ctrl-C or SIGTERM."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "serve",
        help="serve both simulators (the default); prints export lines for their URLs",
        description="Serve both simulators; the first lines printed are export lines.",
    )
    add_alert_parser(commands)
    add_status_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve (the default) or change the iLert simulator (`alert VERB`, ...); the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "alert" or args.command in STATUS_COMMANDS:
        run = run_alert_command if args.command == "alert" else run_status_command
        try:
            line = run(args)
        except AlertCommandError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return exc.exit_code
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted\n")
            return 130
        except Exception as exc:  # noqa: BLE001 (one line, never a traceback)
            sys.stderr.write(
                f"error: internal error {type(exc).__name__} (a bug: please report it)\n"
            )
            return 70
        sys.stdout.write(line + "\n")
        return 0
    return serve()


def serve() -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with (
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=()) as statuspage,
    ):
        seed_accounts(ilert, statuspage)
        sys.stdout.write(
            f"export ILERT_URL={ilert.url} STATUSPAGE_URL={statuspage.url}\n"
            f"export DEMO_ILERT_KEY={ILERT_KEY} DEMO_STATUSPAGE_KEY={STATUSPAGE_KEY}\n"
            "# simulators running with the demo accounts; Ctrl-C stops them\n"
        )
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
