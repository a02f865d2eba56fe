"""Logging, configured once at the edge: structlog, JSON when not on a terminal.

Third-party stdlib loggers (SQLAlchemy, urllib3, Alembic) go
through the same processors, so journald gets one format. ``redact`` is the
last line of defence for secrets: any value under a key that looks like a
credential is masked, and registered secret values are masked anywhere,
whole or cut: any 8+ character prefix of a key counts (a vendor error body
that echoes the key is cut at 500 characters, which can leave a prefix).
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "redact", "register_secrets", "say", "wants_colour"]

_SECRET_KEYS = ("authorization", "api_key", "apikey", "token", "password", "secret")
_secrets: set[str] = set()
# A key cut to this many leading characters or more is still masked.
PREFIX_MASKED = 8
MASK = "********"


def register_secrets(values: Iterable[str]) -> None:
    """Remember key values so ``redact`` masks them wherever they turn up."""
    _secrets.update(value for value in values if len(value) >= 4)


def scrub(text: str) -> str:
    """``text`` with every registered secret, or any 8+ character prefix of one, masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = _mask(text, secret)
    return text


def _mask(text: str, secret: str) -> str:
    """Replace each run of ``text`` that starts like ``secret`` for PREFIX_MASKED+ chars."""
    head = secret[: min(len(secret), PREFIX_MASKED)]
    start = text.find(head)
    if start < 0:
        return text
    out: list[str] = []
    done = 0
    while start >= 0:
        end = start + len(head)
        while end - start < len(secret) and end < len(text) and text[end] == secret[end - start]:
            end += 1
        out.append(text[done:start])
        out.append(MASK)
        done = end
        start = text.find(head, end)
    out.append(text[done:])
    return "".join(out)


def redact(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask credential-like keys and known secret values."""
    for key, value in list(event_dict.items()):
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event_dict[key] = "********"
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, BaseException):
            event_dict[key] = scrub(repr(value))
    return event_dict


def say(
    level: str,
    event: str,
    message: str,
    stream: TextIO | None = None,
    **fields: Any,
) -> None:
    """One line for a person on stderr: ``error: ...`` on a terminal, else a JSON log line.

    ``info`` lines have no prefix on a terminal.

    Errors, usage errors and warnings of the CLI go through here, so a
    journal read with ``journalctl -o cat | jq .`` holds only JSON: the line
    has the log's own keys (``timestamp``, ``level``, ``event``) and
    ``message``. The message is scrubbed of keys like every log line.
    """
    stream = stream or sys.stderr
    if stream is None:  # started with stderr closed (2>&-): nowhere to say it
        return
    text = scrub(message)
    if _is_terminal(stream):
        stream.write(f"{text}\n" if level == "info" else f"{level}: {text}\n")
    else:
        stream.write(jsonlib.dumps(_json_line(level, event, text, fields)) + "\n")
    stream.flush()


def _json_line(level: str, event: str, text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``say``'s line as the log writes its own: fields, then event, level, timestamp."""
    return {
        "message": text,
        **{k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()},
        "event": event,
        "level": level,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: the safe choice is JSON
        return False


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR (non-empty) or TERM=dumb."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def configure_logging(
    level: str = "info", stream: TextIO | None = None, *, json: bool | None = None
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) in one format."""
    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(level, stream, _formatter(shared, stream, use_json=use_json))


def _formatter(shared: list[Any], stream: TextIO, *, use_json: bool) -> logging.Formatter:
    """One formatter for structlog's and the stdlib's lines: JSON, or a console line."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=wants_colour(stream))
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


def _route_stdlib(level: str, stream: TextIO, formatter: logging.Formatter) -> None:
    """The root logger writes to ``stream`` alone; chatty libraries only from WARNING."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # a library's warning becomes a log line, JSON like the rest
    for noisy in ("urllib3", "alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
