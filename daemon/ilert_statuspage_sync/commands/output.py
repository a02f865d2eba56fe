"""What every command shares on the way out: exit codes, the one failure line, tables.

Exit codes: 0 done; 1 something failed at run time; 2 config or usage error;
70 an unexpected internal error (a bug); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ilert_statuspage_sync.errors import SyncError
from ilert_statuspage_sync.runtime.logs import say

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "RunFailureError",
    "fail",
    "print_table",
    "reader_may_leave",
    "stdout_gone",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130


class RunFailureError(SyncError):
    """A runtime failure outside the database (e.g. the metrics port is taken): exit 1."""


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Print a verdict's lines: a reader gone half-way (`status | head -1`) keeps the exit code."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_gone()


def stdout_gone() -> None:
    """The reader stopped reading (`demo | head`): not a failure; nothing more to print."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    os.close(devnull)


def fail(message: str, code: int, event: str = "command_failed") -> int:
    """Say the one ``error:`` line of a failure and return its exit code."""
    say("error", event, message, exit_code=code)
    return code


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as left-aligned columns, two spaces apart, no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
