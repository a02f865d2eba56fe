"""The lines a person or a log reader gets: ``say`` (JSON off a terminal) and the debug
``http_request`` line of every vendor call (never a key, a header or a query)."""

from __future__ import annotations

import io
import json

import pytest

from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.runtime.logs import configure_logging, say
from ilert_statuspage_sync.runtime.secrets import register_secrets
from ilert_statuspage_sync.simulators import IlertSimulator

CANARY = "canary-debug-key-4c1f9e"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_say_on_a_terminal_is_one_plain_line(monkeypatch: pytest.MonkeyPatch):
    """On a terminal an error is ``error: message``; an info line has no prefix."""
    monkeypatch.setenv("NO_COLOR", "1")  # the label's colour: tests/shell/test_console_lines.py
    stream = _Terminal()
    say("error", "config_error", "config.toml: ilert: missing table", stream, exit_code=2)
    say("info", "starter_config_written", "wrote x.toml", stream)

    assert stream.getvalue() == "error: config.toml: ilert: missing table\nwrote x.toml\n"


def test_say_on_a_pipe_is_one_json_log_line_without_keys():
    """Off a terminal the line is JSON with the log's keys, and a registered key is masked."""
    register_secrets([CANARY])
    stream = io.StringIO()
    say("error", "command_failed", f"vendor echoed {CANARY}", stream, exit_code=1)

    (line,) = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert set(parsed) == {"timestamp", "level", "event", "message", "exit_code"}
    assert (parsed["level"], parsed["event"], parsed["exit_code"]) == ("error", "command_failed", 1)
    assert parsed["timestamp"].endswith("Z")
    assert CANARY not in line and CANARY[:8] not in line


def test_json_logs_each_request_without_key_header_or_query(json_log: io.StringIO):
    """A GET with a secret-looking query and a canary key: one http_request line with
    method, path, status, duration and budget wait; no key, header or query value."""
    with IlertSimulator(api_key=CANARY) as ilert:
        http = HttpService(
            "ilert",
            ilert.url,
            f"Bearer {CANARY}",
            RateBudget(1000, 60.0),
            timeout=(2.0, 5.0),
            retry=RetryPolicy(attempts=1),
        )
        try:
            http.get("/api/alerts", {"max-results": 1, "token": f"q-{CANARY}"})
        finally:
            http.close()

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    requests = [line for line in lines if line["event"] == "http_request"]
    assert len(requests) == 1
    line = requests[0]
    assert {k: line[k] for k in ("service", "method", "path", "status", "level")} == {
        "service": "ilert",
        "method": "GET",
        "path": "/api/alerts",
        "status": 200,
        "level": "debug",
    }
    assert line["duration_s"] >= 0 and line["budget_wait_s"] >= 0
    text = json_log.getvalue()
    assert CANARY not in text and CANARY[:8] not in text
    assert "Bearer" not in text and "max-results" not in text and "token" not in text


def test_info_level_logs_no_request_lines(json_log: io.StringIO):
    """At the default level (info) a request adds no line."""
    configure_logging("info", json_log, json=True)
    with IlertSimulator(api_key=CANARY) as ilert:
        http = HttpService(
            "ilert", ilert.url, f"Bearer {CANARY}", RateBudget(1000, 60.0), timeout=(2.0, 5.0)
        )
        try:
            http.get("/api/alerts", {"max-results": 1})
        finally:
            http.close()

    assert "http_request" not in json_log.getvalue()
