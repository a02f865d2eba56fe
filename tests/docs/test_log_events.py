"""Every event the package logs is described in ``log_events.EVENTS``, and no other.

The event names are found by reading the source: every call of a logger
method (``log.info("name", ...)``, or a method chosen at run time such as
audit's ``level("transition", ...)``) whose first argument is a string, or a
module-level string constant. A new log line without a description fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ilert_statuspage_sync
from ilert_statuspage_sync.commands.output import FAILURE_EVENTS
from ilert_statuspage_sync.docgen.log_events import EVENTS, SAID, markdown_table, said_table

PACKAGE = Path(ilert_statuspage_sync.__file__).parent
METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
PAGE = Path(__file__).resolve().parents[2] / "docs" / "commands.md"
BEGIN, END = "<!-- log-events:begin -->", "<!-- log-events:end -->"


def _constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


LOGGERS = {"log", "logger", "_log"}


def _is_logger_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        # log.info(...), self.log.warning(...), log.bind(k=v).info(...); not "text".format.
        receiver = func.value
        while isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
            receiver = receiver.func.value  # log.bind(...).new(...) is still log
        return func.attr in METHODS and ast.unparse(receiver).split(".")[-1] in LOGGERS
    return isinstance(func, ast.Name) and func.id == "level"  # audit: log.info or log.warning


def scan(source: str, name: str, events: dict[str, str]) -> list[str]:
    """Add the events ``source`` logs to ``events``; return what the scan cannot read.

    A logger bound to another name, or an event name computed at run time,
    would slip past the documentation check, so each is reported instead.
    """
    tree = ast.parse(source)
    constants = _constants(tree)
    unreadable = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and "get_logger" in ast.unparse(node.value):
            bound = [ast.unparse(target).split(".")[-1] for target in node.targets]
            unreadable += [f"{name}:{node.lineno} logger {b}" for b in bound if b not in LOGGERS]
        if not (isinstance(node, ast.Call) and _is_logger_call(node)):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            events.setdefault(first.value, name)
        elif isinstance(first, ast.Name) and first.id in constants:
            events.setdefault(constants[first.id], name)
        else:
            unreadable.append(f"{name}:{node.lineno} {ast.unparse(node)[:60]}")
    return unreadable


def logged_events() -> dict[str, str]:
    """Event name -> the first file that logs it (simulators excluded: they are not the daemon)."""
    events: dict[str, str] = {}
    unreadable = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "simulators" not in path.parts:
            unreadable += scan(
                path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix(), events
            )
    assert not unreadable, f"log events the documentation check cannot read: {unreadable}"
    return events


def test_the_scan_reports_what_it_cannot_read() -> None:
    """A computed event name, a bound logger's call or a logger under another name is caught."""
    events: dict[str, str] = {}
    unreadable = scan(
        "import structlog\n"
        "audit_log = structlog.get_logger()\n"
        "log = structlog.get_logger()\n"
        "log.bind(alert=1).warning('bound_event')\n"
        "log.info(f'computed_{1}')\n",
        "sample.py",
        events,
    )
    assert events == {"bound_event": "sample.py"}
    assert [line.split()[0] for line in unreadable] == ["sample.py:2", "sample.py:5"]


def test_the_scan_finds_known_events() -> None:
    """The scanner sees plain calls, audit's chosen level and a named constant."""
    found = logged_events()
    assert found["pass_finished"] == "sync/syncer.py"
    assert found["transition"] == "store/audit.py"
    assert (
        found["duplicate_resolved"] == "sync/unresolved.py"
    )  # log.warning(DUPLICATE_OUTCOME, ...)


def test_every_logged_event_is_described_and_no_other() -> None:
    """A new event needs a line in log_events.EVENTS; a removed one must leave it."""
    logged = logged_events()
    undescribed = {name: where for name, where in logged.items() if name not in EVENTS}
    assert not undescribed, f"describe these in log_events.EVENTS: {undescribed}"
    assert set(EVENTS) - set(logged) == set(), "these are described but never logged"


def test_docs_table_is_the_generated_one() -> None:
    """Between the log-events markers of docs/commands.md stands exactly the generated table."""
    text = PAGE.read_text(encoding="utf-8")
    assert BEGIN in text, "docs/commands.md lost its log-events markers"
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == markdown_table(), (
        "docs/commands.md's log events table is stale: paste "
        "`python -m ilert_statuspage_sync.docgen.log_events`"
    )


SAID_BEGIN, SAID_END = "<!-- said-events:begin -->", "<!-- said-events:end -->"


def said_events() -> dict[str, str]:
    """Event name -> the first file whose ``say(level, EVENT, ...)`` or ``fail(msg, EVENT)``
    names it: the command line's own lines for a person."""
    events: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in {"say", "fail"} and len(node.args) >= 2:
                event = node.args[1]
                if path.name == "output.py" and isinstance(event, ast.Name):
                    continue  # fail() itself: its events are FAILURE_EVENTS' keys
                assert isinstance(event, ast.Constant), f"{path}:{node.lineno}: a computed event"
                events.setdefault(str(event.value), path.relative_to(PACKAGE).as_posix())
    return events


def test_every_said_event_is_described_with_its_exit_code_and_no_other() -> None:
    """Each event the command line says is in log_events.SAID, and each failure event's exit
    code is the one ``fail`` returns for it (an exit-2 refusal never says command_failed)."""
    said = said_events()
    assert set(said) == set(SAID), f"SAID and the code differ: {set(said) ^ set(SAID)}"
    assert {name: s.exit_code for name, s in SAID.items() if s.exit_code} == FAILURE_EVENTS
    assert {name: SAID[name].level for name in FAILURE_EVENTS} == dict.fromkeys(
        FAILURE_EVENTS, "error"
    )
    assert FAILURE_EVENTS["command_failed"] == 1
    assert {FAILURE_EVENTS["config_error"], FAILURE_EVENTS["usage_error"]} == {2}


def test_docs_said_table_is_the_generated_one() -> None:
    """Between the said-events markers of docs/commands.md stands exactly the generated table."""
    text = PAGE.read_text(encoding="utf-8")
    assert SAID_BEGIN in text, "docs/commands.md lost its said-events markers"
    block = text.split(SAID_BEGIN, 1)[1].split(SAID_END, 1)[0].strip()
    assert block == said_table(), (
        "docs/commands.md's said-events table is stale: paste "
        "`python -m ilert_statuspage_sync.docgen.log_events --said`"
    )
