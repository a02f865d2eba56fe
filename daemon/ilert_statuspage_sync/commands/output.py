"""What every command shares on the way out: exit codes, the one failure line, tables.

Exit codes: 0 done; 1 something failed at run time; 2 config or usage error;
70 an unexpected internal error (a bug); 130 interrupted. A failure line's event names
its exit code's class (``FAILURE_EVENTS``), so a log reader and a script agree.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final, TextIO

from ilert_statuspage_sync.errors import SyncError
from ilert_statuspage_sync.runtime.logs import say
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FAILURE_EVENTS",
    "RunFailureError",
    "fail",
    "print_table",
    "reader_may_leave",
    "scrubbed_streams",
    "stdout_gone",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130

# The event of each failure line and the exit code it ends with: the one place that pairs
# them, so an exit-2 refusal never logs a runtime failure's event (docs/commands.md's table).
FAILURE_EVENTS: Final[dict[str, int]] = {
    "command_failed": EXIT_FAILED,
    "config_error": EXIT_USAGE,
    "usage_error": EXIT_USAGE,
    "internal_error": EXIT_INTERNAL,
    "interrupted": EXIT_INTERRUPTED,
}


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


class ScrubbedStream:
    """A text stream that writes whole lines, each through ``scrub``.

    Every line a command prints leaves through here, so no piece of a key
    reaches stdout or stderr whatever printed it; a line is held until its
    newline (or a flush) so a key printed in two writes is still seen whole.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._held = ""
        self._lock = threading.Lock()  # the log handler and a print may share stderr

    def write(self, text: str) -> int:
        with self._lock:
            self._held += text
            if "\n" not in self._held:
                return len(text)
            lines, _, self._held = self._held.rpartition("\n")
        self.stream.write(scrub(lines + "\n"))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            held, self._held = self._held, ""
        if held:
            self.stream.write(scrub(held))
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding...
        return getattr(self.stream, name)


@contextmanager
def scrubbed_streams() -> Iterator[None]:
    """stdout and stderr through ``ScrubbedStream`` for the command's run."""
    saved = sys.stdout, sys.stderr
    wrapped = [ScrubbedStream(stream) if stream is not None else None for stream in saved]
    sys.stdout, sys.stderr = wrapped
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in wrapped:
            if stream is not None:
                with suppress(OSError, ValueError):  # a reader gone, or a closed stream
                    stream.flush()


def stdout_gone() -> None:
    """The reader stopped reading (`demo | head`): not a failure; nothing more to print."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    os.close(devnull)


def fail(message: str, event: str, stream: TextIO | None = None) -> int:
    """Say the one ``error:`` line of a failure and return the exit code its event names."""
    code = FAILURE_EVENTS[event]
    say("error", event, message, stream, exit_code=code)
    return code


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as left-aligned columns, two spaces apart, no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
