"""On a terminal the log's lines and the command line's own read alike: the level shown the
same way, colour only where allowed, and a ``transition`` short, without None or False."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from ilert_statuspage_sync.runtime.logs import configure_logging, say

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "x" * 2000
# A create as the audit logs it: every schema field, the unknown ones None, dry_run False,
# and the published text as long as a template may make it.
TRANSITION = {
    "alert_id": 15,
    "incident_action": "public-api",
    "page_id": "demoautopage",
    "statuspage_incident_id": "68o49n9yptzu",
    "ilert_event": "created",
    "outcome": "created",
    "from_status": None,
    "to_status": "identified",
    "reason": None,
    "dry_run": False,
    "published_name": "Checkout errors " + LONG,
    "published_body": "Payments failing " + LONG,
}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Terminal]:
    """A terminal that allows colour; logging restored afterwards."""
    handlers, level = logging.getLogger().handlers[:], logging.getLogger().level
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    yield _Terminal()
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = handlers
    logging.getLogger().setLevel(level)


def _lines(terminal: _Terminal) -> list[str]:
    return terminal.getvalue().splitlines()


@pytest.mark.parametrize("colour", [True, False])
def test_warnings_and_errors_show_their_level_alike_in_log_and_cli_lines(
    terminal: _Terminal, monkeypatch: pytest.MonkeyPatch, colour: bool
) -> None:
    """A logged warning or error and a said one carry the same ``level:`` label, coloured
    alike on a colour terminal and not at all with NO_COLOR; info has no label."""
    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")
    configure_logging("info", terminal)
    log = structlog.get_logger("test")
    log.warning("config_warning", message="nothing to mirror")
    say("warning", "trigger_unchecked", "alert 7 not checked", terminal)
    log.error("service_unreachable", service="ilert")
    say("error", "command_failed", "database is locked", terminal, exit_code=1)
    log.info("pass_finished", ok=True)
    logged_warning, said_warning, logged_error, said_error, info = _lines(terminal)

    for logged, said_line, level in (
        (logged_warning, said_warning, "warning"),
        (logged_error, said_error, "error"),
    ):
        label = said_line.split(" ", 1)[0]
        assert ANSI.sub("", label) == f"{level}:"
        assert f" {label} " in logged, (logged, said_line)
    assert ("\x1b[" in terminal.getvalue()) is colour
    assert ANSI.sub("", logged_warning).endswith(" warning: config_warning: nothing to mirror")
    assert ANSI.sub("", said_warning) == "warning: alert 7 not checked"
    assert "info" not in ANSI.sub("", info)


def test_a_transition_on_a_terminal_omits_none_and_false_and_stays_short(
    terminal: _Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sync``'s transition line on a terminal leaves out None/False fields and clips long
    text, so it stays under 300 characters; the JSON line keeps every field whole."""
    monkeypatch.setenv("NO_COLOR", "1")
    configure_logging("info", terminal)
    structlog.get_logger("test").info("transition", **TRANSITION)
    (line,) = _lines(terminal)
    assert len(line) <= 300, len(line)
    for hidden in ("None", "False", "from_status", "dry_run", "reason"):
        assert hidden not in line
    assert "ilert_event=created outcome=created to_status=identified" in line
    assert "published_name='Checkout errors xxx" in line

    piped = io.StringIO()
    configure_logging("info", piped)
    structlog.get_logger("test").info("transition", **TRANSITION)
    parsed = json.loads(piped.getvalue())
    assert {key: parsed[key] for key in TRANSITION} == TRANSITION
