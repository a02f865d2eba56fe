"""The console log renderer obeys the same colour rule as the demo (NO_COLOR, TERM=dumb)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from ilert_statuspage_sync.runtime.logs import configure_logging


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restored() -> Iterator[None]:
    """Leave logging as it was found."""
    handlers, level = logging.getLogger().handlers[:], logging.getLogger().level
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = handlers
    logging.getLogger().setLevel(level)


@pytest.mark.parametrize(
    ("environ", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)],
)
def test_console_logs_on_a_terminal_obey_no_color_and_dumb_terminals(
    restored: None, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], coloured: bool
) -> None:
    """``run`` on a terminal with NO_COLOR set prints its log lines without ANSI codes."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    terminal = _Terminal()
    configure_logging("info", terminal)
    structlog.get_logger("test").info("pass_finished", ok=True)
    assert "pass_finished" in terminal.getvalue()
    assert ("\x1b[" in terminal.getvalue()) is coloured
